-- Grants to revoke at the provider once their last connection is gone (RFC 7009).
-- The row is written in the transaction that deletes the credential, so the
-- revocation survives a failed attempt, a crash or a restart; the keychain item with
-- the tokens stays until the provider has been told (or cannot be).
CREATE TABLE pending_revocations (
    credential_id    TEXT PRIMARY KEY,
    provider_id      TEXT NOT NULL,
    token_secret_key TEXT NOT NULL,
    subject          TEXT NOT NULL,        -- the removed connection, for messages
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    created_at       TEXT NOT NULL
);
