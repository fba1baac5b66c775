-- Files kept with a case (issue 15), as sealed chunks: AES-GCM under a key only the case
-- document holds, so the relay learns a chunk's length and opaque ids, nothing it can read.
-- A chunk is stored once (a resumed upload changes nothing) and goes with its case's erasure.
CREATE TABLE attachment_chunks (
    team_id       TEXT    NOT NULL REFERENCES teams(team_id),
    doc_id        BYTEA   NOT NULL,
    author        TEXT    NOT NULL,
    attachment_id BYTEA   NOT NULL,
    idx           INTEGER NOT NULL,
    size          BIGINT  NOT NULL,
    bytes         BYTEA   NOT NULL,
    PRIMARY KEY (team_id, doc_id, author, attachment_id, idx)
);
-- Ciphertext does not compress.
ALTER TABLE attachment_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
