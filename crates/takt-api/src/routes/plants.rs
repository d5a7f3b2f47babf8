//! The site's plants: `GET /plants`, the plant a twin route's path names (`At`), and the
//! twin's routes in the API document under `/plants/{plant}` too.

use super::*;
use crate::plant::Plant;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

/// The plant a twin route serves: the one its path names at `/plants/{plant}/twin/…`, the default
/// plant at `/twin/…`. An unknown id is a 404 that lists the site's plants.
pub(super) struct At(pub Arc<Plant>);

impl FromRequestParts<Shared> for At {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<At, Problem> {
        let params = RawPathParams::from_request_parts(parts, s)
            .await
            .map_err(|e| Problem::bad_request(e.body_text()))?;
        let Some((_, id)) = params.iter().find(|(name, _)| *name == "plant") else {
            return Ok(At(Arc::clone(s.plant())));
        };
        s.plants.get(id).map(|p| At(Arc::clone(p))).ok_or_else(|| {
            let shown: String = id.chars().take(crate::plant::MAX_ID_LEN + 1).collect();
            let known: Vec<&str> = s.plants_listed().map(|p| p.id.as_str()).collect();
            Problem::not_found(format!(
                "no plant `{shown}`; this site's plants: {} (GET /plants)",
                known.join(", ")
            ))
        })
    }
}

/// One plant of the site.
#[derive(Serialize, ToSchema)]
pub struct PlantSummary {
    /// How the API names it: `/plants/{id}/twin/…` (and the MQTT topics' line level).
    pub id: String,
    /// The plant's name (its scenario's).
    pub name: String,
    /// The plant at `/twin/…` too.
    pub default: bool,
    pub stations: usize,
    pub machines: usize,
    /// The newest event's plant time (RFC 3339 in the plant's offset, and Unix ms); none before
    /// the first event.
    pub newest_event: Option<String>,
    pub newest_event_ms: Option<i64>,
    /// Events stored and mirrored since this server started (with those read back at its start).
    pub events_accepted: u64,
}

#[derive(Serialize, ToSchema)]
pub struct PlantList {
    pub plants: Vec<PlantSummary>,
}

/// The site's plants, the default first, then by id.
#[utoipa::path(get, path = "/plants", responses((status = 200, description = "OK", body = PlantList)))]
pub(super) async fn list_plants(State(s): State<Shared>) -> Json<PlantList> {
    let default = s.plant();
    let plants = s
        .plants_listed()
        .map(|p| {
            let state = p.twin.snapshot();
            let any = state.counters.accepted > 0;
            PlantSummary {
                id: p.id.clone(),
                name: p.model.name.clone(),
                default: Arc::ptr_eq(p, default),
                stations: p.model.stations.len(),
                machines: p.model.stations.iter().map(|st| st.machines as usize).sum(),
                newest_event: any.then(|| state.now.clone()),
                newest_event_ms: any.then_some(state.now_ms),
                events_accepted: state.counters.accepted,
            }
        })
        .collect();
    Json(PlantList { plants })
}

/// Every `/twin/…` route of the document again under `/plants/{plant}`, with the path parameter
/// and an operation id of its own (the routes are the same handlers, see `router`).
pub(super) struct PlantRoutes;

impl utoipa::Modify for PlantRoutes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        let plant = ParameterBuilder::new()
            .name("plant")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("the plant's id (`GET /plants`)"))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        let twin: Vec<(String, utoipa::openapi::PathItem)> = openapi
            .paths
            .paths
            .iter()
            .filter(|(path, _)| path.starts_with("/twin/"))
            .map(|(path, item)| (format!("/plants/{{plant}}{path}"), item.clone()))
            .collect();
        for (path, mut item) in twin {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .insert(0, plant.clone().into());
                if let Some(id) = &mut operation.operation_id {
                    *id = format!("plant_{id}");
                }
            }
            openapi.paths.paths.insert(path, item);
        }
    }
}
