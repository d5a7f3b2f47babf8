-- A job's input as data (its `JobSpec`, JSON), kept with the job.
ALTER TABLE jobs ADD COLUMN spec TEXT;
