//! `takt calibrate HISTORY --scenario S -o calibrated.toml`: fits time to failure and to repair per
//! failure mode, cycle times, changeovers and scrap rates from recorded events, and writes the
//! scenario back with them.

use anyhow::{Context, Result, bail};
use comfy_table::Table;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use takt_model::overrides::{apply, parse_override};
use takt_twin::calibrate::{Calibrated, Measure, ObserveOptions, calibrate, observe};
use takt_twin::event;

#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// Recorded events (JSON Lines in the takt schema), e.g. a `takt run --trace` or `takt adapt` file.
    history: PathBuf,
    /// The scenario whose stations and products the history covers.
    #[arg(long)]
    scenario: PathBuf,
    /// Where to write the calibrated scenario.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The machines were as good as new when the record began (a `takt run --trace`, or a record
    /// that starts after an overhaul): each first failure counts from the start. Without it, a
    /// first failure's age is unknown and it is left out (and reported).
    #[arg(long)]
    new_at_start: bool,
    /// Print the fits as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(args: CalibrateArgs) -> Result<ExitCode> {
    let loaded = match crate::load(&args.scenario)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = &loaded.model;
    let file = std::fs::File::open(&args.history)
        .with_context(|| format!("cannot read {}", args.history.display()))?;
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", args.history.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match event::parse(&line) {
            Ok(c) => events.push(c),
            Err(e) => bad.push(format!("{}:{}: {e}", args.history.display(), i + 1)),
        }
    }
    if events.is_empty() {
        bail!("{}: no readable events", args.history.display());
    }
    let observations = observe(
        model,
        &events,
        ObserveOptions {
            new_at_start: args.new_at_start,
        },
    );
    let calibration = calibrate(model, &observations);
    let results = &calibration.calibrated;
    if let Some(path) = &args.output {
        let text = std::fs::read_to_string(&args.scenario)
            .with_context(|| format!("cannot read {}", args.scenario.display()))?;
        let mut table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}", args.scenario.display()))?;
        for r in results {
            let o = parse_override(&format!("{}={}", r.path, r.value))
                .map_err(|e| anyhow::anyhow!("{}: {e}", r.path))?;
            apply(&mut table, &o).map_err(|p| anyhow::anyhow!("{}: {}", p.path, p.message))?;
        }
        let header = format!(
            "# Calibrated by `takt calibrate` from {} ({} events): {} quantities fitted.\n# The fits, their confidence intervals and goodness of fit: `takt calibrate ... --json`.\n",
            args.history.display(),
            events.len(),
            results.len()
        );
        let out = header + &toml::to_string_pretty(&table)?;
        // The result must be a valid scenario before it is written.
        takt_model::load_str(&out, path, args.scenario.parent())
            .map_err(|e| anyhow::anyhow!("the calibrated scenario is not valid: {e}"))?;
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        let out = serde_json::json!({
            "events": events.len(),
            "unreadable": bad,
            "calibrated": results,
            "skipped": calibration.skipped,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {} events ({} unreadable), {} quantities fitted, {} left out{}",
        args.history.display(),
        events.len(),
        bad.len(),
        results.len(),
        calibration.skipped.len(),
        args.output
            .as_ref()
            .map_or(String::new(), |p| format!(", written to {}", p.display()))
    );
    for b in bad.iter().take(5) {
        println!("  {b}");
    }
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(100);
    t.set_header([
        "quantity",
        "n",
        "fit: parameters [95% CI]",
        "mean",
        "KS",
        "ΔAIC next",
    ]);
    for r in results {
        let (mean, ci, ks, delta) = shown(r);
        t.add_row([
            r.what.clone(),
            takt_model::quantity::count(r.observations as u64),
            ci,
            mean,
            ks,
            delta,
        ]);
    }
    println!("{t}");
    if !calibration.skipped.is_empty() {
        println!("\nLeft out (the scenario keeps its values there):");
        let mut t = Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(100);
        t.set_header(["what", "n", "why"]);
        for s in &calibration.skipped {
            t.add_row([
                s.what.clone(),
                takt_model::quantity::count(s.observations as u64),
                s.reason.clone(),
            ]);
        }
        println!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A fitted quantity's mean, its parameters with their intervals, the goodness of fit and the
/// margin to the next fit, in its unit.
fn shown(r: &Calibrated) -> (String, String, String, String) {
    let amount = |x: f64| match r.measure {
        Measure::Cycles => format!("{} cycles", takt_model::quantity::significant(x, 4)),
        Measure::Seconds => takt_model::quantity::duration(x),
        Measure::Share => format!("{} %", takt_model::quantity::significant(x * 100.0, 2)),
    };
    let parameter = |name: &str, x: f64| {
        // Shapes, phase counts and a lognormal's log-scale mu and sigma have no unit.
        if matches!(name, "shape" | "k" | "mu" | "sigma") {
            takt_model::quantity::significant(x, 3)
        } else {
            amount(x)
        }
    };
    match (&r.fit, r.constant) {
        (Some(f), _) => (
            amount(f.mean),
            format!("{:?}: ", f.family).to_lowercase()
                + &f.parameters
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {} [{}, {}]",
                            p.name,
                            parameter(p.name, p.value),
                            parameter(p.name, p.low),
                            parameter(p.name, p.high)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            format!("{:.3}", f.ks),
            r.alternatives
                .first()
                .map_or(String::new(), |a| format!("{:.1}", a.aic - f.aic)),
        ),
        // A constant (every observation the same) or a scrap rate: the value in its unit.
        (None, value) => {
            let kind = if r.measure == Measure::Share {
                "rate"
            } else {
                "constant"
            };
            (
                value.map_or_else(|| r.value.clone(), amount),
                kind.to_string(),
                String::new(),
                String::new(),
            )
        }
    }
}
