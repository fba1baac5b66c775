-- Team membership and sync. Roster entries name members and case keys open case data, so
-- both are sealed; outbox envelopes are already signed ciphertext and stay as they are.

CREATE TABLE roster_entries (
    idx   INTEGER PRIMARY KEY,
    entry BLOB NOT NULL                    -- sealed JSON RosterEntry
) STRICT;

CREATE TABLE epoch_keys (
    epoch INTEGER PRIMARY KEY,
    key   BLOB NOT NULL                    -- sealed 32-byte epoch key
) STRICT;

CREATE TABLE case_keys (
    doc_id  TEXT NOT NULL,
    version INTEGER NOT NULL,
    epoch   INTEGER NOT NULL,              -- the epoch whose key wraps it for others
    key     BLOB NOT NULL,                 -- sealed 32-byte case key
    PRIMARY KEY (doc_id, version)
) STRICT, WITHOUT ROWID;

-- Envelopes written in the same transaction as the change they carry; removed once the relay
-- has them.
CREATE TABLE outbox (
    id       INTEGER PRIMARY KEY,
    doc_id   TEXT NOT NULL,
    envelope BLOB NOT NULL
) STRICT;

-- Per document: this device's envelope sequence and the hash of its previous envelope.
-- `since_snapshot` counts the relay's envelopes for the document since its last snapshot;
-- below zero once this device met one it could not read (it must then never snapshot it).
CREATE TABLE doc_sync (
    doc_id         TEXT PRIMARY KEY,
    own_seq        INTEGER NOT NULL,
    own_prev       BLOB,
    since_snapshot INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

-- Cases with changes of this device that are not yet sealed for the team: recorded before the
-- device joined, or while it lacked the current epoch key.
CREATE TABLE unpublished (
    doc_id TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Envelopes that arrived before what they need (their case key, or changes they depend on),
-- kept to be applied once it arrives. Signed ciphertext, as at the relay.
CREATE TABLE pending_envelopes (
    hash     BLOB PRIMARY KEY,
    doc_id   TEXT NOT NULL,
    envelope BLOB NOT NULL
) STRICT;
