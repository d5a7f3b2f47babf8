//! Running an experiment: every variant (the base first) x every replication as one pool of rayon
//! jobs. Replication r of every variant uses the same seed, and random streams are keyed by names, so
//! variants share random numbers wherever they share a process (common random numbers). Differences
//! to the base are computed per replication and given paired-t intervals. With a precision target,
//! replications are added in rounds until every headline KPI's half-width is within it (or the cap).

use crate::goal::{Constraint, Goal, RankedVariant, Ranking};
use crate::kpi::{self, KpiColumn};
use crate::variants::VariantSpec;
use crate::warmup::mser5;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use takt_model::{Model, RunLimits, ScenarioError, load_with_overrides};
use takt_sim::{ReplicatedReport, Report, RunStopped, Simulation, StateFractions, mean_ci95, rng};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Replications {
    Fixed(u32),
    /// Add replications until each headline KPI's 95% half-width <= `relative` x |mean|.
    Precision {
        relative: f64,
        min: u32,
        max: u32,
    },
}

impl Replications {
    /// Replications per variant in the first round (at least 2, for an interval).
    pub fn first_round(&self) -> u32 {
        match *self {
            Replications::Fixed(n) => n.max(2),
            Replications::Precision { min, .. } => min.max(2),
        }
    }

    /// The most replications per variant the study may run.
    pub fn most(&self) -> u32 {
        match *self {
            Replications::Fixed(n) => n.max(2),
            Replications::Precision { max, .. } => max.max(self.first_round()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WarmupChoice {
    /// As the scenario says.
    Scenario,
    Fixed(f64),
    /// MSER-5 on the base's throughput series from pilot replications.
    Auto,
}

/// A whole experiment as data: it serialises (a job queued for another machine) and runs the
/// same, bit for bit, wherever it is read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExperimentSpec {
    pub base_text: String,
    pub origin: PathBuf,
    pub base_dir: Option<PathBuf>,
    pub variants: Vec<VariantSpec>,
    pub replications: Replications,
    pub warmup: WarmupChoice,
    pub seed: Option<u64>,
    pub horizon_s: Option<f64>,
    /// Points of the throughput-over-time series.
    pub series_points: usize,
    pub goal: Option<(Goal, Vec<Constraint>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("variant `{name}`: {error}")]
    Variant { name: String, error: ScenarioError },
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
    /// A share of the replications run elsewhere (another process of a site) failed there.
    #[error("{0}")]
    Chunk(String),
    #[error("variant `{variant}`, replication {replication}: {source}")]
    Run {
        variant: String,
        replication: u32,
        source: RunStopped,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Difference {
    pub mean: f64,
    pub ci95: Option<f64>,
    /// The 95% interval of the paired difference excludes 0.
    pub significant: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    pub key: String,
    pub mean: Option<f64>,
    pub ci95: Option<f64>,
    /// Variant minus base, paired by replication (absent for the base).
    pub difference: Option<Difference>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationSummary {
    pub name: String,
    pub oee: f64,
    pub availability: f64,
    pub performance: f64,
    pub quality: f64,
    pub state_fractions: StateFractions,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariantResult {
    pub name: String,
    pub description: Option<String>,
    pub overrides: Vec<String>,
    pub sweep_point: Vec<(String, f64)>,
    pub estimates: Vec<Estimate>,
    pub stations: Vec<StationSummary>,
    /// Good parts per hour in each interval, mean over replications.
    pub throughput_series: Vec<f64>,
    /// Every figure of the report over the variant's replications.
    pub summary: ReplicatedReport,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Experiment {
    pub scenario: String,
    pub seed: u64,
    pub horizon_s: f64,
    pub warmup_s: f64,
    pub warmup_method: String,
    pub replications: u32,
    pub precision: Option<f64>,
    pub precision_reached: Option<bool>,
    /// The KPIs compared, with their labels and quantities.
    pub kpis: Vec<KpiColumn>,
    pub series_interval_s: f64,
    pub variants: Vec<VariantResult>,
    pub ranking: Option<Ranking>,
}

impl Experiment {
    /// Each variant whose plant locked up in some replication, with the deadlock in words.
    pub fn deadlocks(&self) -> Vec<(String, String)> {
        self.variants
            .iter()
            .filter_map(|v| {
                let deadlock = v.summary.deadlock.as_ref()?;
                Some((v.name.clone(), deadlock.in_words()))
            })
            .collect()
    }
}

pub(crate) struct Run {
    pub(crate) typed: Report,
    /// The report as JSON, where KPIs are looked up by key (`stations.Filler.oee`).
    pub(crate) report: Value,
    pub(crate) series: Vec<f64>,
}

impl Run {
    pub(crate) fn new(typed: Report, series: Vec<f64>) -> Run {
        Run {
            report: kpi::as_json(&typed),
            typed,
            series,
        }
    }
}

/// One replication, run to the horizon in `points` steps (the throughput series), within the
/// default budgets; it stops when any of `stop` is raised.
pub(crate) fn run_job(
    model: &Arc<Model>,
    seed: u64,
    replication: u32,
    points: usize,
    stop: &[&AtomicBool],
) -> Result<Run, RunStopped> {
    let mut sim = Simulation::new(Arc::clone(model), rng::replication_seed(seed, replication));
    let horizon = model.horizon_s;
    let dt = horizon / points as f64;
    let mut series = Vec::with_capacity(points);
    let mut last = 0;
    let limits = RunLimits::default();
    for k in 1..=points {
        let t = if k == points { horizon } else { dt * k as f64 };
        sim.run_guarded(t, &limits, stop)?;
        let done = sim.plant_stats().completed_total;
        series.push((done - last) as f64 * 3600.0 / dt);
        last = done;
    }
    Ok(Run::new(sim.report(), series))
}

/// Runs replication r of variant v, stopped when any of the flags is raised.
pub(crate) type RunOne<'a> =
    dyn Fn(usize, u32, &[&AtomicBool]) -> Result<Run, RunStopped> + Sync + 'a;

/// Runs `jobs` (variant, replication) in parallel. The first replication a budget stops stops
/// the others and is the error, named by its variant; a raised `cancel` is
/// [`ExperimentError::Cancelled`].
pub(crate) fn run_jobs(
    jobs: &[(usize, u32)],
    names: &[String],
    cancel: &AtomicBool,
    run: &RunOne<'_>,
) -> Result<Vec<(usize, u32, Run)>, ExperimentError> {
    let failed = AtomicBool::new(false);
    type Outcome = Result<(usize, u32, Run), (usize, u32, RunStopped)>;
    let results: Vec<Outcome> = jobs
        .par_iter()
        .map(|&(v, r)| {
            run(v, r, &[cancel, &failed])
                .map(|run| (v, r, run))
                .map_err(|e| {
                    if !matches!(e, RunStopped::Stopped { .. }) {
                        failed.store(true, Ordering::Relaxed);
                    }
                    (v, r, e)
                })
        })
        .collect();
    let budget = results.iter().find_map(|x| match x {
        Err((v, r, e)) if !matches!(e, RunStopped::Stopped { .. }) => Some((*v, *r, e.clone())),
        _ => None,
    });
    if let Some((v, r, source)) = budget {
        return Err(ExperimentError::Run {
            variant: names[v].clone(),
            replication: r,
            source,
        });
    }
    results
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ExperimentError::Cancelled)
}

/// Runs the experiment; `progress(done, total)` is called as replications finish.
pub fn run(
    spec: &ExperimentSpec,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Experiment, ExperimentError> {
    run_cancellable(spec, progress, &AtomicBool::new(false))
}

/// [`run`], stopped early with [`ExperimentError::Cancelled`] once `cancel` is set: no
/// replication starts after that, and those under way stop at their next step of the throughput
/// series (a `series_points`-th of the horizon).
pub fn run_cancellable(
    spec: &ExperimentSpec,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Experiment, ExperimentError> {
    let prepared = prepare(spec, cancel)?;
    let models = &prepared.models;
    let (seed, points) = (prepared.seed, prepared.points);
    run_rounds(spec, prepared.clone(), &mut |jobs, done_before, total| {
        let finished = std::sync::atomic::AtomicU64::new(done_before);
        run_jobs(jobs, &prepared.names, cancel, &|v, r, stop| {
            let run = run_job(&models[v], seed, r, points, stop)?;
            let d = finished.fetch_add(1, Ordering::Relaxed) + 1;
            progress(d, total);
            Ok(run)
        })
    })
}

/// An experiment ready to run: its variants loaded (the base first) and its warm-up settled.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub(crate) all: Vec<VariantSpec>,
    pub(crate) names: Vec<String>,
    pub(crate) models: Vec<Arc<Model>>,
    /// The base's seed: replication r of every variant runs on stream r of it.
    pub(crate) seed: u64,
    pub(crate) horizon_s: f64,
    pub(crate) points: usize,
    pub(crate) warmup_s: f64,
    pub(crate) warmup_method: String,
}

/// The base (as written) followed by the spec's variants.
pub(crate) fn all_variants(spec: &ExperimentSpec) -> Vec<VariantSpec> {
    let mut all = vec![VariantSpec {
        name: "base".into(),
        description: Some("the scenario as written".into()),
        overrides: vec![],
        sweep_point: vec![],
    }];
    all.extend(spec.variants.iter().cloned());
    all
}

/// Variant `v`'s model: the base with its overrides, the spec's horizon and seed.
pub(crate) fn load_variant(
    spec: &ExperimentSpec,
    v: &VariantSpec,
) -> Result<Model, ExperimentError> {
    let loaded = load_with_overrides(
        &spec.base_text,
        &spec.origin,
        spec.base_dir.as_deref(),
        &v.overrides,
    )
    .map_err(|error| ExperimentError::Variant {
        name: v.name.clone(),
        error,
    })?;
    let mut m = loaded.model;
    if let Some(h) = spec.horizon_s {
        takt_model::limits::check_horizon(&m, h)
            .map_err(|e| ExperimentError::Invalid(format!("variant `{}`: {e}", v.name)))?;
        m.horizon_s = h;
    }
    if let Some(s) = spec.seed {
        m.seed = s;
    }
    Ok(m)
}

/// Loads every variant (all must load, under distinct names, on one horizon) and settles the
/// warm-up (MSER-5 pilots of the base run here).
pub(crate) fn prepare(
    spec: &ExperimentSpec,
    cancel: &AtomicBool,
) -> Result<Prepared, ExperimentError> {
    let all = all_variants(spec);
    let mut seen = std::collections::HashSet::new();
    for v in &all {
        if !seen.insert(v.name.clone()) {
            return Err(ExperimentError::Invalid(format!(
                "two variants are named `{}`",
                v.name
            )));
        }
    }
    let models = all
        .iter()
        .map(|v| load_variant(spec, v))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = all.iter().map(|v| v.name.clone()).collect();
    let seed = models[0].seed;
    let horizon = models[0].horizon_s;
    if models.iter().any(|m| m.horizon_s != horizon) {
        return Err(ExperimentError::Invalid(
            "variants must share the horizon (override it for all with --horizon)".into(),
        ));
    }
    let points = spec.series_points.max(1);

    let (warmup_s, warmup_method) = match spec.warmup {
        WarmupChoice::Scenario => (models[0].warmup_s, "as in the scenario".to_string()),
        WarmupChoice::Fixed(w) => (w, "fixed".to_string()),
        WarmupChoice::Auto => {
            let pilots = 5;
            let mut base = models[0].clone();
            base.warmup_s = 0.0;
            let base = Arc::new(base);
            let pilot_jobs: Vec<(usize, u32)> = (0..pilots).map(|r| (0, r)).collect();
            let runs: Vec<Run> = run_jobs(&pilot_jobs, &names, cancel, &|_, r, stop| {
                run_job(&base, seed, r, points.max(100), stop)
            })?
            .into_iter()
            .map(|(_, _, run)| run)
            .collect();
            let n = runs[0].series.len();
            let mean: Vec<f64> = (0..n)
                .map(|i| runs.iter().map(|r| r.series[i]).sum::<f64>() / pilots as f64)
                .collect();
            let cut = mser5(&mean);
            (
                horizon * cut as f64 / n as f64,
                format!(
                    "MSER-5 on the base's throughput ({pilots} pilot replications, {n} intervals)"
                ),
            )
        }
    };
    check_warmup(warmup_s, horizon)?;
    let models = models
        .into_iter()
        .map(|mut m| {
            m.warmup_s = warmup_s;
            Arc::new(m)
        })
        .collect();
    Ok(Prepared {
        all,
        names,
        models,
        seed,
        horizon_s: horizon,
        points,
        warmup_s,
        warmup_method,
    })
}

/// A warm-up must end within the horizon.
pub(crate) fn check_warmup(warmup_s: f64, horizon_s: f64) -> Result<(), ExperimentError> {
    if (0.0..horizon_s).contains(&warmup_s) {
        Ok(())
    } else {
        Err(ExperimentError::Invalid(format!(
            "warm-up {warmup_s} s must be in [0, horizon)"
        )))
    }
}

/// Runs `jobs` (variant, replication) wherever the caller runs them, given the runs done before
/// and the total of the round, and gives back each job's run.
pub(crate) type Execute<'a> =
    dyn FnMut(&[(usize, u32)], u64, u64) -> Result<Vec<(usize, u32, Run)>, ExperimentError> + 'a;

/// The replications of a prepared experiment, in rounds when a precision is asked, run by
/// `execute`; then the comparison. What `execute` gives back is put in (variant, replication)
/// order, so where the runs ran does not change the result.
pub(crate) fn run_rounds(
    spec: &ExperimentSpec,
    prepared: Prepared,
    execute: &mut Execute<'_>,
) -> Result<Experiment, ExperimentError> {
    let Prepared {
        all,
        models,
        seed,
        horizon_s: horizon,
        points,
        warmup_s,
        warmup_method,
        ..
    } = prepared;
    let (mut target, cap) = (spec.replications.first_round(), spec.replications.most());
    let mut runs: Vec<Vec<Run>> = (0..models.len()).map(|_| Vec::new()).collect();
    let mut done_count = 0u64;
    let kpi_keys;
    let mut precision_reached = None;
    loop {
        let have = runs[0].len() as u32;
        let jobs: Vec<(usize, u32)> = (0..models.len())
            .flat_map(|v| (have..target).map(move |r| (v, r)))
            .collect();
        let total = u64::from(target) * models.len() as u64;
        let mut new = execute(&jobs, done_count, total)?;
        done_count = total;
        new.sort_by_key(|(v, r, _)| (*v, *r));
        let expected = jobs.iter();
        if new.len() != jobs.len()
            || new
                .iter()
                .zip(expected)
                .any(|((v, r, _), j)| (*v, *r) != *j)
        {
            return Err(ExperimentError::Invalid(
                "the replications given back are not the ones asked for".into(),
            ));
        }
        for (v, _, run) in new {
            runs[v].push(run);
        }
        let keys = kpi::keys(&runs[0][0].report);
        match spec.replications {
            Replications::Fixed(_) => {
                kpi_keys = keys;
                break;
            }
            Replications::Precision { relative, .. } => {
                let worst = worst_precision_ratio(&runs, &keys, relative);
                if worst <= 1.0 || target >= cap {
                    precision_reached = Some(worst <= 1.0);
                    kpi_keys = keys;
                    break;
                }
                // Half-widths shrink with sqrt(n): aim at the estimated need, at least 50% more.
                let need = (f64::from(target) * worst * worst).ceil() as u32;
                target = need.max(target + target / 2).min(cap);
            }
        }
    }
    let replications = runs[0].len() as u32;

    let results: Vec<VariantResult> = all
        .iter()
        .enumerate()
        .map(|(v, spec_v)| variant_result(spec_v, &runs[v], &runs[0], &kpi_keys, v == 0, seed))
        .collect();
    let ranking = match &spec.goal {
        None => None,
        Some((goal, constraints)) => Some(rank(goal, constraints, &all, &runs)?),
    };
    Ok(Experiment {
        scenario: models[0].name.clone(),
        seed,
        horizon_s: horizon,
        warmup_s,
        warmup_method,
        replications,
        precision: match spec.replications {
            Replications::Precision { relative, .. } => Some(relative),
            Replications::Fixed(_) => None,
        },
        precision_reached,
        kpis: kpi_keys,
        series_interval_s: horizon / points as f64,
        variants: results,
        ranking,
    })
}

fn column(runs: &[Run], key: &str) -> Vec<Option<f64>> {
    runs.iter().map(|r| kpi::value(&r.report, key)).collect()
}

/// The largest (half-width / (relative x |mean|)) over the headline KPIs and station OEEs of all
/// variants; <= 1 means the precision is reached.
fn worst_precision_ratio(runs: &[Vec<Run>], keys: &[KpiColumn], relative: f64) -> f64 {
    let mut worst: f64 = 0.0;
    for variant in runs {
        for KpiColumn { key, .. } in keys {
            let headline = kpi::HEADLINE.iter().any(|(k, _)| k == key) || key.ends_with(".oee");
            if !headline {
                continue;
            }
            let xs: Vec<f64> = column(variant, key).into_iter().flatten().collect();
            let (mean, ci) = mean_ci95(&xs);
            if let Some(h) = ci
                && mean.abs() > 1e-12
            {
                worst = worst.max(h / (relative * mean.abs()));
            }
        }
    }
    worst
}

fn paired(a: &[Option<f64>], b: &[Option<f64>]) -> Option<Difference> {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some(difference((*x)?, (*y)?)))
        .collect();
    if d.is_empty() {
        return None;
    }
    let (mean, ci95) = mean_ci95(&d);
    Some(Difference {
        mean,
        ci95,
        significant: ci95.is_some_and(|h| mean.abs() > h),
    })
}

/// `x - y`, with a difference within floating-point rounding of the two values (a relative 1e-12:
/// the same figure summed in another order) taken as none. Two runs of the same plant that differ
/// only elsewhere then show a difference of exactly 0, never a significant one.
fn difference(x: f64, y: f64) -> f64 {
    let d = x - y;
    if d.abs() <= 1e-12 * x.abs().max(y.abs()) {
        0.0
    } else {
        d
    }
}

fn variant_result(
    spec: &VariantSpec,
    runs: &[Run],
    base: &[Run],
    keys: &[KpiColumn],
    is_base: bool,
    seed: u64,
) -> VariantResult {
    let estimates = keys
        .iter()
        .map(|KpiColumn { key, .. }| {
            let col = column(runs, key);
            let xs: Vec<f64> = col.iter().flatten().copied().collect();
            let (mean, ci95) = if xs.is_empty() {
                (None, None)
            } else {
                let (m, h) = mean_ci95(&xs);
                (Some(m), h)
            };
            Estimate {
                key: key.clone(),
                mean,
                ci95,
                difference: if is_base {
                    None
                } else {
                    paired(&col, &column(base, key))
                },
            }
        })
        .collect();
    let mean_of = |key: &str| {
        let xs: Vec<f64> = column(runs, key).into_iter().flatten().collect();
        if xs.is_empty() {
            0.0
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    };
    let stations = runs[0].report["stations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .map(|name| {
            let f = |field: &str| mean_of(&format!("stations.{name}.state_fractions.{field}"));
            StationSummary {
                name: name.to_string(),
                oee: mean_of(&format!("stations.{name}.oee")),
                availability: mean_of(&format!("stations.{name}.availability")),
                performance: mean_of(&format!("stations.{name}.performance")),
                quality: mean_of(&format!("stations.{name}.quality")),
                state_fractions: StateFractions {
                    processing: f("processing"),
                    setup: f("setup"),
                    starved: f("starved"),
                    blocked: f("blocked"),
                    down: f("down"),
                    planned_down: f("planned_down"),
                    off_shift: f("off_shift"),
                },
            }
        })
        .collect();
    let n = runs[0].series.len();
    let throughput_series = (0..n)
        .map(|i| runs.iter().map(|r| r.series[i]).sum::<f64>() / runs.len() as f64)
        .collect();
    let reports: Vec<Report> = runs.iter().map(|r| r.typed.clone()).collect();
    VariantResult {
        name: spec.name.clone(),
        description: spec.description.clone(),
        overrides: spec.overrides.iter().map(|o| o.to_string()).collect(),
        sweep_point: spec.sweep_point.clone(),
        estimates,
        stations,
        throughput_series,
        summary: takt_sim::summarize(&reports, seed),
    }
}

fn rank(
    goal: &Goal,
    constraints: &[Constraint],
    all: &[VariantSpec],
    runs: &[Vec<Run>],
) -> Result<Ranking, ExperimentError> {
    let sample = &runs[0][0].report;
    for key in std::iter::once(&goal.key).chain(constraints.iter().map(|c| &c.key)) {
        if !kpi::exists(sample, key) {
            return Err(ExperimentError::Invalid(format!(
                "unknown KPI `{key}`: use a report field such as throughput_per_hour, wip_mean, lead_time_mean_s, orders.on_time_rate, stations.<name>.oee"
            )));
        }
    }
    let stats: Vec<(f64, Option<f64>, Vec<String>)> = runs
        .iter()
        .map(|variant| {
            let xs: Vec<f64> = column(variant, &goal.key).into_iter().flatten().collect();
            let (mean, ci) = mean_ci95(&xs);
            let violated = constraints
                .iter()
                .filter(|c| {
                    let ys: Vec<f64> = column(variant, &c.key).into_iter().flatten().collect();
                    ys.is_empty() || !c.holds(mean_ci95(&ys).0)
                })
                .map(|c| {
                    format!(
                        "{} {} {}",
                        c.key,
                        if c.relation == crate::goal::Relation::AtMost {
                            "<="
                        } else {
                            ">="
                        },
                        c.bound
                    )
                })
                .collect();
            (mean, ci, violated)
        })
        .collect();
    let better = |a: f64, b: f64| if goal.maximize { a > b } else { a < b };
    let best = (0..runs.len())
        .filter(|&v| stats[v].2.is_empty() && !stats[v].0.is_nan())
        .fold(None, |best: Option<usize>, v| match best {
            Some(b) if !better(stats[v].0, stats[b].0) => Some(b),
            _ => Some(v),
        });
    let mut ranked: Vec<RankedVariant> = (0..runs.len())
        .map(|v| RankedVariant {
            variant: all[v].name.clone(),
            mean: stats[v].0,
            ci95: stats[v].1,
            feasible: stats[v].2.is_empty(),
            violated: stats[v].2.clone(),
            indistinguishable_from_best: best.is_some_and(|b| {
                b == v
                    || paired(&column(&runs[v], &goal.key), &column(&runs[b], &goal.key))
                        .is_some_and(|d| !d.significant)
            }),
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.feasible.cmp(&a.feasible).then_with(|| {
            let o = a.mean.total_cmp(&b.mean);
            if goal.maximize { o.reverse() } else { o }
        })
    });
    Ok(Ranking {
        goal: goal.clone(),
        constraints: constraints.to_vec(),
        ranked,
        best: best.map(|b| all[b].name.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_noise_is_no_difference() {
        // The same OEE computed in two orders: 3e-17 apart.
        let base = [Some(0.1 + 0.2), Some(0.7 * 3.0), Some(0.594)];
        let variant = [Some(0.3), Some(2.1), Some(0.594 + 1e-17)];
        let d = paired(&variant, &base).expect("pairs");
        assert_eq!((d.mean, d.ci95, d.significant), (0.0, Some(0.0), false));
        // A real difference, the same in every replication, stays significant.
        let d = paired(&[Some(0.247), Some(0.247)], &[Some(0.495), Some(0.495)]).expect("pairs");
        assert!(d.significant && d.mean < -0.2, "{d:?}");
    }
}
