//! `takt`: the command-line front of the factory digital twin.

mod adapt;
mod calibrate;
mod maintain;
mod mqtt_args;
mod opcua_args;
mod pdm;
mod schedule;
mod serve;
mod shift_report;
mod store_args;
mod table;
mod trace_file;
mod twin;
mod twin_forecast;
mod twin_listen;
mod twin_orders;
mod whatif;
mod worker;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use takt_model::{Loaded, ScenarioError, load_file, parse_duration};
use takt_sim::{Report, Simulation, rng, run_replications, summarize};

/// mimalloc instead of the system allocator: ingesting an event allocates a few short strings on
/// the parsing threads that the store and the mirror free on another, which glibc's allocator makes
/// expensive (the replay path measured about 30% faster, `benches/run.sh twin`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "takt",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("TAKT_COMMIT"), ")"),
    about = "takt: a factory digital twin - simulate, compare, plan",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Print the JSON Schema (draft 2020-12) of a scenario file.
    Schema,
}

/// The exit codes every command keeps (README "Exit codes").
const EXIT_CODES: &str = "Exit codes: 0 done; 1 the input was read but is wrong (every problem is \
printed with its file:line:col), or a check failed; 2 the command could not run (a wrong flag, a \
file that cannot be read or written, a limit exceeded).";

#[derive(Subcommand)]
enum Command {
    /// Simulate a plant and report its KPIs (ISO 22400 OEE, MTBF/MTTR, throughput, WIP, lead time).
    Run(RunArgs),
    /// Check a scenario file and report every problem with its location.
    Validate {
        /// Scenario file (TOML).
        file: PathBuf,
    },
    /// Compare variants of a plant with common random numbers: each KPI's mean and 95% CI per
    /// variant and its paired difference to the base, flagged where significant.
    Whatif(whatif::WhatifArgs),
    /// Schedule a plant's order book (or a benchmark shop instance): dispatching, then tabu search (and
    /// an exact MILP where it helps); every schedule is checked for feasibility before it is printed,
    /// and `--evaluate N` runs it in the simulator.
    Schedule(schedule::ScheduleArgs),
    /// Feed a recording (takt event schema, JSON Lines) through the live twin's ingestion path -
    /// checked, durably stored, mirrored - as fast as possible or paced, and print the mirrored plant.
    Replay(twin::ReplayArgs),
    /// Fit a scenario's failures, repairs, cycle times, changeovers and scrap from recorded events
    /// (maximum likelihood with censoring, families chosen by AIC) and write it back.
    Calibrate(calibrate::CalibrateArgs),
    /// Convert a real plant source (MTConnect SHDR, the Azure PdM tables, a job-shop MES log) into
    /// takt events (JSON Lines) for `takt replay`.
    Adapt(adapt::AdaptArgs),
    /// The live twin's store and schema: `takt twin state --db twin.db --scenario S`, `takt twin schema`.
    Twin(twin::TwinArgs),
    /// Predictive-maintenance models: `takt pdm evaluate cmapss --data DIR --subset FD001` trains
    /// and scores the remaining-useful-life model on NASA's C-MAPSS data.
    Pdm(pdm::PdmArgs),
    /// When to service each machine over the coming days: windows placed where they cost least
    /// (off shift where possible), within the crews' capacity and a risk limit; `--compare N` runs
    /// run to failure, a fixed interval and the plan in the simulator.
    Maintain(maintain::MaintainArgs),
    /// The HTTP API (see /openapi.json): the live twin of one plant, scenarios, simulation and
    /// maintenance jobs. `--replay FILE` feeds a recording into the twin while serving.
    Serve(Box<serve::ServeArgs>),
    /// A node of a site that runs jobs and serves nothing: it takes the simulations, schedules and
    /// maintenance plans the site's servers queue in their shared PostgreSQL store (`--store`).
    Worker(worker::WorkerArgs),
    /// Scenario files: `takt scenario schema` prints their JSON Schema, for editors that check TOML
    /// against one (taplo, Even Better TOML).
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// Shell completions for takt: `takt completions bash > /etc/bash_completion.d/takt`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// The manual page (roff) of takt or of one of its commands: `takt man | man -l -`.
    Man {
        /// A command (`run`, `whatif`...) for its own page; none for takt's.
        command: Option<String>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario file (TOML).
    file: PathBuf,
    /// Seed of the random streams (overrides run.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Simulated time span, e.g. 8h, 3d, 1e6 (seconds) (overrides run.horizon).
    #[arg(long, value_parser = parse_secs, allow_hyphen_values = true)]
    horizon: Option<f64>,
    /// Warm-up discarded from statistics, e.g. 1h (overrides run.warmup).
    #[arg(long, value_parser = parse_secs, allow_hyphen_values = true)]
    warmup: Option<f64>,
    /// Independent replications, run in parallel; KPIs then come with 95% confidence intervals.
    #[arg(long)]
    replications: Option<u32>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write machine events (state changes, piece counts) as JSON Lines (single replication only).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
}

/// Every replication's report is kept for the summary: a bound keeps memory bounded. The same
/// limit as a scenario's `run.replications` (a command-line override may not pass it).
pub(crate) const MAX_REPLICATIONS: u32 = takt_model::limits::MAX_REPLICATIONS;

pub(crate) fn parse_secs(text: &str) -> Result<f64, takt_model::duration::DurationError> {
    parse_duration(text)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let holds_connections = match &cli.command {
        Command::Serve(_) | Command::Worker(_) => true,
        Command::Twin(args) => args.is_listen(),
        _ => false,
    };
    // A server or a worker says which jobs it takes and ends (RUST_LOG overrides it).
    let default_filter = match &cli.command {
        Command::Serve(_) | Command::Worker(_) => "warn,highs=error,takt_api::jobs=info",
        _ => "warn,highs=error",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    if !holds_connections {
        quiet_on_broken_pipe();
    }
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { file } => validate(&file),
        Command::Whatif(args) => whatif::run(args),
        Command::Schedule(args) => schedule::run(args),
        Command::Replay(args) => twin::replay(args),
        Command::Twin(args) => twin::twin(args),
        Command::Adapt(args) => adapt::run(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Pdm(args) => pdm::run(args),
        Command::Maintain(args) => maintain::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Worker(args) => worker::run(args),
        Command::Scenario {
            command: ScenarioCommand::Schema,
        } => serde_json::to_string_pretty(&takt_model::scenario::schema())
            .map(|text| {
                println!("{text}");
                ExitCode::SUCCESS
            })
            .map_err(Into::into),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "takt", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command } => man(command.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The manual page of takt, or of `command`.
fn man(command: Option<&str>) -> Result<ExitCode> {
    let cli = Cli::command();
    let man = match command {
        None => clap_mangen::Man::new(cli),
        Some(name) => {
            let page = cli
                .find_subcommand(name)
                .cloned()
                .with_context(|| format!("`{name}` is not a takt command"))?;
            clap_mangen::Man::new(page).title(format!("takt-{name}"))
        }
    };
    let mut out = Vec::new();
    man.render(&mut out)?;
    use std::io::Write as _;
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// A command whose reader has gone (`takt twin schema | head -1`) ends quietly, as Unix tools do:
/// the default action of SIGPIPE ends the process, where Rust's runtime would ignore the signal and
/// `println!` would panic on the EPIPE. Not for `serve` and `twin listen`: a peer that closes its
/// connection must not end them.
fn quiet_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Loads a scenario; located problems go to stderr, one per line.
pub(crate) fn load(file: &Path) -> Result<Result<Loaded, ExitCode>> {
    match load_file(file) {
        Ok(loaded) => Ok(Ok(loaded)),
        Err(ScenarioError::Invalid(diags)) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!("{}: {} problem(s)", file.display(), diags.len());
            Ok(Err(ExitCode::from(1)))
        }
        Err(e) => Err(e.into()),
    }
}

fn validate(file: &Path) -> Result<ExitCode> {
    let loaded = match load(file)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let m = &loaded.model;
    let machines: u32 = m.stations.iter().map(|s| s.machines).sum();
    println!(
        "{}: ok - `{}`: {} products, {} stations ({} machines), {} buffers, {} orders",
        file.display(),
        m.name,
        m.products.len(),
        m.stations.len(),
        machines,
        m.buffers.iter().filter(|b| !b.implicit).count(),
        m.orders.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let mut loaded = match load(&args.file)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = &mut loaded.model;
    if let Some(seed) = args.seed {
        model.seed = seed;
    }
    if let Some(h) = args.horizon {
        model.horizon_s = h;
    }
    if let Some(w) = args.warmup {
        model.warmup_s = w;
    }
    if let Some(r) = args.replications {
        model.replications = r;
    }
    if model.horizon_s <= 0.0 {
        bail!("the horizon must be > 0");
    }
    takt_model::limits::check_horizon(model, model.horizon_s)
        .map_err(|m| anyhow::anyhow!("--horizon: {m}"))?;
    if model.warmup_s >= model.horizon_s {
        bail!(
            "the warm-up ({} s) must be shorter than the horizon ({} s)",
            model.warmup_s,
            model.horizon_s
        );
    }
    if model.replications == 0 || model.replications > MAX_REPLICATIONS {
        bail!(
            "replications must be between 1 and {MAX_REPLICATIONS}, got {}",
            model.replications
        );
    }
    let replications = model.replications;
    let seed = model.seed;
    let model = Arc::new(loaded.model);

    let output: Vec<Report> = if replications == 1 {
        let mut sim = Simulation::new(Arc::clone(&model), rng::replication_seed(seed, 0));
        if let Some(path) = &args.trace {
            let sink = trace_file::JsonLinesTrace::create(path, model.timebase)
                .with_context(|| format!("cannot create trace file {}", path.display()))?;
            sim.set_trace(Box::new(sink));
        }
        sim.run_to_horizon(&[])?;
        if let Some(mut sink) = sim.take_trace() {
            sink.flush().context("cannot write the trace file")?;
        }
        vec![sim.report()]
    } else {
        if args.trace.is_some() {
            bail!(
                "--trace records one run: use it without --replications (or with --replications 1)"
            );
        }
        let bar = ProgressBar::new(u64::from(replications)).with_style(
            ProgressStyle::with_template(
                "{spinner} replications {pos}/{len} [{bar:30}] {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let reports = run_replications(&model, seed, replications, &|| bar.inc(1), None)?;
        bar.finish_and_clear();
        reports
    };
    // One run prints its report; several their summary. JSON keys come sorted, as always.
    if args.json {
        let json = match output.as_slice() {
            [one] => serde_json::to_value(one)?,
            many => serde_json::to_value(summarize(many, seed))?,
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", table::render(&summarize(&output, seed)));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every flag and argument of every command says what it is for in `--help`.
    #[test]
    fn every_flag_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "takt", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
