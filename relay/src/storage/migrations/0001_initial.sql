-- The relay's first schema. Ids are lower-case hex text where they come from JSON (team,
-- device, invitation) and blobs where they come from envelope headers.

CREATE TABLE teams (
    team_id     TEXT PRIMARY KEY NOT NULL,
    created_at  INTEGER NOT NULL,
    -- The last server sequence handed out; never reused, also after compaction or erasure.
    last_seq    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE roster_entries (
    team_id  TEXT NOT NULL REFERENCES teams(team_id),
    idx      INTEGER NOT NULL,
    entry    TEXT NOT NULL,
    PRIMARY KEY (team_id, idx)
) STRICT;

CREATE TABLE envelopes (
    team_id     TEXT NOT NULL REFERENCES teams(team_id),
    server_seq  INTEGER NOT NULL,
    -- SHA-256 of the envelope bytes; NULL for an erasure tombstone.
    hash        BLOB,
    doc_id      BLOB NOT NULL,
    author      BLOB NOT NULL,
    kind        TEXT NOT NULL,
    -- NULL for an erasure tombstone.
    bytes       BLOB,
    tombstoned  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, server_seq),
    UNIQUE (team_id, hash)
) STRICT;

CREATE INDEX envelopes_by_doc ON envelopes (team_id, doc_id, server_seq);

CREATE TABLE key_packages (
    team_id    TEXT NOT NULL REFERENCES teams(team_id),
    recipient  TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (team_id, recipient, epoch)
) STRICT;

CREATE TABLE invitations (
    team_id        TEXT NOT NULL REFERENCES teams(team_id),
    invitation_id  TEXT NOT NULL,
    secret_hash    BLOB NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    PRIMARY KEY (team_id, invitation_id)
) STRICT;

CREATE TABLE join_requests (
    team_id        TEXT NOT NULL REFERENCES teams(team_id),
    invitation_id  TEXT NOT NULL,
    card           TEXT NOT NULL,
    proof          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (team_id, invitation_id)
) STRICT;

CREATE TABLE seen_requests (
    signature_hash  BLOB PRIMARY KEY NOT NULL,
    team_id         TEXT NOT NULL,
    device          TEXT NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX seen_requests_by_expiry ON seen_requests (expires_at);
