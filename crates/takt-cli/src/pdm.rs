//! `takt pdm evaluate cmapss --data DIR --subset FD001` and `takt pdm evaluate azure --data DIR`:
//! train the predictive-maintenance models on public data and score them the way the literature
//! does (RMSE and PHM08 score; precision and recall per component).

use anyhow::Result;
use comfy_table::Table;
use std::path::PathBuf;
use std::process::ExitCode;
use takt_maintenance::boost::BoostConfig;

#[derive(clap::Args)]
pub struct PdmArgs {
    #[command(subcommand)]
    command: PdmCommand,
}

#[derive(clap::Subcommand)]
enum PdmCommand {
    /// Reliability from history: per machine and failure mode, the time-to-failure fitted with
    /// censoring (exponential, Weibull, lognormal by AIC), its hazard now, the probability of a
    /// failure within `--window` given the age the history shows, and the mean residual life.
    Fit {
        /// The recorded history (takt events, JSON Lines).
        #[arg(long)]
        history: PathBuf,
        /// The plant the history is of (TOML): its machines, failure modes and their ageing bases.
        #[arg(long)]
        scenario: PathBuf,
        /// The window of the conditional failure probability, e.g. 24h (operating time for modes
        /// that age while processing).
        #[arg(long, default_value = "24h", value_parser = crate::parse_secs)]
        window: f64,
        /// The same window for cycle-counted modes, in cycles.
        #[arg(long, default_value_t = 1000.0)]
        window_cycles: f64,
        /// Print the fit as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Train and score a predictive-maintenance model on public data.
    Evaluate {
        #[command(subcommand)]
        dataset: Dataset,
    },
}

#[derive(clap::Subcommand)]
enum Dataset {
    /// NASA C-MAPSS turbofan run-to-failure data: RMSE and PHM08 score of the remaining useful life
    /// at the last cycle of each test engine.
    Cmapss {
        /// The folder with train_FD00x.txt, test_FD00x.txt and RUL_FD00x.txt.
        #[arg(long)]
        data: PathBuf,
        /// The C-MAPSS subset: FD001 and FD003 run in one operating condition, FD002 and FD004 in six.
        #[arg(long, default_value = "FD001", value_parser = ["FD001", "FD002", "FD003", "FD004"])]
        subset: String,
        /// Boosting rounds.
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=5000))]
        trees: u32,
        /// Print the scores as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The Azure predictive-maintenance tables: will a component fail within 24 h? Precision and
    /// recall per component on the months after `--split`.
    Azure {
        /// The folder with PdM_errors.csv, PdM_failures.csv, PdM_maint.csv and PdM_machines.csv.
        #[arg(long)]
        data: PathBuf,
        /// Train on the hours before this time, test on the rest of 2015.
        #[arg(long, default_value = "2015-09-01 00:00:00")]
        split: String,
        /// One row per machine every this many hours.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i64).range(1..=168))]
        step_hours: i64,
        /// Boosting rounds.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=5000))]
        trees: u32,
        /// Print the scores as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// One machine's failure mode as `takt pdm fit` reports it.
#[derive(serde::Serialize)]
struct ModeReliability {
    machine: String,
    mode: String,
    basis: &'static str,
    failures: usize,
    censored: usize,
    fit: Option<takt_model::fit::Fit>,
    /// Age now, in the mode's basis (seconds or cycles).
    age: f64,
    hazard_now: Option<f64>,
    failure_within_window: Option<f64>,
    mean_residual_life: Option<f64>,
    /// The age by which 10% fail.
    b10_life: Option<f64>,
}

fn fit(
    history: &std::path::Path,
    scenario: &std::path::Path,
    (window_s, window_cycles): (f64, f64),
    json: bool,
) -> Result<ExitCode> {
    use anyhow::Context;
    let loaded = match crate::load(scenario)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = &loaded.model;
    let text = std::fs::read_to_string(history)
        .with_context(|| format!("cannot read {}", history.display()))?;
    let mut events = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match takt_twin::event::parse(line) {
            Ok(c) => events.push(c),
            Err(_) => bad += 1,
        }
    }
    if events.is_empty() {
        anyhow::bail!("{}: no readable events", history.display());
    }
    let observations = takt_twin::calibrate::observe(model, &events, Default::default());
    // Ages now: the history mirrored in memory up to its last event.
    let (twin, _) = takt_twin::Twin::from_history(
        model,
        &text,
        takt_twin::mirror::MirrorConfig::with_reorder_window_s(5.0),
    )?;
    let now_ms = twin
        .newest_ms()
        .unwrap_or_else(|| model.timebase.start_ms());
    let ages = takt_twin::condition::failure_ages(model, &twin.view(now_ms), now_ms);
    let mut rows = Vec::new();
    for (si, st) in model.stations.iter().enumerate() {
        let obs = observations.stations.get(&si);
        for f in &st.failure_modes {
            let sample = obs
                .and_then(|o| o.ttf.get(&f.name))
                .cloned()
                .unwrap_or_default();
            // As calibration does: no fit from fewer than MIN_OBSERVATIONS failures.
            let best = (sample.observed.len() >= takt_twin::calibrate::MIN_OBSERVATIONS)
                .then(|| {
                    takt_model::fit::fit_all(&sample.clone().clean())
                        .into_iter()
                        .next()
                })
                .flatten();
            let window = if f.basis == takt_model::FailureBasis::Cycles {
                window_cycles
            } else {
                window_s
            };
            for k in 0..st.machines {
                let machine = st.machine_name(k);
                let age = ages
                    .get(&machine)
                    .and_then(|a| a.get(&f.name))
                    .copied()
                    .unwrap_or(0.0);
                let b10 = best.as_ref().and_then(|b| {
                    // Bisection on the CDF out to 100 mean lives.
                    let (mut lo, mut hi) = (0.0, 100.0 * b.mean.max(1e-9));
                    if b.cdf(hi) < 0.1 {
                        return None;
                    }
                    for _ in 0..100 {
                        let mid = 0.5 * (lo + hi);
                        if b.cdf(mid) < 0.1 { lo = mid } else { hi = mid }
                    }
                    Some(hi)
                });
                rows.push(ModeReliability {
                    machine,
                    mode: f.name.clone(),
                    basis: match f.basis {
                        takt_model::FailureBasis::Calendar => "calendar",
                        takt_model::FailureBasis::Operating => "operating",
                        takt_model::FailureBasis::Cycles => "cycles",
                    },
                    failures: sample.observed.len(),
                    censored: sample.censored.len(),
                    hazard_now: best.as_ref().map(|b| b.hazard(age)),
                    failure_within_window: best
                        .as_ref()
                        .map(|b| b.conditional_failure(age, window)),
                    mean_residual_life: best.as_ref().map(|b| b.mean_residual_life(age)),
                    b10_life: b10,
                    fit: best.clone(),
                    age,
                });
            }
        }
    }
    if bad > 0 {
        eprintln!(
            "note: {bad} line(s) of {} are not events and were skipped",
            history.display()
        );
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "now": takt_model::time::format_utc_ms(now_ms),
                "window_s": window_s,
            "window_cycles": window_cycles,
                "modes": rows,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "reliability as of {} (window {window_s} s, or {window_cycles} cycles for counted modes; failures pooled per station)",
        takt_model::time::format_utc_ms(now_ms)
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "machine",
        "mode",
        "basis",
        "failures / censored",
        "fit (AIC)",
        "age",
        "hazard now",
        "P(fail in window)",
        "mean residual life",
        "B10 life",
    ]);
    // Ages and lives in the mode's basis: durations for calendar and operating time, cycles for
    // cycle-counted modes; hazards per hour or per 1,000 cycles.
    use takt_model::quantity::{Quantity, duration, significant};
    for r in &rows {
        let cycles = r.basis == "cycles";
        let life = |x: f64| {
            if cycles {
                format!("{} cycles", Quantity::Count.value(x.round()))
            } else {
                duration(x)
            }
        };
        let hazard = |h: f64| {
            if cycles {
                format!("{} per 1,000 cycles", significant(h * 1000.0, 3))
            } else {
                format!("{} per h", significant(h * 3600.0, 3))
            }
        };
        t.add_row([
            r.machine.clone(),
            r.mode.clone(),
            r.basis.to_string(),
            format!("{} / {}", r.failures, r.censored),
            r.fit
                .as_ref()
                .map_or("too few failures".into(), |f| f.spec()),
            life(r.age),
            r.hazard_now.map_or("–".into(), hazard),
            Quantity::Share.maybe(r.failure_within_window),
            r.mean_residual_life.map_or("–".into(), life),
            r.b10_life.map_or("–".into(), life),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

/// A spinner with the time spent, on stderr while a long step runs (hidden when stderr is not a
/// terminal): the evaluations read and train for tens of seconds.
fn working(what: &str) -> indicatif::ProgressBar {
    let spinner = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.set_message(what.to_string());
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner
}

pub fn run(args: PdmArgs) -> Result<ExitCode> {
    match args.command {
        PdmCommand::Fit {
            history,
            scenario,
            window,
            window_cycles,
            json,
        } => fit(&history, &scenario, (window, window_cycles), json),
        PdmCommand::Evaluate {
            dataset:
                Dataset::Cmapss {
                    data,
                    subset,
                    trees,
                    json,
                },
        } => {
            let config = BoostConfig {
                trees: trees as usize,
                ..BoostConfig::default()
            };
            let spinner = working(&format!("C-MAPSS {subset}: reading, training and scoring"));
            let e = takt_maintenance::cmapss::evaluate(&data, &subset, config);
            spinner.finish_and_clear();
            let e = e?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!(
                    "C-MAPSS {}: trained on {} engines in {:.1} s (the interval's calibration \
                     included), scored on {} test engines",
                    e.subset, e.train_engines, e.train_seconds, e.test_engines
                );
                let mut t = Table::new();
                t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                t.set_header([
                    "model",
                    "RMSE (cycles)",
                    "RMSE, truth capped at 125",
                    "PHM08 score",
                ]);
                t.add_row([
                    "takt (boosted trees, regime-normalised windows)".to_string(),
                    format!("{:.2}", e.rmse),
                    format!("{:.2}", e.rmse_capped),
                    takt_model::quantity::grouped(e.score, 0),
                ]);
                t.add_row([
                    "a perfect prediction capped at 125".to_string(),
                    format!("{:.2}", e.rmse_floor_of_the_cap),
                    "0.00".into(),
                    "-".into(),
                ]);
                let mut anchors: Vec<(&&str, &f64)> = e.anchors.iter().collect();
                anchors.sort_by(|a, b| b.1.total_cmp(a.1));
                for (name, rmse) in anchors {
                    t.add_row([
                        format!("published: {name}"),
                        format!("{rmse:.2}"),
                        "-".into(),
                        "-".into(),
                    ]);
                }
                println!("{t}");
                if let (Some(coverage), Some(width)) = (e.interval_coverage, e.mean_interval_width)
                {
                    println!(
                        "{} % intervals for the true remaining life hold it for {} of the test \
                         engines; mean width {} cycles.",
                        takt_model::quantity::significant(e.interval_level * 100.0, 2),
                        takt_model::quantity::percent(coverage),
                        takt_model::quantity::significant(width, 3),
                    );
                }
                println!(
                    "The published figures do not all say whether they capped the test truth; \
                     both are shown. No model whose target is capped at 125 cycles can score below \
                     the second row against the uncapped truth."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PdmCommand::Evaluate {
            dataset:
                Dataset::Azure {
                    data,
                    split,
                    step_hours,
                    trees,
                    json,
                },
        } => {
            let config = BoostConfig {
                trees: trees as usize,
                depth: 4,
                ..BoostConfig::default()
            };
            let spinner = working("Azure PdM: reading the tables, training and scoring");
            let e = takt_maintenance::azure::evaluate(&data, &split, step_hours, config);
            spinner.finish_and_clear();
            let e = e?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!(
                    "Azure PdM, {} machines: trained on {} rows before {}, tested on {} rows, every {} h ({:.1} s)",
                    e.machines, e.train_rows, e.split, e.test_rows, e.step_h, e.train_seconds
                );
                let mut t = Table::new();
                t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                t.set_header([
                    "component",
                    "precision",
                    "recall",
                    "failing rows",
                    "flagged",
                ]);
                let num = |x: Option<f64>| takt_model::quantity::Quantity::Share.maybe(x);
                for c in &e.components {
                    t.add_row([
                        c.component.to_string(),
                        num(c.precision),
                        num(c.recall),
                        c.positives.to_string(),
                        c.flagged.to_string(),
                    ]);
                }
                t.add_row([
                    "macro".to_string(),
                    num(e.macro_precision),
                    num(e.macro_recall),
                    String::new(),
                    String::new(),
                ]);
                println!("{t}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
