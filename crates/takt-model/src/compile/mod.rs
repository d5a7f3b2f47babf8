//! Checks a [`Scenario`] and compiles it into a [`Model`]. Every problem is collected, each with the
//! field path where it sits (`stations[2].failures[0].ttr`), so that `takt validate` can report them all
//! at once; the loader turns paths into file lines.

use crate::distribution::{DistributionSpec, Sampler};
use crate::model::*;
use crate::scenario::*;
use std::collections::{HashMap, HashSet};

mod calendar;
mod demand;
use calendar::{compile_calendar, timebase_of};

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
            self.push(path, m.0);
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

    let (product_list, visits) = compile_products(&mut p, s, &stations);

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

    let station_list = compile_stations(
        &mut p,
        s,
        &Names {
            products: &products,
            buffers: &declared_buffers,
            crews: &crews,
        },
        &mut buffer_list,
        &visits,
    );

    let (calendar, shifts) = s
        .calendar
        .as_ref()
        .map_or((None, Vec::new()), |c| compile_calendar(&mut p, c));

    let (arrivals, orders) = demand::compile_demand(&mut p, &s.demand, &products);
    p.0.extend(crate::stop_reasons::check(&s.stop_reasons));

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
        stop_reasons: s.stop_reasons.clone(),
    })
}

/// Products and their routings; per station the (product, mean process time) of the steps it
/// does.
fn compile_products(
    p: &mut Problems,
    s: &Scenario,
    stations: &HashMap<String, usize>,
) -> (Vec<Product>, Vec<Vec<(usize, f64)>>) {
    let mut visits: Vec<Vec<(usize, f64)>> = vec![Vec::new(); s.stations.len()]; // per station: (product, mean)
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
                                p.push(format!("{path}.{field}"), unknown("station", n, stations));
                                None
                            })
                        })
                        .collect();
                    let process_time = p.sampler(&format!("{path}.process_time"), &op.process_time);
                    let mean = op.process_time.mean();
                    for &st in &station_idx {
                        visits[st].push((pi, mean));
                    }
                    let scrap = probability(p, &format!("{path}.scrap"), op.scrap);
                    let rework = probability(p, &format!("{path}.rework"), op.rework);
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

    (product_list, visits)
}

/// The name indices stations refer to.
struct Names<'a> {
    products: &'a HashMap<String, usize>,
    buffers: &'a HashMap<String, usize>,
    crews: &'a HashMap<String, usize>,
}

/// Stations with their machines, input buffers (implicit ones added to `buffer_list`), setups,
/// changeovers, failure modes and maintenance; then whether every declared buffer feeds a station
/// on some routing.
fn compile_stations(
    p: &mut Problems,
    s: &Scenario,
    names: &Names,
    buffer_list: &mut Vec<Buffer>,
    visits: &[Vec<(usize, f64)>],
) -> Vec<Station> {
    let (products, declared_buffers, crews) = (names.products, names.buffers, names.crews);
    let n_products = s.products.len();
    let crew_ref = |p: &mut Problems, path: String, name: &Option<String>| {
        name.as_ref().and_then(|n| {
            crews.get(n).copied().or_else(|| {
                p.push(path, unknown("crew", n, crews));
                None
            })
        })
    };
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
                        p.push(format!("{path}.input_buffer"), unknown("buffer", name, declared_buffers));
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
                            None => p.push(fp, unknown("product", name, products)),
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
                let mut entries = Vec::with_capacity(c.matrix.len());
                for (ei, e) in c.matrix.iter().enumerate() {
                    let ep = format!("{path}.changeover.matrix[{ei}]");
                    let from = products.get(&e.from).copied();
                    let to = products.get(&e.to).copied();
                    if from.is_none() {
                        p.push(format!("{ep}.from"), unknown("product", &e.from, products));
                    }
                    if to.is_none() {
                        p.push(format!("{ep}.to"), unknown("product", &e.to, products));
                    }
                    let sampler = p.sampler(&format!("{ep}.time"), &e.time);
                    if let (Some(f), Some(t)) = (from, to) {
                        if f == t {
                            p.push(ep, "a changeover from a product to itself never happens");
                        }
                        entries.push(((f, t), sampler, e.time.mean()));
                    }
                }
                Changeover::new(default, c.default.mean(), n_products, entries)
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
                        crew: crew_ref(p, format!("{fp}.crew"), &f.crew),
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
                    crew: crew_ref(p, format!("{mp}.crew"), &m.crew),
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

    station_list
}

#[cfg(test)]
mod tests {
    use super::calendar::{parse_clock, parse_days};

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
