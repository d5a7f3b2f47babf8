//! Alerts over MQTT: each change is published, QoS 1, to `takt/<site>/alerts/<asset>` (an order's:
//! `takt/<site>/alerts/order-<id>`) as JSON
//! `{"change": "raised", "plant": ..., "alert": {...}}`, on the broker the twin listens to (with
//! its login and TLS). The topic has four levels, so the twin's own subscription to
//! `takt/<site>/+/+/+` never takes alerts for events. The session persists and rumqttc resends
//! what the broker has not acknowledged after a reconnect; the alerts are stored before they are
//! published.

use super::AlertChange;
use crate::mqtt::{MqttConfig, MqttError, options};
use rumqttc::{Client, Event, Packet, QoS};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A connection that publishes alert changes. It reconnects while the broker is away; a broker
/// that refuses it (its login, TLS) ends it, said once in the log.
pub struct AlertPublisher {
    client: Client,
    site: String,
    plant: String,
    /// Publications the broker acknowledged (PUBACK).
    acknowledged: Arc<AtomicU64>,
}

impl AlertPublisher {
    /// Connects (in the background, reconnecting with backoff) as `<client id>-alerts`.
    pub fn connect(config: &MqttConfig, plant: &str) -> Result<AlertPublisher, MqttError> {
        let options = options(config, &format!("{}-alerts", config.client_id))?;
        let (client, mut connection) = Client::new(options, 1000);
        let acknowledged = Arc::new(AtomicU64::new(0));
        let acks = Arc::clone(&acknowledged);
        let broker = format!("{}:{}", config.host, config.port);
        std::thread::spawn(move || {
            let mut backoff = Duration::from_millis(100);
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => backoff = Duration::from_millis(100),
                    Ok(_) => {}
                    Err(e) => {
                        // A refusal that a retry meets again (the login, TLS): said once, and the
                        // alerts stay stored and on the API; the feed beside it stops the same way.
                        if let Some(reason) = crate::mqtt::fatal_reason(&e) {
                            tracing::error!(broker = %broker, %reason, "alerts over MQTT: the broker refuses the connection; alerts are not published");
                            return;
                        }
                        tracing::warn!(broker = %broker, error = %e, "alerts over MQTT: connection lost; retrying");
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });
        Ok(AlertPublisher {
            client,
            site: config.site.clone(),
            plant: plant.to_string(),
            acknowledged,
        })
    }

    /// The topic of an alert: `takt/<site>/alerts/<asset>`, or `.../order-<id>` for an order.
    pub fn topic(&self, alert: &super::Alert) -> String {
        match &alert.order {
            Some(order) if alert.asset.is_empty() => {
                format!("takt/{}/alerts/order-{order}", self.site)
            }
            _ => format!("takt/{}/alerts/{}", self.site, alert.asset),
        }
    }

    /// Queues a change for the broker (it is sent, and resent, by the connection's thread).
    pub fn publish(&self, change: &AlertChange) {
        let alert = change.alert();
        let payload = serde_json::json!({
            "change": change.kind(),
            "plant": self.plant,
            "alert": alert,
        });
        if let Err(e) = self.client.try_publish(
            self.topic(alert),
            QoS::AtLeastOnce,
            false,
            payload.to_string(),
        ) {
            tracing::error!(alert = alert.id, error = %e, "alerts over MQTT: not queued (the alert is stored)");
        }
    }

    /// How many publications the broker has acknowledged.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged.load(Ordering::Relaxed)
    }
}
