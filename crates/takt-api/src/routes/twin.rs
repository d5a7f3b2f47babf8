//! The live twin: events in, state, KPIs, the forecast and the state stream.

use super::last_forecast::ForecastKey;
use super::*;
use crate::feeds::FeedList;
use takt_model::layout::PlantLayout;
use takt_twin::condition::BufferLevels;
use takt_twin::timeline::TimelineReport;

#[derive(Serialize, ToSchema)]
pub struct IngestResult {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<RejectedEvent>,
}

#[derive(Serialize, ToSchema)]
pub struct RejectedEvent {
    /// Position in the batch (0-based).
    pub index: usize,
    pub reason: String,
}

/// Ingests a batch of events in the takt schema (a JSON array; see `docs/events.md`). Each event
/// is checked on its own: bad ones are refused with their index and reason and kept as dead
/// letters, good ones are stored durably before the answer (idempotent by asset + seq).
#[utoipa::path(post, path = "/twin/events", request_body(content = Vec<Object>, description = "events in the takt schema"),
    responses((status = 200, description = "OK", body = IngestResult), (status = 400, description = "Malformed request (problem+json)", body = Problem), (status = 413, description = "Body too large (problem+json)", body = Problem), (status = 429, description = "Rate limited (problem+json, Retry-After)", body = Problem)))]
pub(super) async fn ingest(
    State(s): State<Shared>,
    At(p): At,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<IngestResult>, Problem> {
    // JSON only, as on every other route (the body is read raw here, for speed).
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if !json {
        return Err(Problem::not_json());
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(e.body_text())
        } else {
            Problem::bad_request(e.body_text())
        }
    })?;
    // A client is its token; without authentication (where any header passes) its address, so
    // that changing the header neither escapes the limit nor adds a bucket.
    let client = match &s.config.auth {
        crate::auth::Auth::Tokens(_) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| peer.ip().to_string(), |t| t.to_string()),
        crate::auth::Auth::Insecure => peer.ip().to_string(),
    };
    if let Err(wait) = s.limiter.take(&client) {
        return Err(Problem::rate_limited(
            format!(
                "more than {} ingestion requests per second",
                s.config.ingest_per_s
            ),
            wait,
        ));
    }
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(format!("the body must be a JSON array of events: {e}"))
    })?;
    let lines: Vec<String> = items.iter().map(|r| r.get().to_string()).collect();
    let twin = Arc::clone(&p.twin);
    let report = blocking(move || {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        twin.ingest("http", &refs, now_ms())
    })
    .await?
    .map_err(|e| Problem::internal(format!("the event store failed: {e}")))?;
    Ok(Json(IngestResult {
        accepted: report.accepted,
        duplicates: report.duplicates,
        rejected: report
            .rejected
            .into_iter()
            .map(|r| RejectedEvent {
                index: r.index,
                reason: r.reason,
            })
            .collect(),
    }))
}

/// The twin's plant as a line: its stations in flow order with their machines and input buffers,
/// and the flows between them (what the line board draws).
#[utoipa::path(get, path = "/twin/layout", responses((status = 200, description = "the plant as a line", body = PlantLayout)))]
pub(super) async fn twin_layout(At(p): At) -> Json<PlantLayout> {
    Json(PlantLayout::of(&p.model))
}

/// The mirrored plant as of the newest event: every machine's state and since when, counts,
/// current product, live OEE over the KPI window, and the ingestion counters.
#[utoipa::path(get, path = "/twin/state", responses((status = 200, description = "the twin's state", body = TwinState)))]
pub(super) async fn twin_state(At(p): At) -> Response {
    Json(&*p.twin.snapshot()).into_response()
}

/// The plant's feeds (an MQTT broker, an OPC UA server) as `takt serve` runs them: whether each
/// still listens, and when and why one stopped. A feed that stopped no longer keeps the twin in
/// step with the plant: the line board shows it as a banner.
#[utoipa::path(get, path = "/twin/feeds", responses((status = 200, description = "the plant's feeds", body = FeedList)))]
pub(super) async fn twin_feeds(State(s): State<Shared>, At(p): At) -> Json<FeedList> {
    Json(FeedList {
        feeds: s.feeds.of_plant(&p.id),
    })
}

/// Starts the plant's stopped feeds again, once what refused them is mended (a broker's login, a
/// certificate the PLC now trusts): each connects anew, with its password file read again, and the
/// board's banner goes. The answer lists the feeds asked (none when every feed listens); one that
/// is refused again shows as stopped again in `GET /twin/feeds`.
#[utoipa::path(post, path = "/twin/feeds/restart", responses((status = 202, description = "the feeds asked to start again", body = FeedList)))]
pub(super) async fn restart_twin_feeds(State(s): State<Shared>, At(p): At) -> Response {
    let feeds = s.feeds.restart(&p.id);
    for f in &feeds {
        tracing::info!(plant = %p.id, protocol = %f.protocol, source = %f.source, "feed asked to start again");
    }
    (StatusCode::ACCEPTED, Json(FeedList { feeds })).into_response()
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct KpiQuery {
    /// `shift` (the default): the running shift, from its start to now. `previous`: the shift
    /// before it, complete.
    pub window: Option<String>,
}

impl KpiQuery {
    /// The window asked for (`shift` when none is).
    fn window(&self) -> Result<KpiWindow, Problem> {
        self.window
            .as_deref()
            .unwrap_or("shift")
            .parse()
            .map_err(|e: takt_twin::view::KpiWindowError| Problem::bad_request(e.0))
    }
}

/// ISO 22400 KPIs per machine over the running shift, or the shift before it.
#[utoipa::path(get, path = "/twin/kpis", params(KpiQuery),
    responses((status = 200, description = "OK", body = KpiReport), (status = 400, description = "Malformed request (problem+json)", body = Problem)))]
pub(super) async fn twin_kpis(
    At(p): At,
    Query(q): Query<KpiQuery>,
) -> Result<Json<KpiReport>, Problem> {
    let window = q.window()?;
    Ok(Json(p.twin.snapshot().kpis(window)))
}

/// Each machine's states over the running shift (or the one before) at one-minute resolution, and
/// its stops by state and reason (a failure mode for `UNPLANNED_DOWN`), longest first.
#[utoipa::path(get, path = "/twin/timeline", params(KpiQuery),
    responses((status = 200, description = "OK", body = TimelineReport), (status = 400, description = "Malformed request (problem+json)", body = Problem)))]
pub(super) async fn twin_timeline(
    At(p): At,
    Query(q): Query<KpiQuery>,
) -> Result<Json<TimelineReport>, Problem> {
    let window = q.window()?;
    let twin = Arc::clone(&p.twin);
    Ok(Json(blocking(move || twin.timeline(window)).await?))
}

/// The shifts that ended, newest first: the shift before the running one and up to 44 before
/// it (three weeks of three shifts a working day), each machine's pieces and ISO 22400 KPIs
/// complete to the shift's end.
#[utoipa::path(get, path = "/twin/shifts",
    responses((status = 200, description = "OK", body = takt_twin::shifts::ShiftHistory)))]
pub(super) async fn twin_shifts(
    At(p): At,
) -> Result<Json<takt_twin::shifts::ShiftHistory>, Problem> {
    let twin = Arc::clone(&p.twin);
    Ok(Json(blocking(move || twin.shifts()).await?))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct TotalsQuery {
    /// `day` (the default): the plant's day of the running shift. `week`: its week, Monday to
    /// Sunday.
    pub period: Option<String>,
    /// An earlier day, or a day of an earlier week, in the plant's calendar: `2026-01-05`
    /// (default: the running shift's).
    pub date: Option<String>,
}

/// A day's or a week's figures: each machine's pieces and ISO 22400 KPIs over the shifts that
/// started in the plant's day (or week) of the running shift, the running one so far included,
/// or of an earlier `date`; the ratios over the summed times and pieces.
#[utoipa::path(get, path = "/twin/totals", params(TotalsQuery),
    responses((status = 200, description = "OK", body = takt_twin::totals::PeriodTotals), (status = 400, description = "Malformed request (problem+json)", body = Problem)))]
pub(super) async fn twin_totals(
    At(p): At,
    Query(q): Query<TotalsQuery>,
) -> Result<Json<takt_twin::totals::PeriodTotals>, Problem> {
    let period: takt_twin::totals::Period = q
        .period
        .as_deref()
        .unwrap_or("day")
        .parse()
        .map_err(|e: takt_twin::totals::PeriodError| Problem::bad_request(e.to_string()))?;
    let on = q
        .date
        .as_deref()
        .map(str::parse::<takt_twin::totals::PlantDate>)
        .transpose()
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let twin = Arc::clone(&p.twin);
    Ok(Json(blocking(move || twin.totals(period, on)).await?))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct ReportQuery {
    /// `previous` (the default): the shift before the running one, complete. `shift`: the running
    /// shift, so far.
    pub window: Option<String>,
    /// `json` (the default) or `html`: a self-contained page, sent as a download.
    pub format: Option<String>,
}

/// The shift report for the handover: each machine's OEE and its factors, the line's good parts
/// against the plan (the scenario from its start, 30 runs, kept per shift), and the downtime
/// Pareto by machine, state and reason (`takt twin report`).
#[utoipa::path(get, path = "/twin/report", params(ReportQuery),
    responses((status = 200, description = "the report (JSON, or with format=html a self-contained page)", body = takt_twin::report::ShiftReport), (status = 400, description = "Malformed request (problem+json)", body = Problem)))]
pub(super) async fn twin_report(
    At(p): At,
    Query(q): Query<ReportQuery>,
) -> Result<Response, Problem> {
    let window: KpiWindow = q
        .window
        .as_deref()
        .unwrap_or("previous")
        .parse()
        .map_err(|e: takt_twin::view::KpiWindowError| Problem::bad_request(e.0))?;
    let html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "format must be `json` or `html`, not `{other}`"
            )));
        }
    };
    let (twin, model, memo) = (
        Arc::clone(&p.twin),
        Arc::clone(&p.model),
        Arc::clone(&p.report_plans),
    );
    let seed = model.seed;
    let report = blocking(move || {
        let (mut report, start) = twin.shift_report(window).map_err(|e| e.to_string())?;
        takt_twin::report::compare_with_plan(
            &mut report,
            &model,
            start.as_ref(),
            default_plan_replications(),
            seed,
            Some(&memo),
        )
        .map(|()| report)
        .map_err(|e| e.to_string())
    })
    .await?
    .map_err(|e| Problem::internal(e.to_string()))?;
    if !html {
        return Ok(Json(report).into_response());
    }
    Ok(html_download(
        takt_twin::report::html(&report),
        "takt-shift-report.html",
    ))
}

/// The parts waiting in each buffer now. Machine events do not sense buffers: the levels are
/// inferred by conservation along the routings (as a forecast's starting state is).
#[utoipa::path(get, path = "/twin/buffers",
    responses((status = 200, description = "OK", body = BufferLevels)))]
pub(super) async fn twin_buffers(At(p): At) -> Result<Json<BufferLevels>, Problem> {
    let twin = Arc::clone(&p.twin);
    let model = Arc::clone(&p.model);
    blocking(move || {
        let (now, view) = twin.view();
        let book = twin
            .order_book()
            .map_err(|e| Problem::internal(format!("the order book: {e}")))?;
        Ok(Json(takt_twin::condition::buffer_levels(
            &model,
            now.map(|now_ms| (&view, now_ms)),
            book.as_deref(),
        )))
    })
    .await?
}

pub(super) fn default_forecast_replications() -> u32 {
    100
}
pub(super) fn default_plan_replications() -> u32 {
    30
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastRequest {
    /// Until when: an RFC 3339 time or a span from now (`2h`); default the end of the running shift.
    pub until: Option<String>,
    #[serde(default = "default_forecast_replications")]
    pub replications: u32,
    /// Runs of the plan for the deviation flags (0 skips them).
    #[serde(default = "default_plan_replications")]
    pub plan_replications: u32,
    pub seed: Option<u64>,
    /// The smallest gap to the plan flagged as a deviation, as a share of the plan (default 0.01,
    /// 1 %): a detectable but small gap is not one a shift leader acts on.
    pub min_deviation: Option<f64>,
}

/// Forks the twin's state into the simulator and forecasts output, OEE and orders to the end of the
/// running shift (or `until`) with intervals, and flags deviations from plan (`takt twin forecast --json`'s result).
#[utoipa::path(post, path = "/twin/forecast", request_body = ForecastRequest,
    responses((status = 200, description = "the forecast", body = takt_twin::forecast::Forecast), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem)))]
pub(super) async fn twin_forecast(
    State(s): State<Shared>,
    At(p): At,
    Body(req): Body<ForecastRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    replications_ok(
        "replications",
        req.replications,
        s.config.max_replications,
        &mut errors,
    );
    if req.plan_replications > s.config.max_replications {
        errors.push(FieldError {
            field: "plan_replications".into(),
            message: format!(
                "must be at most {}, not {}",
                s.config.max_replications, req.plan_replications
            ),
        });
    }
    let min_deviation = req
        .min_deviation
        .unwrap_or(takt_twin::forecast::DEFAULT_MIN_DEVIATION);
    if !(0.0..1.0).contains(&min_deviation) {
        errors.push(FieldError {
            field: "min_deviation".into(),
            message: format!(
                "must be a share of the plan from 0 to 1 (excluded), not {min_deviation}"
            ),
        });
    }
    // The live order book, if one was given (a new one is a new forecast), read once: the
    // futures and the plan from the shift's start run the same orders.
    let twin = Arc::clone(&p.twin);
    let book = blocking(move || twin.order_book_versioned())
        .await?
        .map_err(|e| Problem::internal(format!("the order book: {e}")))?;
    let book_version = book.as_ref().map(|(version, _)| *version);
    let key = |now_ms: i64| ForecastKey {
        book_version,
        minute: now_ms.div_euclid(60_000),
        until: req.until.clone(),
        replications: req.replications,
        plan_replications: req.plan_replications,
        seed: req.seed,
        min_deviation_bits: min_deviation.to_bits(),
    };
    if errors.is_empty()
        && let Some(answer) = cached(&p, &key(p.twin.snapshot().now_ms))
    {
        return Ok(answer);
    }
    // A bounded number of forecasts run at once (`Config::forecasts`); this one waits its turn,
    // then starts from the twin as it is by then (or takes the answer made meanwhile).
    let permit = permit(&s.forecasts).await?;
    let (now, view) = p.twin.view();
    let Some(now_ms) = now else {
        return Err(Problem::validation(
            "the twin has no events yet: nothing to forecast from",
            vec![],
        ));
    };
    if errors.is_empty()
        && let Some(answer) = cached(&p, &key(now_ms))
    {
        return Ok(answer);
    }
    let until_s = match &req.until {
        None => None,
        Some(text) => match takt_model::time::parse_moment_after(text, now_ms) {
            Ok(ms) => Some(p.model.timebase.model_s(ms)),
            Err(e) => {
                errors.push(FieldError {
                    field: "until".into(),
                    message: e.to_string(),
                });
                None
            }
        },
    };
    reject(errors)?;
    let options = takt_twin::forecast::ForecastOptions {
        replications: req.replications,
        seed: req.seed.unwrap_or(p.model.seed),
        until_s,
        plan_replications: req.plan_replications,
        min_deviation,
    };
    let model = Arc::clone(&p.model);
    let plans = Arc::clone(&p.plans);
    let twin = Arc::clone(&p.twin);
    // The forecast runs while this request does: when the client goes away or the request's
    // time is up, the handler is dropped, and with it this guard, which stops the forecast.
    let stop = StopOnDrop::default();
    let flag = Arc::clone(&stop.0);
    let f = gated(permit, move || {
        let basis = takt_twin::forecast::ForecastBasis {
            start: twin.shift_start_at(now_ms, book.clone()),
            book,
        };
        takt_twin::forecast::forecast_with_plans(
            &model,
            &view,
            now_ms,
            options,
            basis.inputs(Some(&plans)),
            &flag,
        )
        .map_err(|e| Problem::validation(e.to_string(), vec![]))
    })
    .await??;
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&f)
            .map_err(|e| Problem::internal(format!("the forecast does not serialise: {e}")))?,
    );
    p.last_forecast.put(key(now_ms), body.clone());
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The plant's last forecast if it answers `key`, with its age (`Age`, seconds).
fn cached(p: &crate::plant::Plant, key: &ForecastKey) -> Option<Response> {
    let (body, age_s) = p.last_forecast.get(key)?;
    Some(
        (
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (header::AGE, age_s.to_string()),
            ],
            body,
        )
            .into_response(),
    )
}

/// Raises its flag when dropped: blocking work a request started stops with the request.
#[derive(Default)]
struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Server-sent events of the twin: a `state` event per accepted batch, and an `alert` event per
/// alert raised, cleared or acknowledged (`{"change": "raised", "alert": {...}}`).
#[utoipa::path(get, path = "/twin/stream", responses((status = 200, description = "text/event-stream of the twin's state and alerts", content_type = "text/event-stream")))]
pub(super) async fn twin_stream(At(p): At) -> Response {
    let first = p.twin.snapshot();
    let changes =
        tokio_stream::wrappers::BroadcastStream::new(p.twin.subscribe()).filter_map(|r| r.ok());
    let states = tokio_stream::once(first).chain(changes).map(|state| {
        Ok::<_, std::convert::Infallible>(
            Event::default()
                .event("state")
                .data(serde_json::to_string(&*state).unwrap_or_default()),
        )
    });
    let alerts = tokio_stream::wrappers::BroadcastStream::new(p.twin.subscribe_alerts())
        .filter_map(|r| r.ok())
        .map(|change| {
            Ok::<_, std::convert::Infallible>(
                Event::default()
                    .event("alert")
                    .data(serde_json::to_string(&*change).unwrap_or_default()),
            )
        });
    let stream = states.merge(alerts);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct AlertQuery {
    /// `true`: only the alerts open now. Default: all, newest first.
    pub open: Option<bool>,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<u32>,
}

/// A rule as the server judges it.
#[derive(Serialize, ToSchema)]
pub struct AlertRuleView {
    pub name: String,
    /// `down`, `silent`, `oee_below` or `failure_risk`.
    pub when: String,
    pub severity: takt_twin::alerts::Severity,
    pub assets: Vec<String>,
    /// The rule in words, with its thresholds.
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct AlertList {
    pub rules: Vec<AlertRuleView>,
    pub alerts: Vec<takt_twin::alerts::Alert>,
}

/// The alert rules in force and the alerts they raised, newest first (`open=true`: those open
/// now). Live changes come on `/twin/stream` as `alert` events.
#[utoipa::path(get, path = "/twin/alerts", params(AlertQuery),
    responses((status = 200, description = "OK", body = AlertList), (status = 400, description = "Malformed request (problem+json)", body = Problem)))]
pub(super) async fn twin_alerts(
    At(p): At,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertList>, Problem> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::validation(
            "limit out of range",
            vec![FieldError {
                field: "limit".into(),
                message: format!("{limit}: from 1 to 1000"),
            }],
        ));
    }
    let twin = Arc::clone(&p.twin);
    let open = q.open.unwrap_or(false);
    let alerts = blocking(move || twin.alerts(open, limit))
        .await?
        .map_err(|e| Problem::internal(format!("the event store failed: {e}")))?;
    let rules = p
        .twin
        .alert_rules()
        .into_iter()
        .map(|r| AlertRuleView {
            when: r.condition.kind().to_string(),
            description: r.describe(),
            name: r.name,
            severity: r.severity,
            assets: r.assets,
        })
        .collect();
    Ok(Json(AlertList { rules, alerts }))
}

/// The alert a path names (beside the plant, at `/plants/{plant}/twin/…`).
#[derive(Deserialize)]
pub(super) struct AlertPath {
    id: u64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// Who takes the alert on (a name or a role people know).
    pub by: String,
    /// What is being done about it.
    #[serde(default)]
    pub note: String,
}

/// Acknowledges an alert: a person has seen it and takes it on (stored with the alert, announced
/// on the stream and to webhooks). An alert may be acknowledged after it cleared; acknowledging
/// again replaces the note.
#[utoipa::path(post, path = "/twin/alerts/{id}/acknowledge", request_body = Acknowledge,
    params(("id" = u64, Path, description = "the alert's id")),
    responses((status = 200, description = "OK", body = takt_twin::alerts::Alert), (status = 404, description = "No such alert (problem+json)", body = Problem), (status = 422, description = "Invalid request (problem+json)", body = Problem)))]
pub(super) async fn acknowledge_alert(
    At(p): At,
    Path(AlertPath { id }): Path<AlertPath>,
    Body(req): Body<Acknowledge>,
) -> Result<Json<takt_twin::alerts::Alert>, Problem> {
    let mut errors = Vec::new();
    let by = req.by.trim().to_string();
    if by.is_empty() || by.chars().count() > 100 || by.chars().any(char::is_control) {
        errors.push(FieldError {
            field: "by".into(),
            message: "a name of 1 to 100 characters, without control characters".into(),
        });
    }
    if req.note.chars().count() > 1000 {
        errors.push(FieldError {
            field: "note".into(),
            message: "at most 1,000 characters".into(),
        });
    }
    if !errors.is_empty() {
        return Err(Problem::validation("cannot acknowledge", errors));
    }
    let twin = Arc::clone(&p.twin);
    let note = req.note;
    blocking(move || twin.acknowledge(id, &by, &note, now_ms()))
        .await?
        .map_err(|e| Problem::internal(format!("the event store failed: {e}")))?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no alert {id}")))
}
