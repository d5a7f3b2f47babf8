//! When a live listener (MQTT, OPC UA) stores what it has received: a full batch at once, a partial
//! one as soon as the stream pauses or `batch_wait` after its first message, and an empty report
//! every `quiet_tick` while nothing comes (so that what depends on the clock, an alert on a machine
//! gone silent, is judged while the plant says nothing).

use std::time::{Duration, Instant};

/// A pause in the stream this long stores the partial batch.
const IDLE: Duration = Duration::from_millis(2);

pub(crate) struct Batching {
    batch: usize,
    batch_wait: Duration,
    quiet_tick: Duration,
    /// When the first message of the pending batch arrived.
    first_at: Option<Instant>,
    /// When the caller was last called back (a batch stored, or a quiet tick).
    last_call: Instant,
}

impl Batching {
    pub(crate) fn new(batch: usize, batch_wait: Duration, quiet_tick: Duration) -> Batching {
        Batching {
            batch,
            batch_wait,
            quiet_tick,
            first_at: None,
            last_call: Instant::now(),
        }
    }

    /// How long to wait for the next message.
    pub(crate) fn wait(&self) -> Duration {
        self.first_at.map_or(Duration::from_millis(100), |t| {
            IDLE.min(self.batch_wait.saturating_sub(t.elapsed()))
        })
    }

    /// A message arrived.
    pub(crate) fn arrived(&mut self) {
        self.first_at.get_or_insert_with(Instant::now);
    }

    /// Nothing came within [`Batching::wait`]: whether a quiet tick is due (with nothing pending).
    pub(crate) fn quiet_tick_due(&mut self, pending: usize) -> bool {
        let due = pending == 0 && self.last_call.elapsed() >= self.quiet_tick;
        if due {
            self.last_call = Instant::now();
        }
        due
    }

    /// Whether the `pending` messages are to be stored now; `idle`: the stream paused.
    pub(crate) fn store_due(&self, pending: usize, idle: bool) -> bool {
        let due = idle
            || self
                .first_at
                .is_some_and(|t| t.elapsed() >= self.batch_wait);
        pending >= self.batch || (due && pending > 0)
    }

    /// The pending batch was stored.
    pub(crate) fn stored(&mut self) {
        self.first_at = None;
        self.last_call = Instant::now();
    }
}

/// A TOML error as a person reads it: `line 4: unknown variant ...`.
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let at = e
        .span()
        .map(|s| {
            let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: ")
        })
        .unwrap_or_default();
    format!("{at}{}", e.message())
}
