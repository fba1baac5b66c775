-- One-time codes the relay's operator issues (`eropaf relay code`): registering a new team
-- takes one, so a stranger who can reach the relay cannot fill it with teams. Only a hash of
-- each code is kept: a copy of this database registers nothing.
CREATE TABLE registration_codes (
    code_hash   BLOB PRIMARY KEY NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    team_id     TEXT
) STRICT;
