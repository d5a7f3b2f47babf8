-- Events kept a batch per row. Before, each event was a row of its own with its text, made unique
-- by an index on (seq, asset): about 8,900 instructions per event, most of a durable replay, and
-- the index's B-tree alone about 3,000.
-- Now a batch's accepted events are one row of `event_batches`:
-- - `keys`: per event its asset's number (`event_assets`) and its seq, big-endian u32 then u64;
--   an event a repair moved to the dead letters has the asset number FFFFFFFF;
-- - `texts`: the texts one after another; `ends`: where each ends, big-endian u32 byte offsets
--   (NULL for a row of one text).
-- `asset` + `seq` stays unique: the store keeps the keys in memory (read at open, and what other
-- processes wrote before each append, under the write lock) and checks each event there.
-- Events stored before keep their order: each becomes a row of one.
CREATE TABLE event_assets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE event_batches (
    id INTEGER PRIMARY KEY,
    keys BLOB NOT NULL,
    ends BLOB,
    texts TEXT NOT NULL
);
INSERT INTO event_assets (name) SELECT DISTINCT asset FROM events ORDER BY asset;
INSERT INTO event_batches (id, keys, ends, texts)
    SELECT e.id, unhex(printf('%08X%016X', a.id, e.seq)), NULL, e.body
    FROM events e JOIN event_assets a ON a.name = e.asset ORDER BY e.id;
DROP TABLE events;
