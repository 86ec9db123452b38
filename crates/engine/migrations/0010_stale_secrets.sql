-- Keychain entries a credential no longer points at, waiting to be deleted. The trigger
-- records the old entry in the same transaction that replaces it, so a process killed
-- between the commit and the keychain delete leaves a note, and the next start
-- deletes the orphan.
CREATE TABLE stale_secrets (
    key   TEXT PRIMARY KEY,
    since TEXT NOT NULL
);

CREATE TRIGGER token_secret_replaced AFTER UPDATE OF token_secret_key ON credentials
WHEN old.token_secret_key != new.token_secret_key
BEGIN
    INSERT OR IGNORE INTO stale_secrets (key, since) VALUES (old.token_secret_key, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
