//! Bearer tokens with three roles, each including the one before: `read` (state, KPIs, results),
//! `operate` (what a shift leader does on the line board: take an alert on, run the forecast to the
//! end of the shift) and `write` (ingest, create, run). Tokens come from a file (`read <token>`,
//! `operate <token>` or `write <token>` per line, `#` comments) or the environment
//! (`TAKT_READ_TOKENS`, `TAKT_OPERATE_TOKENS`, `TAKT_WRITE_TOKENS`, comma-separated) and are
//! compared in constant time. `Auth::Insecure` lets everything through (local use only; the
//! server says so loudly at start).

use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Read,
    /// A shift leader: read, take alerts on, run the forecast.
    Operate,
    Write,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Operate => "operate",
            Role::Write => "write",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    Tokens(Vec<(Role, String)>),
    Insecure,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected `read <token>`, `operate <token>` or `write <token>`")]
    Format { path: String, line: usize },
    #[error("{path}:{line}: a token needs at least 16 characters")]
    Short { path: String, line: usize },
    #[error(
        "no tokens configured: give --tokens FILE or TAKT_READ_TOKENS / TAKT_OPERATE_TOKENS / TAKT_WRITE_TOKENS (or --insecure-no-auth for local use)"
    )]
    None,
}

impl Auth {
    /// Tokens from `file` if given, plus the environment's.
    pub fn load(file: Option<&Path>) -> Result<Auth, AuthError> {
        let mut tokens = Vec::new();
        if let Some(path) = file {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| AuthError::Io {
                path: name.clone(),
                source,
            })?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (role, token) = match line.split_once(char::is_whitespace) {
                    Some(("read", t)) => (Role::Read, t.trim()),
                    Some(("operate", t)) => (Role::Operate, t.trim()),
                    Some(("write", t)) => (Role::Write, t.trim()),
                    _ => {
                        return Err(AuthError::Format {
                            path: name,
                            line: i + 1,
                        });
                    }
                };
                if token.len() < 16 {
                    return Err(AuthError::Short {
                        path: name,
                        line: i + 1,
                    });
                }
                tokens.push((role, token.to_string()));
            }
        }
        for (var, role) in [
            ("TAKT_READ_TOKENS", Role::Read),
            ("TAKT_OPERATE_TOKENS", Role::Operate),
            ("TAKT_WRITE_TOKENS", Role::Write),
        ] {
            if let Ok(list) = std::env::var(var) {
                for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    if t.len() < 16 {
                        return Err(AuthError::Short {
                            path: var.into(),
                            line: 1,
                        });
                    }
                    tokens.push((role, t.to_string()));
                }
            }
        }
        if tokens.is_empty() {
            return Err(AuthError::None);
        }
        Ok(Auth::Tokens(tokens))
    }

    /// The role of a presented token: every configured token is compared, in constant time.
    fn role_of(&self, presented: &str) -> Option<Role> {
        match self {
            Auth::Insecure => Some(Role::Write),
            Auth::Tokens(tokens) => {
                let mut best = None;
                for (role, t) in tokens {
                    let equal: bool = t.as_bytes().ct_eq(presented.as_bytes()).into();
                    if equal {
                        best = best.max(Some(*role));
                    }
                }
                best
            }
        }
    }
}

/// Paths anyone may read: liveness, readiness, the API document, and the screens' own files
/// (code that holds no data; the page asks for a token before it reads any).
fn open_path(path: &str) -> bool {
    matches!(path, "/" | "/health" | "/ready" | "/openapi.json") || path.starts_with("/assets/")
}

/// The role a request needs: read for GET and HEAD; operate for what a shift leader does on the
/// board (taking an alert on, the forecast to the end of the shift, starting a stopped feed
/// again); write for the rest.
pub fn needed(method: &Method, path: &str) -> Role {
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        Role::Read
    } else if method == Method::POST && operated(path) {
        Role::Operate
    } else {
        Role::Write
    }
}

/// `/twin/forecast`, `/twin/alerts/{id}/acknowledge` and `/twin/feeds/restart` (the board's
/// banner), of the default plant or of any plant (`/plants/{plant}/twin/…`).
fn operated(path: &str) -> bool {
    let path = of_a_plant(path).unwrap_or(path);
    path == "/twin/forecast"
        || path == "/twin/feeds/restart"
        || path
            .strip_prefix("/twin/alerts/")
            .and_then(|rest| rest.strip_suffix("/acknowledge"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// A plant's twin route as the default plant's: `/plants/press/twin/state` is `/twin/state`.
fn of_a_plant(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/plants/")?;
    let (id, _) = rest.split_once('/')?;
    let twin = &rest[id.len()..];
    (!id.is_empty() && twin.starts_with("/twin/")).then_some(twin)
}

pub async fn require(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    if open_path(request.uri().path()) || matches!(*auth, Auth::Insecure) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        return Problem::unauthorized("send `Authorization: Bearer <token>`").into_response();
    };
    let Some(role) = auth.role_of(presented) else {
        return Problem::unauthorized("the token is not known").into_response();
    };
    let needs = needed(request.method(), request.uri().path());
    if role < needs {
        return Problem::forbidden(format!(
            "{} {} needs a token with the {} role{} (this one has the {} role)",
            request.method(),
            request.uri().path(),
            needs.name(),
            if needs == Role::Operate {
                " or write"
            } else {
                ""
            },
            role.name()
        ))
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_leader_operates_every_plant_s_board_and_writes_nothing() {
        for path in [
            "/twin/forecast",
            "/twin/alerts/7/acknowledge",
            "/plants/press/twin/forecast",
            "/plants/press/twin/alerts/7/acknowledge",
            "/twin/feeds/restart",
            "/plants/press/twin/feeds/restart",
        ] {
            assert_eq!(needed(&Method::POST, path), Role::Operate, "{path}");
        }
        for path in [
            "/twin/events",
            "/plants/press/twin/events",
            "/plants//twin/forecast",
            "/plants/a/b/twin/forecast",
            "/plants/press/twin/alerts//acknowledge",
            "/plants/press/forecast",
            "/simulations",
        ] {
            assert_eq!(needed(&Method::POST, path), Role::Write, "{path}");
        }
        assert_eq!(needed(&Method::GET, "/plants/press/twin/state"), Role::Read);
    }
}
