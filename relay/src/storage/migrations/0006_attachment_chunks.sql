-- Files kept with a case (issue 15), as sealed chunks: AES-GCM under a key only the case
-- document holds, so the relay learns a chunk's length and opaque ids, nothing it can read.
-- A chunk is stored once (a resumed upload changes nothing) and goes with its case's erasure.
-- A rowid table: chunks are up to 256 KiB, too large for WITHOUT ROWID's B-tree.
CREATE TABLE attachment_chunks (
    team_id       TEXT    NOT NULL REFERENCES teams(team_id),
    doc_id        BLOB    NOT NULL,
    author        TEXT    NOT NULL,
    attachment_id BLOB    NOT NULL,
    idx           INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    bytes         BLOB    NOT NULL
) STRICT;

CREATE UNIQUE INDEX attachment_chunks_by_file
    ON attachment_chunks (team_id, doc_id, author, attachment_id, idx);
