//! What-if experiments: reproducible whatever the threads, exact zero differences for an identical
//! variant (common random numbers), a known analytical effect recovered within its interval, located
//! errors for bad overrides, sweeps, precision rounds, warm-up detection and goal ranking.

use std::path::PathBuf;
use takt_experiments::experiment::ExperimentError;
use takt_experiments::goal::{parse_constraint, parse_goal};
use takt_experiments::variants::{expand_sweeps, parse_sweep, parse_variant};
use takt_experiments::{Experiment, ExperimentSpec, Replications, WarmupChoice, html, run};

const MM1: &str = r#"
schema_version = 1
name = "M/M/1"
[run]
horizon = 1e5
warmup = 5e3
seed = 3
[[products]]
name = "p"
routing = [{ station = "S", process_time = { dist = "exponential", mean = 1 } }]
[[stations]]
name = "S"
[demand.arrivals]
interarrival = { dist = "exponential", mean = 1.25 }
mix = { p = 1 }
"#;

fn spec(text: &str, variants: &[&str], replications: Replications) -> ExperimentSpec {
    ExperimentSpec {
        base_text: text.to_string(),
        origin: PathBuf::from("test.toml"),
        base_dir: None,
        variants: variants
            .iter()
            .map(|v| parse_variant(v).expect("variant parses"))
            .collect(),
        replications,
        warmup: WarmupChoice::Scenario,
        seed: None,
        horizon_s: None,
        series_points: 20,
        goal: None,
    }
}

fn estimate<'a>(
    x: &'a Experiment,
    variant: &str,
    key: &str,
) -> &'a takt_experiments::experiment::Estimate {
    let v = x
        .variants
        .iter()
        .find(|v| v.name == variant)
        .expect("variant");
    v.estimates.iter().find(|e| e.key == key).expect("kpi")
}

#[test]
fn identical_variant_differs_by_exactly_zero() {
    // Changing a field to its own value: same model, same random numbers.
    let x = run(
        &spec(
            MM1,
            &["same: stations.S.machines=1"],
            Replications::Fixed(8),
        ),
        &|_, _| {},
    )
    .expect("runs");
    for e in &x.variants[1].estimates {
        if let Some(d) = &e.difference {
            assert_eq!(d.mean, 0.0, "{}", e.key);
            assert_eq!(d.ci95, Some(0.0), "{}", e.key);
            assert!(!d.significant);
        }
    }
}

#[test]
fn twice_as_fast_machine_shows_the_analytical_difference() {
    // rho 0.8 -> 0.4: L = 4 -> 2/3, difference -10/3; W = 5 -> 0.8333.
    let x = run(
        &spec(
            MM1,
            &[r#"fast: products.p.routing[0].process_time={ dist = "exponential", mean = 0.5 }"#],
            Replications::Fixed(20),
        ),
        &|_, _| {},
    )
    .expect("runs");
    let d = estimate(&x, "fast", "wip_mean")
        .difference
        .clone()
        .expect("difference");
    let h = d.ci95.expect("ci");
    eprintln!("wip difference {} ± {h}", d.mean);
    // The 99% interval (from the 95% one) covers the theory, and is narrow enough to mean something.
    assert!(
        (d.mean - (-10.0 / 3.0)).abs() <= h * 2.861 / 2.093,
        "{} ± {h}",
        d.mean
    );
    assert!(h < 0.25, "{h}");
    assert!(d.significant);
    let w = estimate(&x, "fast", "lead_time_mean_s")
        .difference
        .clone()
        .expect("difference");
    assert!(
        (w.mean - (0.8333 - 5.0)).abs() <= w.ci95.expect("ci") * 1.37,
        "{w:?}"
    );
    // Common random numbers make the paired interval much narrower than the unpaired one.
    let base_h = estimate(&x, "base", "wip_mean").ci95.expect("ci");
    let fast_h = estimate(&x, "fast", "wip_mean").ci95.expect("ci");
    assert!(
        h < (base_h.powi(2) + fast_h.powi(2)).sqrt(),
        "paired {h} vs unpaired {base_h}, {fast_h}"
    );
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let s = spec(
        MM1,
        &["two: stations.S.machines=2", "edd: stations.S.dispatch=edd"],
        Replications::Fixed(6),
    );
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| run(&s, &|_, _| {}));
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .expect("pool")
        .install(|| run(&s, &|_, _| {}));
    let j = |x: Result<Experiment, ExperimentError>| {
        serde_json::to_string(&x.expect("runs")).expect("json")
    };
    assert_eq!(j(one), j(two));
}

#[test]
fn bad_overrides_name_variant_and_path() {
    for (variant, needle) in [
        (
            "typo: stations.T.machines=2",
            "no item named `T` in `stations` (known: S)",
        ),
        ("type: stations.S.machines=\"many\"", "stations[0].machines"),
        ("field: stations.S.speed=2", "unknown field `speed`"),
        ("zero: stations.S.machines=0", "at least one machine"),
    ] {
        let err =
            run(&spec(MM1, &[variant], Replications::Fixed(2)), &|_, _| {}).expect_err("must fail");
        let text = err.to_string();
        assert!(
            text.contains("variant `") && text.contains(needle),
            "{variant}: {text}"
        );
    }
    let err = run(
        &spec(
            MM1,
            &["S: stations.S.machines=2", "S: stations.S.machines=3"],
            Replications::Fixed(2),
        ),
        &|_, _| {},
    )
    .expect_err("duplicate names");
    assert!(err.to_string().contains("two variants are named"), "{err}");
}

#[test]
fn precision_target_adds_replications_until_met() {
    let mut s = spec(
        MM1,
        &[],
        Replications::Precision {
            relative: 0.02,
            min: 4,
            max: 400,
        },
    );
    s.horizon_s = Some(2e4);
    let x = run(&s, &|_, _| {}).expect("runs");
    assert!(x.replications > 4, "{}", x.replications);
    assert_eq!(x.precision_reached, Some(true));
    for e in &x.variants[0].estimates {
        if let (Some(m), Some(h)) = (e.mean, e.ci95)
            && (e.key == "wip_mean" || e.key == "throughput_per_hour" || e.key.ends_with(".oee"))
        {
            assert!(h <= 0.02 * m.abs(), "{}: {m} ± {h}", e.key);
        }
    }
}

#[test]
fn auto_warmup_cuts_the_initial_transient() {
    // A 2 h oven at the end of the line: nothing comes out for the first 2 h, then a steady flow.
    let text = r#"
schema_version = 1
name = "oven"
[run]
horizon = "2d"
seed = 1
[[products]]
name = "p"
routing = [{ station = "Prep", process_time = { dist = "exponential", mean = "50s" } }, { station = "Oven", process_time = "2h" }]
[[stations]]
name = "Prep"
[[stations]]
name = "Oven"
machines = 200
[demand.arrivals]
interarrival = { dist = "exponential", mean = "60s" }
mix = { p = 1 }
"#;
    let mut s = spec(text, &[], Replications::Fixed(3));
    s.warmup = WarmupChoice::Auto;
    let x = run(&s, &|_, _| {}).expect("runs");
    eprintln!("warm-up {} s by {}", x.warmup_s, x.warmup_method);
    assert!(
        x.warmup_s >= 7200.0 && x.warmup_s <= 0.25 * 172_800.0,
        "{}",
        x.warmup_s
    );
    assert!(x.warmup_method.contains("MSER-5"));
}

#[test]
fn sweep_goal_and_report() {
    let mut s = spec(MM1, &[], Replications::Fixed(6));
    s.variants = expand_sweeps(&[parse_sweep("stations.S.machines=1..3:1").expect("sweep")]);
    s.horizon_s = Some(3e4);
    s.goal = Some((
        parse_goal("min wip_mean").expect("goal"),
        vec![parse_constraint("stations.S.oee>=0.35").expect("c")],
    ));
    let x = run(&s, &|_, _| {}).expect("runs");
    assert_eq!(x.variants.len(), 4);
    let r = x.ranking.as_ref().expect("ranking");
    // Three machines have the least WIP but an OEE of about 0.27: infeasible. Two machines win.
    assert_eq!(r.best.as_deref(), Some("machines=2"));
    let three = r
        .ranked
        .iter()
        .find(|v| v.variant == "machines=3")
        .expect("ranked");
    assert!(!three.feasible && three.violated[0].contains("stations.S.oee"));
    let page = html::render(&x);
    assert!(page.contains("<svg") && page.contains("Sweep") && page.contains("machines=2"));
    assert!(
        !page.contains("http://") && !page.contains("https://") && !page.contains("<script"),
        "self-contained, no script"
    );
    // The decision comes first, in words: the best variant for the goal, then each variant's
    // change with its interval; the comparison after it.
    let decision = page.find("id=\"decision\"").expect("a decision section");
    assert!(decision < page.find("id=\"comparison\"").expect("a comparison"));
    assert!(page.contains("Best for the lowest WIP (time average): machines=2"));
    assert!(page.contains("machines=2: WIP (time average) −"), "{page}");
    assert!(
        !page.contains("id=\"downtime\""),
        "no failure modes, no downtime table"
    );
    // Figures in their units, never in scientific notation nor as bare seconds or fractions.
    let text = strip_tags(&page[page.find("<body>").expect("a body")..]);
    assert!(text.contains(" parts/h") && text.contains(" %") && text.contains(" pp"));
    let scientific = text
        .split_whitespace()
        .find(|w| w.contains("e-") && w.chars().next().is_some_and(|c| c.is_ascii_digit()));
    assert_eq!(
        scientific, None,
        "scientific notation in the report: {text}"
    );
    for bare in [" (s)", "0.594"] {
        assert!(!text.contains(bare), "{bare} in {text}");
    }
    // An unknown KPI in a goal is an error.
    s.goal = Some((parse_goal("max thruput").expect("goal"), vec![]));
    assert!(
        run(&s, &|_, _| {})
            .expect_err("unknown")
            .to_string()
            .contains("unknown KPI `thruput`")
    );
}

#[test]
fn a_cancelled_experiment_stops_early() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let many = spec(
        MM1,
        &["same: stations.S.machines=1"],
        Replications::Fixed(400),
    );
    // Cancelled before it starts: not one replication runs.
    let finished = AtomicU64::new(0);
    let cancel = AtomicBool::new(true);
    let out = takt_experiments::run_cancellable(
        &many,
        &|_, _| {
            finished.fetch_add(1, Ordering::Relaxed);
        },
        &cancel,
    );
    assert!(matches!(out, Err(ExperimentError::Cancelled)));
    assert_eq!(finished.load(Ordering::Relaxed), 0);
    // Cancelled once the first replications are done: the rest never run.
    let cancel = AtomicBool::new(false);
    let out = takt_experiments::run_cancellable(
        &many,
        &|done, _| {
            finished.store(done, Ordering::Relaxed);
            if done >= 4 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert!(matches!(out, Err(ExperimentError::Cancelled)));
    let done = finished.load(Ordering::Relaxed);
    assert!((4..100).contains(&done), "{done} of 800 replications ran");
}

/// The text of an HTML page, tags removed (what a reader sees, near enough).
fn strip_tags(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
