-- Files kept with a case (photos of letters, signed consent), sealed in chunks
-- (`eropaf_protocol::attachment`) under each file's own key, which only the case document
-- holds: nothing here reads without the case. Erasing the case removes them with it.
CREATE TABLE attachment_chunks (
    attachment_id BLOB NOT NULL,
    idx           INTEGER NOT NULL,
    doc_id        TEXT NOT NULL,
    sealed        BLOB NOT NULL,
    PRIMARY KEY (attachment_id, idx)
) STRICT, WITHOUT ROWID;

CREATE INDEX attachment_chunks_by_doc ON attachment_chunks (doc_id);
