-- Need-to-know: a case key reaches only the devices that may read the case, as grants sealed
-- to each. A key this device minted carries the devices it was granted to (sealed JSON): the
-- device writes only under a key of its own whose readers are the case's readers now, and
-- mints a new one when they change, so a device that lost access reads nothing written after.
-- NULL for keys received from others, and for own keys retired.
ALTER TABLE case_keys ADD COLUMN minted_for BLOB;

-- Which device holds a grant of which key version, as seen in the team's key envelopes and in
-- those this device sealed: a supervisor's device grants the keys a reader lacks, and only
-- those. Random ids only: no case content.
CREATE TABLE case_key_grants (
    doc_id    TEXT NOT NULL,
    version   INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    PRIMARY KEY (doc_id, version, recipient)
) STRICT, WITHOUT ROWID;

-- A device holds, waiting, the envelopes of cases it may not read; a sync retries only those
-- of the documents a page touched.
CREATE INDEX pending_envelopes_by_doc ON pending_envelopes (doc_id);

-- Per case and supervisor's device, whether the newest reader list it declared (with a key it
-- minted, or a grant to this device) names this device, and that envelope's place in its
-- signed chain: a device every declaring supervisor left out forgets the case, also when the
-- change that removed it was compacted away at the relay. An older envelope served again
-- changes nothing.
CREATE TABLE declared_access (
    doc_id   TEXT NOT NULL,
    author   TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    included INTEGER NOT NULL,
    PRIMARY KEY (doc_id, author)
) STRICT, WITHOUT ROWID;
