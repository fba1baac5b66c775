-- Cases that took in changes from other devices whose list summary is not yet recomputed. A
-- sync stores what it receives as it arrives and refreshes each such case once at the end;
-- a sync cut off in between leaves the cases here for the next one.
CREATE TABLE stale_summaries (
    doc_id TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
