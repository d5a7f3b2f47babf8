-- The event store as it was before migrations were versioned: every statement is `IF NOT EXISTS`,
-- so a store written by an earlier release takes this version unchanged.
-- The unique key puts `seq` first: the probe for a duplicate, on every insert, then compares an
-- integer before it compares any text.
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    asset TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (seq, asset)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    open INTEGER NOT NULL,
    body TEXT NOT NULL
);
