//! Health, readiness, Prometheus metrics and the API document.

use super::*;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[utoipa::path(get, path = "/health", responses((status = 200, description = "OK", body = Health)))]
pub(super) async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// What anyone may learn without a token: that the server is ready, nothing of the plant.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
}

/// Ready once the twin is rebuilt (the server answers only after that) and while its stores
/// answer (a site's server that lost its PostgreSQL is taken out of the load balancer's rotation
/// until it is back). Open to probes without a token, so it says nothing else; why is in the
/// server's log, the counts in `/metrics` and `/twin/state`.
#[utoipa::path(get, path = "/ready", responses((status = 200, description = "Ready", body = Readiness), (status = 503, description = "Not ready: a store does not answer", body = Readiness)))]
pub(super) async fn ready(State(s): State<Shared>) -> Response {
    let stores = blocking(move || {
        s.db.ping().map_err(|e| e.to_string())?;
        for p in s.plants.values() {
            p.twin.ping().map_err(|e| format!("plant {}: {e}", p.id))?;
        }
        Ok::<(), String>(())
    })
    .await;
    match stores {
        Ok(Ok(())) => Json(Readiness { ready: true }).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: a store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Readiness { ready: false }),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness { ready: false }),
        )
            .into_response(),
    }
}

/// Prometheus (OpenMetrics) text: requests and latencies per route; the plant as the twin mirrors
/// it (each machine's state, the running shift's OEE, availability, performance and quality, good
/// and scrap parts, buffer levels inferred along the routings); events accepted, duplicate and
/// rejected; jobs queued and running; when the newest event happened and when an event last
/// arrived (`time() - takt_twin_last_accepted_timestamp_seconds` is how long the feed is silent);
/// whether each MQTT or OPC UA feed still listens (`takt_feed_up`, 0 once it gave up).
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus / OpenMetrics text exposition", content_type = "application/openmetrics-text")))]
pub(super) async fn metrics(State(s): State<Shared>) -> Result<Response, Problem> {
    let (queued, running) = s.jobs.load();
    // Each plant's twin is locked, its order book read and its buffers inferred: off the runtime.
    let server = Arc::clone(&s);
    let plants: Vec<PlantFigures> = blocking(move || {
        server
            .plants
            .values()
            .map(|p| {
                let (now, view) = p.twin.view();
                PlantFigures {
                    plant: p.id.clone(),
                    state: p.twin.snapshot(),
                    // The same levels as `GET /twin/buffers`; without the order book if the
                    // store cannot give it now.
                    buffers: takt_twin::condition::buffer_levels(
                        &p.model,
                        now.map(|now_ms| (&view, now_ms)),
                        p.twin.order_book().ok().flatten().as_deref(),
                    ),
                    last_accepted_ms: p.twin.last_accepted_ms(),
                    judges_alerts: p.twin.judges_alerts(),
                }
            })
            .collect()
    })
    .await?;
    let text = s.metrics.render(|registry| {
        plant_metrics(registry, &plants, (queued, running));
        feed_metrics(registry, &s.feeds.list());
    });
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

/// One plant's figures of one scrape.
struct PlantFigures {
    plant: String,
    state: Arc<takt_twin::TwinState>,
    buffers: takt_twin::condition::BufferLevels,
    last_accepted_ms: Option<i64>,
    judges_alerts: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct PlantLabels {
    plant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct AssetLabels {
    plant: String,
    asset: String,
    station: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct StateLabels {
    plant: String,
    asset: String,
    station: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct BufferLabels {
    plant: String,
    buffer: String,
}

type Ratio = prometheus_client::metrics::gauge::Gauge<f64, std::sync::atomic::AtomicU64>;

/// The plants' and their twins' figures of one scrape, each labelled with its plant.
fn plant_metrics(
    registry: &mut prometheus_client::registry::Registry,
    plants: &[PlantFigures],
    (queued, running): (usize, usize),
) {
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
    use prometheus_client::registry::Unit;
    let machine_state = Family::<StateLabels, Ratio>::default();
    let ratios: [(&str, &str, Family<AssetLabels, Ratio>); 4] = [
        (
            "shift_oee",
            "OEE of the running shift (ISO 22400), 0 to 1",
            Family::default(),
        ),
        (
            "shift_availability",
            "Availability of the running shift, 0 to 1",
            Family::default(),
        ),
        (
            "shift_performance",
            "Performance of the running shift, 0 to 1; above 1 the machine beat its standard cycle (check the standard)",
            Family::default(),
        ),
        (
            "shift_quality",
            "Quality of the running shift (good / produced), 0 to 1",
            Family::default(),
        ),
    ];
    let above_standard = Family::<AssetLabels, Ratio>::default();
    let good = Family::<AssetLabels, Ratio>::default();
    let scrap = Family::<AssetLabels, Ratio>::default();
    for (plant, a) in plants
        .iter()
        .flat_map(|p| p.state.assets.iter().map(move |a| (p.plant.as_str(), a)))
    {
        let labels = AssetLabels {
            plant: plant.to_string(),
            asset: a.asset.clone(),
            station: a.station.clone(),
        };
        for code in takt_twin::event::StateCode::ALL {
            machine_state
                .get_or_create(&StateLabels {
                    plant: plant.to_string(),
                    asset: a.asset.clone(),
                    station: a.station.clone(),
                    state: code.name().to_string(),
                })
                .set(if a.state == code { 1.0 } else { 0.0 });
        }
        let k = &a.kpis;
        for ((_, _, family), value) in
            ratios
                .iter()
                .zip([k.oee, k.availability, k.performance, k.quality])
        {
            if let Some(v) = value {
                family.get_or_create(&labels).set(v);
            }
        }
        above_standard
            .get_or_create(&labels)
            .set(if k.performance_above_standard {
                1.0
            } else {
                0.0
            });
        good.get_or_create(&labels).set(a.good as f64);
        scrap.get_or_create(&labels).set(a.scrap as f64);
    }
    registry.register(
        "machine_state",
        "1 for the state each machine is in, 0 for the others (PackML-like codes)",
        machine_state,
    );
    for (name, help, family) in ratios {
        registry.register_with_unit(name, help, Unit::Other("ratio".into()), family);
    }
    registry.register(
        "shift_performance_above_standard",
        "1 where the running shift's performance reads above 100 %: the machine beat its standard cycle, so the standard (ideal_cycle_time) is too slow or was beaten by chance, and OEE may read above 1",
        above_standard,
    );
    registry.register(
        "shift_good_parts",
        "Good parts in the running shift (from 0 at each shift's start)",
        good,
    );
    registry.register(
        "shift_scrap_parts",
        "Scrapped parts in the running shift (from 0 at each shift's start)",
        scrap,
    );
    let levels = Family::<BufferLabels, Ratio>::default();
    for (plant, b) in plants
        .iter()
        .flat_map(|p| p.buffers.buffers.iter().map(move |b| (&p.plant, b)))
    {
        // No figure where the levels could not be inferred (said in `/twin/buffers`' warnings).
        if let Some(parts) = b.parts {
            levels
                .get_or_create(&BufferLabels {
                    plant: plant.clone(),
                    buffer: b.buffer.clone(),
                })
                .set(parts as f64);
        }
    }
    registry.register(
        "buffer_parts",
        "Parts waiting in each buffer, inferred from the machines' counts along the routings",
        levels,
    );
    let per_plant = |value: &dyn Fn(&PlantFigures) -> Option<f64>| {
        let family = Family::<PlantLabels, Ratio>::default();
        for p in plants {
            if let Some(v) = value(p) {
                family
                    .get_or_create(&PlantLabels {
                        plant: p.plant.clone(),
                    })
                    .set(v);
            }
        }
        family
    };
    let counted = |value: &dyn Fn(&takt_twin::view::Counters) -> u64| {
        let family = Family::<PlantLabels, Counter>::default();
        for p in plants {
            family
                .get_or_create(&PlantLabels {
                    plant: p.plant.clone(),
                })
                .inc_by(value(&p.state.counters));
        }
        family
    };
    registry.register(
        "twin_events_accepted",
        "Events stored and mirrored",
        counted(&|c| c.accepted),
    );
    registry.register(
        "twin_events_duplicate",
        "Events already stored (same asset and seq)",
        counted(&|c| c.duplicates),
    );
    registry.register(
        "twin_events_rejected",
        "Events refused (malformed, unknown asset), kept as dead letters",
        counted(&|c| c.rejected),
    );
    registry.register(
        "jobs_queued",
        "Jobs waiting for a worker",
        ConstGauge::new(queued as i64),
    );
    registry.register(
        "jobs_running",
        "Jobs running",
        ConstGauge::new(running as i64),
    );
    let judges = Family::<PlantLabels, Gauge>::default();
    for p in plants {
        judges
            .get_or_create(&PlantLabels {
                plant: p.plant.clone(),
            })
            .set(i64::from(p.judges_alerts));
    }
    registry.register(
        "alerts_judge",
        "1 if this server judges the plant's alert rules (of the servers sharing a store, one does), else 0",
        judges,
    );
    registry.register_with_unit(
        "twin_newest_event_timestamp",
        "The plant time of the newest event, Unix seconds (a replayed recording is dated in its past); none before the first",
        Unit::Seconds,
        per_plant(&|p| (p.state.counters.accepted > 0).then_some(p.state.now_ms as f64 / 1000.0)),
    );
    registry.register_with_unit(
        "twin_last_accepted_timestamp",
        "When this server last accepted an event of the plant, Unix seconds of its clock",
        Unit::Seconds,
        per_plant(&|p| p.last_accepted_ms.map(|ms| ms as f64 / 1000.0)),
    );
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct FeedLabels {
    plant: String,
    protocol: String,
    source: String,
}

/// Whether each feed of a twin still listens.
fn feed_metrics(
    registry: &mut prometheus_client::registry::Registry,
    feeds: &[crate::feeds::Feed],
) {
    let up = prometheus_client::metrics::family::Family::<
        FeedLabels,
        prometheus_client::metrics::gauge::Gauge,
    >::default();
    for f in feeds {
        up.get_or_create(&FeedLabels {
            plant: f.plant.clone(),
            protocol: f.protocol.clone(),
            source: f.source.clone(),
        })
        .set(i64::from(f.listening));
    }
    registry.register(
        "feed_up",
        "1 while a feed of the plant's twin (an MQTT broker, an OPC UA server) listens, 0 once it gave up (why: GET /twin/feeds, the board and the log; a broker away is retried and stays 1)",
        up,
    );
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
pub(super) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
