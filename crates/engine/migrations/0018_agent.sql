-- The token agent (src/agent/): the programs a person allowed to use a connection's
-- tokens, how each connection asks, the app-wide settings, and which program each
-- hand-out in the activity log went to.
CREATE TABLE program_rules (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    program       TEXT NOT NULL,   -- the executable's path
    allowed_at    TEXT NOT NULL,
    last_used_at  TEXT,
    PRIMARY KEY (connection_id, program)
);

-- 'ask_every_time', 'once_per_program' or 'never_ask' (api::ConsentPolicy).
ALTER TABLE connections ADD COLUMN consent TEXT NOT NULL DEFAULT 'once_per_program';

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

ALTER TABLE events ADD COLUMN program TEXT;
-- Which programs used each connection, and when last (a row's "Used by git · 3 min ago"),
-- kept up to date with each hand-out, so that reading a connection never scans the log.
CREATE TABLE program_use (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    program       TEXT NOT NULL,
    last_event_id INTEGER NOT NULL,   -- orders programs used within the same second
    last_at       TEXT NOT NULL,
    PRIMARY KEY (connection_id, program)
);
