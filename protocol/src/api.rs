//! The relay's API as both sides see it: its routes, the codes of its errors, the entries
//! of a team's log, and which relay addresses a device may talk to. The relay serves the
//! routes and answers with the codes; the device builds paths from the same routes and acts
//! on the same codes, so neither restates the contract.

use crate::{Error, Result};

/// One entry of the relay's log for a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pulled {
    Envelope {
        server_seq: u64,
        bytes: Vec<u8>,
    },
    /// The document was erased (AVG): forget it and its keys, once the order's signature
    /// checks out against the roster (`team::erasure::check`).
    Erased {
        server_seq: u64,
        doc_id: [u8; 16],
        /// The device that gave the order.
        erased_by: [u8; 16],
        /// Its signature over the order; empty when the relay has none to show.
        signature: Vec<u8>,
    },
}

impl Pulled {
    pub fn server_seq(&self) -> u64 {
        match self {
            Pulled::Envelope { server_seq, .. } | Pulled::Erased { server_seq, .. } => *server_seq,
        }
    }
}

/// Checks a relay address before anything is sent to it: `https://`, or plain `http://` only
/// to this machine (loopback: tests and a relay on the same box). Case data is sealed either
/// way, but request metadata and the enrolment exchange should never cross a network in the
/// clear.
pub fn check_relay_url(url: &str) -> Result<url::Url> {
    let bad = |reason: &str| Error::invalid("relay", reason);
    let parsed =
        url::Url::parse(url.trim()).map_err(|_| bad("dit is geen geldig adres van een relay"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("een relay-adres bevat geen gebruikersnaam of wachtwoord"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("een relay-adres heeft geen ? of #"));
    }
    let Some(host) = parsed.host_str() else {
        return Err(bad("het relay-adres mist een servernaam"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(bad(
            "een relay buiten dit apparaat is alleen via https:// bereikbaar, niet via http://",
        )),
        _ => Err(bad("een relay-adres begint met https://")),
    }
}

/// The relay's routes, as axum patterns; `path` fills in the team (and invitation).
pub mod routes {
    pub const HEALTH: &str = "/v1/health";
    pub const TEAMS: &str = "/v1/teams";
    pub const ROSTER: &str = "/v1/teams/{team}/roster";
    pub const INVITATIONS: &str = "/v1/teams/{team}/invitations";
    pub const JOIN: &str = "/v1/teams/{team}/join";
    pub const JOIN_REQUESTS: &str = "/v1/teams/{team}/join-requests";
    pub const ENROLMENT: &str = "/v1/teams/{team}/enrolment/{invitation}";
    pub const KEY_PACKAGES: &str = "/v1/teams/{team}/key-packages";
    pub const ENVELOPES: &str = "/v1/teams/{team}/envelopes";
    /// Which of some cases hold envelopes for the caller up to a point: a device asks once a
    /// page for the cases it meets there for the first time, and fetches the history
    /// (`ENVELOPES?doc=`) only of those that have one.
    pub const HISTORY: &str = "/v1/teams/{team}/history";
    pub const ERASE: &str = "/v1/teams/{team}/erase";
    /// A device forgot cases (handed over, unassigned): the relay stops serving it them.
    pub const LEAVE: &str = "/v1/teams/{team}/leave";
    /// A revoked device reports that it wiped itself; supervisors read the reports.
    pub const WIPED: &str = "/v1/teams/{team}/wiped";
    /// The chunks of one attachment the relay holds (`GET`: their indices), under the case it
    /// belongs to and the device that attached it. Only that device uploads them.
    pub const ATTACHMENT: &str = "/v1/teams/{team}/attachments/{doc}/{author}/{attachment}";
    /// One sealed chunk: `PUT` by the attaching device (the same bytes again change nothing),
    /// `GET` by a reader of the case. The body is the chunk's bytes, not JSON.
    pub const ATTACHMENT_CHUNK: &str =
        "/v1/teams/{team}/attachments/{doc}/{author}/{attachment}/{index}";

    /// `route` for team `team` (ids are hex: nothing to escape).
    pub fn path(route: &str, team: &str) -> String {
        route.replace("{team}", team)
    }

    /// The route of one attachment at the relay (ids in hex).
    pub fn attachment(team: &str, doc: &str, author: &str, attachment: &str) -> String {
        path(ATTACHMENT, team)
            .replace("{doc}", doc)
            .replace("{author}", author)
            .replace("{attachment}", attachment)
    }

    /// The route of chunk `index` of an attachment.
    pub fn attachment_chunk(team: &str, doc: &str, author: &str, file: &str, index: u32) -> String {
        format!("{}/{index}", attachment(team, doc, author, file))
    }

    /// The enrolment route for one invitation.
    pub fn enrolment(team: &str, invitation: &str) -> String {
        path(ENROLMENT, team).replace("{invitation}", invitation)
    }
}

macro_rules! error_codes {
    ($($variant:ident => $code:literal,)+) => {
        /// What the relay's error bodies say in `"code"`: what went wrong, for a program to
        /// act on (the `"error"` sentence is for people, in English).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The code a relay sent; `None` for one this version does not know.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code {
                    $($code => Some(ErrorCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    AlreadyMember => "already_member",
    BadEnvelopeSignature => "bad_envelope_signature",
    BadErasureSignature => "bad_erasure_signature",
    BadExpiry => "bad_expiry",
    BadHex => "bad_hex",
    BadId => "bad_id",
    BadJson => "bad_json",
    BadKeyPackage => "bad_key_package",
    BadQuery => "bad_query",
    BadReaders => "bad_readers",
    BadRegistrationCode => "bad_registration_code",
    BadSignature => "bad_signature",
    BadTimestamp => "bad_timestamp",
    BadWipeReport => "bad_wipe_report",
    BatchTooLarge => "batch_too_large",
    BodyTooLarge => "body_too_large",
    ChunkNotFound => "chunk_not_found",
    DocErased => "doc_erased",
    InvalidCard => "invalid_card",
    InvalidGenesis => "invalid_genesis",
    InvitationExists => "invitation_exists",
    InvitationExpired => "invitation_expired",
    InvitationNotFound => "invitation_not_found",
    InvitationUsed => "invitation_used",
    JoinRequestNotFound => "join_request_not_found",
    MalformedEnvelope => "malformed_envelope",
    NoSuchRoute => "no_such_route",
    NotAuthor => "not_author",
    NotReader => "not_reader",
    NotRevoked => "not_revoked",
    NotSupervisor => "not_supervisor",
    QuotaExceeded => "quota_exceeded",
    ReplayedRequest => "replayed_request",
    RevokedDevice => "revoked_device",
    RosterChanged => "roster_changed",
    RosterRefused => "roster_refused",
    StaleRequest => "stale_request",
    TeamExists => "team_exists",
    TeamNotFound => "team_not_found",
    UnknownAuthor => "unknown_author",
    UnknownDevice => "unknown_device",
    UnsignedRequest => "unsigned_request",
    WrongProof => "wrong_proof",
    WrongTeam => "wrong_team",
    Storage => "storage",
    Server => "server",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_reads_back_and_is_told_apart() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
        let mut texts: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::parse("a code from a newer relay"), None);
    }

    #[test]
    fn paths_fill_in_the_team_and_invitation() {
        assert_eq!(routes::path(routes::ROSTER, "ab12"), "/v1/teams/ab12/roster");
        assert_eq!(routes::enrolment("ab12", "cd34"), "/v1/teams/ab12/enrolment/cd34");
        assert_eq!(
            routes::attachment_chunk("ab12", "d0", "a1", "f2", 7),
            "/v1/teams/ab12/attachments/d0/a1/f2/7"
        );
    }
}
