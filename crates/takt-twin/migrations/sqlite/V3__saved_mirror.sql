-- The twin's mirror as last saved, so that a twin over a large store starts from it and the
-- events stored after it instead of reading every event (`src/saved.rs`). One row at most:
-- `read_through` is the id through which every stored event made the state in `body` (postcard,
-- `src/mirror/saved.rs`); `fingerprint` says what else the state depends on (the scenario's
-- assets, shifts and names, the reorder window, the format), compared before it is used.
CREATE TABLE saved_mirror (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    read_through INTEGER NOT NULL,
    saved_ms INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    body BLOB NOT NULL
);
