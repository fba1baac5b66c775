-- A document's snapshot leaves its `docs` row. SQLite writes a row whole, overflow pages
-- included, whenever any column of it changes; with the snapshot inline, every write to a case
-- (which bumps its version and stores its summary) rewrote the case's whole sealed snapshot,
-- tens of kB for a long case, where the write itself is one small change.
CREATE TABLE doc_snapshots (
    doc_id   TEXT PRIMARY KEY REFERENCES docs (doc_id) ON DELETE CASCADE,
    snapshot BLOB NOT NULL                 -- sealed automerge save()
) STRICT;

INSERT INTO doc_snapshots (doc_id, snapshot) SELECT doc_id, snapshot FROM docs;

ALTER TABLE docs DROP COLUMN snapshot;
