//! The screens: the page and its assets come from inside the binary, open to anyone (they hold no
//! data), with a policy that keeps the page on this server; the data behind them needs a token.

use crate::harness::{App, READ, get};

#[test]
fn the_page_and_its_assets_are_served_from_the_binary_and_the_data_needs_a_token() {
    let app = App::with_tokens();
    let page = get(&app, "/", None);
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    let policy = page.headers["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(policy.contains("default-src 'self'") && policy.contains("connect-src 'self'"));
    assert_eq!(page.headers["cache-control"], "no-cache");
    // Every script and style the page names is there, and nothing it names is elsewhere.
    let assets: Vec<&str> = page
        .text
        .split('"')
        .filter(|s| s.starts_with("/assets/"))
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{}", page.text);
    for asset in &assets {
        let a = get(&app, asset, None);
        assert_eq!(a.status, 200, "{asset}");
        assert!(
            a.headers["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("immutable")
        );
    }
    assert!(!page.text.contains("http://") && !page.text.contains("https://"));
    // Revalidation by the page's ETag.
    let etag = page.headers["etag"].to_str().expect("ascii").to_string();
    let again = app.send(axum::http::Method::GET, "/", None, None, None);
    assert_eq!(again.headers["etag"].to_str().expect("ascii"), etag);
    // A name that is not in the bundle is a 404, whatever it tries.
    for name in [
        "/assets/nothing.js",
        "/assets/../../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets//etc/passwd",
    ] {
        let a = get(&app, name, None);
        assert_eq!(a.status, 404, "{name}: {}", a.text);
    }
    // The data is not open: the layout needs a token like the state.
    assert_eq!(get(&app, "/twin/layout", None).status, 401);
    let layout = get(&app, "/twin/layout", Some(READ));
    assert_eq!(layout.status, 200);
    let names: Vec<&str> = layout.body["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["Filler", "Labeller", "CasePacker"]);
}

/// The board's buffer levels are the forecast's starting state: the same inference, read live.
#[test]
fn buffer_levels_are_what_a_forecast_starts_from() {
    use axum::http::{Method, StatusCode};
    use serde_json::{Value, json};
    let app = App::new();
    let (status, empty) = app.call(Method::GET, "/twin/buffers", None);
    assert_eq!(status, StatusCode::OK);
    assert!(
        empty["buffers"]
            .as_array()
            .expect("buffers")
            .iter()
            .all(|b| b["parts"].is_null())
    );
    let events: Vec<Value> = crate::harness::RECORDING
        .lines()
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    for chunk in events.chunks(2000) {
        let (status, body) = app.call(Method::POST, "/twin/events", Some(&json!(chunk)));
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, levels) = app.call(Method::GET, "/twin/buffers", None);
    assert_eq!(status, StatusCode::OK, "{levels}");
    let (status, forecast) = app.call(
        Method::POST,
        "/twin/forecast",
        Some(&json!({"replications": 2, "plan_replications": 0})),
    );
    assert_eq!(status, StatusCode::OK, "{forecast}");
    let queued = |name: &str| {
        forecast["initial_state"]["buffers"]
            .as_array()
            .expect("buffers")
            .iter()
            .find(|b| b["buffer"] == name)
            .map_or(0, |b| b["parts"].as_array().map_or(0, Vec::len))
    };
    let buffers = levels["buffers"].as_array().expect("buffers");
    assert_eq!(buffers.len(), 3, "{levels}");
    for b in buffers {
        let name = b["buffer"].as_str().expect("name");
        let parts = b["parts"].as_u64().expect("inferred");
        assert_eq!(parts as usize, queued(name), "{name}");
        if let Some(capacity) = b["capacity"].as_u64() {
            assert!(parts <= capacity, "{name}: {parts} > {capacity}");
        }
    }
}
