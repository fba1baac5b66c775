-- Files this device attached and has not yet handed to the relay whole: a sync uploads the
-- chunks the relay lacks and then drops the row, so a cut upload continues where it stopped.
-- Written in the same transaction as the file's chunks. Files attached before this migration
-- were all attached here (none could be downloaded yet): they all wait for their upload.
CREATE TABLE attachment_uploads (
    attachment_id BLOB PRIMARY KEY NOT NULL,
    doc_id        TEXT NOT NULL
) STRICT;

INSERT INTO attachment_uploads (attachment_id, doc_id)
    SELECT DISTINCT attachment_id, doc_id FROM attachment_chunks;
