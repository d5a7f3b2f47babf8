//! Every schedule from every solver passes the independent feasibility checker, including with
//! setups, release dates and unavailability windows; the checker itself catches each kind of
//! violation; the search reaches the optimum of ft06 (55).

mod common;
use common::FT06;
use std::time::Duration;
use takt_scheduler::dispatch::{Rule, dispatch};
use takt_scheduler::instances::{Format, read};
use takt_scheduler::objective::Objective;
use takt_scheduler::tabu::{Limits, solve};
use takt_scheduler::{Setups, ShopProblem, check, decode};

fn limits(iterations: u64) -> Limits {
    Limits {
        time: Duration::from_secs(60),
        iterations,
    }
}

fn feasible(p: &ShopProblem, sol: &takt_scheduler::Solution) -> i64 {
    let s = decode(p, sol).expect("acyclic");
    let v = check(p, &s);
    assert!(v.is_empty(), "{}: {v:?}", p.name);
    s.makespan()
}

#[test]
fn tabu_search_reaches_the_ft06_optimum() {
    let p = read(FT06, Format::Jssp, "ft06").expect("reads");
    for rule in [
        Rule::MostWorkRemaining,
        Rule::EarliestDueDate,
        Rule::ShortestProcessing,
    ] {
        feasible(&p, &dispatch(&p, rule));
    }
    let sol = solve(&p, &Objective::makespan(), 1, 2, limits(5_000));
    assert_eq!(feasible(&p, &sol), 55);
    // Deterministic for a seed and an iteration limit, whatever the threads.
    let again = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| solve(&p, &Objective::makespan(), 1, 2, limits(5_000)));
    assert_eq!(sol, again);
}

/// A stopped search (a cancelled job) answers at once with a feasible schedule: the best of the
/// dispatching rules and what the search had found, not after its time limit.
#[test]
fn a_stopped_search_ends_at_once_with_a_feasible_schedule() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let p = read(FT06, Format::Jssp, "ft06").expect("reads");
    let unlimited = Limits {
        time: Duration::from_secs(60),
        iterations: u64::MAX,
    };
    let stop = AtomicBool::new(false);
    let started = std::time::Instant::now();
    let sol = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(200));
            stop.store(true, Ordering::Relaxed);
        });
        takt_scheduler::tabu::solve_until_stopped(
            &p,
            &Objective::makespan(),
            1,
            2,
            unlimited,
            &stop,
        )
    });
    // Far from the 60 s limit (the stop is read every 64 iterations).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(feasible(&p, &sol) >= 55);
}

#[test]
fn the_checker_catches_every_kind_of_violation() {
    let mut p = read("2 2\n0 3 1 2\n1 4 0 1\n", Format::Jssp, "small").expect("reads");
    let good = decode(&p, &dispatch(&p, Rule::MostWorkRemaining)).expect("decodes");
    assert!(check(&p, &good).is_empty());
    let broken = |f: &dyn Fn(&mut takt_scheduler::Schedule), needle: &str, p: &ShopProblem| {
        let mut s = good.clone();
        f(&mut s);
        let v = check(p, &s);
        assert!(
            v.iter().any(|x| x.0.contains(needle)),
            "expected `{needle}` in {v:?}"
        );
    };
    broken(&|s| s.operations[1].start -= 1, "lasts", &p);
    broken(
        &|s| {
            s.operations[1].start = 0;
            s.operations[1].setup_start = 0;
            s.operations[1].end = 2
        },
        "before op 0 ends",
        &p,
    );
    broken(&|s| s.operations[0].machine = 1, "overlaps", &p);
    broken(&|s| s.operations[2].machine = 0, "not eligible", &p);
    p.unavailable[0] = vec![(0, 1)];
    broken(&|_| {}, "unavailability", &p);
    p.unavailable[0].clear();
    p.jobs[0].release = 5;
    broken(&|_| {}, "before its release", &p);
    p.jobs[0].release = 0;
    p.setups = Some(Setups::per_operation(vec![
        vec![vec![0, 0, 0, 9], vec![0; 4], vec![0; 4], vec![9, 0, 0, 0]],
        vec![vec![9; 4]; 4],
    ]));
    broken(&|_| {}, "needs a setup", &p);
}

#[test]
fn setups_releases_and_unavailability_are_respected() {
    // 3 jobs, 2 machines, flexible; setups between every pair; machine 0 down in [10, 20); job 2
    // released at 7.
    let mut p = read(
        "3 2\n2 2 0 4 1 6 1 1 3\n2 1 0 5 2 0 2 1 4\n1 2 0 6 1 5\n",
        Format::Fjsp,
        "mixed",
    )
    .expect("reads");
    p.setups = Some(Setups::per_operation(vec![vec![vec![2; 5]; 5]; 2]));
    p.unavailable[0] = vec![(10, 20)];
    p.jobs[2].release = 7;
    for rule in [
        Rule::MostWorkRemaining,
        Rule::EarliestDueDate,
        Rule::ShortestProcessing,
    ] {
        feasible(&p, &dispatch(&p, rule));
    }
    let best = feasible(&p, &solve(&p, &Objective::makespan(), 3, 2, limits(2_000)));
    let first = feasible(&p, &dispatch(&p, Rule::MostWorkRemaining));
    assert!(best <= first);
}

/// The public benchmark sets, when shared/ is beside the checkout: every solver's schedule is feasible.
#[test]
fn shared_benchmarks_are_feasible_for_every_solver() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/jssp");
    if !root.exists() {
        eprintln!("skipped: {} not present", root.display());
        return;
    }
    let mut seen = 0;
    for (dir, format) in [
        ("jssp", Format::Jssp),
        ("fjsp", Format::Fjsp),
        ("fjsp_sdst", Format::FjspSdst),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|x| x == "txt" || x == "fjs"))
        {
            let text = std::fs::read_to_string(f).expect("read");
            let p = read(&text, format, &f.display().to_string()).expect("reads");
            feasible(&p, &dispatch(&p, Rule::MostWorkRemaining));
            feasible(&p, &solve(&p, &Objective::makespan(), 1, 1, limits(30)));
            seen += 1;
        }
    }
    assert!(seen >= 60, "{seen}");
}

/// A book of 20,000 jobs of three operations on three machines: one dispatching rule alone looks
/// at every job for each of the 60,000 operations (over a billion placements).
fn big_book() -> ShopProblem {
    let jobs = (0..20_000)
        .map(|j| takt_scheduler::problem::Job {
            name: format!("J{j}"),
            release: (j as i64 * 37) % 50_000,
            due: Some((j as i64 * 37) % 50_000 + 20_000),
            weight: 1.0,
            operations: (0..3)
                .map(|k| takt_scheduler::problem::Operation {
                    alternatives: vec![((j + k) % 3, 5 + ((j * 7 + k * 3) % 20) as i64)],
                })
                .collect(),
        })
        .collect();
    ShopProblem::new("big", 3, jobs)
}

#[test]
fn the_time_limit_covers_the_dispatching_rules_too() {
    let p = big_book();
    let t = std::time::Instant::now();
    let sol = solve(
        &p,
        &Objective::makespan(),
        1,
        2,
        Limits {
            time: Duration::from_millis(300),
            iterations: u64::MAX,
        },
    );
    // Before, the rules ran in full whatever the limit (minutes here); now the limit is the
    // limit, and a feasible schedule comes back. The bound is loose on purpose: what it tells
    // apart is seconds from minutes, on a loaded machine as on an idle one.
    let elapsed = t.elapsed();
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    feasible(&p, &sol);
}

/// A big book on a line with setups between three products, when the time leaves the dispatching
/// rules no room: the start is the due-date order batched by product, which pays a fraction of the
/// plain order's setups and is less late.
#[test]
fn a_book_too_big_for_the_rules_starts_from_batches_of_one_product() {
    let mut p = big_book();
    let n = p.n_ops();
    p.setups = Some(Setups {
        class_of: (0..n).map(|id| (id / 3) % 3).collect(),
        table_of: vec![0; 3],
        tables: vec![takt_scheduler::SetupTable::Sparse {
            default: 60,
            pairs: vec![((0, 1), 30)],
        }],
    });
    p.validate().expect("valid");
    let no_time = Limits {
        time: Duration::ZERO,
        iterations: 0,
    };
    let tardiness: Objective = "tardiness".parse().expect("objective");
    let plain = decode(&p, &takt_scheduler::dispatch::job_order(&p)).expect("acyclic");
    let started = decode(&p, &solve(&p, &tardiness, 1, 1, no_time)).expect("acyclic");
    assert!(check(&p, &started).is_empty());
    let (plain_setup, setup) = (plain.total_setup(&p), started.total_setup(&p));
    assert!(setup * 5 < plain_setup, "{setup} vs {plain_setup}");
    assert!(
        started.total_weighted_tardiness(&p) < plain.total_weighted_tardiness(&p),
        "{} vs {}",
        started.total_weighted_tardiness(&p),
        plain.total_weighted_tardiness(&p)
    );
    // Within a window the lots are one product after another: a batch of one product's lots in
    // due-date order.
    let batched = takt_scheduler::dispatch::job_order_batched(&p, 6_000);
    let classes = p
        .setups
        .as_ref()
        .map(|s| s.class_of.clone())
        .expect("setups");
    let changes = |seq: &[usize]| {
        seq.windows(2)
            .filter(|w| classes[w[0]] != classes[w[1]])
            .count()
    };
    let plain_order = takt_scheduler::dispatch::job_order(&p);
    assert!(changes(&batched.sequences[0]) * 5 < changes(&plain_order.sequences[0]));
}
