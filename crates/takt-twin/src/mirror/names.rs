//! Bounds on the names events bring into an asset's state. Products, signals, alarms and stop
//! reasons are keys of maps the twin keeps for the plant's life; a sender that writes a counter or
//! a time into one of them would otherwise grow the state with every event. The names the scenario
//! gives (its products and failure modes) are always kept. Others take the room the scenario's
//! names have not taken yet, and [`MAX_OTHER_PRODUCTS`] or [`MAX_OTHER_REASONS`] more; an asset
//! keeps at most:
//! - as many products as the scenario has plus [`MAX_OTHER_PRODUCTS`], further ones counted
//!   together under [`OTHER_PRODUCTS`] (totals stay right; only the split by name is lost), and
//!   the scenario's own, always by name;
//! - [`MAX_SIGNALS`] signals and [`MAX_ALARMS`] active alarms, further ones not shown;
//! - the repairs of as many stop reasons as the scenario has failure modes plus
//!   [`MAX_OTHER_REASONS`], and of the failure modes always (only theirs are read, for their age).
//!
//! Every event stays in the store whole; the first name an asset's map refuses is logged.
//! Names themselves are at most [`crate::event::MAX_NAME_BYTES`] long.

use std::collections::{BTreeMap, BTreeSet};
use takt_model::Model;

pub const MAX_OTHER_PRODUCTS: usize = 64;
/// The product pieces count under once an asset has seen [`MAX_OTHER_PRODUCTS`] products the
/// scenario does not have.
pub const OTHER_PRODUCTS: &str = "(other products)";
pub const MAX_SIGNALS: usize = 256;
pub const MAX_ALARMS: usize = 256;
pub const MAX_OTHER_REASONS: usize = 64;

/// The names a scenario gives events, kept whatever the bounds.
#[derive(Debug, Clone, Default)]
pub struct KnownNames {
    pub(super) products: BTreeSet<String>,
    pub(super) failure_modes: BTreeSet<String>,
}

impl KnownNames {
    pub fn of(model: &Model) -> KnownNames {
        KnownNames {
            products: model.products.iter().map(|p| p.name.clone()).collect(),
            failure_modes: model
                .stations
                .iter()
                .flat_map(|s| &s.failure_modes)
                .map(|f| f.name.clone())
                .collect(),
        }
    }

    /// The key `product`'s pieces count under in `map` (which lacks it): its own name when the
    /// scenario has it or `map` has room, else [`OTHER_PRODUCTS`].
    pub(super) fn product_key<V>(
        &self,
        map: &BTreeMap<String, V>,
        product: &str,
        refused: &mut Refused,
    ) -> String {
        if product.is_empty()
            || self.products.contains(product)
            || map.len() < self.products.len() + MAX_OTHER_PRODUCTS
        {
            product.to_string()
        } else {
            refused.0 |= Refused::PRODUCT;
            OTHER_PRODUCTS.to_string()
        }
    }

    /// Whether the repair that ends a stop for `reason` is kept in `renewals`.
    pub(super) fn keeps_renewal<V>(
        &self,
        renewals: &BTreeMap<String, V>,
        reason: &str,
        refused: &mut Refused,
    ) -> bool {
        let kept = self.failure_modes.contains(reason)
            || renewals.contains_key(reason)
            || renewals.len() < self.failure_modes.len() + MAX_OTHER_REASONS;
        if !kept {
            refused.0 |= Refused::REASON;
        }
        kept
    }
}

/// Whether `map` takes `name`, a signal or an alarm: it has it already, or has room below `max`.
pub(super) fn keeps<V>(
    map: &BTreeMap<String, V>,
    name: &str,
    max: usize,
    refused: &mut Refused,
    kind: u8,
) -> bool {
    let kept = map.len() < max || map.contains_key(name);
    if !kept {
        refused.0 |= kind;
    }
    kept
}

/// Which of an asset's bounds have refused a name (bits), so that each is logged once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refused(pub(super) u8);

impl Refused {
    pub(super) const PRODUCT: u8 = 1;
    pub(super) const SIGNAL: u8 = 2;
    pub(super) const ALARM: u8 = 4;
    pub(super) const REASON: u8 = 8;
    #[cfg(test)]
    pub(super) const ALL: u8 = 15;

    /// The kinds of names refused, in words.
    pub(super) fn kinds(self) -> impl Iterator<Item = &'static str> {
        [
            (Refused::PRODUCT, "products"),
            (Refused::SIGNAL, "signals"),
            (Refused::ALARM, "alarms"),
            (Refused::REASON, "stop reasons"),
        ]
        .into_iter()
        .filter(move |(bit, _)| self.0 & bit != 0)
        .map(|(_, kind)| kind)
    }

    /// Logs the bounds `now` has that `before` had not.
    pub(super) fn log_new(before: Refused, now: Refused, asset: &str) {
        let new = now.0 & !before.0;
        for (bit, most, what) in [
            (
                Refused::PRODUCT,
                MAX_OTHER_PRODUCTS,
                "products the scenario does not have; further ones count as `(other products)`",
            ),
            (
                Refused::SIGNAL,
                MAX_SIGNALS,
                "signals; further ones are stored, not shown",
            ),
            (
                Refused::ALARM,
                MAX_ALARMS,
                "active alarms; further ones are stored, not shown",
            ),
            (
                Refused::REASON,
                MAX_OTHER_REASONS,
                "stop reasons that are not failure modes; their repairs are not kept",
            ),
        ] {
            if new & bit != 0 {
                tracing::warn!(asset, "the twin keeps at most {most} {what}");
            }
        }
    }
}
