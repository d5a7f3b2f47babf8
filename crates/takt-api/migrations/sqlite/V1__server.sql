-- The server's store as it was before migrations were versioned: every statement is `IF NOT
-- EXISTS` or idempotent, so a store written by an earlier release takes this version unchanged
-- (one older still, without `jobs.key`, has that column added before; see db/sqlite.rs).
CREATE TABLE IF NOT EXISTS scenarios (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    toml TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    key TEXT
);
UPDATE jobs SET key = 'j' || n WHERE key IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_key ON jobs (key);
