-- When the scheduler should next refresh a credential: a margin before expiry, or
-- the next retry after a transient failure. NULL: nothing to schedule (no refresh
-- token, no expiry, or the person must reauthorize).
ALTER TABLE credentials ADD COLUMN refresh_due_at TEXT;
