//! Signed requests: which device sent a request, checked against the team's roster. A request
//! carries its device id, a timestamp and an Ed25519 signature over method, target, timestamp
//! and body hash (`signing::canonical_request`); stale, replayed, unknown and revoked are refused.

use axum::http::HeaderMap;
use eropaf_protocol::crypto::{sha256, verify_signature};
use eropaf_protocol::team::roster::{Role, Roster};

use crate::error::{ErrorCode, RelayError, Result};
use crate::signing::{canonical_request, HEADER_DEVICE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use crate::storage::{SeenRequest, Storage};

/// How far a request's timestamp may be from the relay's clock, either way.
pub const MAX_CLOCK_SKEW_MILLIS: i64 = 5 * 60 * 1000;

/// The parts of an HTTP request that are signed.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// An authenticated, active member device of the team.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Lower-case hex device id.
    pub device: String,
    pub role: Role,
    /// The request's signature, still to be recorded as seen with the request's own write
    /// (`verify`); `None` once `authenticate` recorded it.
    pub seen: Option<SeenRequest>,
}

impl Caller {
    pub fn require_supervisor(&self) -> Result<()> {
        if self.role == Role::Supervisor {
            Ok(())
        } else {
            Err(RelayError::forbidden(
                ErrorCode::NotSupervisor,
                "Only a supervisor's device may do this.",
            ))
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).ok_or_else(|| {
        RelayError::unauthorized(
            ErrorCode::UnsignedRequest,
            format!("The request is not signed: the {name} header is missing or unreadable."),
        )
    })
}

/// Who a route lets in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Active member devices only: every route but two.
    Active,
    /// A revoked device too: it may read the roster (to learn it was revoked, and wipe
    /// itself) and report that it wiped itself. Nothing else.
    AlsoRevoked,
}

/// Checks the request against `roster` and records its signature as seen. Order: malformed
/// or stale (401), unknown device (401), bad signature (401), revoked (403, unless `admit`
/// lets it in), replay (409). A replay is checked last so only a valid signature is ever
/// recorded.
pub fn authenticate(
    storage: &dyn Storage,
    roster: &Roster,
    request: &SignedRequest<'_>,
    now_millis: i64,
    admit: Admit,
) -> Result<Caller> {
    let mut caller = verify(roster, request, now_millis, admit)?;
    let Some(seen) = caller.seen.take() else {
        return Ok(caller);
    };
    let fresh = storage.record_request(
        roster.team_id(),
        &seen.device,
        &seen.signature_hash,
        seen.expires_at,
        seen.now,
    )?;
    if !fresh {
        return Err(replayed());
    }
    Ok(caller)
}

/// The request is a replay of one the relay took before.
pub fn replayed() -> RelayError {
    RelayError::conflict(
        ErrorCode::ReplayedRequest,
        "This exact request was received before; sign a new one.",
    )
}

/// `authenticate` without recording the signature: the caller records `Caller::seen` in the
/// transaction of the request's own write (a push), so that a replay stores nothing and the
/// record costs no commit of its own.
pub fn verify(
    roster: &Roster,
    request: &SignedRequest<'_>,
    now_millis: i64,
    admit: Admit,
) -> Result<Caller> {
    let device = header(request.headers, HEADER_DEVICE)?;
    let timestamp_text = header(request.headers, HEADER_TIMESTAMP)?;
    let signature_hex = header(request.headers, HEADER_SIGNATURE)?;
    let timestamp: i64 = timestamp_text.parse().map_err(|_| {
        RelayError::unauthorized(
            ErrorCode::BadTimestamp,
            "The request timestamp is not unix milliseconds.",
        )
    })?;
    if (now_millis - timestamp).abs() > MAX_CLOCK_SKEW_MILLIS {
        return Err(RelayError::unauthorized(
            ErrorCode::StaleRequest,
            "The request's timestamp is more than 5 minutes from the relay's clock; check the \
             device's clock and send it again.",
        ));
    }
    let Some(public_key) = roster.signing_key(device) else {
        return Err(RelayError::unauthorized(
            ErrorCode::UnknownDevice,
            "This device is not in the team's roster.",
        ));
    };
    let signature = hex::decode(signature_hex).map_err(|_| {
        RelayError::unauthorized(ErrorCode::BadSignature, "The request signature is not hex.")
    })?;
    let message =
        canonical_request(request.method, request.path_and_query, timestamp, request.body);
    verify_signature(&public_key, &message, &signature).map_err(|_| {
        RelayError::unauthorized(
            ErrorCode::BadSignature,
            "The request signature does not match the device's key.",
        )
    })?;
    if !roster.is_active(device) && admit == Admit::Active {
        return Err(RelayError::forbidden(
            ErrorCode::RevokedDevice,
            "This device has been revoked from the team.",
        ));
    }
    let role = roster.role(device).unwrap_or(Role::Worker);
    // A signature is valid at most 2 × skew around its timestamp; remember it that long.
    let seen = SeenRequest {
        device: device.to_owned(),
        signature_hash: sha256(&signature),
        expires_at: timestamp.saturating_add(MAX_CLOCK_SKEW_MILLIS + 1000),
        now: now_millis,
    };
    Ok(Caller { device: device.to_owned(), role, seen: Some(seen) })
}
