//! The plant's live order book (`takt_twin::orders`): given by the MES or ERP, forecast by the
//! twin in place of the scenario's orders.

use super::*;
use takt_twin::TwinError;
use takt_twin::orders::{OrderBook, OrderBookError, OrderBookRequest};

/// The live order book given last, with where the plant stood when it was given.
#[utoipa::path(get, path = "/twin/orders",
    responses((status = 200, description = "the book", body = OrderBook), (status = 404, description = "No book was given: the forecast uses the scenario's orders (problem+json)", body = Problem)))]
pub(super) async fn twin_orders(At(p): At) -> Result<Json<OrderBook>, Problem> {
    let twin = Arc::clone(&p.twin);
    match blocking(move || twin.order_book()).await? {
        Ok(Some(book)) => Ok(Json(OrderBook::clone(&book))),
        Ok(None) => Err(Problem::not_found(
            "no live order book was given (PUT /twin/orders): the forecast uses the scenario's \
             orders, dated from its start",
        )),
        Err(e) => Err(Problem::internal(format!("the order book: {e}"))),
    }
}

/// Gives the plant's open orders, all of them, replacing the book given before: each order's
/// product, quantity, the pieces done before now, and its release and due times. From now on the
/// forecast and the `order_late` alerts are of these orders; the pieces that leave the plant from
/// now on are counted against them, earliest released first.
#[utoipa::path(put, path = "/twin/orders", request_body = OrderBookRequest,
    responses((status = 200, description = "the book as kept", body = OrderBook), (status = 400, description = "Malformed request (problem+json)", body = Problem), (status = 422, description = "Does not validate: the failing fields, located (problem+json)", body = Problem)))]
pub(super) async fn put_twin_orders(
    At(p): At,
    Body(request): Body<OrderBookRequest>,
) -> Result<Json<OrderBook>, Problem> {
    let twin = Arc::clone(&p.twin);
    let given_ms = now_ms();
    match blocking(move || twin.set_order_book(request, given_ms)).await? {
        Ok(book) => {
            tracing::info!(orders = book.orders.len(), as_of = %book.as_of, "order book given");
            Ok(Json(book))
        }
        Err(TwinError::OrderBook(OrderBookError::Invalid(errors))) => Err(Problem::validation(
            format!("{} fields of the order book do not validate", errors.len()),
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        )),
        Err(e) => Err(Problem::internal(format!("the order book: {e}"))),
    }
}

/// Drops the live order book: the forecast, the buffer levels and the `order_late` alerts go back
/// to the scenario's orders (an open alert of a book's order clears at the next judgement). The
/// same answer whether a book was held or not.
#[utoipa::path(delete, path = "/twin/orders",
    responses((status = 204, description = "No book is held now")))]
pub(super) async fn delete_twin_orders(At(p): At) -> Result<StatusCode, Problem> {
    let twin = Arc::clone(&p.twin);
    blocking(move || twin.clear_order_book())
        .await?
        .map_err(|e| Problem::internal(format!("the order book: {e}")))?;
    tracing::info!("order book dropped: back to the scenario's orders");
    Ok(StatusCode::NO_CONTENT)
}
