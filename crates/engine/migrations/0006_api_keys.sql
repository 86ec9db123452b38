-- API-key credentials: the key's non-secret fields (a Twilio Account SID, the API's
-- base URL) as a JSON object. NULL for OAuth credentials. The key itself stays in the
-- keychain like every token.
ALTER TABLE credentials ADD COLUMN key_fields TEXT;
