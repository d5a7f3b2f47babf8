//! The twin's mirror saved into its store, so that a twin over a large store starts from the last
//! saved state and the events stored after it, instead of reading every event (a week of a
//! 50-line site is about 200 M events, 11 minutes at 300,000 events/s; events a retention dropped
//! are not read at all).
//!
//! A twin saves after every [`EVERY_EVENTS`] events it mirrored (or [`EVERY`] with any), at the
//! end of a pipelined replay, and when a server stops ([`Twin::save_mirror`]). What it saves is
//! the mirror's state ([`Mirror::save`]), how many events made it, the newest time stamp, and the
//! id through which the store gave it every event ([`Store::read_through`]). At opening
//! ([`resume`]), a saved mirror of the same fingerprint (the code that makes the state, the
//! scenario, the configuration: [`Mirror::fingerprint`]) is restored and only the events after
//! its id are read; any other is left, and every event is read as before. Starting
//! from a saved mirror gives the state a reading of every event gives (test
//! `a_twin_started_from_its_saved_mirror_is_the_twin_rebuilt_from_every_event`).

use crate::Twin;
use crate::mirror::Mirror;
use crate::store::{SavedMirror, Store, StoreError};
use serde::{Deserialize, Serialize};

/// A twin saves its mirror after this many events mirrored since it last saved or opened: at
/// 300,000 events/s, a start reads at most about two seconds of events after the saved state.
pub const EVERY_EVENTS: u64 = 500_000;
/// ... or after this long, with any event mirrored since: a plant that sends a few events a
/// second, and stops without saving (killed, a power cut), leaves at most this much to read again.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Serialize, Deserialize)]
struct Body {
    /// Events the twin had accepted into the mirror.
    accepted: u64,
    newest_ms: Option<i64>,
    mirror: Vec<u8>,
}

/// Where a twin restored from a saved mirror stands.
pub(crate) struct Resumed {
    pub read_through: i64,
    pub accepted: u64,
    pub newest_ms: Option<i64>,
}

/// Restores the store's saved mirror into `mirror` when it was saved with the same fingerprint,
/// else leaves `mirror` as it is (and says why in the log).
pub(crate) fn resume(store: &Store, mirror: &mut Mirror) -> Result<Option<Resumed>, StoreError> {
    let Some(saved) = store.saved_mirror()? else {
        return Ok(None);
    };
    if saved.fingerprint != mirror.fingerprint() {
        tracing::info!(
            saved = %saved.fingerprint,
            "the saved mirror is of another scenario, configuration or version: every stored event is read"
        );
        return Ok(None);
    }
    let body: Body = match postcard::from_bytes(&saved.body) {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(error = %e, "the saved mirror cannot be read: every stored event is read");
            return Ok(None);
        }
    };
    if let Err(e) = mirror.restore(&body.mirror) {
        tracing::warn!(error = %e, "the saved mirror is not restored: every stored event is read");
        return Ok(None);
    }
    tracing::info!(
        events = body.accepted,
        read_through = saved.read_through,
        saved_ms = saved.saved_ms,
        "twin: started from its saved mirror"
    );
    Ok(Some(Resumed {
        read_through: saved.read_through,
        accepted: body.accepted,
        newest_ms: body.newest_ms,
    }))
}

impl Twin {
    /// Saves the mirror into the store, as of every event the store gave it; `false` (nothing
    /// saved) when the store cannot tell through which event that is ([`Store::read_through`]).
    pub fn save_mirror(&mut self) -> Result<bool, crate::TwinError> {
        let Some(read_through) = self.store.read_through() else {
            return Ok(false);
        };
        let body = Body {
            accepted: self.counters.accepted,
            newest_ms: self.newest_ms,
            mirror: self.mirror.save()?,
        };
        let saved_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.store.save_mirror(&SavedMirror {
            read_through,
            saved_ms,
            fingerprint: self.mirror.fingerprint(),
            body: postcard::to_stdvec(&body)?,
        })?;
        self.unsaved = 0;
        self.saved_at = std::time::Instant::now();
        Ok(true)
    }

    /// [`Twin::save_mirror`] once [`EVERY_EVENTS`] events were mirrored since the last save, or
    /// some in [`EVERY`]; a failure is logged, not returned: the events are stored, and the next
    /// save tries again.
    pub(crate) fn save_mirror_if_due(&mut self) {
        let due =
            self.unsaved >= EVERY_EVENTS || (self.unsaved > 0 && self.saved_at.elapsed() >= EVERY);
        if !due {
            return;
        }
        match self.save_mirror() {
            Ok(true) => tracing::debug!("twin: mirror saved"),
            Ok(false) => {
                // Not before as many events, or as long, again.
                self.unsaved = 0;
                self.saved_at = std::time::Instant::now();
                tracing::info!(
                    "twin: mirror not saved, the store cannot tell through which event it is (another process wrote to it)"
                );
            }
            Err(e) => tracing::warn!(error = %e, "twin: mirror not saved"),
        }
    }
}
