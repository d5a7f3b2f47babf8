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
