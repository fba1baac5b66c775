-- A revoked device's signed report that it wiped itself (JSON WipeReport), one per device,
-- for the team's supervisors. Holds a device id, a time and a signature: no case data.
CREATE TABLE wipe_reports (
    team_id TEXT NOT NULL REFERENCES teams(team_id),
    device  TEXT NOT NULL,
    json    TEXT NOT NULL,
    PRIMARY KEY (team_id, device)
) STRICT;
