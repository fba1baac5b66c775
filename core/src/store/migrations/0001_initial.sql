-- Every column that could identify a resident holds AES-256-GCM sealed bytes. Ids are random
-- and meaningless; sizes and counts are the only metadata left in the clear.

-- Settings: passphrase parameters (clear, needed to unlock), key check, device identity (sealed).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- One row per automerge document (each case, and the team document).
CREATE TABLE docs (
    doc_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('case', 'team')),
    snapshot     BLOB NOT NULL,            -- sealed automerge save()
    snapshot_len INTEGER NOT NULL,         -- plaintext bytes, for the compaction decision
    changes_len  INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1, -- bumped on every write; tells a cached copy it is stale
    summary      BLOB                      -- sealed CaseSummary (cases only)
) STRICT;

-- Incremental automerge changes since the snapshot, appended per write so that recording a
-- visit costs one small insert, not a rewrite of the whole document.
CREATE TABLE doc_changes (
    doc_id TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    bytes  BLOB NOT NULL,                  -- sealed automerge save_after()
    PRIMARY KEY (doc_id, seq)
) STRICT, WITHOUT ROWID;
