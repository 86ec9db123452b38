-- When the refresh token itself stops working, for providers that say so
-- (`refresh_token_expires_in`, e.g. GitHub Apps: six months). RFC 3339 or NULL.
ALTER TABLE credentials ADD COLUMN refresh_token_expires_at TEXT;
