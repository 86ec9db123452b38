-- A credential deleted while a refresh it began was never settled (its process was
-- killed, and the tokens could not be adopted first): the entry the refresh wrote to
-- would be left in the keychain with nothing pointing at it, so the app's next start
-- deletes it.
CREATE TRIGGER pending_secret_orphaned AFTER DELETE ON credentials
WHEN old.pending_token_key IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO stale_secrets (key, since)
        VALUES (old.pending_token_key, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
