//! The shift report of a live plant past its scenario's horizon: the plan runs from the plant as
//! the twin had it when the shift began. Validated against the plants themselves: many plants
//! (runs of the same line, each its own seed) are mirrored, and the report's plan must predict
//! each one's output in the shift without bias, and far better than the plants' average does,
//! because a long repair under way at the shift's start is in the plan.

mod common;

use common::Lines;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use takt_model::Model;
use takt_sim::Simulation;
use takt_twin::forecast::{
    DEFAULT_MIN_DEVIATION, ForecastInputs, ForecastOptions, forecast_with_plans,
};
use takt_twin::mirror::MirrorConfig;
use takt_twin::report::{PlanBasis, compare_with_plan};
use takt_twin::store::Store;
use takt_twin::{KpiWindow, Twin};

/// A line whose last machine fails about every 6 h and takes 3 h to repair, against shifts of
/// an hour (the scenario's horizon; without a calendar, shifts are as long as it): whether it is
/// down when a shift begins decides most of the shift's output.
fn line_with_long_repairs() -> Arc<Model> {
    let text = r#"
schema_version = 1
name = "Line with long repairs"

[run]
horizon = "1h"
warmup = 0
seed = 1
replications = 1

[[products]]
name = "part"
routing = [
  { station = "Press", process_time = 40 },
  { station = "Welder", process_time = { dist = "exponential", mean = 45 } },
]

[[stations]]
name = "Press"

[[stations]]
name = "Welder"
input_buffer = "B1"
failures = [{ name = "torch", ttf = { dist = "exponential", mean = 21600 }, ttr = { dist = "exponential", mean = 10800 } }]

[[buffers]]
name = "B1"
capacity = 10

[demand.arrivals]
interarrival = { dist = "exponential", mean = 60 }
mix = { part = 1 }
"#;
    match takt_model::load_str(text, Path::new("long-repairs.toml"), None) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("the test's line: {e}"),
    }
}

/// One plant (the line run with `seed`) mirrored up to `until_s`.
fn plant(model: &Arc<Model>, seed: u64, until_s: f64) -> Twin {
    let mut sim = Simulation::new(Arc::clone(model), seed);
    let lines = Lines(Arc::default(), model.timebase);
    sim.set_trace(Box::new(lines.clone()));
    sim.run_until(until_s);
    sim.take_trace();
    // The simulator's trace says only what changes, with no heartbeat: a machine down for hours
    // says nothing meanwhile, and would be shown silent (unknown) after the default 15 minutes.
    let config = MirrorConfig {
        silence_ms: 8 * 3_600_000,
        ..MirrorConfig::default()
    };
    let mut twin = Twin::open(model, Store::memory().expect("store"), config).expect("twin");
    let events = lines.0.lock().expect("lines").clone();
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let received = model.timebase.start_ms() + (until_s * 1000.0) as i64;
    twin.ingest_lines("test", &refs, received).expect("ingest");
    twin
}

/// One plant's report of the shift from 6 h to 7 h (past the scenario's one hour), as of 7 h 30
/// min, with its plan.
fn report_of_plant(model: &Arc<Model>, seed: u64) -> takt_twin::report::ShiftReport {
    let twin = plant(model, seed, 7.5 * 3600.0);
    let now = model.timebase.start_ms() + 7 * 3_600_000 + 1_800_000;
    let mut report = twin.shift_report(model, now, KpiWindow::Previous);
    assert_eq!(
        report.start_ms,
        model.timebase.start_ms() + 6 * 3_600_000,
        "the shift before is 6 h to 7 h"
    );
    let start = twin.shift_start(report.start_ms, None);
    assert!(start.is_some(), "the twin saw the plant at 6 h");
    compare_with_plan(&mut report, model, start.as_ref(), 200, 5, None).expect("plan");
    report
}

#[test]
fn past_the_horizon_the_plan_starts_from_the_plant_at_the_shift_start_and_predicts_it() {
    let model = line_with_long_repairs();
    let plants = 30;
    let mut actual = Vec::new();
    let mut planned = Vec::new();
    for seed in 0..plants {
        let report = report_of_plant(&model, 1000 + seed);
        assert_eq!(report.plan_basis, Some(PlanBasis::PlantAtShiftStart));
        assert_eq!(report.plan_replications, 200);
        assert!(
            report
                .plan_notes
                .iter()
                .any(|n| n.starts_with("the plan: the plant as it stood at the shift's start")),
            "{:?}",
            report.plan_notes
        );
        actual.push(report.line.good as f64);
        planned.push(report.line.plan_good.expect("a plan"));
    }
    let n = plants as f64;
    // Without bias: the mean of actual - plan is within its 99 % interval of 0 (t, 29 degrees of
    // freedom: 2.756).
    let gaps: Vec<f64> = actual.iter().zip(&planned).map(|(a, p)| a - p).collect();
    let mean_gap = gaps.iter().sum::<f64>() / n;
    let sd_gap = (gaps.iter().map(|g| (g - mean_gap).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half_width = 2.756 * sd_gap / n.sqrt();
    assert!(
        mean_gap.abs() <= half_width,
        "actual - plan {mean_gap:.1} ± {half_width:.1} parts: {actual:?} against {planned:?}"
    );
    // Informed by the start: the plan's squared error is well under that of the plants' own mean
    // (which knows every plant's outcome, yet not which was down at 6 h).
    let mean_actual = actual.iter().sum::<f64>() / n;
    let plan_error: f64 = gaps.iter().map(|g| g * g).sum();
    let spread: f64 = actual.iter().map(|a| (a - mean_actual).powi(2)).sum();
    assert!(
        plan_error < 0.6 * spread,
        "the plan's squared error {plan_error:.0} against the spread {spread:.0}: \
         {actual:?} against {planned:?}"
    );
}

/// A plant the twin did not see before the shift began has no plan past the horizon, and says
/// why.
#[test]
fn past_the_horizon_without_the_plant_at_the_shift_start_there_is_no_plan() {
    let model = line_with_long_repairs();
    let mut report = report_of_plant(&model, 7);
    let start = None;
    report.plan_notes.clear();
    report.plan_basis = None;
    report.line.plan_good = None;
    compare_with_plan(&mut report, &model, start, 20, 5, None).expect("plan");
    assert_eq!(report.plan_basis, None);
    assert_eq!(report.line.plan_good, None);
    assert!(
        report.plan_notes[0].starts_with("no plan to compare with: the scenario's plan ends at"),
        "{:?}",
        report.plan_notes
    );
}

/// A forecast in the shift has the same plan: the plant at the shift's start, run to the shift's
/// end, the runs the report of that shift makes.
#[test]
fn past_the_horizon_a_forecast_compares_with_the_plan_from_the_shift_start() {
    let model = line_with_long_repairs();
    let seed = 1003;
    let twin = plant(&model, seed, 6.5 * 3600.0);
    let now = model.timebase.start_ms() + 6 * 3_600_000 + 1_800_000;
    let options = ForecastOptions {
        replications: 50,
        seed: 5,
        until_s: None,
        plan_replications: 200,
        min_deviation: DEFAULT_MIN_DEVIATION,
    };
    let basis = twin.forecast_basis(now).expect("store");
    assert!(basis.start.is_some() && basis.book.is_none());
    let view = twin.view(now);
    let forecast = forecast_with_plans(
        &model,
        &view,
        now,
        options,
        basis.inputs(None),
        &AtomicBool::new(false),
    )
    .expect("forecast");
    assert!(
        forecast
            .warnings
            .iter()
            .any(|w| w.starts_with("the plan: the plant as it stood at the shift's start")),
        "{:?}",
        forecast.warnings
    );
    let report = report_of_plant(&model, seed);
    for (f, r) in forecast.stations.iter().zip(&report.stations) {
        assert_eq!(f.station, r.station);
        // The same runs, averaged in another order.
        let (f_plan, r_plan) = (f.plan_good.expect("a plan"), r.plan_good.expect("a plan"));
        assert!(
            (f_plan - r_plan).abs() < 1e-9,
            "{}: {f_plan} {r_plan}",
            f.station
        );
    }
    // Without the plant at the shift's start there is none, and the forecast says so.
    let without = forecast_with_plans(
        &model,
        &view,
        now,
        options,
        ForecastInputs::default(),
        &AtomicBool::new(false),
    )
    .expect("forecast");
    assert!(without.stations.iter().all(|s| s.plan_good.is_none()));
    assert!(
        without
            .warnings
            .iter()
            .any(|w| w.contains("no state of the plant at the shift's start")),
        "{:?}",
        without.warnings
    );
}
