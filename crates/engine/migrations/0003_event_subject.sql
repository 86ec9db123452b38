-- What an event is about, in words a person recognises (connection names), kept with
-- the event so it still reads right after the connection is removed.
ALTER TABLE events ADD COLUMN subject TEXT;
