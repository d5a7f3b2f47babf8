//! A job as data: what a route accepted, validated, in a form that is stored with the job and read
//! back by whichever process runs it (this server, another server of the site, or a `takt worker`).
//! Running a spec calls the same library use case the CLI calls, with the same inputs, so a job's
//! result does not depend on where it ran.
//!
//! A spec is written by this crate's routes only; still, reading one back never opens a file: the
//! scenarios travel as text (order books written in), and an experiment's `base_dir` is dropped.

use super::Progress;
use serde::{Deserialize, Serialize};
use std::path::Path;
use takt_experiments::ChunkRunner;
use takt_maintenance::maintain::{PlanFrom, PlanOutput, PlanRequest, plan_plant, steps};
use takt_model::{Scenario, compile_located, parse_scenario};
use takt_scheduler::planning::{
    self, PlantScheduleRequest, ScheduleSolver, SolveRequest, schedule_plant,
};
use utoipa::ToSchema;

/// One job's whole input. The serialised form is tagged by `kind`, the job's kind as the API shows
/// it (`simulation`, `schedule`, `maintenance-plan`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum JobSpec {
    /// `takt whatif`: the scenario, its variants and replications.
    Simulation { experiment: ExperimentInput },
    /// A share of a simulation job's replications, run by any node of a site (`split.rs`).
    SimulationChunk { chunk: Box<takt_experiments::Chunk> },
    /// `takt schedule`: the scenario's order book on its machines.
    Schedule {
        scenario: String,
        origin: String,
        /// As the request wrote it (`tardiness`, `makespan+setup`, ...).
        objective: String,
        solver: ScheduleSolver,
        time_limit_s: f64,
        seed: u64,
        robustness_replications: Option<u32>,
    },
    /// `takt maintain`: windows for the scenario's machines from their failure modes' ages.
    MaintenancePlan {
        /// The scenario as read (a stored or sent file, or the twin's own), its orders inline.
        scenario: Box<Scenario>,
        origin: String,
        /// The file as sent, for the planned scenario written from it (absent: the twin's).
        text: Option<String>,
        /// The plant as the twin had it when the plan was asked for (absent: the scenario's
        /// start, every machine new).
        #[serde(default)]
        plant: Option<Box<PlantAtStart>>,
        request: PlanRequest,
    },
}

/// The plant a maintenance plan starts from, as the twin had it when the plan was asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlantAtStart {
    pub condition: takt_sim::PlantCondition,
    /// The live order book whose orders the condition counts, if one was given.
    pub book: Option<takt_twin::orders::OrderBook>,
    /// What had to be assumed to read the condition.
    pub assumed: Vec<String>,
}

impl PlantAtStart {
    /// The twin's reading of the plant (`takt_twin::condition::observe`) with the live `book` it
    /// counts the orders of, as a job keeps it.
    pub fn of(
        observed: takt_twin::condition::Observed,
        book: Option<takt_twin::orders::OrderBook>,
    ) -> PlantAtStart {
        PlantAtStart {
            condition: observed.condition,
            book,
            assumed: observed.warnings,
        }
    }
}

/// Chunks a simulation's first round is split into on a site (later precision rounds, in chunks
/// of the same size): many more than the threads of a few workers, so that the last chunks to
/// finish keep few threads waiting (`benches/run.sh site`: with 16 chunks two one-core workers
/// were 1.61 and 1.76 times as fast as one, with 64, 1.79 and 1.85), and each still carries
/// several runs.
const CHUNKS_PER_ROUND: u64 = 64;

/// The experiment a simulation job runs (`takt_experiments::ExperimentSpec`, serialised).
pub type ExperimentInput = Box<takt_experiments::ExperimentSpec>;

/// A maintenance plan job's result: `takt maintain --json`'s, and the scenario with the plan in it.
#[derive(Serialize, ToSchema)]
pub struct MaintenanceResult {
    #[serde(flatten)]
    pub plan: PlanOutput,
    /// The scenario file with the plan's windows as its planned stations' `maintenance.at` (`takt
    /// maintain -o`), ready to simulate or store; absent for a plan from the twin's state.
    pub planned_scenario: Option<String>,
}

impl JobSpec {
    /// The job's kind as the API shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::Simulation { .. } => "simulation",
            JobSpec::SimulationChunk { .. } => "simulation-chunk",
            JobSpec::Schedule { .. } => "schedule",
            JobSpec::MaintenancePlan { .. } => "maintenance-plan",
        }
    }

    /// A maintenance plan from a scenario already read (its CSV orders, if it named a file,
    /// are in `scenario.demand.orders` and the file's name is dropped).
    pub fn maintenance_plan(
        mut scenario: Scenario,
        origin: &str,
        text: Option<String>,
        plant: Option<PlantAtStart>,
        request: PlanRequest,
    ) -> JobSpec {
        scenario.demand.orders_csv = None;
        JobSpec::MaintenancePlan {
            scenario: Box::new(scenario),
            origin: origin.to_string(),
            text,
            plant: plant.map(Box::new),
            request,
        }
    }

    /// Runs the job, reporting to `progress` and stopping when its flag is raised. With a
    /// `site` (a shared store), a simulation's replications are split into chunks it runs.
    pub fn run(
        self,
        progress: &Progress,
        site: Option<&ChunkRunner<'_>>,
    ) -> Result<serde_json::Value, String> {
        match self {
            JobSpec::Simulation { mut experiment } => {
                experiment.base_dir = None;
                let first_round = u64::from(experiment.replications.first_round())
                    * (1 + experiment.variants.len() as u64);
                progress.set_total(first_round);
                // With a precision target, the total grows with each round.
                let report = |done, total| progress.set(done, total);
                let x = match site {
                    None => takt_experiments::run_cancellable(
                        &experiment,
                        &report,
                        progress.cancel_flag(),
                    ),
                    Some(runner) => takt_experiments::run_in_chunks(
                        &experiment,
                        first_round.div_ceil(CHUNKS_PER_ROUND) as usize,
                        &report,
                        progress.cancel_flag(),
                        runner,
                    ),
                }
                .map_err(|e| e.to_string())?;
                serde_json::to_value(&x).map_err(|e| e.to_string())
            }
            JobSpec::SimulationChunk { mut chunk } => {
                chunk.experiment.base_dir = None;
                progress.set_total(chunk.runs.len() as u64);
                let runs = takt_experiments::run_chunk(
                    &chunk,
                    &|done, total| progress.set(done, total),
                    progress.cancel_flag(),
                )
                .map_err(|e| e.to_string())?;
                serde_json::to_value(&runs).map_err(|e| e.to_string())
            }
            JobSpec::Schedule {
                scenario,
                origin,
                objective,
                solver,
                time_limit_s,
                seed,
                robustness_replications,
            } => {
                let objective = objective.parse().map_err(|e| format!("objective: {e}"))?;
                let origin = Path::new(&origin);
                let parsed = parse_scenario(&scenario, origin).map_err(|e| e.to_string())?;
                let loaded =
                    compile_located(parsed, &scenario, origin, None).map_err(|e| e.to_string())?;
                let plant =
                    takt_scheduler::plant::from_model(&loaded.model).map_err(|e| e.to_string())?;
                let request = PlantScheduleRequest {
                    solve: SolveRequest {
                        objective,
                        solver,
                        time_limit_s,
                        iterations: u64::MAX,
                        // One job, one worker of the pool.
                        searches: 1,
                        seed,
                    },
                    robustness_replications,
                };
                progress.set_total(planning::steps(&request));
                // The limit counts from the job's start: a queued job has all of its time.
                let (plan, _) = schedule_plant(
                    &std::sync::Arc::new(loaded.model),
                    &plant,
                    &request,
                    std::time::Instant::now(),
                    &|| progress.step(),
                    progress.cancel_flag(),
                )
                .map_err(|e| e.to_string())?;
                serde_json::to_value(&plan).map_err(|e| e.to_string())
            }
            JobSpec::MaintenancePlan {
                scenario,
                origin,
                text,
                plant,
                request,
            } => {
                let loaded = compile_located(
                    *scenario,
                    text.as_deref().unwrap_or(""),
                    Path::new(&origin),
                    None,
                )
                .map_err(|e| e.to_string())?;
                progress.set_total(steps(&request));
                // The orders the plant's condition counts: a live book's, or the scenario's.
                let booked = match plant.as_ref().and_then(|p| p.book.as_ref()) {
                    Some(book) => Some(book.booked(&loaded.model).map_err(|e| e.to_string())?),
                    None => None,
                };
                let from = match &plant {
                    None => PlanFrom::ScenarioStart,
                    Some(p) => PlanFrom::Plant {
                        condition: &p.condition,
                        model: booked.as_ref().map_or(&loaded.model, |b| &b.model),
                        assumed: &p.assumed,
                    },
                };
                // A cancelled job starts no further simulation run.
                let plan = plan_plant(
                    &loaded.scenario,
                    &loaded.model,
                    from,
                    &request,
                    &|| progress.step(),
                    progress.cancel_flag(),
                )
                .map_err(|e| e.to_string())?;
                let mut out = MaintenanceResult {
                    planned_scenario: None,
                    plan,
                };
                if let Some(text) = text {
                    match takt_maintenance::planned::planned_scenario(
                        &text,
                        Path::new("planned.toml"),
                        None,
                        &out.plan.machines,
                        &out.plan.plan,
                        request.settings.start_s,
                    ) {
                        Ok(planned) => out.planned_scenario = Some(planned),
                        Err(e) => out.plan.notes.push(format!("no planned scenario: {e}")),
                    }
                }
                serde_json::to_value(&out).map_err(|e| e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use takt_experiments::{ExperimentSpec, Replications, VariantSpec, WarmupChoice};

    fn read_back(spec: &JobSpec) -> JobSpec {
        let text = serde_json::to_string(spec).expect("serialises");
        serde_json::from_str(&text).expect("reads back")
    }

    /// Every shipped plant compiles to the same model after its trip through a stored job (a
    /// maintenance plan's spec carries the scenario as read, its CSV orders written in).
    #[test]
    fn a_scenario_read_back_from_a_job_compiles_to_the_same_model() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("scenarios") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let loaded = takt_model::load_file(&path).expect("a shipped scenario loads");
            let spec = JobSpec::maintenance_plan(
                loaded.scenario.clone(),
                "plant.toml",
                None,
                None,
                PlanRequest {
                    settings: takt_maintenance::plant::Settings {
                        start_s: 0.0,
                        horizon_s: 86_400.0,
                        bucket_s: 3_600.0,
                        costs: takt_maintenance::plant::Costs {
                            repair: 1.0,
                            service: 1.0,
                            downtime_per_hour: 1.0,
                        },
                        service_s: 3_600.0,
                        max_risk: 1.0,
                        crew: None,
                    },
                    baseline_replications: 1,
                    seed: 1,
                    solver: takt_maintenance::maintain::Solver::Greedy,
                    compare: None,
                },
            );
            let JobSpec::MaintenancePlan { scenario, .. } = read_back(&spec) else {
                panic!("a maintenance plan reads back as one");
            };
            let again = compile_located(*scenario, "", Path::new("plant.toml"), None)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                format!("{:?}", again.model),
                format!("{:?}", loaded.model),
                "{}",
                path.display()
            );
            seen += 1;
        }
        assert!(seen >= 5, "{seen} scenarios");
    }

    /// A simulation run from its stored spec gives the same result, bit for bit, as from the
    /// spec the route built; overrides of every kind of value read back unchanged.
    #[test]
    fn a_simulation_read_back_runs_the_same() {
        let text = include_str!("../../../../scenarios/reference-line.toml");
        let overrides = [
            "stations.M2.machines=2",
            "buffers.B1.capacity=3",
            "run.warmup=1.5",
            "products.part.routing[2].process_time={ dist = \"exponential\", mean = 0.65 }",
            "stations.M1.failures[0].ttr={ dist = \"exponential\", mean = \"4.5s\" }",
        ];
        let variant = VariantSpec {
            name: "wider".into(),
            description: Some("two machines at M2".into()),
            overrides: overrides
                .iter()
                .map(|o| takt_model::parse_override(o).expect("override"))
                .collect(),
            sweep_point: vec![("buffers.B1.capacity".into(), 3.0)],
        };
        let spec = JobSpec::Simulation {
            experiment: Box::new(ExperimentSpec {
                base_text: text.into(),
                origin: "reference-line.toml".into(),
                base_dir: None,
                variants: vec![variant.clone()],
                replications: Replications::Fixed(3),
                warmup: WarmupChoice::Scenario,
                seed: Some(7),
                horizon_s: Some(7_200.0),
                series_points: 6,
                goal: None,
            }),
        };
        let back = read_back(&spec);
        let JobSpec::Simulation { experiment } = &back else {
            panic!("a simulation reads back as one");
        };
        assert_eq!(experiment.variants, vec![variant]);
        let here = spec.run(&Progress::default(), None).expect("runs");
        let there = back
            .run(&Progress::default(), None)
            .expect("runs read back");
        assert_eq!(here, there);
    }
}
