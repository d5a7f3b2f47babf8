//! The live order book: the orders open in the plant as its MES or ERP gives them, with their due
//! dates in plant time. A scenario's own `[[orders]]` are dated from its `[run] start`; days into a
//! live plant every one of them is due in the past, and a forecast from the twin would call every
//! order overdue. A book given here takes their place in the twin's forecasts (and the `order_late`
//! alerts) until another is given.
//!
//! What the book means:
//! - each order names a product of the scenario, how many pieces it asks for (`quantity`) and how
//!   many of them were finished before the book was given, good and scrapped (`good`, `scrap`: the
//!   MES's confirmed yield and scrap);
//! - it is open from `release` (absent: already) and due at `due` (absent: no due date);
//! - when it is given, the twin notes per product the pieces that had left the plant by then
//!   ([`departed_by_product`](crate::condition::departed_by_product)). Pieces that leave after that
//!   are counted against the book's released orders, earliest release first, then in the book's
//!   order, as FIFO buffers serve them; the parts in the plant then belong to the orders next in
//!   line (`crate::condition`).
//!
//! The book is kept in the twin's store (`order_book`, one row), so every server of a plant and
//! every restart uses the same one.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use takt_model::Model;

/// The most orders a book holds: a plant's open orders for weeks.
pub const MAX_ORDERS: usize = 10_000;
/// The most pieces one order asks for.
pub const MAX_QUANTITY: u32 = 10_000_000;
/// The longest order id or product name, bytes (as an event's names).
pub const MAX_NAME_BYTES: usize = crate::event::MAX_NAME_BYTES;

/// One open order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenOrder {
    /// The order's id in the MES or ERP (unique in the book).
    pub id: String,
    /// A product of the scenario.
    pub product: String,
    /// Pieces the order asks for.
    pub quantity: u32,
    /// Pieces of it finished good before the book was given.
    #[serde(default)]
    pub good: u32,
    /// Pieces of it scrapped before the book was given (with `good`, at most `quantity`).
    #[serde(default)]
    pub scrap: u32,
    /// When its parts may start, RFC 3339 with an offset; absent: released already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// When it is due, RFC 3339 with an offset; absent: no due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
}

/// `PUT /twin/orders`: the plant's open orders, all of them (the book given before is replaced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderBookRequest {
    pub orders: Vec<OpenOrder>,
}

/// The book as the twin keeps it: the orders, and where the plant stood when it was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderBook {
    /// When it took effect: the twin's newest event then (RFC 3339, plant offset).
    pub as_of: String,
    pub as_of_ms: i64,
    /// When it was given, by the clock of the server it was given to (Unix ms).
    pub given_ms: i64,
    pub orders: Vec<OpenOrder>,
    /// Per product, the pieces that had left the plant when it was given: `[good, scrap]` (good
    /// out of the product's last step, scrap from any step).
    pub departed_before: BTreeMap<String, [u64; 2]>,
}

/// A field of a book that does not validate.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Where, as `orders[3].due`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OrderBookError {
    #[error("the order book does not validate: {}", words(.0))]
    Invalid(Vec<Invalid>),
    /// The stored book cannot be read back, or a book cannot be written as JSON.
    #[error("the order book's JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn words(errors: &[Invalid]) -> String {
    let mut text: Vec<String> = errors
        .iter()
        .take(5)
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    if errors.len() > 5 {
        text.push(format!("and {} more", errors.len() - 5));
    }
    text.join("; ")
}

/// The book's orders as the simulator's, with what the forecast's starting state needs besides.
pub struct BookedOrders {
    /// The scenario with the book's orders in place of its own.
    pub model: Arc<Model>,
    /// Per order of `model`: pieces finished before the book was given, `[good, scrap]`.
    pub done: Vec<[u32; 2]>,
    /// Per product index: `[good, scrap]` out of the plant when it was given.
    pub departed_before: Vec<[u64; 2]>,
}

impl OrderBookRequest {
    /// Checks every order against `model`: ids unique and named, products of the scenario,
    /// quantities from 1 to [`MAX_QUANTITY`] with `good` and `scrap` at most the quantity, times
    /// RFC 3339.
    /// Every failing field is given, located.
    pub fn check(&self, model: &Model) -> Result<(), OrderBookError> {
        let errors = check_orders(&self.orders, model);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(OrderBookError::Invalid(errors))
        }
    }
}

fn check_orders(orders: &[OpenOrder], model: &Model) -> Vec<Invalid> {
    let mut errors = Vec::new();
    let mut fail = |field: String, message: String| errors.push(Invalid { field, message });
    if orders.len() > MAX_ORDERS {
        fail(
            "orders".into(),
            format!("at most {MAX_ORDERS} orders, not {}", orders.len()),
        );
        return errors;
    }
    let products: BTreeSet<&str> = model.products.iter().map(|p| p.name.as_str()).collect();
    let mut ids = BTreeSet::new();
    for (i, o) in orders.iter().enumerate() {
        let at = |f: &str| format!("orders[{i}].{f}");
        if o.id.is_empty() || o.id.len() > MAX_NAME_BYTES {
            fail(
                at("id"),
                format!("must have 1 to {MAX_NAME_BYTES} bytes, not {}", o.id.len()),
            );
        } else if !ids.insert(o.id.as_str()) {
            fail(at("id"), format!("`{}` is given twice", o.id));
        }
        if !products.contains(o.product.as_str()) {
            let known: Vec<&str> = products.iter().copied().collect();
            fail(
                at("product"),
                format!(
                    "`{}` is not a product of the scenario ({})",
                    clip(&o.product),
                    known.join(", ")
                ),
            );
        }
        if o.quantity == 0 || o.quantity > MAX_QUANTITY {
            fail(
                at("quantity"),
                format!("must be 1 to {MAX_QUANTITY} pieces, not {}", o.quantity),
            );
        }
        if u64::from(o.good) + u64::from(o.scrap) > u64::from(o.quantity) {
            fail(
                at("good"),
                format!(
                    "{} good and {} scrapped pieces, more than the {} asked",
                    o.good, o.scrap, o.quantity
                ),
            );
        }
        for (field, text) in [("release", &o.release), ("due", &o.due)] {
            if let Some(t) = text
                && let Err(e) = takt_model::time::parse_rfc3339_ms(t)
            {
                fail(at(field), clip(&e.to_string()));
            }
        }
    }
    errors
}

/// A name from outside, cut for an error message.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

impl OrderBook {
    /// The book `request` (checked against `model`) given at `given_ms` when the twin's newest
    /// event was at `as_of_ms`, with the pieces out of the plant then, per product.
    pub fn given(
        request: OrderBookRequest,
        model: &Model,
        (as_of_ms, given_ms): (i64, i64),
        departed_before: BTreeMap<String, [u64; 2]>,
    ) -> Result<OrderBook, OrderBookError> {
        request.check(model)?;
        Ok(OrderBook {
            as_of: model.timebase.format_ms(as_of_ms),
            as_of_ms,
            given_ms,
            orders: request.orders,
            departed_before,
        })
    }

    /// The book's orders in `model` (see [`BookedOrders`]). A book given for another scenario (a
    /// product it no longer has) is refused in words.
    pub fn booked(&self, model: &Model) -> Result<BookedOrders, OrderBookError> {
        let errors = check_orders(&self.orders, model);
        if !errors.is_empty() {
            return Err(OrderBookError::Invalid(errors));
        }
        let product_index: BTreeMap<&str, usize> = model
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        // Checked above: every time parses and every product is known.
        let model_s = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| takt_model::time::parse_rfc3339_ms(t).ok())
                .map(|ms| model.timebase.model_s(ms))
        };
        let orders = self
            .orders
            .iter()
            .map(|o| takt_model::Order {
                id: o.id.clone(),
                product: product_index[o.product.as_str()],
                quantity: o.quantity,
                release_s: model_s(&o.release).map_or(0.0, |s| s.max(0.0)),
                due_s: model_s(&o.due),
                priority: 1.0,
            })
            .collect();
        Ok(BookedOrders {
            model: Arc::new(Model {
                orders,
                ..model.clone()
            }),
            done: self.orders.iter().map(|o| [o.good, o.scrap]).collect(),
            departed_before: model
                .products
                .iter()
                .map(|p| {
                    self.departed_before
                        .get(&p.name)
                        .copied()
                        .unwrap_or_default()
                })
                .collect(),
        })
    }
}

impl crate::Twin {
    /// The live order book given last (`PUT /twin/orders`), if any. The store is asked only when
    /// its book was given; the book is read and parsed again only when that changed (another
    /// server of the plant gave one, or it was cleared), not at every forecast, buffer level or
    /// scrape (a book of 10,000 orders is about 2 MB of JSON). Every book and every drop has a
    /// version of its own in the store ([`crate::store::Store::save_order_book`]), so a book kept
    /// here is never mistaken for one given in the same millisecond by another server.
    pub fn order_book(&self) -> Result<Option<Arc<OrderBook>>, crate::TwinError> {
        Ok(self.order_book_versioned()?.map(|(_, book)| book))
    }

    /// [`Twin::order_book`] with its version in the store (each book given, and each drop, has a
    /// version of its own).
    pub fn order_book_versioned(&self) -> Result<Option<(i64, Arc<OrderBook>)>, crate::TwinError> {
        let mut read = self.book_read();
        let Some(version) = self.store.order_book_version()? else {
            *read = None;
            return Ok(None);
        };
        if let Some((_, book)) = read.as_ref().filter(|(v, _)| *v == version) {
            return Ok(Some((version, Arc::clone(book))));
        }
        let Some((version, body)) = self.store.order_book()? else {
            *read = None;
            return Ok(None);
        };
        let book: Arc<OrderBook> =
            Arc::new(serde_json::from_str(&body).map_err(OrderBookError::Json)?);
        *read = Some((version, Arc::clone(&book)));
        Ok(Some((version, book)))
    }

    /// The book read last, with its version, whatever a reader that panicked left (it is set
    /// whole or not at all).
    fn book_read(&self) -> std::sync::MutexGuard<'_, Option<(i64, Arc<OrderBook>)>> {
        self.order_book_read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops the live order book: the forecast, the buffer levels and the order alerts go back to
    /// the scenario's orders. Dropping none is no error.
    pub fn clear_order_book(&mut self) -> Result<(), crate::TwinError> {
        self.store.clear_order_book()?;
        *self.book_read() = None;
        Ok(())
    }

    /// Makes `request` (checked against `model`) the plant's live order book, as of the newest
    /// event (or `given_ms`, the caller's clock, before any), and keeps it in the store.
    pub fn set_order_book(
        &mut self,
        model: &Model,
        request: OrderBookRequest,
        given_ms: i64,
    ) -> Result<OrderBook, crate::TwinError> {
        let as_of_ms = self.newest_ms().unwrap_or(given_ms);
        let departed = crate::condition::departed_by_product(model, &self.view(as_of_ms), as_of_ms);
        let book = OrderBook::given(request, model, (as_of_ms, given_ms), departed)?;
        let body = serde_json::to_string(&book).map_err(OrderBookError::Json)?;
        let version = self.store.save_order_book(given_ms, &body)?;
        *self.book_read() = Some((version, Arc::new(book.clone())));
        Ok(book)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        takt_model::load_str(
            include_str!("../../../scenarios/bottling-line.toml"),
            std::path::Path::new("bottling-line.toml"),
            None,
        )
        .expect("scenario")
        .model
    }

    fn order(id: &str, product: &str) -> OpenOrder {
        OpenOrder {
            id: id.into(),
            product: product.into(),
            quantity: 100,
            good: 0,
            scrap: 0,
            release: None,
            due: Some("2026-12-07T14:00:00+01:00".into()),
        }
    }

    #[test]
    fn every_failing_field_is_located() {
        let m = model();
        let product = m.products[0].name.clone();
        let mut bad = vec![order("A", &product), order("A", "Lemonade?")];
        bad[0].good = 100;
        bad[0].scrap = 1;
        bad[1].quantity = 0;
        bad[1].due = Some("tomorrow".into());
        bad.push(order("", &product));
        let Err(OrderBookError::Invalid(errors)) = (OrderBookRequest { orders: bad }).check(&m)
        else {
            panic!("a bad book passed");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "orders[0].good",
                "orders[1].id",
                "orders[1].product",
                "orders[1].quantity",
                "orders[1].due",
                "orders[2].id"
            ],
            "{errors:?}"
        );
        assert!(errors[2].message.contains(&product), "{errors:?}");
        let many = OrderBookRequest {
            orders: vec![order("x", &product); MAX_ORDERS + 1],
        };
        assert!(many.check(&m).is_err());
    }

    #[test]
    fn a_book_becomes_the_scenarios_orders_in_model_time() {
        let m = model();
        let product = m.products[0].name.clone();
        let mut first = order("WO-1", &product);
        first.good = 40;
        first.scrap = 2;
        first.release = Some(m.timebase.format_ms(m.timebase.start_ms() - 3_600_000));
        let mut second = order("WO-2", &product);
        second.release = Some(m.timebase.format_ms(m.timebase.start_ms() + 7_200_000));
        second.due = None;
        let book = OrderBook::given(
            OrderBookRequest {
                orders: vec![first, second],
            },
            &m,
            (m.timebase.start_ms(), m.timebase.start_ms()),
            BTreeMap::from([(product.clone(), [7, 1])]),
        )
        .expect("a good book");
        let booked = book.booked(&m).expect("the scenario fits");
        let orders = &booked.model.orders;
        assert_eq!(orders.len(), 2);
        // Released before the scenario's start: released at its start.
        assert_eq!(orders[0].release_s, 0.0);
        assert_eq!(orders[1].release_s, 7200.0);
        assert_eq!(orders[1].due_s, None);
        let due = takt_model::time::parse_rfc3339_ms("2026-12-07T14:00:00+01:00").unwrap();
        assert_eq!(orders[0].due_s, Some(m.timebase.model_s(due)));
        assert_eq!(booked.done, [[40, 2], [0, 0]]);
        assert_eq!(booked.departed_before[0], [7, 1]);
        // The rest of the scenario is its own.
        assert_eq!(booked.model.stations.len(), m.stations.len());
        // A book given for another scenario is refused when used.
        let mut other = m.clone();
        other.products[0].name = "Other".into();
        assert!(matches!(
            book.booked(&other),
            Err(OrderBookError::Invalid(_))
        ));
    }

    /// Two servers of one plant on one store: each reads the book once and keeps it, yet sees the
    /// one the other gave, and the one it dropped, at its next read. (The twins have no events,
    /// so the books are as of the clock given, here before the scenario's start: no pieces out.)
    #[test]
    fn a_book_read_before_is_not_kept_past_a_newer_one() {
        use crate::store::{Durability, Store};
        let m = model();
        let product = m.products[0].name.clone();
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("twin.sqlite");
        let open = || {
            let store = Store::open(&path, Durability::Full).expect("store");
            crate::Twin::open(&m, store, crate::mirror::MirrorConfig::default()).expect("twin")
        };
        let (mut one, mut other) = (open(), open());
        assert!(one.order_book().expect("read").is_none());
        let book = |id: &str| OrderBookRequest {
            orders: vec![order(id, &product)],
        };
        one.set_order_book(&m, book("WO-1"), 1_000).expect("given");
        let first = other.order_book().expect("read").expect("a book");
        assert_eq!(first.orders[0].id, "WO-1");
        // Read again while the store holds the same book: the same one, not parsed anew.
        let again = other.order_book().expect("read").expect("a book");
        assert!(Arc::ptr_eq(&first, &again));
        one.set_order_book(&m, book("WO-2"), 2_000).expect("given");
        assert_eq!(
            other.order_book().expect("read").expect("a book").orders[0].id,
            "WO-2"
        );
        other.clear_order_book().expect("dropped");
        assert!(one.order_book().expect("read").is_none());
        assert!(other.order_book().expect("read").is_none());
        other.clear_order_book().expect("dropping none is no error");
        // Two books given in one millisecond, to two servers: each server reads the one given
        // last, not the one it gave and kept.
        one.set_order_book(&m, book("WO-3"), 3_000).expect("given");
        assert_eq!(
            one.order_book().expect("read").expect("a book").orders[0].id,
            "WO-3"
        );
        other
            .set_order_book(&m, book("WO-4"), 3_000)
            .expect("given");
        for twin in [&one, &other] {
            let read = twin.order_book().expect("read").expect("a book");
            assert_eq!(read.orders[0].id, "WO-4");
        }
        // Dropped, and given again in that millisecond by a clock behind: the new book is read.
        one.clear_order_book().expect("dropped");
        other
            .set_order_book(&m, book("WO-5"), 2_500)
            .expect("given");
        assert_eq!(
            one.order_book().expect("read").expect("a book").orders[0].id,
            "WO-5"
        );
    }
}
