//! `takt adapt mtconnect|azure|jobshop`: converts a real plant source into takt events (JSON Lines),
//! ready for `takt replay`. Rows that cannot be read are reported with their place.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use takt_twin::adapters::{mtconnect, tables};
use takt_twin::event::Event;

#[derive(clap::Args)]
pub struct AdaptArgs {
    #[command(subcommand)]
    source: Source,
}

#[derive(clap::Subcommand)]
enum Source {
    /// An MTConnect SHDR recording of one machine.
    Mtconnect {
        /// The SHDR recording (one line per sample, as an MTConnect adapter writes it).
        shdr: PathBuf,
        /// The device model (Devices.xml), to know which data items are conditions.
        #[arg(long)]
        devices: Option<PathBuf>,
        /// The machine's name in the events (as the scenario names it).
        #[arg(long)]
        asset: String,
        /// Where to write the takt events (JSON Lines).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// The Azure predictive-maintenance tables (PdM_telemetry*.csv, PdM_errors.csv,
    /// PdM_failures.csv, PdM_maint.csv) in a directory.
    Azure {
        /// The directory holding the tables.
        dir: PathBuf,
        /// Only these machine IDs, e.g. 1,2.
        #[arg(long, value_delimiter = ',')]
        machines: Vec<u32>,
        /// The plant's UTC offset, e.g. +01:00 (the tables have local times).
        #[arg(long, default_value = "+00:00", value_parser = parse_offset, allow_hyphen_values = true)]
        utc_offset: i32,
        /// Where to write the takt events (JSON Lines).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// A job-shop MES log (CSV: Case ID, Activity, Resource, Start/Complete Timestamp, quantities).
    Jobshop {
        /// The MES log (CSV).
        log: PathBuf,
        /// The plant's UTC offset, e.g. +01:00 (the log has local times).
        #[arg(long, default_value = "+00:00", value_parser = parse_offset, allow_hyphen_values = true)]
        utc_offset: i32,
        /// Where to write the takt events (JSON Lines).
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn parse_offset(text: &str) -> Result<i32, String> {
    let bad = || format!("`{text}` is not a UTC offset like +01:00");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 14 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 60 + m))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write(path: &Path, events: &[Event]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for e in events {
        writeln!(out, "{}", serde_json::to_string(e)?)?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

fn report(events: &[Event], bad: &[tables::BadRow], output: &Path) {
    println!("{} events written to {}", events.len(), output.display());
    if !bad.is_empty() {
        println!("{} row(s) skipped:", bad.len());
        for b in bad.iter().take(10) {
            println!("  {} line {}: {}", b.table, b.line, b.reason);
        }
    }
}

pub fn run(args: AdaptArgs) -> Result<ExitCode> {
    match args.source {
        Source::Mtconnect {
            shdr,
            devices,
            asset,
            output,
        } => {
            let text = read(&shdr)?;
            let conditions = devices
                .as_deref()
                .map(read)
                .transpose()?
                .map(|xml| mtconnect::condition_keys(&xml));
            let (events, stats) = mtconnect::convert(&text, &asset, conditions.as_ref());
            write(&output, &events)?;
            println!(
                "{} lines, {} observations -> {} events written to {} ({} lines skipped)",
                stats.lines,
                stats.observations,
                stats.events,
                output.display(),
                stats.skipped_lines
            );
        }
        Source::Azure {
            dir,
            machines,
            utc_offset,
            output,
        } => {
            let find = |prefix: &str| -> Result<String> {
                let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot read {}", dir.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".csv"))
                    })
                    .collect();
                files.sort();
                match files.first() {
                    Some(f) => read(f),
                    None => Ok(String::new()),
                }
            };
            let telemetry = find("PdM_telemetry")?;
            let errors = find("PdM_errors")?;
            let failures = find("PdM_failures")?;
            let maint = find("PdM_maint")?;
            if [&telemetry, &errors, &failures, &maint]
                .iter()
                .all(|t| t.is_empty())
            {
                bail!("{}: no PdM_*.csv tables found", dir.display());
            }
            let (mut events, bad) =
                tables::azure(&telemetry, &errors, &failures, &maint, utc_offset);
            if !machines.is_empty() {
                let keep: Vec<String> = machines.iter().map(|m| format!("machine{m}")).collect();
                events.retain(|e| keep.contains(&e.asset));
                for (i, e) in events.iter_mut().enumerate() {
                    e.seq = i as u64 + 1;
                }
            }
            write(&output, &events)?;
            report(&events, &bad, &output);
        }
        Source::Jobshop {
            log,
            utc_offset,
            output,
        } => {
            let (events, bad) = tables::jobshop(&read(&log)?, utc_offset);
            write(&output, &events)?;
            report(&events, &bad, &output);
        }
    }
    Ok(ExitCode::SUCCESS)
}
