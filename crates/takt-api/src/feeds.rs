//! The feeds of the served twins (an MQTT broker, an OPC UA server), as the server runs them:
//! each listens on a thread of its own, and one that gives up (a broker refusing the login for
//! good, a certificate it will never trust) used to say so only in the log while the server went
//! on serving a twin that nothing fed any more. Here each feed says whether it still listens, and
//! why it stopped; `GET /metrics` shows it as `takt_feed_up`, for the plant's monitoring to alert
//! on.

use std::sync::Mutex;

/// One feed of a plant's twin.
#[derive(Clone, Debug, PartialEq)]
pub struct Feed {
    pub plant: String,
    /// `mqtt` or `opcua`.
    pub protocol: String,
    /// Where it listens (the broker and topics, the server's endpoint).
    pub source: String,
    /// Why it stopped listening; `None` while it listens.
    pub stopped_because: Option<String>,
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
            stopped_because: None,
        });
        FeedId(feeds.len() - 1)
    }

    /// A feed stopped listening, and why (the server stopping it is a reason too).
    pub fn stopped(&self, id: FeedId, because: &str) {
        if let Some(feed) = self.lock().get_mut(id.0) {
            feed.stopped_because = Some(because.into());
        }
    }

    pub fn list(&self) -> Vec<Feed> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Feed>> {
        // A feed's record is written whole under the lock: one left by a panicking thread is
        // still whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
