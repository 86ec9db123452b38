-- A retrying credential whose provider said when to come back (Retry-After): not before
-- this time, even when waking or the network coming back makes the others go at once.
ALTER TABLE credentials ADD COLUMN retry_not_before TEXT;
