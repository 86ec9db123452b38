-- Where ID tokens' signing keys (JWKS) are published. providers: a custom provider's
-- `jwks_uri` from OpenID discovery, kept so a sign-in need not discover it again (NULL
-- for providers added before this column, or without one). provider_apps: the person's
-- override of a provider's JWKS URL, like the other endpoint overrides.
ALTER TABLE providers ADD COLUMN jwks_url TEXT;
ALTER TABLE provider_apps ADD COLUMN jwks_url TEXT;
