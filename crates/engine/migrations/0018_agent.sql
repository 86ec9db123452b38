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
-- Which programs used each connection, and when last (a row's "Used by git · 3 min ago").
CREATE INDEX events_by_connection ON events (connection_id, kind);
CREATE VIEW program_use AS
    SELECT connection_id, program, max(id) AS last_id, max(at) AS last_at
    FROM events WHERE kind = 'token_handed_out' AND program IS NOT NULL
    GROUP BY connection_id, program;
