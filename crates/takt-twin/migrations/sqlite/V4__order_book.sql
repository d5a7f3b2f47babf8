-- The plant's live order book as last given (`PUT /twin/orders`, `src/orders.rs`): its open orders
-- and where the plant stood when it was given, as JSON. One row at most; a new book replaces it.
CREATE TABLE order_book (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    given_ms INTEGER NOT NULL,
    body TEXT NOT NULL
);
