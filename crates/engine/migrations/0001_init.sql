-- Metadata only. Secrets live in the OS keychain; `*_secret_key` columns name the
-- keychain entry, never its value.

CREATE TABLE providers (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    issuer         TEXT,
    authorize_url  TEXT NOT NULL,
    token_url      TEXT NOT NULL,
    userinfo_url   TEXT,
    revocation_url TEXT,
    scopes         TEXT NOT NULL,          -- JSON array
    created_at     TEXT NOT NULL
);

CREATE TABLE provider_apps (
    id                  TEXT PRIMARY KEY,
    provider_id         TEXT NOT NULL UNIQUE REFERENCES providers(id) ON DELETE CASCADE,
    client_id           TEXT NOT NULL,
    client_secret_key   TEXT,              -- keychain entry name; NULL for public clients
    client_secret_last4 TEXT,
    enabled             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL
);

CREATE TABLE credentials (
    id                TEXT PRIMARY KEY,
    provider_id       TEXT NOT NULL REFERENCES providers(id),
    subject           TEXT NOT NULL,       -- the provider's stable account id
    account           TEXT,                -- what a person recognises: email or login
    scopes            TEXT NOT NULL,       -- JSON array of granted scopes
    token_secret_key  TEXT NOT NULL,       -- keychain entry holding the token set
    status            TEXT NOT NULL,
    status_reason     TEXT,
    expires_at        TEXT,
    last_refreshed_at TEXT,
    created_at        TEXT NOT NULL,
    UNIQUE (provider_id, subject)
);

CREATE TABLE connections (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    integration   TEXT NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    created_at    TEXT NOT NULL
);

CREATE TABLE flows (
    id            TEXT PRIMARY KEY,
    provider_id   TEXT NOT NULL,
    connection_id TEXT,
    status        TEXT NOT NULL,           -- pending, completed, failed, expired, cancelled
    error_code    TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT
);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    credential_id TEXT,
    connection_id TEXT,
    detail        TEXT
);
