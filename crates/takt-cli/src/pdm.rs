//! `takt pdm evaluate cmapss --data DIR --subset FD001`: trains the remaining-useful-life model on a
//! public benchmark and scores it the way the literature does, with the literature's anchors beside.

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
                    for (name, rmse) in &e.anchors {
                        t.add_row([format!("anchor: {name}"), format!("{rmse:.1}"), "-".into()]);
                    }
                }
                println!("{t}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
