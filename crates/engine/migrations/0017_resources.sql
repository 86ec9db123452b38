-- Client identities Grantkeeper obtained from an authorization server by itself
-- (dynamic client registration, RFC 7591), reused for later sign-ins there. Secrets
-- (a client secret, a registration access token) live in the keychain.
CREATE TABLE registrations (
    id                     TEXT PRIMARY KEY,
    issuer                 TEXT NOT NULL,
    client_id              TEXT NOT NULL,
    redirect_uri           TEXT NOT NULL,   -- exactly as registered, port included
    client_auth            TEXT NOT NULL,   -- 'none', 'basic' or 'post'
    client_secret_key      TEXT,            -- keychain entry name
    registration_token_key TEXT,            -- keychain entry name (RFC 7592)
    registration_client_uri TEXT,
    created_at             TEXT NOT NULL
);
CREATE INDEX registrations_by_issuer ON registrations (issuer);

-- A forgotten registration's keychain entries are deleted by the next start's repair.
CREATE TRIGGER registration_forgotten AFTER DELETE ON registrations
BEGIN
    INSERT OR IGNORE INTO stale_secrets (key, since)
        SELECT key, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
        FROM (SELECT old.client_secret_key AS key UNION ALL SELECT old.registration_token_key)
        WHERE key IS NOT NULL;
END;

-- URLs guarded by OAuth that a person connected directly (an MCP server, an API), found
-- through their protected resource metadata (RFC 9728). Each has a row of `providers`
-- for its authorization server, made for it; its tokens are bound to `url` (RFC 8707).
CREATE TABLE resources (
    provider_id      TEXT PRIMARY KEY REFERENCES providers(id) ON DELETE CASCADE,
    url              TEXT NOT NULL UNIQUE,
    metadata_url     TEXT NOT NULL,
    -- Whose client identity signs in: a registration, or the provider app of a provider
    -- the person added for the same authorization server.
    registration_id  TEXT REFERENCES registrations(id) ON DELETE SET NULL,
    client_provider_id TEXT REFERENCES providers(id) ON DELETE SET NULL,
    -- Scopes the server asked for on a refusal (403 insufficient_scope): what the
    -- connection needs beyond its grant.
    needed_scopes    TEXT NOT NULL DEFAULT '[]',
    created_at       TEXT NOT NULL
);
