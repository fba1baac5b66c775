-- Each author's chain of envelopes per document, as this device took them in: the newest
-- sequence number and envelope hash, and how many envelopes were skipped since the last
-- supervisor snapshot of the document. A skip that no snapshot explains by the end of a sync
-- means the relay held envelopes back, and the sync says so.
CREATE TABLE author_chains (
    doc_id   TEXT NOT NULL,
    author   BLOB NOT NULL,
    seq      INTEGER NOT NULL,
    hash     BLOB NOT NULL,
    missing  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (doc_id, author)
) STRICT, WITHOUT ROWID;
