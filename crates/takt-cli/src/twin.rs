//! `takt replay FILE --scenario S`: feeds a recording through the live twin's ingestion path (parse,
//! check, durable store, mirror) as fast as possible or paced, and prints the mirrored plant.
//! `takt twin state --db FILE --scenario S`: rebuilds the twin from its store and prints it.
//! `takt twin forecast --db FILE --scenario S`: forecasts the rest of the shift from the mirrored state.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use takt_model::Model;
use takt_model::quantity::count;
use takt_twin::mirror::MirrorConfig;
use takt_twin::replay::{HAND_OVER_BEFORE_WAIT, Pacer, Speed};
use takt_twin::store::{Durability, Store};
use takt_twin::{IngestReport, Twin, TwinState};

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// A recording in the takt event schema: JSON Lines, or the flat CSV form (`.csv`, see
    /// docs/events.md).
    file: PathBuf,
    /// The plant the recording comes from (its machine names are the assets).
    #[arg(long)]
    scenario: PathBuf,
    /// `max` (as fast as possible) or a speed-up such as `60x` (one recorded minute per second).
    #[arg(long, default_value = "max")]
    speed: Speed,
    /// Event store: a SQLite file, or a PostgreSQL URL (`postgres://user@host/db`, `?sslmode=verify-full` for TLS; the password in TAKT_STORE_PASSWORD); without it the replay is kept in memory.
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    #[command(flatten)]
    plant: crate::store_args::PlantArg,
    /// full: every batch survives a power cut; normal: survives a crash, faster.
    #[arg(long, default_value = "full")]
    durability: DurabilityArg,
    /// Events per stored batch: one transaction each, acknowledged and judged for alerts after
    /// it. Larger batches replay into a durable store faster (fewer commits wait for the disk).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// How far out of order events may arrive and still be applied in order, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = crate::parse_secs)]
    reorder_window: f64,
    /// The moment to show the plant at: an RFC 3339 time, or a time from the scenario's start
    /// (e.g. `5m`); default: the newest event.
    #[arg(long, value_parser = parse_moment)]
    at: Option<Moment>,
    /// Alert rules (TOML, see docs/alerts.md), `default` (a machine down 10 min, a running
    /// machine silent 10 min, the line's OEE below 50 % after an hour) or `none`, judged after
    /// each batch; the alerts raised and cleared are printed after the plant (`alerts` in the JSON).
    #[arg(long)]
    alerts: Option<String>,
    /// Print the mirrored plant as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Print `acked N` on stdout after each stored batch (N: events accepted so far).
    #[arg(long, hide = true)]
    print_acks: bool,
}

#[derive(clap::Args)]
pub struct TwinArgs {
    #[command(subcommand)]
    command: TwinCommand,
}

impl TwinArgs {
    /// `takt twin listen` holds network connections for as long as it runs.
    pub(crate) fn is_listen(&self) -> bool {
        matches!(self.command, TwinCommand::Listen(_))
    }
}

#[derive(clap::Subcommand)]
enum TwinCommand {
    /// Open the twin over its event store (its saved mirror and the events after it) and print the
    /// mirrored plant.
    State(MirrorArgs),
    /// The shifts that ended (the one before the running shift and up to 44 before it), newest
    /// first: each machine's pieces and ISO 22400 KPIs.
    Shifts(MirrorArgs),
    /// A day's or a week's figures: each machine's pieces and ISO 22400 KPIs over the shifts that
    /// started in the plant's day (or week, Monday to Sunday) of the running shift, so far.
    Totals(TotalsArgs),
    /// The plant's live order book (its open orders from the MES or ERP, dated in plant time),
    /// or, with `--set FILE`, give a new one: forecasts use it in place of the scenario's orders.
    Orders(crate::twin_orders::OrdersArgs),
    /// Forecast the rest of the shift from the mirrored state: output, OEE and order completion with
    /// 95% confidence intervals and 90% prediction ranges, and where the plant deviates from plan.
    Forecast(crate::twin_forecast::ForecastArgs),
    /// The shift report for the handover: each machine's OEE and its factors, the line's output
    /// against the plan, and the downtime Pareto; a table, `--json`, or `--html FILE`.
    Report(crate::shift_report::ReportArgs),
    /// Print the JSON Schema of the takt plant event.
    Schema,
    /// Subscribe to an MQTT broker (topics takt/<site>/<line>/<asset>/<kind>) and mirror the plant
    /// into the store; each batch is acknowledged once it is stored.
    Listen(Box<crate::twin_listen::ListenArgs>),
}

#[derive(clap::Args)]
struct TotalsArgs {
    #[command(flatten)]
    mirror: MirrorArgs,
    /// `day` (the plant's day of the running shift) or `week` (its week, Monday to Sunday).
    #[arg(long, default_value = "day", value_parser = |s: &str| s.parse::<takt_twin::totals::Period>().map_err(|e| e.to_string()))]
    period: takt_twin::totals::Period,
    /// An earlier day, or a day of an earlier week, in the plant's calendar: 2026-01-05
    /// (default: the running shift's).
    #[arg(long, value_parser = |s: &str| s.parse::<takt_twin::totals::PlantDate>().map_err(|e| e.to_string()))]
    date: Option<takt_twin::totals::PlantDate>,
}

#[derive(clap::Args)]
pub(crate) struct MirrorArgs {
    /// The twin's event store: a SQLite file, or a PostgreSQL URL (`postgres://user@host/db`, `?sslmode=verify-full` for TLS; the password in TAKT_STORE_PASSWORD).
    #[arg(long, value_name = "FILE|URL")]
    pub(crate) db: String,
    #[command(flatten)]
    pub(crate) plant: crate::store_args::PlantArg,
    /// The plant the store mirrors (TOML).
    #[arg(long)]
    pub(crate) scenario: PathBuf,
    /// How far out of order events may arrive and still be applied in order, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = crate::parse_secs)]
    reorder_window: f64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub(crate) json: bool,
}

impl MirrorArgs {
    pub(crate) fn config(&self) -> MirrorConfig {
        MirrorConfig::with_reorder_window_s(self.reorder_window)
    }

    /// Opens the twin over the store, reads it at its moment (the newest event, or the scenario's
    /// start) and prints what it read: JSON with `--json`, else tables.
    fn show<T: serde::Serialize>(
        &self,
        read: impl FnOnce(&Twin, i64) -> T,
        print: impl FnOnce(&T),
    ) -> Result<ExitCode> {
        let (model, twin) = match open_twin(&self.scenario, &self.db, &self.plant, self.config())? {
            Ok(opened) => opened,
            Err(code) => return Ok(code),
        };
        let now = twin.newest_ms().unwrap_or(model.timebase.start_ms());
        let figures = read(&twin, now);
        if self.json {
            println!("{}", serde_json::to_string_pretty(&figures)?);
        } else {
            print(&figures);
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DurabilityArg {
    Full,
    Normal,
}

fn load_model(path: &Path) -> Result<Result<Model, ExitCode>> {
    Ok(crate::load(path)?.map(|l| l.model))
}

/// The plant of `scenario` and its twin over the store `db` (its saved mirror and the events
/// after it), as every `takt twin` command that reads a store opens them; `Err` is the exit code
/// of a scenario that does not load (its problems already printed).
pub(crate) fn open_twin(
    scenario: &Path,
    db: &str,
    plant: &crate::store_args::PlantArg,
    config: MirrorConfig,
) -> Result<Result<(Model, Twin), ExitCode>> {
    let model = match load_model(scenario)? {
        Ok(m) => m,
        Err(code) => return Ok(Err(code)),
    };
    let store = crate::store_args::open_existing(db, plant)?;
    let twin = Twin::open(&model, store, config)?;
    Ok(Ok((model, twin)))
}

/// Good, scrap, A, P (flagged ⚑ above the standard), Q and OEE: the figure cells of every table
/// of a machine's shift.
fn figure_cells(
    good: u64,
    scrap: u64,
    kpis: &takt_twin::view::Kpis,
    flagged: &mut bool,
) -> [String; 6] {
    [
        count(good),
        count(scrap),
        pct(kpis.availability),
        performance(kpis, flagged),
        pct(kpis.quality),
        pct(kpis.oee),
    ]
}

/// A moment on the command line: an RFC 3339 time, or a time from the scenario's start.
#[derive(Debug, Clone, Copy)]
pub enum Moment {
    FromStart(f64),
    /// Unix ms.
    Unix(i64),
}

fn parse_moment(text: &str) -> Result<Moment, String> {
    if let Ok(ms) = takt_model::time::parse_rfc3339_ms(text) {
        return Ok(Moment::Unix(ms));
    }
    crate::parse_secs(text).map(Moment::FromStart).map_err(|e| {
        format!("`{text}` is neither an RFC 3339 time nor a time from the scenario's start ({e})")
    })
}

/// For a twin fed live: says so when the scenario's plan is already over by the clock. KPIs still
/// count per shift, and each shift's plan runs from the plant at its start, but the scenario's
/// orders were all due long ago (a live order book takes their place).
pub(crate) fn warn_if_past_the_plan(model: &Model) {
    let end_ms = model.timebase.start_ms() + (model.horizon_s * 1000.0) as i64;
    let now_ms = chrono_now_ms();
    if now_ms > end_ms {
        let plant_time = |ms: i64| model.timebase.format_ms(ms);
        let (start, end) = (plant_time(model.timebase.start_ms()), plant_time(end_ms));
        tracing::warn!("the scenario's plan {start} .. {end} is over");
        eprintln!(
            "warning: the scenario's plan ({start} .. {end}) is over: live KPIs count per shift, \
             and a shift's plan is the plant as it stood at the shift's start run in the scenario, \
             but the scenario's orders were due long ago; give the plant's open orders (`takt twin \
             orders --set FILE` or PUT /twin/orders), or set [run] start (and the orders) to the \
             days the plant runs now"
        );
    }
}

pub fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let loaded = match crate::load(&args.scenario)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = loaded.model;
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let store = match &args.db {
        Some(db) => crate::store_args::open(
            db,
            &args.plant,
            match args.durability {
                DurabilityArg::Full => Durability::Full,
                DurabilityArg::Normal => Durability::Normal,
            },
        )?,
        None => Store::memory().context("opening the event store")?,
    };
    let mut twin = Twin::open(
        &model,
        store,
        MirrorConfig::with_reorder_window_s(args.reorder_window),
    )?;
    let mut alerts = match &args.alerts {
        Some(choice) => {
            let rules = match takt_twin::alerts::rules::chosen(choice, &model) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let lifetimes = takt_twin::alerts::Lifetimes::new(&model, |si, fi| {
                takt_maintenance::plant::wear_out_lifetime(&loaded.scenario, si, fi)
            });
            Some((twin.alert_engine(rules)?, lifetimes))
        }
        None => None,
    };
    let mut alert_log: Vec<takt_twin::alerts::AlertChange> = Vec::new();
    let shared_model = std::sync::Arc::new(model.clone());
    // After each stored batch: the rules judged at its newest event, and the orders on a forecast
    // when an `order_late` rule's period has passed.
    let mut judge = |twin: &mut Twin| -> Result<()> {
        if let Some((engine, lifetimes)) = alerts.as_mut()
            && let Some(now) = twin.newest_ms()
        {
            alert_log.extend(twin.judge_alerts(engine, &shared_model, Some(lifetimes), now)?);
        }
        Ok(())
    };
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if std::io::stderr().is_terminal() && !args.json {
        ProgressBar::new(size).with_style(
            ProgressStyle::with_template(
                "{spinner} replaying [{bar:30}] {bytes}/{total_bytes} {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let source = args.file.display().to_string();
    let started = Instant::now();
    let (mut accepted, mut duplicates, mut rejected) = (0u64, 0u64, 0u64);
    let mut first_rejections: Vec<String> = Vec::new();
    let mut line_no = 0usize;
    let stdout = std::io::stdout();
    // What each stored batch did: counted, its first rejections kept with their line numbers.
    let accepted_before = twin.counters().accepted;
    let mut record = |r: &IngestReport, first_line: usize| -> Result<()> {
        accepted += r.accepted;
        duplicates += r.duplicates;
        rejected += r.rejected.len() as u64;
        for x in r
            .rejected
            .iter()
            .take(10usize.saturating_sub(first_rejections.len()))
        {
            first_rejections.push(format!("{source}:{}: {}", first_line + x.index, x.reason));
        }
        if args.print_acks {
            let mut out = stdout.lock();
            writeln!(out, "acked {}", accepted_before + accepted)?;
            out.flush()?;
        }
        Ok(())
    };
    let is_csv = args
        .file
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
    let lines: Box<dyn Iterator<Item = Result<String>> + Send> = if is_csv {
        // The flat CSV form: each row becomes the JSON event of the same fields; the header counts
        // as line 1, so rows keep their line numbers.
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let headers: Vec<String> = reader
            .headers()
            .with_context(|| format!("{}: no CSV header", args.file.display()))?
            .iter()
            .map(String::from)
            .collect();
        line_no = 1;
        Box::new(reader.into_records().map(move |r| {
            let r = r?;
            let h: Vec<&str> = headers.iter().map(String::as_str).collect();
            let row: Vec<&str> = r.iter().collect();
            Ok(takt_twin::event::csv_row_to_json(&h, &row))
        }))
    } else {
        Box::new(
            BufReader::new(file)
                .lines()
                .map(|l| l.map_err(anyhow::Error::from)),
        )
    };
    let first_line = line_no + 1;
    // The bar moves every 64 KiB: `inc` reads the clock, which per line cost ~2% of a replay.
    let mut unshown_bytes = 0u64;
    let mut lines = lines.map(|line| {
        let line = line.with_context(|| format!("reading {}", args.file.display()))?;
        line_no += 1;
        unshown_bytes += line.len() as u64 + 1;
        if unshown_bytes >= 1 << 16 {
            bar.inc(std::mem::take(&mut unshown_bytes));
        }
        Ok::<_, anyhow::Error>((line_no, line))
    });
    match args.speed {
        Speed::Max => {
            // As fast as possible: while the twin stores a batch, it mirrors the one before and
            // reads the next. A read error ends the batches; it is reported once what was read is
            // stored.
            let mut read_error = None;
            let batches = std::iter::from_fn(|| {
                let mut batch = Vec::with_capacity(args.batch);
                for item in lines.by_ref() {
                    match item {
                        Ok((_, line)) => {
                            batch.push(line);
                            if batch.len() >= args.batch {
                                break;
                            }
                        }
                        Err(e) => {
                            read_error = Some(e);
                            break;
                        }
                    }
                }
                (!batch.is_empty()).then_some(batch)
            });
            twin.ingest_pipelined(&source, batches, chrono_now_ms, |twin, k, _, r| {
                // Every batch but the last is full.
                record(r, first_line + k * args.batch)?;
                judge(twin)
            })?;
            if let Some(e) = read_error {
                return Err(e);
            }
        }
        Speed::Factor(f) => {
            let mut batch: Vec<String> = Vec::with_capacity(args.batch);
            let mut batch_first_line = 1usize;
            // The batch is handed over: its texts are kept as read, without a copy.
            let mut flush = |twin: &mut Twin, batch: &mut Vec<String>, first_line: usize| {
                let parsed = takt_twin::parse_owned_batch(&source, std::mem::take(batch));
                let r = twin.ingest_batch(parsed, chrono_now_ms())?;
                record(&r, first_line)?;
                judge(twin)?;
                Ok::<_, anyhow::Error>(())
            };
            let mut pacer = Pacer::new(Speed::Factor(f));
            for item in lines {
                let (n, line) = item?;
                if let Some(due) = pacer.due(&line)
                    && due > started.elapsed() + HAND_OVER_BEFORE_WAIT
                {
                    // Hand over what we have before waiting, so the twin is current while it
                    // waits.
                    if !batch.is_empty() {
                        flush(&mut twin, &mut batch, batch_first_line)?;
                    }
                    std::thread::sleep(due.saturating_sub(started.elapsed()));
                }
                if batch.is_empty() {
                    batch_first_line = n;
                }
                batch.push(line);
                if batch.len() >= args.batch {
                    flush(&mut twin, &mut batch, batch_first_line)?;
                }
            }
            if !batch.is_empty() {
                flush(&mut twin, &mut batch, batch_first_line)?;
            }
        }
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let now = match args.at {
        Some(Moment::FromStart(s)) => model.timebase.start_ms() + (s * 1000.0).round() as i64,
        Some(Moment::Unix(ms)) => ms,
        None => twin.newest_ms().unwrap_or(model.timebase.start_ms()),
    };
    let state = twin.state(now);
    let alert_list = alert_list(&alert_log);
    if args.json {
        let mut out = serde_json::to_value(&state)?;
        if let (Some(object), true) = (out.as_object_mut(), args.alerts.is_some()) {
            object.insert("alerts".into(), serde_json::to_value(&alert_list)?);
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "replayed {line_no} lines in {seconds:.2} s ({:.0} lines/s): {accepted} accepted, {duplicates} duplicates, {rejected} rejected{}",
            line_no as f64 / seconds.max(1e-9),
            args.db
                .as_ref()
                .map_or(String::from(" (in memory)"), |db| format!(
                    ", stored in {}",
                    crate::store_args::location(db, &args.plant)
                        .map_or_else(|_| db.clone(), |l| l.to_string())
                ))
        );
        for r in &first_rejections {
            println!("  rejected {r}");
        }
        print_state(&state);
        if args.alerts.is_some() {
            print_alerts(&alert_list, &model);
        }
    }
    if rejected > 0 && accepted == 0 && duplicates == 0 {
        eprintln!(
            "error: every one of the {rejected} event(s) in {source} was rejected: nothing was replayed"
        );
        for r in first_rejections.iter().take(3) {
            eprintln!("  {r}");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn twin(args: TwinArgs) -> Result<ExitCode> {
    match args.command {
        TwinCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&takt_twin::event::schema())?
            );
            Ok(ExitCode::SUCCESS)
        }
        TwinCommand::Listen(args) => crate::twin_listen::listen(*args),
        TwinCommand::Forecast(args) => crate::twin_forecast::run(args),
        TwinCommand::Report(args) => crate::shift_report::run(args),
        TwinCommand::State(args) => args.show(Twin::state, print_state),
        TwinCommand::Shifts(args) => args.show(Twin::shifts, print_shifts),
        TwinCommand::Orders(args) => crate::twin_orders::run(args),
        TwinCommand::Totals(args) => args.mirror.show(
            |twin, now| twin.totals(now, args.period, args.date),
            print_totals,
        ),
    }
}

pub(crate) fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn pct(x: Option<f64>) -> String {
    takt_model::quantity::Quantity::Share.maybe(x)
}

/// A performance, flagged (⚑) where it beats the standard cycle.
fn performance(kpis: &takt_twin::view::Kpis, flagged: &mut bool) -> String {
    if kpis.performance_above_standard {
        *flagged = true;
        format!("{} ⚑", pct(kpis.performance))
    } else {
        pct(kpis.performance)
    }
}

fn standard_note(flagged: bool) {
    if flagged {
        let note = format!(
            "⚑ performance above 100 %: {}",
            takt_model::quantity::FASTER_THAN_STANDARD
        );
        println!("{}", takt_model::quantity::wrap(&note, 100));
    }
}

/// "2026-01-05 06:00" of an RFC 3339 time (in plant time already); with `seconds`, "06:00:12"
/// alone when it falls on `day`.
fn plant_text(rfc3339: &str, day: Option<&str>) -> String {
    let (date, clock) = (rfc3339.get(..10), rfc3339.get(11..19));
    match (date, clock) {
        (Some(d), Some(c)) if day == Some(d) => c.to_string(),
        (Some(d), Some(c)) => format!("{d} {}", &c[..5]),
        _ => rfc3339.to_string(),
    }
}

/// The ended shifts, newest first: under each shift's name and span, a row per machine.
fn print_shifts(history: &takt_twin::shifts::ShiftHistory) {
    if history.shifts.is_empty() {
        println!("no shift has ended yet in the twin's events");
        return;
    }
    let mut flagged = false;
    for shift in &history.shifts {
        let to = plant_text(&shift.end, shift.start.get(..10));
        println!(
            "shift {}, {} to {} (plant time)",
            shift.shift.as_deref().unwrap_or("(unnamed)"),
            plant_text(&shift.start, None),
            to.get(..5).unwrap_or(&to)
        );
        println!("{}", machines_table(&shift.machines, &mut flagged));
    }
    standard_note(flagged);
}

/// A row per machine: its pieces and KPIs over a shift or a period.
fn machines_table(
    machines: &[takt_twin::shifts::MachineShift],
    flagged: &mut bool,
) -> comfy_table::Table {
    let header = ["machine", "good", "scrap", "A", "P", "Q", "OEE"];
    let mut t = crate::table::narrow(&header, 1);
    for m in machines {
        let mut row = vec![m.asset.clone()];
        row.extend(figure_cells(m.good, m.scrap, &m.kpis, flagged));
        t.add_row(row);
    }
    t
}

/// A day's or a week's figures: the period and the shifts counted, then a row per machine.
fn print_totals(totals: &takt_twin::totals::PeriodTotals) {
    let shifts: Vec<String> = totals
        .shifts
        .iter()
        .map(|s| {
            format!(
                "{} {}{}",
                s.shift.as_deref().unwrap_or("(unnamed)"),
                plant_text(&s.start, None),
                if s.running { " (so far)" } else { "" }
            )
        })
        .collect();
    println!(
        "{}",
        takt_model::quantity::wrap(
            &format!(
                "{} from {} to {} (plant time): {}",
                totals.period,
                plant_text(&totals.start, None),
                plant_text(&totals.end, None),
                if shifts.is_empty() {
                    "no shift with figures".to_string()
                } else {
                    format!("shifts {}", shifts.join(", "))
                }
            ),
            100
        )
    );
    let mut flagged = false;
    println!("{}", machines_table(&totals.machines, &mut flagged));
    standard_note(flagged);
    for note in &totals.notes {
        println!("{}", takt_model::quantity::wrap(note, 100));
    }
}

pub(crate) fn print_state(state: &TwinState) {
    let offset = takt_twin::report::offset_text(&state.now);
    println!(
        "{}",
        takt_model::quantity::wrap(
            &format!(
                "twin at {} (plant time, {offset}); KPIs of the shift{} from {} to {}{}; {} events accepted, {} duplicates, {} rejected",
                plant_text(&state.now, None),
                state
                    .shift
                    .as_ref()
                    .map(|n| format!(" `{n}`"))
                    .unwrap_or_default(),
                plant_text(&state.window_start, None),
                plant_text(&state.window_end, None),
                if state.now_ms >= state.window_end_ms {
                    format!(
                        " (no shift running; the next starts {})",
                        plant_text(&state.next_shift_start, None)
                    )
                } else {
                    String::new()
                },
                count(state.counters.accepted),
                count(state.counters.duplicates),
                count(state.counters.rejected)
            ),
            100
        )
    );
    let today = state.now.get(..10);
    // Alarms get a column only when some machine has one.
    let alarms = state.assets.iter().any(|a| !a.alarms.is_empty());
    let mut header = vec![
        "asset", "state", "since", "reason", "good", "scrap", "A", "P", "Q", "OEE",
    ];
    if alarms {
        header.push("alarms");
    }
    let mut t = crate::table::narrow(&header, 4);
    let mut flagged = false;
    for a in &state.assets {
        let mut row = vec![
            a.asset.clone(),
            a.state.name().to_string(),
            a.since
                .as_deref()
                .map_or(String::new(), |s| plant_text(s, today)),
            a.reason.clone(),
        ];
        row.extend(figure_cells(a.good, a.scrap, &a.kpis, &mut flagged));
        if alarms {
            row.push(a.alarms.keys().cloned().collect::<Vec<_>>().join(" "));
        }
        t.add_row(row);
    }
    println!("{t}");
    println!("A, P, Q: availability, performance and quality (ISO 22400); OEE = A × P × Q");
    standard_note(flagged);
    // The shift before, for the handover: each asset's own (they agree unless one was silent).
    let previous: Vec<_> = state
        .assets
        .iter()
        .filter_map(|a| a.previous_shift.as_ref().map(|p| (&a.asset, p)))
        .collect();
    if previous.is_empty() {
        return;
    }
    println!("the shift before:");
    let mut t = crate::table::narrow(
        &[
            "asset", "shift", "from", "to", "good", "scrap", "A", "P", "Q", "OEE",
        ],
        4,
    );
    let mut flagged = false;
    for (asset, p) in previous {
        let mut row = vec![
            asset.clone(),
            p.shift.clone().unwrap_or_default(),
            plant_text(&p.start, None),
            plant_text(&p.end, None),
        ];
        row.extend(figure_cells(p.good, p.scrap, &p.kpis, &mut flagged));
        t.add_row(row);
    }
    println!("{t}");
    standard_note(flagged);
}

/// Each alert as it stands at the end (raised, cleared, acknowledged), in the order raised.
fn alert_list(log: &[takt_twin::alerts::AlertChange]) -> Vec<takt_twin::alerts::Alert> {
    let mut by_id: std::collections::BTreeMap<u64, takt_twin::alerts::Alert> =
        std::collections::BTreeMap::new();
    for change in log {
        let a = change.alert();
        by_id.insert(a.id, a.clone());
    }
    by_id.into_values().collect()
}

fn print_alerts(alerts: &[takt_twin::alerts::Alert], model: &Model) {
    let open = alerts.iter().filter(|a| a.is_open()).count();
    println!(
        "\nAlerts: {} raised, {open} still open",
        takt_model::quantity::count(alerts.len() as u64)
    );
    if alerts.is_empty() {
        return;
    }
    let minute = |ms: i64| model.timebase.plant_minute(model.timebase.model_s(ms));
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(100);
    t.set_header(["raised", "cleared", "severity", "rule", "what"]);
    for a in alerts {
        t.add_row([
            minute(a.raised_ms),
            a.cleared_ms.map_or_else(|| "open".to_string(), minute),
            a.severity.name().to_string(),
            a.rule.clone(),
            a.message.clone(),
        ]);
    }
    println!("{t}");
}
