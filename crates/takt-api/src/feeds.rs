//! The feeds of the served twins (an MQTT broker, an OPC UA server), as the server runs them:
//! each listens on a thread of its own, and one that gives up (a broker refusing the login for
//! good, a certificate it will never trust) used to say so only in the log while the server went
//! on serving a twin that nothing fed any more. Here each feed says whether it still listens, and
//! why it stopped; `GET /metrics` shows it as `takt_feed_up`, for the plant's monitoring to alert
//! on, and `GET /twin/feeds` lists a plant's, for the line board's banner.
//!
//! A feed that stopped waits to be started again (`POST /twin/feeds/restart`, the banner's
//! button): once whoever runs the broker or the PLC has mended what refused it, the twin is fed
//! again without a restart of the server.

use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;
use utoipa::ToSchema;

/// One feed of a plant's twin.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Feed {
    pub plant: String,
    /// `mqtt` or `opcua`.
    pub protocol: String,
    /// Where it listens (the broker and topics, the server's endpoint).
    pub source: String,
    /// Whether it still listens.
    pub listening: bool,
    /// Why it stopped listening (absent while it listens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_because: Option<String>,
    /// When it stopped, by the server's clock, Unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at_ms: Option<i64>,
}

/// A plant's feeds (`GET /twin/feeds`), in the order they started.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeedList {
    pub feeds: Vec<Feed>,
}

/// A feed's place among the server's feeds.
#[derive(Clone, Copy, Debug)]
pub struct FeedId(usize);

/// A feed as the server keeps it: its record, and whether it was asked to start again.
#[derive(Debug)]
struct Slot {
    feed: Feed,
    restart: bool,
}

/// The server's feeds, in the order they started.
#[derive(Debug, Default)]
pub struct Feeds {
    slots: Mutex<Vec<Slot>>,
    asked: Condvar,
}

/// How often a stopped feed waiting to be started again looks whether the server stops.
const STOP_LOOK: Duration = Duration::from_millis(200);

impl Feeds {
    /// A feed starts listening.
    pub fn listening(&self, plant: &str, protocol: &str, source: &str) -> FeedId {
        let mut slots = self.lock();
        slots.push(Slot {
            feed: Feed {
                plant: plant.into(),
                protocol: protocol.into(),
                source: source.into(),
                listening: true,
                stopped_because: None,
                stopped_at_ms: None,
            },
            restart: false,
        });
        FeedId(slots.len() - 1)
    }

    /// Asks every stopped feed of `plant` to start again; returns them (as they stopped). A feed
    /// listening is left alone.
    pub fn restart(&self, plant: &str) -> Vec<Feed> {
        let mut slots = self.lock();
        let asked: Vec<Feed> = slots
            .iter_mut()
            .filter(|s| s.feed.plant == plant && !s.feed.listening)
            .map(|s| {
                s.restart = true;
                s.feed.clone()
            })
            .collect();
        drop(slots);
        self.asked.notify_all();
        asked
    }

    /// For a feed that stopped: waits until it is asked to start again (then it is listening
    /// again, and `true`), or until `stop` is raised (the server stops: `false`).
    pub fn wait_for_restart(&self, id: FeedId, stop: &AtomicBool) -> bool {
        let mut slots = self.lock();
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            if let Some(slot) = slots.get_mut(id.0)
                && slot.restart
            {
                slot.restart = false;
                slot.feed.listening = true;
                slot.feed.stopped_because = None;
                slot.feed.stopped_at_ms = None;
                return true;
            }
            slots = self
                .asked
                .wait_timeout(slots, STOP_LOOK)
                .map(|(slots, _)| slots)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// A feed stopped listening, and why (the server stopping it is a reason too), now by the
    /// server's clock.
    pub fn stopped(&self, id: FeedId, because: &str) {
        self.stopped_at(id, because, crate::now_ms());
    }

    /// [`Feeds::stopped`] at a given time, Unix milliseconds.
    pub fn stopped_at(&self, id: FeedId, because: &str, at_ms: i64) {
        if let Some(slot) = self.lock().get_mut(id.0) {
            slot.feed.listening = false;
            slot.feed.stopped_because = Some(because.into());
            slot.feed.stopped_at_ms = Some(at_ms);
            slot.restart = false;
        }
    }

    /// Every feed of every plant.
    pub fn list(&self) -> Vec<Feed> {
        self.lock().iter().map(|s| s.feed.clone()).collect()
    }

    /// The feeds of one plant.
    pub fn of_plant(&self, plant: &str) -> Vec<Feed> {
        self.lock()
            .iter()
            .filter(|s| s.feed.plant == plant)
            .map(|s| s.feed.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        // A feed's record is written whole under the lock: one left by a panicking thread is
        // still whole.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A stopped feed waits; asked to start again it listens, and a feed of another plant or
    /// one listening is not asked; the server stopping ends the wait.
    #[test]
    fn a_stopped_feed_starts_again_when_asked_and_not_otherwise() {
        let feeds = Arc::new(Feeds::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mqtt = feeds.listening("line", "mqtt", "broker:1883");
        let other = feeds.listening("press", "mqtt", "broker:1883");
        feeds.listening("line", "opcua", "opc.tcp://plc:4840");
        feeds.stopped(mqtt, "refused the login");
        feeds.stopped(other, "refused the login");
        let waiting = {
            let (feeds, stop) = (Arc::clone(&feeds), Arc::clone(&stop));
            std::thread::spawn(move || feeds.wait_for_restart(mqtt, &stop))
        };
        let asked = feeds.restart("line");
        assert_eq!(asked.len(), 1);
        assert_eq!(
            asked[0].stopped_because.as_deref(),
            Some("refused the login")
        );
        assert!(waiting.join().expect("waits"));
        let line = feeds.of_plant("line");
        assert!(line.iter().all(|f| f.listening), "{line:?}");
        assert!(!feeds.of_plant("press")[0].listening);
        // Not asked, it waits until the server stops.
        let waiting = {
            let (feeds, stop) = (Arc::clone(&feeds), Arc::clone(&stop));
            std::thread::spawn(move || feeds.wait_for_restart(other, &stop))
        };
        stop.store(true, Ordering::Relaxed);
        assert!(!waiting.join().expect("waits"));
    }
}
