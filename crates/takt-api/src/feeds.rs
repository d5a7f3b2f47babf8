//! The feeds of the served twins (an MQTT broker, an OPC UA server), as the server runs them:
//! each listens on a thread of its own, and one that gives up (a broker refusing the login for
//! good, a certificate it will never trust) used to say so only in the log while the server went
//! on serving a twin that nothing fed any more. Here each feed says whether it still listens, and
//! why it stopped; `GET /metrics` shows it as `takt_feed_up`, for the plant's monitoring to alert
//! on, and `GET /twin/feeds` lists a plant's, for the line board's banner.

use serde::Serialize;
use std::sync::Mutex;
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

/// The server's feeds, in the order they started.
#[derive(Debug, Default)]
pub struct Feeds(Mutex<Vec<Feed>>);

impl Feeds {
    /// A feed starts listening.
    pub fn listening(&self, plant: &str, protocol: &str, source: &str) -> FeedId {
        let mut feeds = self.lock();
        feeds.push(Feed {
            plant: plant.into(),
            protocol: protocol.into(),
            source: source.into(),
            listening: true,
            stopped_because: None,
            stopped_at_ms: None,
        });
        FeedId(feeds.len() - 1)
    }

    /// A feed stopped listening, and why (the server stopping it is a reason too), now by the
    /// server's clock.
    pub fn stopped(&self, id: FeedId, because: &str) {
        self.stopped_at(id, because, crate::now_ms());
    }

    /// [`Feeds::stopped`] at a given time, Unix milliseconds.
    pub fn stopped_at(&self, id: FeedId, because: &str, at_ms: i64) {
        if let Some(feed) = self.lock().get_mut(id.0) {
            feed.listening = false;
            feed.stopped_because = Some(because.into());
            feed.stopped_at_ms = Some(at_ms);
        }
    }

    /// Every feed of every plant.
    pub fn list(&self) -> Vec<Feed> {
        self.lock().clone()
    }

    /// The feeds of one plant.
    pub fn of_plant(&self, plant: &str) -> Vec<Feed> {
        self.lock()
            .iter()
            .filter(|f| f.plant == plant)
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Feed>> {
        // A feed's record is written whole under the lock: one left by a panicking thread is
        // still whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
