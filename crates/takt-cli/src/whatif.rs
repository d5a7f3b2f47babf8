//! `takt whatif`: variants, sweeps, replications to a precision, a goal; tables, JSON, an HTML report.

use anyhow::{Context, Result, bail};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use takt_experiments::experiment::ExperimentError;
use takt_experiments::kpi::KpiColumn;
use takt_experiments::{ExperimentSpec, WarmupChoice, decision, goal, html, kpi, study, variants};
use takt_model::quantity::{duration, percent, wrap};

#[derive(clap::Args)]
pub struct WhatifArgs {
    /// Base scenario file (TOML).
    file: PathBuf,
    /// A variant: "name: path=value; path=value" (e.g. "two labellers: stations.Labeller.machines=2").
    #[arg(long = "variant", value_name = "SPEC")]
    variants: Vec<String>,
    /// A variant overlay file: name = "..." and a [set] table of "path" = value.
    #[arg(long = "variant-file", value_name = "FILE")]
    variant_files: Vec<PathBuf>,
    /// Sweep a field: path=from..to:step or path=a,b,c (two sweeps make a grid).
    #[arg(long = "sweep", value_name = "SPEC")]
    sweeps: Vec<String>,
    /// Replications per variant (default: the scenario's, at least 10).
    #[arg(long)]
    replications: Option<u32>,
    /// Add replications until every headline KPI's 95% half-width is within this share of its mean,
    /// e.g. 2%.
    #[arg(long, value_parser = parse_percent)]
    precision: Option<f64>,
    /// Cap on replications per variant with --precision (default 200).
    #[arg(long)]
    max_replications: Option<u32>,
    /// Warm-up: a duration, or `auto` (MSER-5 on the base's throughput). Default: the scenario's.
    #[arg(long, allow_hyphen_values = true)]
    warmup: Option<String>,
    /// Seed of the random streams: the same seed gives the same result, bit for bit (overrides run.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Simulated time span per replication, e.g. 8h, 3d (overrides run.horizon).
    #[arg(long, value_parser = crate::parse_secs, allow_hyphen_values = true)]
    horizon: Option<f64>,
    /// Rank variants: "max KPI" or "min KPI" (KPI as in the JSON report, e.g. throughput_per_hour,
    /// stations.Filler.oee).
    #[arg(long)]
    goal: Option<String>,
    /// Constraint for the goal on a KPI's mean: "wip_mean<=40" (repeatable).
    #[arg(long = "subject-to", value_name = "KPI<=VALUE")]
    subject_to: Vec<String>,
    /// Points of the throughput-over-time series.
    #[arg(long, default_value_t = 48)]
    series_points: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write a self-contained HTML report with charts.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

pub(crate) fn parse_percent(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (v, scale) = match t.strip_suffix('%') {
        Some(v) => (v, 0.01),
        None => (t, 1.0),
    };
    let x: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage such as 2%"))?;
    let x = x * scale;
    if x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(format!(
            "`{text}`: the precision must be between 0% and 100%"
        ))
    }
}

pub fn run(args: WhatifArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut specs = Vec::new();
    for v in &args.variants {
        specs.push(variants::parse_variant(v).map_err(anyhow::Error::msg)?);
    }
    for f in &args.variant_files {
        let t =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        specs.push(
            variants::parse_overlay(&t, &f.display().to_string()).map_err(anyhow::Error::msg)?,
        );
    }
    specs.extend(study::sweep_variants(&args.sweeps).map_err(anyhow::Error::msg)?);
    let goal = match &args.goal {
        None => {
            if !args.subject_to.is_empty() {
                bail!("--subject-to needs a --goal");
            }
            None
        }
        Some(g) => Some((
            goal::parse_goal(g).map_err(anyhow::Error::msg)?,
            args.subject_to
                .iter()
                .map(|c| goal::parse_constraint(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?,
        )),
    };
    let warmup = match args.warmup.as_deref() {
        None => WarmupChoice::Scenario,
        Some("auto") => WarmupChoice::Auto,
        Some(d) => WarmupChoice::Fixed(takt_model::parse_duration(d).map_err(anyhow::Error::msg)?),
    };
    let replications = study::replications(
        args.replications,
        args.precision,
        args.max_replications,
        crate::MAX_REPLICATIONS,
    )
    .map_err(anyhow::Error::msg)?;
    let spec = ExperimentSpec {
        base_text: text,
        origin: args.file.clone(),
        base_dir: args.file.parent().map(PathBuf::from),
        variants: specs,
        replications,
        warmup,
        seed: args.seed,
        horizon_s: args.horizon,
        series_points: args.series_points.clamp(1, 10_000),
        goal,
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} replications {pos}/{len} [{bar:30}] {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = takt_experiments::run(&spec, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let x = match result {
        Ok(x) => x,
        Err(ExperimentError::Variant {
            name,
            error: takt_model::ScenarioError::Invalid(diags),
        }) => {
            for d in &diags {
                eprintln!("variant `{name}`: {d}");
            }
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(path) = &args.report {
        std::fs::write(path, html::render(&x))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&x)?);
    } else {
        print!("{}", tables(&x));
        if let Some(path) = &args.report {
            println!("report: {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The experiment for a terminal: what it says in words, then every KPI of every variant in its
/// unit with its paired difference to the base, one row per KPI and variant (fits 100 columns).
fn tables(x: &takt_experiments::Experiment) -> String {
    let variants = match x.variants.len().saturating_sub(1) {
        1 => "1 variant".to_string(),
        n => format!("{n} variants"),
    };
    let header = format!(
        "{}: {variants} and the base, {} replications each (common random numbers, seed {}), {} measured after a warm-up of {} ({}){}",
        x.scenario,
        x.replications,
        x.seed,
        duration(x.horizon_s - x.warmup_s),
        duration(x.warmup_s),
        x.warmup_method,
        match (x.precision, x.precision_reached) {
            (Some(p), Some(true)) => format!(", precision {} reached", percent(p)),
            (Some(p), _) => format!(", precision {} NOT reached within the cap", percent(p)),
            _ => String::new(),
        }
    );
    let mut out = format!("{}\n", wrap(&header, 100));
    for (name, words) in x.deadlocks() {
        out.push_str(&format!(
            "{}\n",
            wrap(&format!("variant `{name}`: {words}"), 100)
        ));
    }
    for line in decision::summary(x) {
        // Continued lines indented under the dash.
        let wrapped = wrap(&format!("- {line}"), 98).replace('\n', "\n  ");
        out.push_str(&format!("{wrapped}\n"));
    }
    let headline: Vec<&KpiColumn> = x
        .kpis
        .iter()
        .filter(|k| kpi::HEADLINE.iter().any(|(h, _)| *h == k.key))
        .collect();
    let oee: Vec<&KpiColumn> = x.kpis.iter().filter(|k| k.key.ends_with(".oee")).collect();
    for (title, keys) in [
        (
            "KPIs: mean ± 95% CI; Δ = paired difference to the base, * where significant",
            &headline,
        ),
        ("OEE per station", &oee),
    ] {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(100)
            .set_header(vec!["KPI", "variant", "mean ± 95% CI", "Δ to the base"]);
        for k in keys.iter() {
            for (i, v) in x.variants.iter().enumerate() {
                let e = v.estimates.iter().find(|e| e.key == k.key);
                let value = e
                    .and_then(|e| e.mean.map(|m| k.quantity.estimate(m, e.ci95)))
                    .unwrap_or_else(|| "–".into());
                let change = e.and_then(|e| e.difference.as_ref()).map_or_else(
                    || {
                        if i == 0 {
                            "(base)".into()
                        } else {
                            "–".into()
                        }
                    },
                    |d| {
                        format!(
                            "{}{}",
                            k.quantity.change_within(d.mean, d.ci95),
                            if d.significant { " *" } else { "" }
                        )
                    },
                );
                t.add_row(vec![
                    if i == 0 {
                        k.label.clone()
                    } else {
                        String::new()
                    },
                    v.name.clone(),
                    value,
                    change,
                ]);
            }
        }
        for c in [2, 3] {
            if let Some(col) = t.column_mut(c) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&format!("{title}\n{t}\n"));
    }
    if let Some(r) = &x.ranking {
        let kpi = x.kpis.iter().find(|k| k.key == r.goal.key);
        let quantity = kpi.map_or_else(|| kpi::quantity_of(&r.goal.key), |k| k.quantity);
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(100);
        t.set_header(vec![
            "rank",
            "variant",
            kpi.map_or(&r.goal.key, |k| &k.label),
            "meets the constraints",
            "like the best",
        ]);
        for (i, v) in r.ranked.iter().enumerate() {
            t.add_row(vec![
                (i + 1).to_string(),
                v.variant.clone(),
                quantity.estimate(v.mean, v.ci95),
                if v.feasible {
                    "yes".into()
                } else {
                    format!("no: {}", v.violated.join(", "))
                },
                if v.indistinguishable_from_best {
                    "yes".into()
                } else {
                    String::new()
                },
            ]);
        }
        out.push_str(&format!(
            "goal: the {} {} -> best: {}\n{t}\n",
            if r.goal.maximize { "highest" } else { "lowest" },
            kpi.map_or(&r.goal.key, |k| &k.label),
            r.best.as_deref().unwrap_or("none meets the constraints")
        ));
    }
    out
}
