//! Policies compared from a plant as observed (`PlanFrom::Plant`), not from new machines: the
//! simulator starts each run in the plant's condition, so its costs meet the renewal model's, which
//! counts the same ages, and differ from those of a new plant.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use takt_maintenance::maintain::{PlanFrom, PlanOutput, PlanRequest, Solver, plan_plant};
use takt_maintenance::plant::{Costs, Settings};
use takt_maintenance::policy::PolicyResult;
use takt_sim::PlantCondition;
use takt_sim::condition::{MachineCondition, Stop};

const DAY_S: f64 = 86_400.0;

fn forging_shop() -> takt_model::Loaded {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/forging-shop.toml"
    );
    takt_model::load_file(std::path::Path::new(path)).expect("the shipped forging shop loads")
}

fn request(start_s: f64, horizon_s: f64, replications: u32) -> PlanRequest {
    PlanRequest {
        settings: Settings {
            start_s,
            horizon_s,
            bucket_s: 4.0 * 3600.0,
            costs: Costs {
                repair: 800.0,
                service: 300.0,
                downtime_per_hour: 1000.0,
            },
            service_s: 3600.0,
            max_risk: 1.0,
            crew: None,
        },
        baseline_replications: 5,
        seed: 11,
        solver: Solver::Greedy,
        compare: Some(replications),
    }
}

/// The plant at `now_s`, empty, its machines `aged` (machine, mode, age in the mode's basis).
fn condition(now_s: f64, aged: &[(&str, &str, f64)]) -> PlantCondition {
    let mut machines: BTreeMap<&str, MachineCondition> = BTreeMap::new();
    for &(machine, mode, age) in aged {
        let m = machines.entry(machine).or_insert_with(|| MachineCondition {
            machine: machine.into(),
            ..Default::default()
        });
        m.failure_ages.insert(mode.into(), age);
    }
    PlantCondition {
        now_s,
        machines: machines.into_values().collect(),
        ..Default::default()
    }
}

fn plan(loaded: &takt_model::Loaded, from: PlanFrom<'_>, req: &PlanRequest) -> PlanOutput {
    plan_plant(
        &loaded.scenario,
        &loaded.model,
        from,
        req,
        &|| {},
        &AtomicBool::new(false),
    )
    .expect("the shop is planned and compared")
}

/// A policy's estimate of `key`: mean and 95% half-width.
fn estimate(policy: &PolicyResult, key: &str) -> (f64, f64) {
    let e = policy
        .estimates
        .iter()
        .find(|e| e.key == key)
        .expect("the estimate is there");
    (e.mean, e.ci95.unwrap_or(f64::NAN))
}

#[test]
fn policies_from_an_aged_plant_cost_what_the_renewal_model_says_for_its_ages() {
    let loaded = forging_shop();
    // Every planned tool at its wear-out: the saw blade at 3,800 of its 4,000 +- 500 cuts, the
    // press die at 6,000 strokes (Weibull scale 6,000), its hydraulics at 120 h (scale 120 h), the
    // trim tool at 9,000 strokes (scale 9,000).
    let aged = condition(
        0.0,
        &[
            ("Saw", "blade", 3800.0),
            ("Press", "die wear", 6000.0),
            ("Press", "hydraulics", 120.0 * 3600.0),
            ("Trim", "trim tool", 9000.0),
        ],
    );
    let req = request(0.0, 7.0 * DAY_S, 40);
    let old = plan(
        &loaded,
        PlanFrom::Plant {
            condition: &aged,
            model: &loaded.model,
            assumed: &[],
        },
        &req,
    );
    let new = plan(&loaded, PlanFrom::ScenarioStart, &req);
    let old_runs = &old.comparison.as_ref().expect("compared").policies;
    let new_runs = &new.comparison.as_ref().expect("compared").policies;
    // The renewal model's expected costs for the aged plant, against the simulator's from its
    // condition: each within its run's 99% interval (the 95% half-width x 2.58 / 1.96), running
    // to failure and with the plan.
    for (policy, model_cost) in [
        (&old_runs[0], old.plan.run_to_failure_cost),
        (&old_runs[2], old.plan.expected_cost),
    ] {
        let (mean, h95) = estimate(policy, "cost");
        assert!(
            (mean - model_cost).abs() <= h95 * 2.58 / 1.96,
            "{}: simulated {mean} +- {h95}, model {model_cost}",
            policy.name
        );
    }
    // The ages matter: the model's cost of running the aged plant to failure is outside the 99%
    // interval of the simulated new plant's, so a comparison that had started from new machines
    // would have failed the check above.
    let (new_mean, new_h95) = estimate(&new_runs[0], "cost");
    assert!(
        old.plan.run_to_failure_cost > new_mean + new_h95 * 2.58 / 1.96,
        "aged {} against new {new_mean} +- {new_h95}",
        old.plan.run_to_failure_cost
    );
    let (old_failures, _) = estimate(&old_runs[0], "failures");
    let (new_failures, _) = estimate(&new_runs[0], "failures");
    assert!(
        old_failures > new_failures,
        "{old_failures} vs {new_failures}"
    );
    // The fixed interval's first services come early for tools this old: it services more.
    let (old_services, _) = estimate(&old_runs[1], "maintenances");
    let (new_services, _) = estimate(&new_runs[1], "maintenances");
    assert!(
        old_services > new_services,
        "{old_services} vs {new_services}"
    );
}

#[test]
fn a_service_under_way_when_the_plan_starts_ends_under_every_policy() {
    let loaded = forging_shop();
    // Monday 10:00 of the first week, the press in a service since 09:00 (its six hours end at
    // 15:00); the first orders are released on Tuesday at 06:00.
    let now_s = 10.0 * 3600.0;
    let idle = condition(now_s, &[("Press", "die wear", 2000.0)]);
    let mut serviced = idle.clone();
    serviced.machines[0].stop = Some(Stop::PlannedDown {
        since_s: now_s - 3600.0,
    });
    let compare = |plant: &PlantCondition, assumed: &[String]| {
        plan(
            &loaded,
            PlanFrom::Plant {
                condition: plant,
                model: &loaded.model,
                assumed,
            },
            &request(now_s, 7.0 * DAY_S, 4),
        )
    };
    let assumed = ["the forging shop was read by hand".to_string()];
    let out = compare(&serviced, &assumed);
    let runs = &out.comparison.as_ref().expect("compared").policies;
    let without = compare(&idle, &[]);
    let idle_runs = &without.comparison.as_ref().expect("compared").policies;
    // Running to failure starts no service, yet the one under way ends before the orders come:
    // the press makes as much as if it had not been in a service (the same random numbers), where
    // a service that never ended would have stopped the shop for the week.
    assert_eq!(estimate(&runs[0], "maintenances").0, 0.0);
    let (good, _) = estimate(&runs[0], "good");
    let (good_idle, _) = estimate(&idle_runs[0], "good");
    assert!(good_idle > 1000.0, "{good_idle}");
    assert!(
        (good - good_idle).abs() <= 0.05 * good_idle,
        "{good} vs {good_idle}"
    );
    // What was assumed to read the plant is in the notes.
    assert!(
        out.notes
            .iter()
            .any(|n| n == "the plant's condition: the forging shop was read by hand"),
        "{:?}",
        out.notes
    );
    // A plan whose start is not the plant's moment is refused in words.
    let mut wrong = request(now_s, DAY_S, 2);
    wrong.settings.start_s = 0.0;
    let err = plan_plant(
        &loaded.scenario,
        &loaded.model,
        PlanFrom::Plant {
            condition: &serviced,
            model: &loaded.model,
            assumed: &[],
        },
        &wrong,
        &|| {},
        &AtomicBool::new(false),
    )
    .expect_err("refused");
    assert!(
        err.to_string()
            .contains("the plan starts at 0 s but the plant it starts from is at 36000 s"),
        "{err}"
    );
}
