-- The event store on PostgreSQL. Events are partitioned by their time stamp, one partition per
-- week (created by the store as events arrive, dropped whole by the retention), so old weeks go
-- without a DELETE's cost. A partitioned table's unique keys must hold the partition key, so the
-- idempotency by asset + sequence number is a table of its own, `event_keys`, across all weeks.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    asset TEXT NOT NULL,
    seq BIGINT NOT NULL,
    ts_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
) PARTITION BY RANGE (ts_ms);
CREATE INDEX events_by_id ON events (id);

CREATE TABLE event_keys (
    seq BIGINT NOT NULL,
    asset TEXT NOT NULL,
    ts_ms BIGINT NOT NULL,
    PRIMARY KEY (seq, asset)
);
CREATE INDEX event_keys_by_time ON event_keys (ts_ms);

CREATE TABLE dead_letters (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_ms BIGINT NOT NULL,
    source TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE alerts (
    id BIGINT PRIMARY KEY,
    open BOOLEAN NOT NULL,
    body TEXT NOT NULL
);
