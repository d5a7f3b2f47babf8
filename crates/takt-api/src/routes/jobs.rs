//! Jobs: simulations (what-if), schedules and maintenance plans, queued on the worker pool;
//! their state, cancellation and progress stream.

use super::*;

#[derive(Serialize, ToSchema)]
pub struct JobAccepted {
    pub id: String,
    pub status: String,
    pub location: String,
}

pub(super) fn accepted(id: String) -> Response {
    let location = format!("/jobs/{id}");
    let mut response = (
        StatusCode::ACCEPTED,
        Json(JobAccepted {
            id,
            status: "queued".into(),
            location: location.clone(),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRequest {
    pub name: String,
    /// `path=value` overrides, as `takt whatif --variant` takes them.
    pub overrides: Vec<String>,
}

pub(super) fn default_replications() -> u32 {
    10
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationRequest {
    /// A stored scenario's id...
    pub scenario_id: Option<String>,
    /// ...or a scenario file (TOML).
    pub scenario: Option<String>,
    /// The order book (CSV) the scenario's `demand.orders_csv` names, sent beside it: the server
    /// opens no file a request names, so the book is written into the scenario.
    pub order_book: Option<String>,
    /// Replications per variant; with `precision`, the first round.
    #[serde(default = "default_replications")]
    pub replications: u32,
    /// Add replications in rounds until every headline KPI's 95 % half-width is within this share
    /// of its mean (0.02: 2 %), or `max_replications` is reached.
    pub precision: Option<f64>,
    /// The cap with `precision` (default 200, at most the server's limit).
    pub max_replications: Option<u32>,
    pub seed: Option<u64>,
    /// Simulated span, e.g. `8h` (default: the scenario's).
    pub horizon: Option<String>,
    /// What-if variants compared with the base over common random numbers.
    #[serde(default)]
    pub variants: Vec<VariantRequest>,
    /// One or two fields swept over values, `path=from..to:step` or `path=a,b,c` (two make a
    /// grid); each point is a variant.
    #[serde(default)]
    pub sweeps: Vec<String>,
}

/// Runs a scenario (and its variants) as a job: KPIs with 95% intervals, paired differences to the
/// base. The result is `takt whatif --json`'s.
#[utoipa::path(post, path = "/simulations", request_body = SimulationRequest,
    responses((status = 202, description = "Accepted: the job is queued", body = JobAccepted), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem), (status = 503, description = "Busy or not ready (problem+json, Retry-After)", body = Problem)))]
pub(super) async fn create_simulation(
    State(s): State<Shared>,
    Body(req): Body<SimulationRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    let study_error = |e: takt_experiments::study::StudyError| FieldError {
        field: e.field,
        message: e.message,
    };
    let replications = takt_experiments::study::replications(
        Some(req.replications),
        req.precision,
        req.max_replications,
        s.config.max_replications,
    )
    .map_err(|e| errors.push(study_error(e)))
    .ok();
    let horizon_s = duration_of("horizon", &req.horizon, &mut errors);
    let swept = takt_experiments::study::sweep_variants(&req.sweeps)
        .map_err(|e| errors.push(study_error(e)))
        .unwrap_or_default();
    let compared = req.variants.len() + swept.len();
    if compared > s.config.max_variants {
        errors.push(FieldError {
            field: if swept.is_empty() { "variants" } else { "sweeps" }.into(),
            message: format!(
                "{compared} variants ({} named, {} sweep points); one request may compare at most {}",
                req.variants.len(),
                swept.len(),
                s.config.max_variants
            ),
        });
    }
    let mut variants = Vec::new();
    for (k, v) in req.variants.iter().enumerate() {
        let mut overrides = Vec::new();
        for (j, o) in v.overrides.iter().enumerate() {
            match parse_override(o) {
                Ok(o) => overrides.push(o),
                Err(e) => errors.push(FieldError {
                    field: format!("variants[{k}].overrides[{j}]"),
                    message: e.to_string(),
                }),
            }
        }
        variants.push(takt_experiments::VariantSpec {
            name: v.name.clone(),
            description: None,
            overrides,
            sweep_point: Vec::new(),
        });
    }
    variants.extend(swept);
    reject(errors)?;
    let Some(replications) = replications else {
        return Err(Problem::internal(
            "replications refused without a field error",
        ));
    };
    let (text, origin) = scenario_text(&s, &req.scenario_id, &req.scenario, &req.order_book)?;
    let check_text = text.clone();
    let check_origin = origin.clone();
    let check_variants = variants.clone();
    loading(&s, move || {
        check_simulation(&check_text, &check_origin, &check_variants, horizon_s)
    })
    .await??;
    let spec = takt_experiments::ExperimentSpec {
        base_text: text,
        origin: origin.into(),
        base_dir: None,
        variants,
        replications,
        warmup: takt_experiments::WarmupChoice::Scenario,
        seed: req.seed,
        horizon_s,
        series_points: 24,
        goal: None,
    };
    let spec = JobSpec::Simulation {
        experiment: Box::new(spec),
    };
    let id = blocking(move || s.jobs.submit(spec)).await??;
    Ok(accepted(id))
}

/// The base and each variant compile before a simulation job is accepted, so a bad override is a
/// 422 naming its variant, not a failed job.
pub(super) fn check_simulation(
    text: &str,
    origin: &str,
    variants: &[takt_experiments::VariantSpec],
    horizon_s: Option<f64>,
) -> Result<(), Problem> {
    let base = load_scenario(text, origin)?;
    let mut errors = Vec::new();
    if let Some(h) = horizon_s
        && let Err(message) = takt_model::limits::check_horizon(&base.model, h)
    {
        errors.push(FieldError {
            field: "horizon".into(),
            message: message.to_string(),
        });
    }
    for (k, v) in variants.iter().enumerate() {
        let origin = std::path::Path::new(origin);
        if let Err(e) = takt_model::load_with_overrides(text, origin, None, &v.overrides) {
            let diagnostics = e.diagnostics();
            errors.extend(diagnostics.iter().map(|d| FieldError {
                field: format!("variants[{k}].overrides: {}", d.path),
                message: d.message.clone(),
            }));
            if diagnostics.is_empty() {
                errors.push(FieldError {
                    field: format!("variants[{k}].overrides"),
                    message: e.to_string(),
                });
            }
        }
    }
    reject(errors)
}

pub(super) fn default_horizon() -> String {
    "14d".into()
}
pub(super) fn default_bucket() -> String {
    "4h".into()
}
pub(super) fn default_service() -> String {
    "1h".into()
}
pub(super) fn default_repair_cost() -> f64 {
    800.0
}
pub(super) fn default_service_cost() -> f64 {
    300.0
}
pub(super) fn default_downtime_cost() -> f64 {
    1000.0
}
pub(super) fn default_max_risk() -> f64 {
    1.0
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceRequest {
    pub scenario_id: Option<String>,
    pub scenario: Option<String>,
    /// The order book (CSV) the scenario's `demand.orders_csv` names, sent beside it: the server
    /// opens no file a request names, so the book is written into the scenario.
    pub order_book: Option<String>,
    /// Plan from the twin's state now (the ages it has mirrored), and with `compare` run the
    /// policies from the plant as mirrored (what each machine holds and does, the parts waiting,
    /// the orders' progress, a live order book's orders); the scenario is the twin's own.
    #[serde(default)]
    pub from_twin: bool,
    /// With `from_twin`: which plant's twin (`GET /plants`); default the default plant.
    pub plant: Option<String>,
    #[serde(default = "default_horizon")]
    pub horizon: String,
    #[serde(default = "default_bucket")]
    pub bucket: String,
    #[serde(default = "default_repair_cost")]
    pub repair_cost: f64,
    #[serde(default = "default_service_cost")]
    pub service_cost: f64,
    /// Lost margin per hour a station stands in production time.
    #[serde(default = "default_downtime_cost")]
    pub downtime_cost: f64,
    #[serde(default = "default_service")]
    pub service_duration: String,
    #[serde(default = "default_max_risk")]
    pub max_risk: f64,
    pub crew: Option<u32>,
    /// `greedy` or `milp` (the default in a build with the MILP).
    pub solver: Option<String>,
    /// Replications per policy for the comparison in the simulator.
    pub compare: Option<u32>,
    pub seed: Option<u64>,
}

/// Maintenance windows for a plant as a job (`takt maintain --json`'s result).
#[utoipa::path(post, path = "/maintenance-plans", request_body = MaintenanceRequest,
    responses((status = 202, description = "Accepted: the job is queued", body = JobAccepted), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem), (status = 503, description = "Busy or not ready (problem+json, Retry-After)", body = Problem)))]
pub(super) async fn create_maintenance_plan(
    State(s): State<Shared>,
    Body(req): Body<MaintenanceRequest>,
) -> Result<Response, Problem> {
    use takt_maintenance::maintain::{PlanRequest, Solver};
    use takt_maintenance::plant::{Costs, Settings};
    let mut errors = Vec::new();
    let horizon_s = duration_of("horizon", &Some(req.horizon.clone()), &mut errors);
    let bucket_s = duration_of("bucket", &Some(req.bucket.clone()), &mut errors);
    let service_s = duration_of(
        "service_duration",
        &Some(req.service_duration.clone()),
        &mut errors,
    );
    non_negative("repair_cost", req.repair_cost, &mut errors);
    non_negative("service_cost", req.service_cost, &mut errors);
    non_negative("downtime_cost", req.downtime_cost, &mut errors);
    if !(0.0..=1.0).contains(&req.max_risk) {
        errors.push(FieldError {
            field: "max_risk".into(),
            message: format!("must be in [0, 1], not {}", req.max_risk),
        });
    }
    if let Some(n) = req.compare {
        replications_ok("compare", n, s.config.max_replications, &mut errors);
    }
    let solver = match req.solver.as_deref() {
        Some("greedy") => Some(Solver::Greedy),
        None | Some("milp") => Some(Solver::Milp { time_limit_s: 20.0 }),
        Some(other) => {
            errors.push(FieldError {
                field: "solver".into(),
                message: format!("`{other}` is not `greedy` or `milp`"),
            });
            None
        }
    };
    let plant = match &req.plant {
        None => Some(Arc::clone(s.plant())),
        Some(id) => {
            let found = s.plants.get(id).cloned();
            if found.is_none() {
                errors.push(FieldError {
                    field: "plant".into(),
                    message: format!("no plant `{id}` (GET /plants lists them)"),
                });
            } else if !req.from_twin {
                errors.push(FieldError {
                    field: "plant".into(),
                    message: "names the twin a plan is made from: only with `from_twin`".into(),
                });
            }
            found
        }
    };
    if req.from_twin && (req.scenario.is_some() || req.scenario_id.is_some()) {
        errors.push(FieldError {
            field: "from_twin".into(),
            message: "plans from the twin use the twin's own scenario: drop `scenario`".into(),
        });
    }
    reject(errors)?;
    let (Some(horizon_s), Some(bucket_s), Some(service_s), Some(solver)) =
        (horizon_s, bucket_s, service_s, solver)
    else {
        return Err(Problem::internal("validated fields missing"));
    };
    let (scenario, origin, seed, observed, start_s, text) = if let Some(p) =
        plant.filter(|_| req.from_twin)
    {
        let model = Arc::clone(&p.model);
        let twin = Arc::clone(&p.twin);
        let observed = blocking(move || {
            let (now, view) = twin.view();
            let now = now.ok_or_else(|| {
                Problem::validation(
                    "the twin has no events yet",
                    vec![FieldError {
                        field: "from_twin".into(),
                        message: "no events to take ages from".into(),
                    }],
                )
            })?;
            let book = twin
                .order_book()
                .map_err(|e| Problem::internal(format!("the order book: {e}")))?;
            let observed = takt_twin::condition::observe(&model, &view, now, book.as_deref())
                .map_err(|e| {
                    Problem::validation(
                        format!("the plant as mirrored: {e}"),
                        vec![FieldError {
                            field: "from_twin".into(),
                            message: e.to_string(),
                        }],
                    )
                })?;
            Ok::<_, Problem>(PlantAtStart::of(
                observed,
                book.map(|b| takt_twin::orders::OrderBook::clone(&b)),
            ))
        })
        .await??;
        let start_s = observed.condition.now_s;
        let origin = "scenario.toml".to_string();
        (
            p.scenario.clone(),
            origin,
            p.model.seed,
            Some(observed),
            start_s,
            None,
        )
    } else {
        let (text, origin) = scenario_text(&s, &req.scenario_id, &req.scenario, &req.order_book)?;
        let (checked, at) = (text.clone(), origin.clone());
        let loaded = loading(&s, move || load_scenario(&checked, &at)).await??;
        (
            loaded.scenario,
            origin,
            loaded.model.seed,
            None,
            0.0,
            Some(text),
        )
    };
    let request = PlanRequest {
        settings: Settings {
            start_s,
            horizon_s,
            bucket_s,
            costs: Costs {
                repair: req.repair_cost,
                service: req.service_cost,
                downtime_per_hour: req.downtime_cost,
            },
            service_s,
            max_risk: req.max_risk,
            crew: req.crew,
        },
        baseline_replications: 5,
        seed: req.seed.unwrap_or(seed),
        solver,
        compare: req.compare,
    };
    let spec = JobSpec::maintenance_plan(scenario, &origin, text, observed, request);
    let id = blocking(move || s.jobs.submit(spec)).await??;
    Ok(accepted(id))
}

pub(super) fn default_objective() -> String {
    "tardiness".into()
}
pub(super) fn default_time_limit() -> String {
    "5s".into()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub scenario_id: Option<String>,
    /// A scenario with an order book (`[demand] orders`).
    pub scenario: Option<String>,
    /// The order book (CSV) the scenario's `demand.orders_csv` names, sent beside it: the server
    /// opens no file a request names, so the book is written into the scenario.
    pub order_book: Option<String>,
    /// `makespan`, `tardiness`, `late`, `setup`; `+` for a weighted sum, `,` for a ranking.
    #[serde(default = "default_objective")]
    pub objective: String,
    /// `auto` (default), `dispatch`, `search` or `milp` (makespan only, in a build with it).
    #[serde(default)]
    pub solver: ScheduleSolver,
    /// The time budget of the whole solve, at most 60 s.
    #[serde(default = "default_time_limit")]
    pub time_limit: String,
    pub seed: Option<u64>,
    /// Run the plan this many times in the simulator (failures, repairs and scrap as in the
    /// scenario): each order's chance to be on time.
    pub robustness_replications: Option<u32>,
}

/// A detailed schedule of the scenario's order book on its machines, checked for feasibility
/// before it is stored: `takt schedule`'s plan (`takt_scheduler::planning::schedule_plant`), the
/// same JSON as `takt schedule --json` (`PlantSchedule`).
#[utoipa::path(post, path = "/schedules", request_body = ScheduleRequest,
    responses((status = 202, description = "Accepted: the job is queued; its result is a `PlantSchedule`", body = JobAccepted), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem), (status = 503, description = "Busy or not ready (problem+json, Retry-After)", body = Problem)))]
pub(super) async fn create_schedule(
    State(s): State<Shared>,
    Body(req): Body<ScheduleRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    let objective = match req
        .objective
        .parse::<takt_scheduler::objective::Objective>()
    {
        Ok(o) => Some(o),
        Err(e) => {
            errors.push(FieldError {
                field: "objective".into(),
                message: e.to_string(),
            });
            None
        }
    };
    let limit_s = duration_of("time_limit", &Some(req.time_limit.clone()), &mut errors);
    if limit_s.is_some_and(|l| l > 60.0) {
        errors.push(FieldError {
            field: "time_limit".into(),
            message: "must be at most 60 s".into(),
        });
    }
    if let Some(n) = req.robustness_replications {
        replications_ok(
            "robustness_replications",
            n,
            s.config.max_replications,
            &mut errors,
        );
    }
    if req.solver == ScheduleSolver::Milp && objective.as_ref().is_some_and(|o| !o.is_makespan()) {
        errors.push(FieldError {
            field: "solver".into(),
            message: PlanningError::MilpNeedsMakespan.to_string(),
        });
    }
    reject(errors)?;
    let (Some(_), Some(limit_s)) = (objective, limit_s) else {
        return Err(Problem::internal("validated fields missing"));
    };
    let (text, origin) = scenario_text(&s, &req.scenario_id, &req.scenario, &req.order_book)?;
    let (checked, at) = (text.clone(), origin.clone());
    let seed = loading(&s, move || {
        let loaded = load_scenario(&checked, &at)?;
        let plant = takt_scheduler::plant::from_model(&loaded.model).map_err(|e| {
            Problem::validation(
                e.to_string(),
                vec![FieldError {
                    field: "scenario".into(),
                    message: e.to_string(),
                }],
            )
        })?;
        plant
            .problem
            .validate()
            .map_err(|e| Problem::validation(e.to_string(), vec![]))?;
        Ok::<_, Problem>(loaded.model.seed)
    })
    .await??;
    let spec = JobSpec::Schedule {
        scenario: text,
        origin,
        objective: req.objective.clone(),
        solver: req.solver,
        time_limit_s: limit_s,
        seed: req.seed.unwrap_or(seed),
        robustness_replications: req.robustness_replications,
    };
    let id = blocking(move || s.jobs.submit(spec)).await??;
    Ok(accepted(id))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct JobsQuery {
    /// How many jobs, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// Only jobs submitted before this one (the previous page's last): the answer's `next`.
    pub before: Option<String>,
    /// Only jobs of this kind: `simulation`, `schedule` or `maintenance-plan`.
    pub kind: Option<String>,
}

/// The kinds of job there are.
const JOB_KINDS: [&str; 3] = ["simulation", "schedule", "maintenance-plan"];

/// The most the list gives in one page.
const JOBS_PER_PAGE_MAX: u32 = 200;

/// The jobs of the server (of the site, on a shared store), newest first, without their results:
/// a planner's simulations, schedules and maintenance plans, to open again by id.
#[utoipa::path(get, path = "/jobs", params(JobsQuery),
    responses((status = 200, description = "OK", body = JobList), (status = 400, description = "Malformed request (problem+json)", body = Problem)))]
pub(super) async fn list_jobs(
    State(s): State<Shared>,
    Query(q): Query<JobsQuery>,
) -> Result<Json<JobList>, Problem> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=JOBS_PER_PAGE_MAX).contains(&limit) {
        return Err(Problem::bad_request(format!(
            "limit must be 1 to {JOBS_PER_PAGE_MAX}, not {limit}"
        )));
    }
    if let Some(kind) = q.kind.as_deref().filter(|k| !JOB_KINDS.contains(k)) {
        return Err(Problem::bad_request(format!(
            "kind must be one of {}, not `{kind}`",
            JOB_KINDS.join(", ")
        )));
    }
    let jobs = Arc::clone(&s.jobs);
    Ok(Json(
        blocking(move || jobs.list(limit, q.kind.as_deref(), q.before.as_deref())).await??,
    ))
}

#[utoipa::path(get, path = "/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = JobView), (status = 404, description = "Not found (problem+json)", body = Problem)))]
pub(super) async fn get_job(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, Problem> {
    let jobs = Arc::clone(&s.jobs);
    let key = id.clone();
    blocking(move || jobs.get(&key))
        .await??
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no job `{id}`")))
}

/// The self-contained HTML report of a finished simulation (`takt whatif --report`): tables and
/// charts, no script, nothing fetched. Sent as a download.
#[utoipa::path(get, path = "/jobs/{id}/report", params(("id" = String, Path)),
    responses((status = 200, description = "The report as one HTML file", content_type = "text/html"), (status = 404, description = "Not found (problem+json)", body = Problem), (status = 409, description = "Not a finished simulation (problem+json)", body = Problem)))]
pub(super) async fn job_report(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let jobs = Arc::clone(&s.jobs);
    let key = id.clone();
    let html = blocking(move || {
        let job = jobs
            .get(&key)?
            .ok_or_else(|| Problem::not_found(format!("no job `{key}`")))?;
        if job.kind != "simulation" {
            return Err(Problem::conflict(format!(
                "job `{key}` is a {}: only a simulation has a report",
                job.kind
            )));
        }
        let Some(result) = job.result.filter(|_| job.status == "done") else {
            return Err(Problem::conflict(format!(
                "job `{key}` is {}: its report exists once it is done",
                job.status
            )));
        };
        let experiment: takt_experiments::Experiment = serde_json::from_value(result)
            .map_err(|e| Problem::internal(format!("the stored result does not read back: {e}")))?;
        Ok(takt_experiments::html::render(&experiment))
    })
    .await??;
    let name: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    Ok(html_download(html, &format!("takt-whatif-{name}.html")))
}

/// Cancels a job: a queued one never runs; a running one's result is dropped.
#[utoipa::path(delete, path = "/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = JobView), (status = 404, description = "Not found (problem+json)", body = Problem)))]
pub(super) async fn cancel_job(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, Problem> {
    let jobs = Arc::clone(&s.jobs);
    let key = id.clone();
    blocking(move || jobs.cancel(&key))
        .await??
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no job `{id}`")))
}

/// Server-sent events: the job's view every half second until it ends (`event: end`).
#[utoipa::path(get, path = "/jobs/{id}/events", params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream of JobView", content_type = "text/event-stream"), (status = 404, description = "Not found (problem+json)", body = Problem)))]
pub(super) async fn job_events(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    if s.jobs.get(&id)?.is_none() {
        return Err(Problem::not_found(format!("no job `{id}`")));
    }
    let jobs = Arc::clone(&s.jobs);
    let stream = async_stream(jobs, id);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

pub(super) fn async_stream(
    jobs: Arc<crate::jobs::Jobs>,
    id: String,
) -> impl tokio_stream::Stream<Item = Result<Event, std::convert::Infallible>> {
    let ticks = tokio_stream::wrappers::IntervalStream::new(tokio::time::interval(
        std::time::Duration::from_millis(500),
    ));
    let mut ended = false;
    ticks
        .map(move |_| jobs.get(&id).ok().flatten())
        .take_while(move |view| {
            let go = !ended;
            ended = view
                .as_ref()
                .is_none_or(|v| !matches!(v.status.as_str(), "queued" | "running"));
            go
        })
        .map(|view| {
            let done = view
                .as_ref()
                .is_none_or(|v| !matches!(v.status.as_str(), "queued" | "running"));
            let data = serde_json::to_string(&view).unwrap_or_default();
            Ok(Event::default()
                .event(if done { "end" } else { "progress" })
                .data(data))
        })
}
