-- The relay's schema on PostgreSQL: the same tables as SQLite's migrations 0001-0005 reach,
-- in Postgres types. Ids are lower-case hex text where they come from JSON (team, device,
-- invitation) and bytea where they come from envelope headers.

CREATE TABLE teams (
    team_id     TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    -- The last server sequence handed out; never reused, also after compaction or erasure.
    -- Every write that hands one out locks this row until it commits, so sequences become
    -- visible in order and a reader's cursor never passes one that commits later.
    last_seq    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE roster_entries (
    team_id  TEXT NOT NULL REFERENCES teams(team_id),
    idx      BIGINT NOT NULL,
    entry    TEXT NOT NULL,
    PRIMARY KEY (team_id, idx)
);

CREATE TABLE envelopes (
    team_id     TEXT NOT NULL REFERENCES teams(team_id),
    server_seq  BIGINT NOT NULL,
    -- SHA-256 of the envelope bytes; NULL for an erasure tombstone.
    hash        BYTEA,
    doc_id      BYTEA NOT NULL,
    author      BYTEA NOT NULL,
    kind        TEXT NOT NULL,
    -- The envelope; for an erasure tombstone, the supervisor's signed order.
    bytes       BYTEA,
    tombstoned  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (team_id, server_seq),
    UNIQUE (team_id, hash)
);

CREATE INDEX envelopes_by_doc ON envelopes (team_id, doc_id, server_seq);

CREATE TABLE key_packages (
    team_id    TEXT NOT NULL REFERENCES teams(team_id),
    recipient  TEXT NOT NULL,
    epoch      BIGINT NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (team_id, recipient, epoch)
);

-- Only the public half of each invitation's one-time signing key: enough to check a join
-- proof, never to make one.
CREATE TABLE invitations (
    team_id         TEXT NOT NULL REFERENCES teams(team_id),
    invitation_id   TEXT NOT NULL,
    invitation_key  BYTEA NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    PRIMARY KEY (team_id, invitation_id)
);

CREATE TABLE join_requests (
    team_id        TEXT NOT NULL REFERENCES teams(team_id),
    invitation_id  TEXT NOT NULL,
    card           TEXT NOT NULL,
    proof          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (team_id, invitation_id)
);

CREATE TABLE seen_requests (
    signature_hash  BYTEA PRIMARY KEY,
    team_id         TEXT NOT NULL,
    device          TEXT NOT NULL,
    expires_at      BIGINT NOT NULL
);

CREATE INDEX seen_requests_by_expiry ON seen_requests (expires_at);

-- One-time codes the relay's operator issues; only their hashes.
CREATE TABLE registration_codes (
    code_hash   BYTEA PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT,
    team_id     TEXT
);

-- A revoked device's signed report that it wiped itself, one per device.
CREATE TABLE wipe_reports (
    team_id TEXT NOT NULL REFERENCES teams(team_id),
    device  TEXT NOT NULL,
    json    TEXT NOT NULL,
    PRIMARY KEY (team_id, device)
);

-- Which devices may fetch a document's envelopes (see SQLite's 0005_doc_readers.sql).
CREATE TABLE doc_readers (
    team_id TEXT    NOT NULL REFERENCES teams(team_id),
    doc_id  BYTEA   NOT NULL,
    device  TEXT    NOT NULL,
    active  BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (team_id, doc_id, device)
);
