-- What a job was, in one line (the plant, its variants or objective), made when it was submitted:
-- a list of earlier jobs shows it without reading their specs. Jobs stored before have none.
ALTER TABLE jobs ADD COLUMN title TEXT;
