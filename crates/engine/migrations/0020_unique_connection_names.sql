-- Connection names are unique without regard to case. Grantkeeper checked a name before
-- a sign-in, but two sign-ins finishing together could both take it; the table now
-- holds to it. Earlier duplicates keep their names with the first characters of their
-- id added, the oldest keeping its own.
UPDATE connections SET name = name || ' (' || substr(id, 1, 8) || ')'
WHERE rowid IN (
    SELECT rowid FROM (
        SELECT rowid, row_number() OVER (PARTITION BY name COLLATE NOCASE ORDER BY created_at, rowid) AS place
        FROM connections
    )
    WHERE place > 1
);

CREATE UNIQUE INDEX connections_name ON connections (name COLLATE NOCASE);
