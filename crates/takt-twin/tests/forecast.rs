//! The forecast against what actually happened: a simulated shift is mirrored up to a moment, the
//! twin forecasts the rest from what it mirrored, and the same simulation runs on to the end of the
//! shift. The inferred starting state must match the simulator's own at the moment, and the 90%
//! prediction range must cover the actual end-of-shift output about nine times in ten over many
//! seeds. The same holds in the second shift of a day, whose figures count from its own start.

mod common;

use common::{Lines, bottling, bottling_two_shifts};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use takt_model::Model;
use takt_sim::Simulation;
use takt_sim::components::Activity;
use takt_sim::condition::Work;
use takt_twin::assets_of;
use takt_twin::condition::{condition_of, condition_with_book, departed_by_product};
use takt_twin::forecast::{
    ForecastError, ForecastInputs, ForecastOptions, forecast, forecast_with_plans,
};
use takt_twin::mirror::{Mirror, MirrorConfig};
use takt_twin::orders::{OpenOrder, OrderBook, OrderBookRequest};

type View = std::collections::BTreeMap<String, takt_twin::mirror::AssetState>;

/// Runs `seed` to `cut_s` with a trace, mirrors the trace, and returns the mirror's view, the
/// simulation (to run on) and the moment in Unix ms.
fn mirrored(model: &Arc<Model>, seed: u64, cut_s: f64) -> (View, Simulation, i64) {
    let (mirror, sim, now_ms) = mirror_of(model, seed, cut_s);
    (mirror.view(now_ms), sim, now_ms)
}

/// [`mirrored`], with the mirror itself to view at other moments.
fn mirror_of(model: &Arc<Model>, seed: u64, cut_s: f64) -> (Mirror, Simulation, i64) {
    let mut sim = Simulation::new(Arc::clone(model), seed);
    let lines = Lines(Arc::default(), model.timebase);
    sim.set_trace(Box::new(lines.clone()));
    sim.run_until(cut_s);
    let names: Vec<String> = assets_of(model).into_iter().map(|(n, _)| n).collect();
    let config = MirrorConfig {
        reorder_window_ms: 0,
        silence_ms: i64::MAX / 4,
    };
    let mut mirror = Mirror::new(&names, model.shift_clock(), config);
    for line in lines.0.lock().map(|v| v.clone()).unwrap_or_default() {
        match takt_twin::event::parse(&line) {
            Ok(c) => mirror.offer(c),
            Err(e) => panic!("trace line does not parse: {e}: {line}"),
        }
    }
    let now_ms = model.timebase.start_ms() + (cut_s * 1000.0).round() as i64;
    sim.take_trace();
    (mirror, sim, now_ms)
}

#[test]
fn the_inferred_state_is_the_simulators_own_at_the_moment() {
    // 3 h 17 min into the shift, several seeds: buffers, parts on machines, stops and orders.
    the_inferred_state_is_the_simulators_own(&bottling(), 3.0 * 3600.0 + 17.0 * 60.0, 1..=6);
}

/// In the late shift, orders of both shifts in the plant: the balance runs over the whole history.
#[test]
fn in_the_second_shift_the_inferred_state_is_still_the_simulators_own() {
    the_inferred_state_is_the_simulators_own(
        &bottling_two_shifts(),
        9.0 * 3600.0 + 17.0 * 60.0,
        1..=4,
    );
}

/// Mirrors `seeds` to `cut_s` (a few seconds apart) and compares the inferred state with the
/// simulator's: buffers, parts on machines, stops and orders.
fn the_inferred_state_is_the_simulators_own(
    model: &Arc<Model>,
    cut_s: f64,
    seeds: std::ops::RangeInclusive<u64>,
) {
    for seed in seeds {
        let cut_s = cut_s + seed as f64 * 7.3;
        let (view, sim, now_ms) = mirrored(model, seed, cut_s);
        let (condition, warnings) = condition_of(model, &view, now_ms).expect("condition");
        assert!(warnings.is_empty(), "{warnings:?}");
        let snap = sim.snapshot();
        for (bi, (_, q)) in snap.buffers.iter().enumerate() {
            let inferred = condition
                .buffers
                .iter()
                .find(|b| b.buffer == model.buffers[bi].name)
                .map_or(0, |b| b.parts.len());
            assert_eq!(
                inferred,
                q.parts.len(),
                "seed {seed}: parts in `{}`",
                model.buffers[bi].name
            );
            // Products in line, in order.
            if let Some(b) = condition
                .buffers
                .iter()
                .find(|b| b.buffer == model.buffers[bi].name)
            {
                let inferred: Vec<&str> = b.parts.iter().map(|p| p.product.as_str()).collect();
                let actual: Vec<&str> = q
                    .parts
                    .iter()
                    .map(|e| model.products[e.product as usize].name.as_str())
                    .collect();
                assert!(inferred == actual, "seed {seed}: products in line differ");
            }
        }
        for (mi, rec) in snap.machines.iter().enumerate() {
            let mc = &condition.machines[mi];
            let m = &rec.machine;
            let work = mc.part.as_ref().map(|p| p.work);
            match (m.activity, work) {
                (Activity::Idle, None) | (Activity::Blocked, Some(Work::Blocked)) => {}
                (Activity::Processing, Some(Work::Processing { elapsed_s })) => {
                    // Work done so far = process time drawn - what remains.
                    let remaining = if m.stopped() {
                        m.remaining_s
                    } else {
                        m.activity_end - cut_s
                    };
                    assert!(remaining >= 0.0 && elapsed_s >= 0.0);
                }
                (Activity::Setup, Some(Work::Setup { .. })) => {}
                other => panic!("seed {seed}: machine {mi}: {other:?}"),
            }
            if let Some(p) = &mc.part {
                assert_eq!(
                    p.product, model.products[m.product as usize].name,
                    "seed {seed}: product on machine {mi}"
                );
            }
            assert_eq!(
                mc.stop.is_some(),
                m.active_failures > 0 || m.planned_down,
                "seed {seed}: machine {mi} stopped"
            );
        }
        // Good parts per order. Which order a scrapped part belonged to is not sensed: scrap is
        // spread over a product's orders in proportion to their parts out, so where a product has
        // two orders under way each is exact to within a few parts, and their sum exactly.
        let mut by_product = vec![(0u32, 0u32); model.products.len()];
        for (oi, (_, os)) in snap.orders.iter().enumerate() {
            let o = &model.orders[oi];
            let good = condition
                .orders
                .iter()
                .find(|c| c.order == o.id)
                .map_or(0, |c| c.good);
            let shared = model
                .orders
                .iter()
                .filter(|q| q.product == o.product && q.release_s <= cut_s)
                .count()
                > 1;
            if shared {
                assert!(
                    good.abs_diff(os.good) <= o.quantity / 500,
                    "seed {seed}: good parts of {}: {good} inferred, {} actual",
                    o.id,
                    os.good
                );
            } else {
                assert_eq!(good, os.good, "seed {seed}: good parts of {}", o.id);
            }
            by_product[o.product].0 += good;
            by_product[o.product].1 += os.good;
        }
        for (p, (inferred, actual)) in by_product.into_iter().enumerate() {
            assert_eq!(inferred, actual, "seed {seed}: good parts of product {p}");
        }
    }
}

#[test]
fn the_forecast_range_covers_what_the_shift_actually_did_nine_times_in_ten() {
    let model = bottling();
    let seeds = 60u64;
    let mut covered = [0u32; 3];
    for seed in 0..seeds {
        // From 1 h to 6 h 30 min into the shift, one hour ahead: stops, changeovers and the break
        // all fall into some of the forecasts, and the line is still filling its orders.
        let cut_s = 3600.0 + (seed as f64 * 331.0) % 19_800.0;
        let until_s = cut_s + 3600.0;
        let (view, mut sim, now_ms) = mirrored(&model, 1000 + seed, cut_s);
        let options = ForecastOptions {
            replications: 100,
            seed: 77 + seed,
            until_s: Some(until_s),
            plan_replications: 0,
            min_deviation: takt_twin::forecast::DEFAULT_MIN_DEVIATION,
        };
        let f = forecast(&model, &view, now_ms, options).expect("forecast");
        sim.run_until(until_s);
        let actual = sim.report();
        count_covered(
            &f,
            &actual,
            &mut covered,
            &format!("seed {seed} {cut_s:.0} s"),
        );
    }
    // Nominal 90% (a little less with ranges from 100 replications): the count is about
    // Binomial(60, 0.9), mean 54, sd 2.3, and [47, 59] holds with probability 0.99. A forecast that
    // ignored the mirrored state covers far less; one that were too wide covers all 60.
    for (what, n) in ["plant", "Filler", "CasePacker"].into_iter().zip(covered) {
        eprintln!("{what}: {n} of {seeds} covered");
        assert!((47..=59).contains(&n), "{what}: {n} of {seeds} covered");
    }
}

/// The figures whose coverage the tests count: the plant's good output, the Filler's and the
/// CasePacker's; counts each one the forecast's 90% range covers into `covered`.
fn count_covered(
    f: &takt_twin::forecast::Forecast,
    actual: &takt_sim::Report,
    covered: &mut [u32; 3],
    label: &str,
) {
    let figures = [
        ("plant", actual.completed as f64, &f.plant_good_at_end),
        (
            "Filler",
            actual.stations[0].good as f64,
            &f.stations[0].good_at_end,
        ),
        (
            "CasePacker",
            actual.stations[2].good as f64,
            &f.stations[2].good_at_end,
        ),
    ];
    for (k, (what, x, range)) in figures.into_iter().enumerate() {
        covered[k] += u32::from(range.covers(x));
        eprintln!(
            "{label}: {what} {x} in [{:.0}, {:.0}]",
            range.p05, range.p95
        );
    }
}

/// A server keeps the plan's runs between forecasts: the second forecast reads them from the cache
/// and says exactly what a forecast without the cache says; another horizon is another plan.
#[test]
fn plans_kept_between_forecasts_change_nothing() {
    use takt_twin::forecast::PlanCache;
    let model = bottling();
    let (view, _, now_ms) = mirrored(&model, 5, 5.0 * 3600.0);
    let options = ForecastOptions {
        replications: 8,
        seed: 3,
        until_s: Some(6.0 * 3600.0),
        plan_replications: 6,
        min_deviation: takt_twin::forecast::DEFAULT_MIN_DEVIATION,
    };
    let plans = PlanCache::default();
    let uncached = forecast(&model, &view, now_ms, options).expect("forecast");
    for _ in 0..2 {
        let f = forecast_with_plans(
            &model,
            &view,
            now_ms,
            options,
            ForecastInputs {
                plans: Some(&plans),
                ..Default::default()
            },
            &Default::default(),
        )
        .expect("forecast");
        // Compared as JSON: a figure without data is NaN, which never equals itself.
        assert_eq!(
            serde_json::to_string(&f).ok(),
            serde_json::to_string(&uncached).ok()
        );
        assert!(f.plan_plant_good.is_some_and(|g| g > 0.0));
        assert_eq!(plans.len(), 1);
    }
    let later = ForecastOptions {
        until_s: Some(6.5 * 3600.0),
        ..options
    };
    forecast_with_plans(
        &model,
        &view,
        now_ms,
        later,
        ForecastInputs {
            plans: Some(&plans),
            ..Default::default()
        },
        &Default::default(),
    )
    .expect("forecast");
    assert_eq!(plans.len(), 2);
}

/// The late shift of a day, mirrored from the day's start: the twin's figures so far are the
/// shift's alone (the simulator's, with its statistics reset at 8 h), a forecast runs to the end of
/// the shift unless told otherwise, its range covers what the shift then did about nine times in
/// ten, and the plan it compares with is the plan's late shift.
#[test]
fn in_the_second_shift_the_forecast_counts_and_covers_that_shift() {
    let late_start_s = 8.0 * 3600.0;
    let model = Arc::new(Model {
        warmup_s: late_start_s,
        ..Model::clone(&bottling_two_shifts())
    });
    let seeds = 30u64;
    let mut covered = [0u32; 3];
    let mut actual_plant = Vec::new();
    let mut plan_plant = None;
    for seed in 0..seeds {
        // From 12 h to 15 h (18:00 to 21:00 local): the orders of the late shift under way.
        let cut_s = 12.0 * 3600.0 + (seed as f64 * 331.0) % 10_800.0;
        let (mirror, mut sim, now_ms) = mirror_of(&model, 3000 + seed, cut_s);
        let view = mirror.view(now_ms);
        let options = ForecastOptions {
            replications: 60,
            seed: 91 + seed,
            until_s: None,
            plan_replications: if seed == 0 { 12 } else { 0 },
            min_deviation: takt_twin::forecast::DEFAULT_MIN_DEVIATION,
        };
        let f = forecast(&model, &view, now_ms, options).expect("forecast");
        assert_eq!(f.shift.as_deref(), Some("late"));
        assert_eq!(f.until_s, 16.0 * 3600.0, "to the end of the late shift");
        // So far: the simulator's own figures since 14:00.
        let so_far = sim.report();
        assert_eq!(f.plant_good_so_far, so_far.completed, "seed {seed}: plant");
        for (st, sim_st) in f.stations.iter().zip(&so_far.stations) {
            assert_eq!(st.good_so_far, sim_st.good, "seed {seed}: {}", st.station);
        }
        if seed == 0 {
            plan_plant = f.plan_plant_good;
            // Past the end of the day's last shift nothing is left in it to forecast.
            let evening = mirror.view(now_ms + 6 * 3_600_000);
            let refused = forecast(&model, &evening, now_ms + 6 * 3_600_000, options);
            assert!(
                matches!(refused, Err(ForecastError::ShiftOver { .. })),
                "{refused:?}"
            );
        }
        sim.run_until(16.0 * 3600.0);
        let actual = sim.report();
        actual_plant.push(actual.completed as f64);
        count_covered(
            &f,
            &actual,
            &mut covered,
            &format!("seed {seed} {cut_s:.0} s"),
        );
    }
    // Nominal 90%; ranges from 60 replications cover a little less, and the one-shift test above
    // runs at 0.84 (50-51 of 60). About Binomial(30, 0.84): mean 25, sd 2; 18 or fewer has
    // probability about 0.3%. Seen: 23-24. A forecast that counted the early shift in, or started
    // from a wrong state, covers far less (and the figures so far are checked exactly above).
    for (what, n) in ["plant", "Filler", "CasePacker"].into_iter().zip(covered) {
        eprintln!("{what}: {n} of {seeds} covered");
        assert!(n >= 19, "{what}: {n} of {seeds} covered");
    }
    // The plan's late shift and the actual late shifts estimate the same mean (sd of the
    // difference ~3% here); the plan's whole day would be about twice as much.
    let actual_mean = actual_plant.iter().sum::<f64>() / actual_plant.len() as f64;
    let plan = plan_plant.expect("the plan's late shift");
    assert!(
        (plan / actual_mean - 1.0).abs() < 0.12,
        "plan {plan:.0}, actual mean {actual_mean:.0}"
    );
}

/// Output is flagged off plan only when the gap is both detectable (the 90 % range wholly on one
/// side) and large enough to act on (`min_deviation` of the plan): with no practical size the
/// forecast flags what it can detect; at 1 % only gaps of 1 % or more; a bad size is refused.
#[test]
fn a_deviation_from_plan_has_a_practical_size() {
    let model = bottling();
    // Two hours into this shift the line runs some ten parts behind the plan's 24,450 by the
    // shift's end: detectable (the whole 90 % range below), but 0.05 % of the plan.
    let (view, _, now_ms) = mirrored(&model, 7, 2.0 * 3600.0);
    let options = |min_deviation: f64| ForecastOptions {
        replications: 40,
        seed: 5,
        until_s: None,
        plan_replications: 30,
        min_deviation,
    };
    let output_flags = |f: &takt_twin::forecast::Forecast| -> Vec<(String, f64, f64)> {
        let plan_of = |subject: &str| {
            if subject == "plant" {
                f.plan_plant_good.map(|p| (f.plant_good_at_end.mean, p))
            } else {
                let s = f.stations.iter().find(|s| s.station == subject)?;
                s.plan_good.map(|p| (s.good_at_end.mean, p))
            }
        };
        f.deviations
            .iter()
            .filter(|d| d.flag != "order_at_risk")
            .map(|d| {
                let (mean, plan) = plan_of(&d.subject).expect("a plan for a flagged output");
                (d.subject.clone(), mean, plan)
            })
            .collect()
    };
    let detected = output_flags(&forecast(&model, &view, now_ms, options(0.0)).expect("forecast"));
    assert!(!detected.is_empty(), "a detectable gap to flag");
    for size in [0.0001, 0.01] {
        let kept = output_flags(&forecast(&model, &view, now_ms, options(size)).expect("forecast"));
        for (subject, mean, plan) in &detected {
            let large = (mean - plan).abs() >= size * plan;
            assert_eq!(
                large,
                kept.iter().any(|(s, _, _)| s == subject),
                "{subject} at {size}"
            );
        }
        assert!(kept.len() <= detected.len());
        // The plan's 24,450 against about 24,438: flagged at 0.01 %, not at 1 %.
        assert_eq!(kept.is_empty(), size == 0.01, "{kept:?} at {size}");
    }
    let none = forecast(&model, &view, now_ms, options(0.5)).expect("forecast");
    assert!(output_flags(&none).is_empty(), "{:?}", none.deviations);
    assert!(matches!(
        forecast(&model, &view, now_ms, options(1.5)),
        Err(ForecastError::MinDeviation(_))
    ));
}

/// An order due before the forecast's moment and not finished is late already: flagged
/// `overdue`, its chance to be on time 0, whatever the futures do; an order due later is not.
#[test]
fn an_order_due_before_the_moment_and_not_finished_is_overdue() {
    // The last order due an hour into the shift: at 5 h it is still being made (the first two,
    // due later, are finished by then).
    let mut model = (*bottling()).clone();
    let last = model.orders.len() - 1;
    model.orders[last].due_s = Some(3600.0);
    let model = Arc::new(model);
    let (view, _, now_ms) = mirrored(&model, 5, 5.0 * 3600.0);
    let options = ForecastOptions {
        replications: 4,
        seed: 3,
        until_s: Some(6.0 * 3600.0),
        plan_replications: 0,
        min_deviation: takt_twin::forecast::DEFAULT_MIN_DEVIATION,
    };
    let f = forecast(&model, &view, now_ms, options).expect("forecast");
    let due_ms = |o: &takt_twin::forecast::OrderForecast| {
        o.due
            .as_deref()
            .and_then(|d| takt_model::time::parse_rfc3339_ms(d).ok())
    };
    let mut overdue = 0;
    for o in &f.orders {
        let late = !o.complete_now && due_ms(o).is_some_and(|d| d < now_ms);
        assert_eq!(o.overdue, late, "{o:?}");
        if o.overdue {
            assert_eq!(o.p_on_time, Some(0.0), "{o:?}");
            overdue += 1;
        }
    }
    assert!(overdue >= 1, "{:?}", f.orders);
    assert!(f.orders.iter().any(|o| !o.overdue), "{:?}", f.orders);
}

/// A live order book given at 6 h 11 min, each open order with the good and scrapped pieces the
/// simulator had made of it by then, its times stamped as a MES would: at 9 h 17 min the parts
/// the twin counts against each order (what left since the book, after what each had done) are
/// the simulator's own, as exactly as with the scenario's book, and the forecast is of the book's
/// orders, with no plan to compare them with.
#[test]
fn a_live_book_counts_each_orders_parts_from_when_it_was_given() {
    let model = bottling_two_shifts();
    let stamp = |s: f64| model.timebase.rfc3339(s);
    for seed in 1..=3u64 {
        let jitter_s = seed as f64 * 7.3;
        let book_s = 6.0 * 3600.0 + 11.0 * 60.0 + jitter_s;
        let cut_s = 9.0 * 3600.0 + 17.0 * 60.0 + jitter_s;
        let (mut mirror, mut sim, book_ms) = mirror_of(&model, seed, book_s);
        let at_book = sim.snapshot();
        let orders: Vec<OpenOrder> = model
            .orders
            .iter()
            .zip(&at_book.orders)
            .filter(|(_, (_, os))| os.completed_at.is_none())
            .map(|(o, (_, os))| {
                let finished = if os.released {
                    o.quantity - os.outstanding
                } else {
                    0
                };
                OpenOrder {
                    id: o.id.clone(),
                    product: model.products[o.product].name.clone(),
                    quantity: o.quantity,
                    good: os.good,
                    scrap: finished - os.good,
                    release: Some(stamp(o.release_s)),
                    due: o.due_s.map(stamp),
                }
            })
            .collect();
        // Some orders were finished by then, some are under way, and the late shift's are not
        // released yet: the book holds the last two kinds.
        assert!(orders.len() < model.orders.len(), "seed {seed}");
        assert!(orders.iter().any(|o| o.good > 0), "seed {seed}: {orders:?}");
        let departed = departed_by_product(&model, &mirror.view(book_ms), book_ms);
        // The same book with every order due when released: an order finished by the cut was
        // finished late.
        let due_at_release: Vec<OpenOrder> = orders
            .iter()
            .map(|o| OpenOrder {
                due: o.release.clone(),
                ..o.clone()
            })
            .collect();
        let late_book = OrderBook::given(
            OrderBookRequest {
                orders: due_at_release,
            },
            &model,
            (book_ms, book_ms),
            departed.clone(),
        )
        .expect("a book of the scenario's products");
        let book = OrderBook::given(
            OrderBookRequest { orders },
            &model,
            (book_ms, book_ms),
            departed,
        )
        .expect("a book of the scenario's products");
        // The simulation goes on to the cut, mirrored.
        let lines = Lines(Arc::default(), model.timebase);
        sim.set_trace(Box::new(lines.clone()));
        sim.run_until(cut_s);
        for line in lines.0.lock().map(|v| v.clone()).unwrap_or_default() {
            mirror.offer(takt_twin::event::parse(&line).expect("a trace line"));
        }
        let now_ms = model.timebase.start_ms() + (cut_s * 1000.0).round() as i64;
        let view = mirror.view(now_ms);
        let booked = book.booked(&model).expect("the scenario fits");
        let (with_book, warnings) = condition_with_book(&booked, &view, now_ms).expect("condition");
        assert!(warnings.is_empty(), "seed {seed}: {warnings:?}");
        let (with_scenario, _) = condition_of(&model, &view, now_ms).expect("condition");
        let truth = sim.snapshot();
        let good_of = |c: &takt_sim::PlantCondition, id: &str| {
            c.orders
                .iter()
                .find(|o| o.order == id)
                .map_or(0, |o| o.good)
        };
        let mut by_product = vec![(0u32, 0u32); model.products.len()];
        for o in &booked.model.orders {
            let oi = model.orders.iter().position(|q| q.id == o.id).expect("id");
            let actual = truth.orders[oi].1.good;
            let inferred = good_of(&with_book, &o.id);
            // As with the scenario's book, scrap is spread over a product's orders under way.
            assert!(
                inferred.abs_diff(actual) <= o.quantity / 500,
                "seed {seed}: good parts of {}: {inferred} inferred, {actual} actual",
                o.id
            );
            assert!(
                inferred.abs_diff(good_of(&with_scenario, &o.id)) <= o.quantity / 500,
                "seed {seed}: {}",
                o.id
            );
            by_product[o.product].0 += inferred;
            by_product[o.product].1 += actual;
        }
        for (p, (inferred, actual)) in by_product.into_iter().enumerate() {
            assert_eq!(inferred, actual, "seed {seed}: good parts of product {p}");
        }
        // The parts in the plant belong to the same orders whichever book says so.
        let parts = |c: &takt_sim::PlantCondition| {
            let mut v: Vec<(String, String, Option<String>)> = c
                .buffers
                .iter()
                .flat_map(|b| {
                    b.parts
                        .iter()
                        .map(|p| (b.buffer.clone(), p.product.clone(), p.order.clone()))
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(parts(&with_book), parts(&with_scenario), "seed {seed}");

        let options = ForecastOptions {
            replications: 4,
            seed: 3,
            until_s: Some(cut_s + 3600.0),
            plan_replications: 2,
            min_deviation: takt_twin::forecast::DEFAULT_MIN_DEVIATION,
        };
        let f = forecast_with_plans(
            &model,
            &view,
            now_ms,
            options,
            ForecastInputs {
                book: Some(&book),
                ..Default::default()
            },
            &AtomicBool::new(false),
        )
        .expect("forecast");
        assert_eq!(f.orders_as_of.as_deref(), Some(book.as_of.as_str()));
        let ids: Vec<&str> = f.orders.iter().map(|o| o.id.as_str()).collect();
        let booked_ids: Vec<&str> = book.orders.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, booked_ids, "seed {seed}");
        assert!(f.orders.iter().all(|o| o.plan_p_on_time.is_none()));
        // A finished order is not at risk, late or not: whether it was on time is a fact.
        let late = forecast_with_plans(
            &model,
            &view,
            now_ms,
            options,
            ForecastInputs {
                book: Some(&late_book),
                ..Default::default()
            },
            &AtomicBool::new(false),
        )
        .expect("forecast");
        let finished_late: Vec<&str> = late
            .orders
            .iter()
            .filter(|o| o.complete_now && o.p_on_time == Some(0.0))
            .map(|o| o.id.as_str())
            .collect();
        assert!(!finished_late.is_empty(), "seed {seed}: {:?}", late.orders);
        assert!(
            late.deviations
                .iter()
                .all(|d| !finished_late.contains(&d.subject.as_str())),
            "seed {seed}: {:?}",
            late.deviations
        );
        // The stations still have the scenario's plan.
        assert!(f.stations.iter().all(|s| s.plan_good.is_some()));
    }
}
