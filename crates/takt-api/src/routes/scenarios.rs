//! Stored scenarios: validate, create, list, read (and the text a job runs from).

use super::*;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScenario {
    /// The scenario file (TOML), as `takt validate` reads it.
    pub toml: String,
    /// The order book (CSV) its `demand.orders_csv` names: written into the scenario, which is then
    /// checked (or stored) as one file that names none.
    pub order_book: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ScenarioCheck {
    pub valid: bool,
    pub name: String,
    pub stations: usize,
    pub products: usize,
    pub horizon_s: f64,
    /// The plant as a line: what the scenario view draws.
    pub layout: takt_model::layout::PlantLayout,
    /// Every field a what-if variant may override, with its value now (the studio's choices).
    pub override_paths: Vec<takt_model::override_paths::OverridePath>,
}

pub(super) fn scenario_problem(e: ScenarioError) -> Problem {
    match e {
        ScenarioError::Invalid(diags) => Problem::validation(
            format!("the scenario has {} problem(s)", diags.len()),
            diags
                .iter()
                .map(|d| FieldError {
                    field: if d.line > 0 {
                        format!("{}:{}:{}: {}", d.file.display(), d.line, d.column, d.path)
                    } else {
                        d.path.clone()
                    },
                    message: d.message.clone(),
                })
                .collect(),
        ),
        other => Problem::bad_request(other.to_string()),
    }
}

/// A scenario sent in a request. It may not name files on the server (an order book CSV): the
/// model's loader refuses one when it is given no directory to read from.
pub(super) fn load_scenario(text: &str, origin: &str) -> Result<Loaded, Problem> {
    let path = std::path::Path::new(origin);
    let scenario = parse_scenario(text, path).map_err(scenario_problem)?;
    compile_located(scenario, text, path, None).map_err(scenario_problem)
}

pub(super) fn check_of(text: &str, l: &Loaded) -> ScenarioCheck {
    ScenarioCheck {
        override_paths: takt_model::override_paths::override_paths(text, &l.scenario),
        valid: true,
        name: l.model.name.clone(),
        stations: l.model.stations.len(),
        products: l.model.products.len(),
        horizon_s: l.model.horizon_s,
        layout: takt_model::layout::PlantLayout::of(&l.model),
    }
}

/// Checks a scenario without storing it: every problem with its line, column and field.
#[utoipa::path(post, path = "/scenarios/validate", request_body = NewScenario,
    responses((status = 200, description = "OK", body = ScenarioCheck), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem)))]
pub(super) async fn validate_scenario(
    State(s): State<Shared>,
    Body(req): Body<NewScenario>,
) -> Result<Json<ScenarioCheck>, Problem> {
    let check = loading(&s, move || {
        let text = with_order_book(req.toml, "scenario.toml", &req.order_book)?;
        load_scenario(&text, "scenario.toml").map(|loaded| check_of(&text, &loaded))
    })
    .await??;
    Ok(Json(check))
}

#[derive(Serialize, ToSchema)]
pub struct ScenarioCreated {
    pub id: String,
    pub name: String,
    pub location: String,
}

/// Stores a scenario once it validates.
#[utoipa::path(post, path = "/scenarios", request_body = NewScenario,
    responses((status = 201, description = "Created", body = ScenarioCreated), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem)))]
pub(super) async fn create_scenario(
    State(s): State<Shared>,
    Body(req): Body<NewScenario>,
) -> Result<Response, Problem> {
    let db = Arc::clone(&s.db);
    let created = loading(&s, move || {
        let text = with_order_book(req.toml, "scenario.toml", &req.order_book)?;
        let loaded = load_scenario(&text, "scenario.toml")?;
        let id = db
            .add_scenario(&loaded.model.name, &text, now_ms())
            .map_err(|e| Problem::internal(e.to_string()))?;
        Ok::<_, Problem>(ScenarioCreated {
            location: format!("/scenarios/{id}"),
            id,
            name: loaded.model.name,
        })
    })
    .await??;
    let mut response = (StatusCode::CREATED, Json(&created)).into_response();
    if let Ok(v) = HeaderValue::from_str(&created.location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/scenarios", responses((status = 200, description = "OK", body = Vec<crate::db::ScenarioSummary>)))]
pub(super) async fn list_scenarios(
    State(s): State<Shared>,
) -> Result<Json<Vec<crate::db::ScenarioSummary>>, Problem> {
    s.db.scenarios()
        .map(Json)
        .map_err(|e| Problem::internal(e.to_string()))
}

#[utoipa::path(get, path = "/scenarios/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = crate::db::StoredScenario), (status = 404, description = "Not found (problem+json)", body = Problem)))]
pub(super) async fn get_scenario(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<crate::db::StoredScenario>, Problem> {
    s.db.scenario(&id)
        .map_err(|e| Problem::internal(e.to_string()))?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no scenario `{id}`")))
}

/// The scenario of a request: a stored one by id, or TOML in the request; exactly one.
pub(super) fn scenario_text(
    s: &Server,
    id: &Option<String>,
    toml: &Option<String>,
    order_book: &Option<String>,
) -> Result<(String, String), Problem> {
    let (text, origin) = stored_or_sent(s, id, toml)?;
    Ok((with_order_book(text, &origin, order_book)?, origin))
}

/// The scenario with the order book sent beside it written in (see
/// `takt_model::order_book::inline_order_book`); without one, as it is.
pub(super) fn with_order_book(
    text: String,
    origin: &str,
    order_book: &Option<String>,
) -> Result<String, Problem> {
    let Some(csv) = order_book else {
        return Ok(text);
    };
    takt_model::order_book::inline_order_book(
        &text,
        std::path::Path::new(origin),
        csv,
        "order_book.csv",
    )
    .map_err(scenario_problem)
}

fn stored_or_sent(
    s: &Server,
    id: &Option<String>,
    toml: &Option<String>,
) -> Result<(String, String), Problem> {
    match (id, toml) {
        (Some(id), None) => {
            let stored =
                s.db.scenario(id)
                    .map_err(|e| Problem::internal(e.to_string()))?
                    .ok_or_else(|| {
                        Problem::validation(
                            format!("no scenario `{id}`"),
                            vec![FieldError {
                                field: "scenario_id".into(),
                                message: format!("no scenario `{id}` is stored"),
                            }],
                        )
                    })?;
            Ok((stored.toml, format!("{id}.toml")))
        }
        (None, Some(t)) => Ok((t.clone(), "scenario.toml".into())),
        _ => Err(Problem::validation(
            "give `scenario_id` or `scenario`, not both or neither",
            vec![FieldError {
                field: "scenario_id".into(),
                message: "give exactly one of `scenario_id` and `scenario`".into(),
            }],
        )),
    }
}
