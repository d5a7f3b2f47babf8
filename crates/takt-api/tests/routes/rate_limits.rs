//! Ingestion is limited per client (`Config::ingest_per_s`). A client is its token; without
//! authentication, where any `Authorization` header passes, it is its address: changing the
//! header neither escapes the limit nor adds a bucket to the server's memory.

use crate::harness::*;
use takt_api::auth::Auth;

#[test]
fn without_authentication_a_client_is_its_address_whatever_header_it_sends() {
    // One request a second, a burst of two.
    let s = App::configured(Auth::Insecure, |c| c.ingest_per_s = 1.0);
    let answers: Vec<u16> = (0..3)
        .map(|i| post(&s, "/twin/events", Some(&format!("made-up-{i}")), "[]").status)
        .collect();
    assert_eq!(answers, [200, 200, 429], "three headers, one address");
}

#[test]
fn with_tokens_each_token_has_its_own_limit() {
    let s = App::configured(tokens(), |c| c.ingest_per_s = 1.0);
    let answers: Vec<u16> = [WRITE, WRITE, WRITE, OTHER_WRITE]
        .iter()
        .map(|t| post(&s, "/twin/events", Some(t), "[]").status)
        .collect();
    assert_eq!(answers, [200, 200, 429, 200], "two tokens, one address");
}

const OTHER_WRITE: &str = "another-write-token-0123456789";

fn tokens() -> Auth {
    Auth::Tokens(vec![
        (takt_api::auth::Role::Write, WRITE.to_string()),
        (takt_api::auth::Role::Write, OTHER_WRITE.to_string()),
    ])
}
