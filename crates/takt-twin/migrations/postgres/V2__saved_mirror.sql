-- The twin's mirror as last saved, so that a server over a large store starts from it and the
-- events stored after it instead of reading every event (`src/saved.rs`). One row at most; of the
-- servers of a plant, the one that saved through the highest id keeps it. `read_through` is the
-- id through which every stored event made the state in `body` (postcard,
-- `src/mirror/saved.rs`); `fingerprint` says what else the state depends on (the scenario's
-- assets, shifts and names, the reorder window, the format), compared before it is used.
CREATE TABLE saved_mirror (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    read_through BIGINT NOT NULL,
    saved_ms BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    body BYTEA NOT NULL
);
