//! Scheduler quality against the classic benchmarks in shared/jssp: makespan and gap to the best
//! known value per instance, at each time budget (default 1 s and 10 s; `TAKT_BUDGETS=1,10`), with
//! `TAKT_INSTANCES=ta0` to keep only names containing a text (`ta` also matches Fattahi). Every schedule is feasibility-checked.
//! With `TAKT_PYTHON` naming a python that has ortools, job-shop instances are also solved by Google
//! OR-Tools CP-SAT (benches/ortools/jssp_cpsat.py) with the same budget and 2 workers, side by side.
//! Then plants of 100 and 1,000 generated stations with 10,000 orders: the dispatching rules run to
//! the end, their time and the gap to the lower bound.
//! Run: `benches/run.sh scheduler` (installs ortools), or `cargo bench -p takt-benches --bench scheduler`.

use std::path::Path;
use std::time::Duration;
use takt_scheduler::bounds::{gap, lower_bounds};
use takt_scheduler::instances::{Format, read};
use takt_scheduler::objective::Objective;
use takt_scheduler::tabu::{Limits, solve};
use takt_scheduler::{check, decode};

fn best_known(dir: &Path) -> Vec<(String, Option<i64>)> {
    let text = std::fs::read_to_string(dir.join("instances.json")).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| Some((x["name"].as_str()?.to_string(), x["best_known"].as_i64())))
        .collect()
}

/// A gap in percent, "-" where the bound (of 0) cannot say.
fn percent_or_dash(gap: Option<f64>) -> String {
    gap.map_or_else(|| "-".into(), |g| format!("{:.1}%", 100.0 * g))
}

/// The time limit on big order books: the bottling line with `n` orders (a week of releases, due
/// within three days), planned for tardiness with a limit of 2 s. The limit covers building the
/// problem, the dispatching rules, the search, decoding and the check; it is met when the whole
/// is within the limit plus 10%. `TAKT_BIG_BOOKS=2000,4000,20000` (the default).
fn big_books() {
    let books: Vec<usize> = std::env::var("TAKT_BIG_BOOKS")
        .unwrap_or_else(|_| "2000,4000,20000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/bottling-line.toml");
    let Ok(base) = std::fs::read_to_string(&path) else {
        println!("skipped: {} not readable", path.display());
        return;
    };
    let limit = Duration::from_secs(2);
    println!(
        "time limit {:.1} s on big order books (bottling line, objective tardiness; target: within the limit + 10 %):",
        limit.as_secs_f64()
    );
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>8} {:>14} {:>14} {:>8} {:>10} {:>10} {:>8} {:>9}",
        "orders",
        "build s",
        "total s",
        "vs limit",
        "met",
        "tardiness h",
        "bound h",
        "gap",
        "makespan h",
        "bound h",
        "gap",
        "bound s"
    );
    let products = ["cola-033", "cola-050", "water-100"];
    for n in books {
        // A deterministic book: releases over a week, due 1 to 72 hours after.
        let mut text = base.clone();
        for i in 0..n {
            let release = (i as u64 * 7_919) % (7 * 86_400);
            let due = release + 3_600 + (i as u64 * 104_729) % (71 * 3_600);
            text.push_str(&format!(
                "\n[[demand.orders]]\nid = \"B{i}\"\nproduct = \"{}\"\nquantity = {}\nrelease = {release}\ndue = {due}\n",
                products[i % 3],
                50 + (i * 37) % 450
            ));
        }
        let loaded = match takt_model::load_str(&text, Path::new("big-book.toml"), None) {
            Ok(l) => l,
            Err(e) => {
                println!("{n:>8} does not load: {e}");
                continue;
            }
        };
        let t = std::time::Instant::now();
        let Ok(plant) = takt_scheduler::plant::from_model(&loaded.model) else {
            println!("{n:>8} no plant problem");
            continue;
        };
        let build = t.elapsed();
        let objective: Objective = "tardiness"
            .parse()
            .unwrap_or_else(|_| Objective::makespan());
        let sol = solve(
            &plant.problem,
            &objective,
            1,
            2,
            Limits {
                time: limit.saturating_sub(t.elapsed()),
                iterations: u64::MAX,
            },
        );
        let schedule = decode(&plant.problem, &sol);
        let total = t.elapsed().as_secs_f64();
        let feasible = schedule
            .as_ref()
            .is_some_and(|s| check(&plant.problem, s).is_empty());
        let t = std::time::Instant::now();
        let bound = lower_bounds(&plant.problem);
        let bound_s = t.elapsed().as_secs_f64();
        let (tardiness, makespan) = schedule.as_ref().map_or((f64::NAN, f64::NAN), |s| {
            (
                s.total_weighted_tardiness(&plant.problem),
                s.makespan() as f64,
            )
        });
        let allowed = limit.as_secs_f64() * 1.1;
        let hours = |s: f64| s / 3600.0;
        println!(
            "{n:>8} {:>10.3} {total:>10.3} {:>9.0}% {:>8} {:>14.0} {:>14.0} {:>8} {:>10.1} {:>10.1} {:>8} {bound_s:>9.3}",
            build.as_secs_f64(),
            100.0 * total / limit.as_secs_f64(),
            if !feasible {
                "INFEASIBLE"
            } else if total <= allowed {
                "yes"
            } else {
                "NO"
            },
            hours(tardiness),
            hours(bound.weighted_tardiness),
            percent_or_dash(gap(tardiness, bound.weighted_tardiness)),
            hours(makespan),
            hours(bound.makespan as f64),
            percent_or_dash(gap(makespan, bound.makespan as f64)),
        );
    }
}

/// Plants of many machines (issue 24): the generated plants of 100 and 1,000 stations (lines of 10,
/// 10,000 orders released at once), planned for tardiness by the dispatching rules alone (every
/// rule run to the end, the best kept), with the time that takes and the gap to the lower bound.
/// `TAKT_BIG_PLANTS=100,1000` (the default).
fn big_plants() {
    let sizes: Vec<usize> = std::env::var("TAKT_BIG_PLANTS")
        .unwrap_or_else(|_| "100,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "generated plants, 10,000 orders, the dispatching rules run to the end (objective tardiness):"
    );
    println!(
        "{:>9} {:>9} {:>10} {:>10} {:>14} {:>12} {:>12} {:>8} {:>14}",
        "stations",
        "machines",
        "build s",
        "rules s",
        "tardiness h",
        "late",
        "bound h",
        "gap",
        "peak MB so far"
    );
    for stations in sizes {
        let text = takt_benches::generated_plant(stations, "fifo", 10_000);
        let loaded = match takt_model::load_str(&text, Path::new("plant.toml"), None) {
            Ok(l) => l,
            Err(e) => {
                println!("{stations:>9} does not load: {e}");
                continue;
            }
        };
        let t = std::time::Instant::now();
        let Ok(plant) = takt_scheduler::plant::from_model(&loaded.model) else {
            println!("{stations:>9} no plant problem");
            continue;
        };
        let build = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let sol = solve(
            &plant.problem,
            &"tardiness"
                .parse()
                .unwrap_or_else(|_| Objective::makespan()),
            1,
            1,
            Limits {
                time: Duration::from_secs(600),
                iterations: 0,
            },
        );
        let rules = t.elapsed().as_secs_f64();
        let Some(s) = decode(&plant.problem, &sol).filter(|s| check(&plant.problem, s).is_empty())
        else {
            println!("{stations:>9} INFEASIBLE");
            continue;
        };
        let bound = lower_bounds(&plant.problem);
        let tardiness = s.total_weighted_tardiness(&plant.problem);
        println!(
            "{stations:>9} {:>9} {build:>10.3} {rules:>10.3} {:>14.1} {:>12} {:>12.1} {:>8} {:>14.0}",
            plant.problem.machines,
            tardiness / 3600.0,
            s.late_jobs(&plant.problem),
            bound.weighted_tardiness / 3600.0,
            percent_or_dash(gap(tardiness, bound.weighted_tardiness)),
            takt_benches::peak_rss_kib() as f64 / 1024.0,
        );
    }
}

fn main() {
    big_books();
    big_plants();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/jssp");
    if !root.exists() {
        println!("skipped: {} not present", root.display());
        return;
    }
    let budgets: Vec<f64> = std::env::var("TAKT_BUDGETS")
        .unwrap_or_else(|_| "1,10".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let filter = std::env::var("TAKT_INSTANCES").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    // Fattahi optima as stated in shared/jssp/README.md.
    let fattahi = [70, 112, 233, 374, 126, 334, 397, 262, 220, 541];
    let mut sets: Vec<(String, Format, Option<i64>, std::path::PathBuf)> = Vec::new();
    for (dir, format, ext) in [("jssp", Format::Jssp, "txt"), ("fjsp", Format::Fjsp, "txt")] {
        for (name, bk) in best_known(&root.join(dir)) {
            sets.push((
                name.clone(),
                format,
                bk,
                root.join(dir).join(format!("{name}.{ext}")),
            ));
        }
    }
    for (i, opt) in fattahi.iter().enumerate() {
        let name = format!("Fattahi_setup_{:02}", i + 1);
        sets.push((
            name.clone(),
            Format::FjspSdst,
            Some(*opt),
            root.join("fjsp_sdst").join(format!("{name}.fjs")),
        ));
    }
    let python = std::env::var("TAKT_PYTHON").ok();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ortools/jssp_cpsat.py");
    let cpsat = |path: &Path, seconds: f64| -> Option<i64> {
        let out = std::process::Command::new(python.as_ref()?)
            .arg(&script)
            .arg(path)
            .args(["--seconds", &seconds.to_string(), "--workers", "2"])
            .output()
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        v["makespan"].as_i64()
    };
    print!("{:<20} {:>8}", "instance", "best");
    for b in &budgets {
        print!(" {:>10} {:>7}", format!("ms@{b}s"), "gap");
        if python.is_some() {
            print!(" {:>10} {:>7}", format!("cpsat@{b}s"), "gap");
        }
    }
    println!();
    let mut gaps: Vec<Vec<f64>> = vec![Vec::new(); budgets.len()];
    let mut cp_gaps: Vec<Vec<f64>> = vec![Vec::new(); budgets.len()];
    let mut versus = vec![(0, 0, 0); budgets.len()];
    for (name, format, bk, path) in sets.iter().filter(|s| s.0.contains(&filter)) {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(p) = read(&text, *format, name) else {
            println!("{name}: unreadable");
            continue;
        };
        print!("{name:<20} {:>8}", bk.map_or("-".into(), |b| b.to_string()));
        for (k, b) in budgets.iter().enumerate() {
            let sol = solve(
                &p,
                &Objective::makespan(),
                1,
                cores,
                Limits {
                    time: Duration::from_secs_f64(*b),
                    iterations: u64::MAX,
                },
            );
            let s = decode(&p, &sol).expect("acyclic");
            assert!(check(&p, &s).is_empty(), "{name}: infeasible");
            let ms = s.makespan();
            let gap = bk.map(|b| (ms - b) as f64 / b as f64 * 100.0);
            if let Some(g) = gap {
                gaps[k].push(g);
            }
            print!(" {ms:>10} {:>6.2}%", gap.unwrap_or(f64::NAN));
            if python.is_some() {
                match (*format == Format::Jssp).then(|| cpsat(path, *b)).flatten() {
                    Some(c) => {
                        let cg = bk.map(|b| (c - b) as f64 / b as f64 * 100.0);
                        if let Some(g) = cg {
                            cp_gaps[k].push(g);
                        }
                        let v = &mut versus[k];
                        match ms.cmp(&c) {
                            std::cmp::Ordering::Less => v.0 += 1,
                            std::cmp::Ordering::Equal => v.1 += 1,
                            std::cmp::Ordering::Greater => v.2 += 1,
                        }
                        print!(" {c:>10} {:>6.2}%", cg.unwrap_or(f64::NAN));
                    }
                    None => print!(" {:>10} {:>7}", "-", "-"),
                }
            }
        }
        println!();
    }
    let mean = |g: &[f64]| g.iter().sum::<f64>() / g.len().max(1) as f64;
    for (k, b) in budgets.iter().enumerate() {
        println!(
            "takt: mean gap at {b} s over {} instances: {:.2}%",
            gaps[k].len(),
            mean(&gaps[k])
        );
        if python.is_some() {
            let (better, equal, worse) = versus[k];
            println!(
                "CP-SAT (2 workers): mean gap at {b} s over {} job-shop instances: {:.2}%; on those, takt better on {better}, equal on {equal}, worse on {worse}",
                cp_gaps[k].len(),
                mean(&cp_gaps[k])
            );
        }
    }
}
