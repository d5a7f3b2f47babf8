//! Errors as RFC 9457 problem details (`application/problem+json`): a stable `type` per class of
//! error, the HTTP status, a human `detail`, and for validation the failing fields. Every handler
//! and extractor error ends here, so a client never sees a bare 500 for what it sent.

use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One failing field of a request or a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where: a JSON pointer-like path (`replications`, `[3].ts`) or a scenario location
    /// (`scenario.toml:12:5: stations[0].failures[1].ttf`).
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the error class, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying (queue full, rate limited).
    #[serde(skip)]
    pub retry_after_s: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("/problems/{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_s: None,
        }
    }

    /// A body sent without `Content-Type: application/json` (415).
    pub fn not_json() -> Self {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media-type",
            "The body must be JSON",
            "send the body with `Content-Type: application/json`",
        )
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is malformed",
            detail,
        )
    }

    pub fn validation(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Problem {
            errors,
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request does not validate",
                detail,
            )
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "No such resource",
            detail,
        )
    }

    /// The resource exists but is not in a state that allows this (a report of a running job).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "Not in that state",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid bearer token is needed",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The token's role does not allow this",
            detail,
        )
    }

    pub fn busy(detail: impl Into<String>, retry_after_s: u64) -> Self {
        Problem {
            retry_after_s: Some(retry_after_s),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The job queue is full",
                detail,
            )
        }
    }

    pub fn rate_limited(detail: impl Into<String>, retry_after_s: u64) -> Self {
        Problem {
            retry_after_s: Some(retry_after_s),
            ..Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests from this client",
                detail,
            )
        }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The server failed",
            detail,
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after_s
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the path: "replications: invalid type: ...".
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                    .unwrap_or(&text)
                    .to_string();
                let (field, message) = match detail.split_once(": ") {
                    Some((f, m)) if !f.contains(' ') => (f.to_string(), m.to_string()),
                    _ => (String::new(), detail.clone()),
                };
                Problem::validation(detail, vec![FieldError { field, message }])
            }
            JsonRejection::JsonSyntaxError(e) => Problem::bad_request(format!(
                "the body is not valid JSON: {}",
                e.body_text()
                    .trim_start_matches("Failed to parse the request body as JSON: ")
            )),
            JsonRejection::MissingJsonContentType(_) => Problem::not_json(),
            JsonRejection::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too-large",
                        "The body is too large",
                        e.body_text(),
                    )
                    // (the route layer refuses an announced length over the limit earlier)
                } else {
                    Problem::bad_request(e.body_text())
                }
            }
            other => Problem::bad_request(other.body_text()),
        }
    }
}

/// `Json` whose rejections are problems.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(e) => Err(Problem::from(e)),
        }
    }
}

/// A finite number >= 0 (JSON has no NaN or infinity, but a value may still be negative).
pub fn non_negative(field: &str, x: f64, errors: &mut Vec<FieldError>) {
    if !(x.is_finite() && x >= 0.0) {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be a number >= 0, not {x}"),
        });
    }
}
