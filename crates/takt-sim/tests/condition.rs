//! Starting a run from an observed plant: deterministic timings that can be worked out by hand,
//! residual repair times against their conditional mean, and errors that name the place.

mod common;
use common::*;
use std::collections::BTreeMap;
use takt_sim::condition::{
    BufferCondition, HeldPart, MachineCondition, OrderCondition, QueuedPart, Stop, Work,
};
use takt_sim::{ConditionError, PlantCondition, Simulation, VecSink};

/// Two machines with constant times: M1 10 s, M2 5 s; M1's jam takes 600 s to repair.
const LINE: &str = r#"
schema_version = 1
name = "two machines"
[run]
horizon = "1h"
warmup = 0
seed = 3
[[products]]
name = "A"
routing = [
  { station = "M1", process_time = 10 },
  { station = "M2", process_time = 5 },
]
[[stations]]
name = "M1"
failures = [{ name = "jam", ttf = { dist = "exponential", mean = "1000000h" }, ttr = 600 }]
[[stations]]
name = "M2"
input_buffer = "B1"
[[buffers]]
name = "B1"
capacity = 2
[[demand.orders]]
id = "O1"
product = "A"
quantity = 4
due = "30m"
"#;

fn part(product: &str, order: Option<&str>, work: Work) -> Option<HeldPart> {
    Some(HeldPart {
        product: product.into(),
        order: order.map(String::from),
        step: None,
        work,
    })
}

fn queued(order: &str) -> QueuedPart {
    QueuedPart {
        product: "A".into(),
        order: Some(order.into()),
        step: None,
    }
}

/// At t = 1000: O1 has 1 part done; M1 broke down at 800 with a part 4 s into processing; one part
/// waits in front of M2 and one in front of M1.
fn condition() -> PlantCondition {
    PlantCondition {
        now_s: 1000.0,
        machines: vec![MachineCondition {
            machine: "M1".into(),
            last_product: Some("A".into()),
            part: part("A", Some("O1"), Work::Processing { elapsed_s: 4.0 }),
            stop: Some(Stop::Down {
                mode: "jam".into(),
                since_s: 800.0,
            }),
            failure_ages: BTreeMap::new(),
        }],
        buffers: vec![
            BufferCondition {
                buffer: "B1".into(),
                parts: vec![queued("O1")],
            },
            BufferCondition {
                buffer: "M1.queue".into(),
                parts: vec![queued("O1")],
            },
        ],
        orders: vec![OrderCondition {
            order: "O1".into(),
            good: 1,
            scrap: 0,
            completed_at_s: None,
        }],
    }
}

#[test]
fn a_started_run_finishes_what_was_under_way_at_the_times_worked_out_by_hand() {
    let model = model(LINE);
    let input = model.buffers[model.stations[0].input_buffer].name.clone();
    let mut c = condition();
    c.buffers[1].buffer = input;
    let mut sim = Simulation::from_condition(model.clone(), 1, &c).expect("fits the model");
    let sink = VecSink::default();
    sim.set_trace(Box::new(sink.clone()));
    sim.run();
    let counts: Vec<(String, f64)> = sink
        .records()
        .into_iter()
        .filter(|r| r.count.is_some())
        .map(|r| (r.asset, r.time_s))
        .collect();
    // M2 takes the waiting part at once: done at 1005. M1's repair has 400 s to go (1400), then its
    // part needs 6 s more (1406), M2 5 s (1411); M1 takes the last part: 1416, M2: 1421.
    let expect = [
        ("M2", 1005.0),
        ("M1", 1406.0),
        ("M2", 1411.0),
        ("M1", 1416.0),
        ("M2", 1421.0),
    ];
    assert_eq!(counts.len(), expect.len(), "{counts:?}");
    for ((asset, t), (e_asset, e_t)) in counts.iter().zip(expect) {
        assert_eq!((asset.as_str(), *t), (e_asset, e_t));
    }
    let report = sim.report();
    assert_eq!(report.completed, 3, "three parts leave after the moment");
    let orders = report.orders.expect("orders");
    assert_eq!(orders.orders[0].good, 4, "one before, three after");
    assert_eq!(orders.orders[0].completed_at_s, Some(1421.0));
    assert_eq!(report.stations[0].unplanned_downtime_s, 400.0);
}

#[test]
fn the_same_condition_and_seed_give_the_same_run() {
    let model = model(LINE);
    let mut c = condition();
    c.buffers.pop();
    let run = |seed| {
        let mut sim = Simulation::from_condition(model.clone(), seed, &c).expect("fits");
        sim.run();
        serde_json::to_string(&sim.report()).expect("json")
    };
    assert_eq!(run(5), run(5));
}

#[test]
fn a_repair_under_way_ends_after_a_residual_time() {
    // Exponential TTR is memoryless: a repair 20 min old still needs 10 min on average. Uniform
    // 0..40 min, 20 min old, needs Uniform 0..20: 10 min on average too, but never more than 20.
    for (ttr, bound) in [
        (r#"{ dist = "exponential", mean = "10m" }"#, f64::INFINITY),
        (r#"{ dist = "uniform", min = 0, max = "40m" }"#, 1200.0),
    ] {
        let text = LINE.replace("ttr = 600", &format!("ttr = {ttr}"));
        let model = model(&text);
        let c = PlantCondition {
            now_s: 1200.0,
            machines: vec![MachineCondition {
                machine: "M1".into(),
                stop: Some(Stop::Down {
                    mode: "jam".into(),
                    since_s: 0.0,
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let rest: Vec<f64> = (0..2000)
            .map(|seed| {
                let mut sim = Simulation::from_condition(model.clone(), seed, &c).expect("fits");
                sim.run_until(1200.0 + 3.0 * 3600.0);
                let r = sim.report();
                assert_eq!(
                    r.stations[0].failure_modes[0].repairs, 1,
                    "{:?}",
                    r.stations[0]
                );
                r.stations[0].unplanned_downtime_s
            })
            .collect();
        assert!(rest.iter().all(|x| *x <= bound + 1e-9));
        assert_covers(&format!("residual repair of {ttr}"), &rest, 600.0, 0.1);
    }
}

#[test]
fn a_condition_that_does_not_fit_the_model_is_an_error_that_names_the_place() {
    let model = model(LINE);
    let mut c = condition();
    c.machines[0].machine = "M9".into();
    assert_eq!(
        Simulation::from_condition(model.clone(), 1, &c).err(),
        Some(ConditionError::Unknown {
            what: "machine",
            name: "M9".into()
        })
    );
    let mut c = condition();
    c.machines[0].stop = Some(Stop::Down {
        mode: "flood".into(),
        since_s: 10.0,
    });
    let e = Simulation::from_condition(model.clone(), 1, &c)
        .err()
        .expect("unknown mode");
    assert_eq!(
        e.to_string(),
        "machines.M1: station `M1` has no failure mode `flood`"
    );
    let mut c = condition();
    c.machines[0].part = part(
        "A",
        None,
        Work::Processing {
            elapsed_s: f64::NAN,
        },
    );
    let e = Simulation::from_condition(model.clone(), 1, &c)
        .err()
        .expect("NaN");
    assert!(
        e.to_string().contains("elapsed_s must be a finite number"),
        "{e}"
    );
    let mut c = condition();
    c.buffers[0].parts[0].step = Some(0);
    let e = Simulation::from_condition(model, 1, &c)
        .err()
        .expect("wrong step");
    assert_eq!(
        e.to_string(),
        "buffers.B1.parts[0]: step 0 of product `A` is not done here"
    );
}
