-- A job's progress as it stood at its end (done and total steps), stored with the end: the server
-- keeps no job in memory once its end is stored.
ALTER TABLE jobs ADD COLUMN progress_done INTEGER;
ALTER TABLE jobs ADD COLUMN progress_total INTEGER;
