-- The addresses a credential was signed in with: its provider app's site and the
-- endpoints in use then, as JSON. Refresh, revocation, checks and git use these, so an
-- edited provider app sends no token to another host before the person reconnects.
-- NULL: signed in before they were kept; the addresses of the day are kept at first use.
ALTER TABLE credentials ADD COLUMN addresses TEXT;
-- A removed credential's addresses, for its revocation.
ALTER TABLE pending_revocations ADD COLUMN addresses TEXT;
-- A custom provider whose configuration promises `iss` in authorization responses
-- (RFC 9207 authorization_response_iss_parameter_supported): one without it is refused.
ALTER TABLE providers ADD COLUMN issuer_in_responses INTEGER NOT NULL DEFAULT 0;
-- The algorithms its configuration says it signs ID tokens with (JSON list of names,
-- id_token_signing_alg_values_supported); NULL: RS256, OpenID Connect's default.
ALTER TABLE providers ADD COLUMN id_token_algorithms TEXT;
