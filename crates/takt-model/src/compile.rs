//! Checks a [`Scenario`] and compiles it into a [`Model`]. Every problem is collected, each with the
//! field path where it sits (`stations[2].failures[0].ttr`), so that `takt validate` can report them all
//! at once; the loader turns paths into file lines.

use crate::distribution::{DistributionSpec, Sampler};
use crate::model::*;
use crate::scenario::*;
use std::collections::{HashMap, HashSet};

/// One thing wrong with a scenario, located by field path (and by file line once the loader resolves it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFinding {
    pub path: String,
    pub message: String,
}

#[derive(Default)]
struct Problems(Vec<ScenarioFinding>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ScenarioFinding {
            path: path.into(),
            message: message.into(),
        });
    }

    fn sampler(&mut self, path: &str, spec: &DistributionSpec) -> Sampler {
        spec.sampler().unwrap_or_else(|m| {
            self.push(path, m);
            Sampler::Constant(0.0)
        })
    }
}

/// Index of names, reporting duplicates.
fn index_names<'a>(
    problems: &mut Problems,
    section: &str,
    names: impl Iterator<Item = &'a str>,
) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for (i, name) in names.enumerate() {
        if name.trim().is_empty() {
            problems.push(format!("{section}[{i}].name"), "name must not be empty");
        } else if map.insert(name.to_string(), i).is_some() {
            problems.push(
                format!("{section}[{i}].name"),
                format!("duplicate name `{name}` in {section}"),
            );
        }
    }
    map
}

fn probability(problems: &mut Problems, path: &str, p: f64) -> f64 {
    if !(0.0..1.0).contains(&p) {
        problems.push(path, format!("probability must be in [0, 1), got {p}"));
        return 0.0;
    }
    p
}

fn unknown(kind: &str, name: &str, known: &HashMap<String, usize>) -> String {
    let mut names: Vec<&str> = known.keys().map(String::as_str).collect();
    names.sort_unstable();
    format!("unknown {kind} `{name}` (known: {})", names.join(", "))
}

/// Checks the scenario and builds the model, or returns every problem found.
pub fn compile(s: &Scenario) -> Result<Model, Vec<ScenarioFinding>> {
    // Sizes first: past a limit, building the model could itself take the memory the limit guards.
    let too_large = crate::limits::check(s);
    if !too_large.is_empty() {
        return Err(too_large);
    }
    let mut p = Problems::default();
    if s.schema_version != SCHEMA_VERSION {
        p.push(
            "schema_version",
            format!(
                "unsupported schema_version {} (this takt reads {SCHEMA_VERSION})",
                s.schema_version
            ),
        );
    }
    let run = &s.run;
    if run.horizon.0 <= 0.0 {
        p.push("run.horizon", "horizon must be > 0");
    }
    if run.warmup.0 >= run.horizon.0 {
        p.push("run.warmup", "warm-up must be shorter than the horizon");
    }
    if run.replications == 0 {
        p.push("run.replications", "replications must be >= 1");
    }
    let timebase = match &run.start {
        None => Timebase::default(),
        Some(dt) => timebase_of(dt).unwrap_or_else(|m| {
            p.push("run.start", m);
            Timebase::default()
        }),
    };

    let products = index_names(
        &mut p,
        "products",
        s.products.iter().map(|x| x.name.as_str()),
    );
    let stations = index_names(
        &mut p,
        "stations",
        s.stations.iter().map(|x| x.name.as_str()),
    );
    let declared_buffers =
        index_names(&mut p, "buffers", s.buffers.iter().map(|x| x.name.as_str()));
    let crews = index_names(&mut p, "crews", s.crews.iter().map(|x| x.name.as_str()));
    if s.products.is_empty() {
        p.push("products", "at least one product is needed");
    }
    if s.stations.is_empty() {
        p.push("stations", "at least one station is needed");
    }
    let n_products = s.products.len();

    // Crews.
    let crew_list: Vec<Crew> = s
        .crews
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if c.count == 0 {
                p.push(
                    format!("crews[{i}].count"),
                    "a crew needs at least one member",
                );
            }
            Crew {
                name: c.name.clone(),
                count: c.count,
            }
        })
        .collect();
    let crew_ref = |p: &mut Problems, path: String, name: &Option<String>| {
        name.as_ref().and_then(|n| {
            crews.get(n).copied().or_else(|| {
                p.push(path, unknown("crew", n, &crews));
                None
            })
        })
    };

    // Routings.
    let mut visits: Vec<Vec<(usize, f64)>> = vec![Vec::new(); s.stations.len()]; // per station: (product, mean)
    let mut first_stations = HashSet::new();
    let product_list: Vec<Product> = s
        .products
        .iter()
        .enumerate()
        .map(|(pi, prod)| {
            if prod.routing.is_empty() {
                p.push(
                    format!("products[{pi}].routing"),
                    "a routing needs at least one operation",
                );
            }
            let routing = prod
                .routing
                .iter()
                .enumerate()
                .map(|(oi, op)| {
                    let path = format!("products[{pi}].routing[{oi}]");
                    let names: Vec<String> = match (&op.station, &op.stations) {
                        (Some(one), None) => vec![one.clone()],
                        (None, Some(group)) if !group.is_empty() => group.clone(),
                        (None, Some(_)) => {
                            p.push(
                                format!("{path}.stations"),
                                "the group of alternative stations is empty",
                            );
                            vec![]
                        }
                        (Some(_), Some(_)) => {
                            p.push(
                                path.clone(),
                                "give either `station` or `stations` (alternatives), not both",
                            );
                            vec![]
                        }
                        (None, None) => {
                            p.push(
                                path.clone(),
                                "missing `station` (or `stations` for alternatives)",
                            );
                            vec![]
                        }
                    };
                    let field = if op.station.is_some() {
                        "station"
                    } else {
                        "stations"
                    };
                    let station_idx: Vec<usize> = names
                        .iter()
                        .filter_map(|n| {
                            stations.get(n).copied().or_else(|| {
                                p.push(format!("{path}.{field}"), unknown("station", n, &stations));
                                None
                            })
                        })
                        .collect();
                    let process_time = p.sampler(&format!("{path}.process_time"), &op.process_time);
                    let mean = op.process_time.mean();
                    for &st in &station_idx {
                        visits[st].push((pi, mean));
                        if oi == 0 {
                            first_stations.insert(st);
                        }
                    }
                    let scrap = probability(&mut p, &format!("{path}.scrap"), op.scrap);
                    let rework = probability(&mut p, &format!("{path}.rework"), op.rework);
                    if scrap + rework >= 1.0 {
                        p.push(
                            format!("{path}.rework"),
                            "scrap + rework probabilities must be < 1",
                        );
                    }
                    Operation {
                        name: op.name.clone().unwrap_or_else(|| format!("op{}", oi + 1)),
                        stations: station_idx,
                        process_time,
                        process_mean_s: mean,
                        scrap_probability: scrap,
                        rework_probability: rework,
                    }
                })
                .collect();
            Product {
                name: prod.name.clone(),
                routing,
            }
        })
        .collect();

    // Buffers: declared ones first (keeping their indices), then an implicit queue per station without one.
    let mut buffer_list: Vec<Buffer> = s
        .buffers
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if b.capacity == Some(0) {
                p.push(
                    format!("buffers[{i}].capacity"),
                    "capacity must be >= 1 (omit it for an unlimited buffer)",
                );
            }
            Buffer {
                name: b.name.clone(),
                capacity: b.capacity,
                station: usize::MAX,
                implicit: false,
            }
        })
        .collect();

    let station_list: Vec<Station> = s
        .stations
        .iter()
        .enumerate()
        .map(|(si, st)| {
            let path = format!("stations[{si}]");
            if st.machines == 0 {
                p.push(format!("{path}.machines"), "a station needs at least one machine");
            }
            let input_buffer = match &st.input_buffer {
                Some(name) => match declared_buffers.get(name) {
                    Some(&b) => {
                        if buffer_list[b].station != usize::MAX {
                            p.push(
                                format!("{path}.input_buffer"),
                                format!(
                                    "buffer `{name}` is already the input of station `{}`; a buffer feeds one station",
                                    s.stations[buffer_list[b].station].name
                                ),
                            );
                        } else {
                            buffer_list[b].station = si;
                        }
                        b
                    }
                    None => {
                        p.push(format!("{path}.input_buffer"), unknown("buffer", name, &declared_buffers));
                        0
                    }
                },
                None => {
                    buffer_list.push(Buffer {
                        name: format!("{}.queue", st.name),
                        capacity: None,
                        station: si,
                        implicit: true,
                    });
                    buffer_list.len() - 1
                }
            };
            let mut ideal_cycle_s: Vec<Option<f64>> = vec![None; n_products];
            for &(pi, mean) in &visits[si] {
                ideal_cycle_s[pi] = Some(mean);
            }
            match &st.ideal_cycle_time {
                None => {}
                Some(IdealCycleSpec::All(secs)) => {
                    if secs.0 <= 0.0 {
                        p.push(format!("{path}.ideal_cycle_time"), "ideal cycle time must be > 0");
                    }
                    for (pi, c) in ideal_cycle_s.iter_mut().enumerate() {
                        if visits[si].iter().any(|v| v.0 == pi) {
                            *c = Some(secs.0);
                        }
                    }
                }
                Some(IdealCycleSpec::PerProduct(map)) => {
                    for (name, secs) in map {
                        let fp = format!("{path}.ideal_cycle_time.{name}");
                        match products.get(name) {
                            None => p.push(fp, unknown("product", name, &products)),
                            Some(_) if secs.0 <= 0.0 => p.push(fp, "ideal cycle time must be > 0"),
                            Some(&pi) => ideal_cycle_s[pi] = Some(secs.0),
                        }
                    }
                }
            }
            let pw = &st.power_kw;
            for (field, v) in [
                ("processing", pw.processing),
                ("setup", pw.setup),
                ("idle", pw.idle),
                ("down", pw.down),
                ("planned_down", pw.planned_down),
                ("off", pw.off),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    p.push(format!("{path}.power_kw.{field}"), format!("power must be a number >= 0 kW, got {v}"));
                }
            }
            let changeover = st.changeover.as_ref().map(|c| {
                let default = p.sampler(&format!("{path}.changeover.default"), &c.default);
                let mut matrix = vec![None; n_products * n_products];
                let mut matrix_mean_s = vec![None; n_products * n_products];
                let mut entries = Vec::with_capacity(c.matrix.len());
                for (ei, e) in c.matrix.iter().enumerate() {
                    let ep = format!("{path}.changeover.matrix[{ei}]");
                    let from = products.get(&e.from).copied();
                    let to = products.get(&e.to).copied();
                    if from.is_none() {
                        p.push(format!("{ep}.from"), unknown("product", &e.from, &products));
                    }
                    if to.is_none() {
                        p.push(format!("{ep}.to"), unknown("product", &e.to, &products));
                    }
                    let sampler = p.sampler(&format!("{ep}.time"), &e.time);
                    if let (Some(f), Some(t)) = (from, to) {
                        entries.push((f, t));
                        if f == t {
                            p.push(ep, "a changeover from a product to itself never happens");
                        } else {
                            matrix[f * n_products + t] = Some(sampler);
                            matrix_mean_s[f * n_products + t] = Some(e.time.mean());
                        }
                    }
                }
                Changeover {
                    default,
                    matrix,
                    default_mean_s: c.default.mean(),
                    matrix_mean_s,
                    n_products,
                    entries,
                }
            });
            let mut mode_names = HashSet::new();
            let failure_modes = st
                .failures
                .iter()
                .enumerate()
                .map(|(fi, f)| {
                    let fp = format!("{path}.failures[{fi}]");
                    if !mode_names.insert(f.name.as_str()) {
                        p.push(format!("{fp}.name"), format!("duplicate failure mode `{}`", f.name));
                    }
                    let ttf = p.sampler(&format!("{fp}.ttf"), &f.ttf);
                    if matches!(f.ttf, DistributionSpec::Constant { value } if value <= 0.0) {
                        p.push(format!("{fp}.ttf"), "time to failure must be > 0");
                    }
                    if f.basis == FailureBasis::Cycles && f.ttf.mean() < 1.0 {
                        p.push(format!("{fp}.ttf"), "with basis = \"cycles\", ttf counts cycles and its mean must be >= 1");
                    }
                    FailureMode {
                        name: f.name.clone(),
                        basis: f.basis,
                        ttf,
                        ttr: p.sampler(&format!("{fp}.ttr"), &f.ttr),
                        ttf_mean: f.ttf.mean(),
                        ttr_mean_s: f.ttr.mean(),
                        crew: crew_ref(&mut p, format!("{fp}.crew"), &f.crew),
                    }
                })
                .collect();
            let maintenance = st.maintenance.as_ref().map(|m| {
                let mp = format!("{path}.maintenance");
                let times = match (m.interval, m.at.is_empty()) {
                    (Some(interval), true) => {
                        let duration = m.duration.mean();
                        if interval.0 < 1.0 || interval.0 <= duration {
                            p.push(
                                format!("{mp}.interval"),
                                format!(
                                    "the interval ({} s) must be at least a second and longer than \
                                     the maintenance itself ({duration} s on average): a service \
                                     cannot start before the last one is done",
                                    interval.0
                                ),
                            );
                        }
                        MaintenanceTimes::Every {
                            first_s: m.first.map_or(interval.0, |f| f.0),
                            interval_s: interval.0,
                        }
                    }
                    (None, false) => {
                        if m.first.is_some() {
                            p.push(format!("{mp}.first"), "`first` goes with `interval`, not with `at`");
                        }
                        // `Secs` are never negative: every listed start is at t >= 0.
                        let mut at: Vec<f64> = m.at.iter().map(|t| t.0).collect();
                        at.sort_by(f64::total_cmp);
                        at.dedup();
                        MaintenanceTimes::At(at)
                    }
                    (Some(_), false) => {
                        p.push(mp.clone(), "give either `interval` or `at`, not both");
                        MaintenanceTimes::At(Vec::new())
                    }
                    (None, true) => {
                        p.push(mp.clone(), "needs `interval` (with an optional `first`) or `at` (a list of starts)");
                        MaintenanceTimes::At(Vec::new())
                    }
                };
                Maintenance {
                    times,
                    duration: p.sampler(&format!("{mp}.duration"), &m.duration),
                    duration_mean_s: m.duration.mean(),
                    crew: crew_ref(&mut p, format!("{mp}.crew"), &m.crew),
                    renews: m.renews,
                }
            });
            Station {
                name: st.name.clone(),
                machines: st.machines,
                input_buffer,
                dispatch: st.dispatch,
                ideal_cycle_s,
                power_kw: PowerKw {
                    processing: pw.processing,
                    setup: pw.setup,
                    idle: pw.idle,
                    down: pw.down,
                    planned_down: pw.planned_down,
                    off: pw.off,
                },
                changeover,
                failure_modes,
                maintenance,
                follows_calendar: st.follows_calendar,
            }
        })
        .collect();

    for (bi, b) in s.buffers.iter().enumerate() {
        let station = buffer_list[bi].station;
        if station == usize::MAX {
            p.push(
                format!("buffers[{bi}].name"),
                format!("buffer `{}` is not the input_buffer of any station: nothing takes parts from it", b.name),
            );
        } else if visits[station].is_empty() {
            p.push(
                format!("buffers[{bi}].name"),
                format!(
                    "nobody feeds buffer `{}`: its station `{}` is on no product's routing",
                    b.name, s.stations[station].name
                ),
            );
        }
    }

    let (calendar, shifts) = s
        .calendar
        .as_ref()
        .map_or((None, Vec::new()), |c| compile_calendar(&mut p, c));

    // Demand.
    let d = &s.demand;
    let arrivals = d.arrivals.as_ref().map(|a| {
        let interarrival = p.sampler("demand.arrivals.interarrival", &a.interarrival);
        if a.interarrival.mean() <= 0.0 {
            p.push(
                "demand.arrivals.interarrival",
                "mean inter-arrival time must be > 0",
            );
        }
        let mut mix_products = Vec::new();
        let mut weights = Vec::new();
        let mut unknown_products = 0;
        for (name, w) in &a.mix {
            let mp = format!("demand.arrivals.mix.{name}");
            match products.get(name) {
                None => {
                    unknown_products += 1;
                    p.push(mp, unknown("product", name, &products));
                }
                Some(_) if !(w.is_finite() && *w >= 0.0) => {
                    p.push(mp, format!("weight must be >= 0, got {w}"))
                }
                Some(&pi) => {
                    mix_products.push(pi);
                    weights.push(*w);
                }
            }
        }
        let total: f64 = weights.iter().sum();
        if a.mix.is_empty() || (total <= 0.0 && unknown_products == 0) {
            p.push(
                "demand.arrivals.mix",
                "the product mix needs at least one product with weight > 0",
            );
        }
        let mut acc = 0.0;
        let mix_cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total.max(f64::MIN_POSITIVE);
                acc
            })
            .collect();
        Arrivals {
            interarrival,
            mean_interarrival_s: a.interarrival.mean(),
            mix_products,
            mix_cumulative,
            due_in_s: a.due_in.map(|x| x.0),
            until_s: a.until.map(|x| x.0),
        }
    });
    let mut ids = HashSet::new();
    let orders: Vec<Order> = d
        .orders
        .iter()
        .enumerate()
        .filter_map(|(oi, o)| {
            let op = format!("demand.orders[{oi}]");
            if !ids.insert(o.id.as_str()) {
                p.push(format!("{op}.id"), format!("duplicate order id `{}`", o.id));
            }
            if o.quantity == 0 {
                p.push(format!("{op}.quantity"), "quantity must be >= 1");
            }
            if !(o.priority.is_finite() && o.priority > 0.0) {
                p.push(
                    format!("{op}.priority"),
                    format!("priority must be a number > 0, got {}", o.priority),
                );
            }
            if let Some(due) = o.due
                && due.0 < o.release.0
            {
                p.push(
                    format!("{op}.due"),
                    format!(
                        "due date ({} s) is before the release ({} s)",
                        due.0, o.release.0
                    ),
                );
            }
            let product = products.get(&o.product).copied();
            if product.is_none() {
                p.push(
                    format!("{op}.product"),
                    unknown("product", &o.product, &products),
                );
            }
            Some(Order {
                id: o.id.clone(),
                product: product?,
                quantity: o.quantity,
                release_s: o.release.0,
                due_s: o.due.map(|x| x.0),
                priority: o.priority,
            })
        })
        .collect();
    // An order book's own problems (an empty one included) are its file's: see `load.rs`.
    if arrivals.is_none() && d.orders.is_empty() && d.orders_csv.is_none() {
        p.push(
            "demand",
            "no demand: give `arrivals`, `orders` or `orders_csv`",
        );
    }

    if !p.0.is_empty() {
        return Err(p.0);
    }
    Ok(Model {
        name: s.name.clone(),
        horizon_s: run.horizon.0,
        warmup_s: run.warmup.0,
        seed: run.seed,
        replications: run.replications,
        timebase,
        products: product_list,
        stations: station_list,
        buffers: buffer_list,
        crews: crew_list,
        calendar,
        shifts,
        arrivals,
        orders,
    })
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `"mon-fri"`, `"sat,sun"`, `"daily"` -> day indices (0 = Monday).
fn parse_days(text: &str) -> Result<Vec<usize>, String> {
    let day = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        DAY_NAMES
            .iter()
            .position(|d| s.starts_with(d) && s.len() >= 3)
            .ok_or_else(|| format!("unknown day `{s}`: use mon, tue, wed, thu, fri, sat, sun"))
    };
    let t = text.trim().to_ascii_lowercase();
    if t == "daily" || t == "all" {
        return Ok((0..7).collect());
    }
    let mut out = Vec::new();
    for part in t.split(',') {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (day(a)?, day(b)?);
            let mut d = a;
            loop {
                out.push(d);
                if d == b {
                    break;
                }
                d = (d + 1) % 7;
            }
        } else {
            out.push(day(part)?);
        }
    }
    Ok(out)
}

/// `"06:00"` -> seconds after midnight.
fn parse_clock(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a time of day: expected HH:MM (00:00 to 24:00)");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(f64::from(h * 3600 + m * 60))
}

/// The calendar's production time, and its shifts one per day they run on.
fn compile_calendar(p: &mut Problems, c: &CalendarSpec) -> (Option<Calendar>, Vec<WeeklyShift>) {
    // Work on whole minutes of the week: exact, and small enough (10,080 slots).
    const MINUTES: usize = 7 * 24 * 60;
    let mut on = vec![false; MINUTES];
    let mut ok = true;
    let mut shifts = Vec::new();
    let mark = |slots: &mut Vec<bool>, day: usize, start_s: f64, len_s: f64, value: bool| {
        let start = day * 1440 + (start_s / 60.0) as usize;
        let len = (len_s / 60.0).round() as usize;
        for i in 0..len {
            slots[(start + i) % MINUTES] = value;
        }
    };
    if c.shifts.is_empty() {
        p.push("calendar.shifts", "a calendar needs at least one shift");
    }
    for (i, sh) in c.shifts.iter().enumerate() {
        let path = format!("calendar.shifts[{i}]");
        let days = parse_days(&sh.days).map_err(|m| p.push(format!("{path}.days"), m));
        let start = parse_clock(&sh.start).map_err(|m| p.push(format!("{path}.start"), m));
        let end = parse_clock(&sh.end).map_err(|m| p.push(format!("{path}.end"), m));
        let (Ok(days), Ok(start), Ok(end)) = (days, start, end) else {
            ok = false;
            continue;
        };
        let len = if end > start {
            end - start
        } else {
            end + 86_400.0 - start
        };
        for d in days {
            mark(&mut on, d, start, len, true);
            shifts.push(WeeklyShift {
                name: sh.name.clone(),
                start_s: d as f64 * 86_400.0 + start,
                length_s: len,
            });
        }
    }
    for (i, br) in c.breaks.iter().enumerate() {
        let path = format!("calendar.breaks[{i}]");
        let days = parse_days(&br.days).map_err(|m| p.push(format!("{path}.days"), m));
        let start = parse_clock(&br.start).map_err(|m| p.push(format!("{path}.start"), m));
        let (Ok(days), Ok(start)) = (days, start) else {
            ok = false;
            continue;
        };
        if br.duration.0 % 60.0 != 0.0 {
            p.push(
                format!("{path}.duration"),
                "break durations are whole minutes",
            );
        }
        for d in days {
            mark(&mut on, d, start, br.duration.0, false);
        }
    }
    if !ok {
        return (None, Vec::new());
    }
    let mut on_intervals = Vec::new();
    let mut i = 0;
    while i < MINUTES {
        if on[i] {
            let start = i;
            while i < MINUTES && on[i] {
                i += 1;
            }
            on_intervals.push((start as f64 * 60.0, i as f64 * 60.0));
        } else {
            i += 1;
        }
    }
    if on_intervals.is_empty() {
        p.push(
            "calendar",
            "the calendar has no production time left (breaks cover every shift)",
        );
        return (None, Vec::new());
    }
    if on_intervals.len() == 1 && on_intervals[0] == (0.0, WEEK_S) {
        return (None, shifts); // around the clock
    }
    (Some(Calendar { on_intervals }), shifts)
}

fn timebase_of(dt: &toml::value::Datetime) -> Result<Timebase, String> {
    let (Some(date), Some(time)) = (dt.date, dt.time) else {
        return Err("start needs a full date and time, e.g. 2026-01-05T06:00:00+01:00".into());
    };
    let offset_min = match dt.offset {
        Some(toml::value::Offset::Z) => 0,
        Some(toml::value::Offset::Custom { minutes }) => i32::from(minutes),
        None => {
            return Err(
                "start needs a UTC offset (Z or +hh:mm), e.g. 2026-01-05T06:00:00+01:00".into(),
            );
        }
    };
    let days = crate::time::days_from_civil(
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    );
    let local_secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0));
    // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
    let weekday = (days + 3).rem_euclid(7);
    Ok(Timebase {
        start_unix_s: local_secs - i64::from(offset_min) * 60,
        utc_offset_min: offset_min,
        week_phase_s: (weekday * 86_400 + local_secs.rem_euclid(86_400)) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_clock() {
        assert_eq!(parse_days("mon-fri"), Ok(vec![0, 1, 2, 3, 4]));
        assert_eq!(parse_days("sat,sun"), Ok(vec![5, 6]));
        assert_eq!(parse_days("fri-mon"), Ok(vec![4, 5, 6, 0]));
        assert!(parse_days("funday").is_err());
        assert_eq!(parse_clock("06:30"), Ok(23_400.0));
        assert!(parse_clock("25:00").is_err());
        assert!(parse_clock("6h").is_err());
    }
}
