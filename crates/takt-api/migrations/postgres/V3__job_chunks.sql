-- A large experiment is split into chunks of replications, each a job of its own (`parent`: the
-- experiment's job) that any node of the site may take. Chunks are taken before whole jobs, do
-- not count against the site's queue, and go once their experiment has ended.
ALTER TABLE jobs ADD COLUMN parent TEXT;
CREATE INDEX jobs_children ON jobs (parent) WHERE parent IS NOT NULL;
