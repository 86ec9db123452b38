-- The keychain entry a refresh in progress will write its tokens to, set before the
-- refresh token is sent and cleared when the result is committed or the attempt
-- failed. Still set after a restart means the process died mid-refresh: the entry is
-- adopted if it was written; otherwise, for a provider that rotates refresh tokens,
-- the old one may be spent, and the connection asks for a new sign-in rather than
-- present it again.
ALTER TABLE credentials ADD COLUMN pending_token_key TEXT;
