-- The jobs table becomes the site's queue. A queued job has its input (`spec`, a `JobSpec` as
-- JSON) and no node; a node takes it (`FOR UPDATE SKIP LOCKED`) and holds it while its lease
-- (`lease_until_ms`, renewed with each heartbeat) lasts. A job whose node fell silent past its
-- lease is queued again (`attempts` counts how often it was taken).
ALTER TABLE jobs ADD COLUMN spec TEXT;
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_until_ms BIGINT;
ALTER TABLE jobs ALTER COLUMN node DROP NOT NULL;
UPDATE jobs SET lease_until_ms = heartbeat_ms + 30000, attempts = 1
    WHERE status IN ('queued', 'running');
CREATE INDEX jobs_queued ON jobs (n) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until_ms) WHERE status = 'running';
