-- Which devices may fetch a document's envelopes, so that a worker's phone downloads the
-- cases it may read and not the team's. The relay learns opaque doc ids and device ids, no
-- more: who may read is decided by the case keys the devices seal to each other, and this
-- table only saves the others the download. A document without rows is the whole team's
-- (the team document, and cases from before need-to-know). A device that forgot a case
-- leaves it: its row stays, inactive, so the case does not fall back to the whole team.
CREATE TABLE doc_readers (
    team_id TEXT    NOT NULL REFERENCES teams(team_id),
    doc_id  BLOB    NOT NULL,
    device  TEXT    NOT NULL,
    active  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (team_id, doc_id, device)
) STRICT, WITHOUT ROWID;
