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
        #[arg(long, default_value = "FD001", value_parser = ["FD001", "FD002", "FD003", "FD004"])]
        subset: String,
        /// Boosting rounds.
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=5000))]
        trees: u32,
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
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=5000))]
        trees: u32,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: PdmArgs) -> Result<ExitCode> {
    match args.command {
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
            let e = takt_maintenance::cmapss::evaluate(&data, &subset, config)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!(
                    "C-MAPSS {}: trained on {} engines in {:.1} s, scored on {} test engines",
                    e.subset, e.train_engines, e.train_seconds, e.test_engines
                );
                let mut t = Table::new();
                t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                t.set_header(["model", "RMSE (cycles)", "PHM08 score"]);
                t.add_row([
                    "takt (boosted trees on window features)".to_string(),
                    format!("{:.2}", e.rmse),
                    format!("{:.0}", e.score),
                ]);
                if e.subset == "FD001" {
                    let mut anchors: Vec<(&&str, &f64)> = e.anchors.iter().collect();
                    anchors.sort_by(|a, b| b.1.total_cmp(a.1));
                    for (name, rmse) in anchors {
                        t.add_row([format!("anchor: {name}"), format!("{rmse:.1}"), "-".into()]);
                    }
                }
                println!("{t}");
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
            let e = takt_maintenance::azure::evaluate(&data, &split, step_hours, config)?;
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
                let num = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.3}"));
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
