//! A mirror saved as bytes and restored, so that a twin over a large store starts from its last
//! saved state and the events stored after it instead of every event (`crate::saved`).
//!
//! What is saved is what the events offered so far made of each asset: its state, the events
//! still held for reordering (as their JSON, read back through the gate's own parser) and its
//! recent history; and the plant's state at the last shifts' starts. What the scenario and the configuration give (the assets, the shift clock, the
//! names always kept, the reorder window) is not saved: it is compared through
//! [`Mirror::fingerprint`], and a mirror saved under other ones is not restored.

use super::starts::ShiftStarts;
use super::{Mirror, Slot};
use crate::event::{self, Checked};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;

/// The code that makes the state from events, and the state's form: a change to any of it gives
/// saved mirrors another fingerprint, so that a state the old code made is left (and every event
/// read once more) rather than taken for the new code's.
const SOURCES: [&str; 8] = [
    include_str!("../mirror.rs"),
    include_str!("starts.rs"),
    include_str!("apply.rs"),
    include_str!("names.rs"),
    include_str!("saved.rs"),
    include_str!("../history.rs"),
    include_str!("../event/mod.rs"),
    include_str!("../event/scan.rs"),
];

/// FNV-1a, 64 bits: the same on every build and machine.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the saved mirror cannot be read: {0}")]
    Unreadable(#[from] postcard::Error),
    #[error("the saved mirror has the assets {saved:?}, this scenario {ours:?}")]
    OtherAssets {
        saved: Vec<String>,
        ours: Vec<String>,
    },
}

impl Mirror {
    /// What the state depends on besides the events: the code that makes it (its version and a
    /// hash of its source), the assets, the shift clock, the names kept whatever the bounds, and
    /// the reorder window. A saved mirror is restored only into a mirror with the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let assets: Vec<&str> = self.slots.iter().map(|s| s.asset.as_str()).collect();
        format!(
            "takt-twin {} ({:016x}); assets {assets:?}; shifts {:?}; known {:?}; reorder {} ms",
            env!("CARGO_PKG_VERSION"),
            fnv1a(&SOURCES),
            self.clock,
            self.known,
            self.config.reorder_window_ms,
        )
    }

    /// The state the events offered so far made, as bytes for [`Mirror::restore`].
    pub fn save(&self) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_stdvec(&(&self.slots, &self.starts))
    }

    /// Takes the state [`Mirror::save`] gave, in place of this mirror's: the same as if the events
    /// offered to the saved one had been offered to this one. The mirror is unchanged on an error.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), RestoreError> {
        let (slots, starts): (Vec<Slot>, ShiftStarts) = postcard::from_bytes(bytes)?;
        let names = |slots: &[Slot]| -> Vec<String> {
            slots.iter().map(|s| s.asset.clone()).collect::<Vec<_>>()
        };
        if names(&slots) != names(&self.slots) {
            return Err(RestoreError::OtherAssets {
                saved: names(&slots),
                ours: names(&self.slots),
            });
        }
        self.slots = slots;
        self.starts = starts;
        Ok(())
    }
}

/// The events held for reordering, saved as their JSON and read back through [`event::parse`].
pub(super) mod pending_as_text {
    use super::*;
    use serde::de::Error;

    pub fn serialize<S: Serializer>(pending: &VecDeque<Checked>, s: S) -> Result<S::Ok, S::Error> {
        let texts = pending
            .iter()
            .map(|c| serde_json::to_string(&c.event))
            .collect::<Result<Vec<String>, _>>()
            .map_err(serde::ser::Error::custom)?;
        texts.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VecDeque<Checked>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|text| event::parse(text).map_err(D::Error::custom))
            .collect()
    }
}
