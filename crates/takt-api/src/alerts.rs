//! Alerts delivered beyond the server: each raised, cleared or acknowledged alert is POSTed as JSON
//! to every webhook, in order, retried with exponential backoff (1 s doubling to 60 s) until the
//! receiver answers 2xx or `MAX_ATTEMPTS` have failed; and, for a plant fed by MQTT, published to
//! its broker (`spawn_mqtt`). Alerts are stored before they are sent; a delivery given up is logged
//! with the alert's id (`GET /twin/alerts` still has it).

use crate::plant::Plant;
use serde::Serialize;
use std::time::Duration;
use takt_twin::alerts::{Alert, AlertChange};
use tokio::sync::broadcast::error::RecvError;

/// Attempts per alert and webhook before it is given up.
pub const MAX_ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// One POST may take this long.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The body of a webhook call.
#[derive(Debug, Serialize)]
pub struct Notification<'a> {
    /// `raised`, `cleared` or `acknowledged`.
    pub change: &'static str,
    /// The plant's name (its scenario's) and its id in the API (`/plants/{plant_id}/twin/…`).
    pub plant: &'a str,
    pub plant_id: &'a str,
    pub alert: &'a Alert,
}

/// Checks a webhook URL: http or https, a host, no credentials in it.
pub fn check_webhook(url: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--alert-webhook `{url}`: {why}"));
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return bad("a webhook starts with http:// or https://");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return bad("no host");
    }
    if host.contains('@') {
        return bad("credentials do not belong in the URL (they would be logged)");
    }
    Ok(())
}

/// Delivers the plant's alert changes to `url` until the server stops.
pub fn spawn_webhook(plant: &Plant, url: String) {
    let mut changes = plant.twin.subscribe_alerts();
    let (name, id) = (plant.model.name.clone(), plant.id.clone());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(POST_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    tokio::spawn(async move {
        loop {
            let change = match changes.recv().await {
                Ok(c) => c,
                Err(RecvError::Lagged(missed)) => {
                    tracing::error!(webhook = %url, missed, "alerts: the webhook fell behind; these changes were not sent (they are stored)");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            deliver(&agent, &url, (&name, &id), &change).await;
        }
    });
}

/// Publishes the plant's alert changes to the broker of `publisher` (QoS 1, see
/// [`takt_twin::alerts::publish`]) until the server stops, from a thread of its own: the broker's
/// connection queues and resends, so nothing here waits for it.
pub fn spawn_mqtt(plant: &Plant, publisher: takt_twin::alerts::publish::AlertPublisher) {
    let mut changes = plant.twin.subscribe_alerts();
    std::thread::spawn(move || {
        loop {
            match changes.blocking_recv() {
                Ok(change) => publisher.publish(&change),
                Err(RecvError::Lagged(missed)) => {
                    tracing::error!(
                        missed,
                        "alerts over MQTT fell behind; these changes were not published (they are stored)"
                    );
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// POSTs one change, retrying with backoff.
async fn deliver(
    agent: &ureq::Agent,
    url: &str,
    (plant, plant_id): (&str, &str),
    change: &AlertChange,
) {
    let body = match serde_json::to_vec(&Notification {
        change: change.kind(),
        plant,
        plant_id,
        alert: change.alert(),
    }) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "alerts: cannot encode");
            return;
        }
    };
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=MAX_ATTEMPTS {
        let (agent, target, payload) = (agent.clone(), url.to_string(), body.clone());
        let sent = tokio::task::spawn_blocking(move || {
            agent
                .post(&target)
                .header("content-type", "application/json")
                .send(&payload[..])
                .map(|r| r.status().as_u16())
        })
        .await;
        let why = match sent {
            Ok(Ok(status)) if (200..300).contains(&status) => {
                tracing::debug!(webhook = %url, alert = change.alert().id, attempt, "alert delivered");
                return;
            }
            Ok(Ok(status)) => format!("HTTP {status}"),
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        if attempt == MAX_ATTEMPTS {
            tracing::error!(webhook = %url, alert = change.alert().id, attempts = attempt, error = %why, "alerts: delivery given up");
            return;
        }
        tracing::warn!(webhook = %url, alert = change.alert().id, attempt, error = %why, retry_in_s = backoff.as_secs(), "alerts: delivery failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::check_webhook;

    #[test]
    fn webhook_urls_are_checked() {
        assert!(check_webhook("https://hooks.example/plant").is_ok());
        assert!(check_webhook("http://127.0.0.1:9000/a?b=c").is_ok());
        assert!(check_webhook("ftp://x").is_err());
        assert!(check_webhook("https://").is_err());
        assert!(
            check_webhook("https://user:secret@hooks.example/")
                .unwrap_err()
                .contains("credentials")
        );
    }
}
