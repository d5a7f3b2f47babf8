-- The server's store on PostgreSQL, shared by the servers of a site. A job belongs to the server
-- (`node`) that runs it, which renews `heartbeat_ms` while it is queued or running; a job whose
-- server fell silent is marked `interrupted` by any other. A cancel asked of another server is
-- `cancel_requested`, which the job's own server sees at its next heartbeat, which also stores
-- the job's progress for the others to show.
CREATE TABLE scenarios (
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    toml TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX scenarios_by_text ON scenarios (md5(toml));

CREATE TABLE jobs (
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    node TEXT NOT NULL,
    heartbeat_ms BIGINT NOT NULL,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    -- The job's progress as its server last renewed it (the other servers show this one).
    progress_done BIGINT,
    progress_total BIGINT
);
CREATE INDEX jobs_open ON jobs (node) WHERE status IN ('queued', 'running');
