-- Provider apps and credentials for built-in (catalog) providers as well as custom
-- ones: `provider_id` is a catalog provider id ("google") or a custom provider's id,
-- so the foreign keys to `providers` go. Provider apps gain the enabled toggle's
-- history, a site (GitHub Enterprise URL, Microsoft tenant) and endpoint overrides.

CREATE TABLE provider_apps_new (
    id                  TEXT PRIMARY KEY,
    provider_id         TEXT NOT NULL UNIQUE,
    client_id           TEXT NOT NULL,
    client_secret_key   TEXT,              -- keychain entry name; NULL for public clients
    client_secret_last4 TEXT,
    enabled             INTEGER NOT NULL DEFAULT 1,
    site                TEXT,              -- NULL: the provider's default
    authorize_url       TEXT,              -- overrides; NULL: the provider's own
    token_url           TEXT,
    revocation_url      TEXT,
    userinfo_url        TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT
);
INSERT INTO provider_apps_new (id, provider_id, client_id, client_secret_key, client_secret_last4,
    enabled, created_at)
SELECT id, provider_id, client_id, client_secret_key, client_secret_last4, enabled, created_at
FROM provider_apps;
DROP TABLE provider_apps;
ALTER TABLE provider_apps_new RENAME TO provider_apps;

CREATE TABLE credentials_new (
    id                TEXT PRIMARY KEY,
    provider_id       TEXT NOT NULL,
    subject           TEXT NOT NULL,
    account           TEXT,
    scopes            TEXT NOT NULL,
    token_secret_key  TEXT NOT NULL,
    status            TEXT NOT NULL,
    status_reason     TEXT,
    expires_at        TEXT,
    last_refreshed_at TEXT,
    created_at        TEXT NOT NULL,
    refresh_due_at    TEXT,
    UNIQUE (provider_id, subject)
);
INSERT INTO credentials_new SELECT id, provider_id, subject, account, scopes, token_secret_key,
    status, status_reason, expires_at, last_refreshed_at, created_at, refresh_due_at
FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_new RENAME TO credentials;

-- A custom provider's connections name the provider as their integration, by id.
UPDATE connections SET integration = (
    SELECT k.provider_id FROM credentials k WHERE k.id = connections.credential_id)
WHERE integration IN (SELECT name FROM providers);
