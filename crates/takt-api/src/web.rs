//! The screens: the built web app (`web/dist`, see `web/README.md`) inside the binary, served at
//! `/` (the page) and `/assets/...` (its scripts and styles). The files are embedded at compile
//! time in every build, so a request names an entry of a fixed table and never a path on disk.
//! Asset names carry a content hash: they are cached for a year; the page is revalidated by its
//! ETag (the SHA-256 of its bytes).

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/dist/"]
struct Screens;

/// Every response of the screens: no framing by other sites, no sniffing, and a content
/// security policy that lets the page load and call only the server that served it.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                      connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn serve(file: &str, headers: &HeaderMap, cache: &'static str) -> Response {
    let Some(found) = Screens::get(file) else {
        return crate::problem::Problem::not_found(format!("no screen file `{file}`"))
            .into_response();
    };
    let etag = format!(
        "\"{}\"",
        found
            .metadata
            .sha256_hash()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(file))],
            found.data.into_owned(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The page: the screens' one HTML document.
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers, "no-cache")
}

/// A script, style or image of the page, by its name in `assets/`.
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(
        &format!("assets/{file}"),
        &headers,
        "public, max-age=31536000, immutable",
    )
}
