-- When the person last signed in for the credential (a sign-in or a reconnect; not a
-- refresh). NULL: signed in before this was kept, or an API key.
ALTER TABLE credentials ADD COLUMN signed_in_at TEXT;
