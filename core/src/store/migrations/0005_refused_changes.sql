-- Automerge changes this device refused (written outside their writer's rights, see
-- doc/authority.rs), per document, so that a later change built on one is refused too
-- instead of waiting for it forever. Hashes only: no case content.
CREATE TABLE refused_changes (
    doc_id TEXT NOT NULL,
    hash   BLOB NOT NULL,
    PRIMARY KEY (doc_id, hash)
) STRICT, WITHOUT ROWID;
