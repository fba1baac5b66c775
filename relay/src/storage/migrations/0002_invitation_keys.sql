-- Invitations keep the public half of a one-time signing key instead of a hash of the
-- secret: the old hash was itself the key of the join proof, so whoever read this table
-- could forge a join. Old invitations cannot be checked the new way and are dropped, with
-- the join requests made with them (the inviting supervisor invites again).
DROP TABLE join_requests;
DROP TABLE invitations;

CREATE TABLE invitations (
    team_id         TEXT NOT NULL REFERENCES teams(team_id),
    invitation_id   TEXT NOT NULL,
    invitation_key  BLOB NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    PRIMARY KEY (team_id, invitation_id)
) STRICT;

CREATE TABLE join_requests (
    team_id        TEXT NOT NULL REFERENCES teams(team_id),
    invitation_id  TEXT NOT NULL,
    card           TEXT NOT NULL,
    proof          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (team_id, invitation_id)
) STRICT;
