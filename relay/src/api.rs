//! The HTTP routes (axum): team creation, roster, invitations and joining, key packages, the
//! envelope log (push, pull, compaction, erasure). Each handler reads the raw request, then does
//! its work on the blocking pool: authenticate against the roster, check, store atomically.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use eropaf_protocol::envelope::{Envelope, EnvelopeKind};
use eropaf_protocol::team::roster::{DeviceCard, Role, Roster, RosterEntry};
use eropaf_protocol::team::wipe::WipeReport;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{authenticate, verify, Admit, Caller, SignedRequest};
use crate::error::{ErrorCode, RelayError, Result};
use crate::signing::verify_join;
use crate::storage::{
    ChunkKey, Feed, Invitation, JoinRequest, KeyPackageRow, NewEnvelope, Page, Pulled, Storage,
    StoredKind,
};
use eropaf_protocol::api::routes;

/// Largest request body. A maximal envelope (`MAX_BODY`, 16 MiB) is twice that in hex, so
/// one always fits in a batch of its own.
pub const MAX_BODY_BYTES: usize = 2 * eropaf_protocol::envelope::MAX_BODY + 1024 * 1024;
/// Most envelopes in one push.
pub const MAX_PUSH_BATCH: usize = 500;
/// Most log entries in one pull; also the default `limit`.
pub const MAX_PULL_LIMIT: usize = 1000;
/// A pull stops adding envelopes once this many envelope bytes are collected (but always
/// returns at least one), keeping responses under about twice this in hex.
pub const MAX_PULL_BYTES: usize = 8 * 1024 * 1024;
/// Most roster entries or key packages in one request.
pub const MAX_ITEMS: usize = 500;
/// Furthest an invitation may expire ahead.
pub const MAX_INVITATION_MILLIS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Shared by all handlers: the storage and a cache of verified rosters. The cache is
/// brought up to date from storage on every use (entries are only ever appended), so several
/// relay processes over one database stay correct.
#[derive(Clone)]
pub struct RelayState {
    storage: Arc<dyn Storage>,
    rosters: Arc<Mutex<HashMap<String, Arc<Roster>>>>,
}

impl RelayState {
    pub fn new(storage: Arc<dyn Storage>) -> RelayState {
        RelayState { storage, rosters: Arc::default() }
    }

    /// The team's verified roster, `NotFound` for an unknown team.
    fn roster(&self, team: &str) -> Result<Arc<Roster>> {
        let cached = self.rosters.lock().ok().and_then(|cache| cache.get(team).cloned());
        let from = cached.as_ref().map_or(0, |r| r.len());
        let fresh = self.storage.roster_entries(team, from)?.ok_or_else(team_not_found)?;
        let corrupt = |e: eropaf_protocol::Error| {
            RelayError::storage(format!("the stored roster of team {team} does not verify: {e}"))
        };
        let roster = match cached {
            Some(cached) if fresh.is_empty() => return Ok(cached),
            Some(cached) => {
                let mut roster = (*cached).clone();
                for entry in fresh {
                    roster.apply(entry).map_err(corrupt)?;
                }
                Arc::new(roster)
            }
            None => Arc::new(Roster::from_entries(fresh).map_err(corrupt)?),
        };
        if let Ok(mut cache) = self.rosters.lock() {
            cache.insert(team.to_owned(), roster.clone());
        }
        Ok(roster)
    }
}

/// All routes, with the body limit.
pub fn router(state: RelayState) -> Router {
    Router::new()
        .route(routes::HEALTH, get(health))
        .route(routes::TEAMS, post(create_team))
        .route(routes::ROSTER, get(get_roster).post(post_roster))
        .route(routes::INVITATIONS, post(post_invitation))
        .route(routes::JOIN, post(post_join))
        .route(routes::JOIN_REQUESTS, get(get_join_requests))
        .route(routes::ENROLMENT, get(get_enrolment))
        .route(routes::KEY_PACKAGES, get(get_key_packages).post(post_key_packages))
        .route(routes::ENVELOPES, get(get_envelopes).post(post_envelopes))
        .route(routes::HISTORY, post(post_history))
        .route(routes::LEAVE, post(post_leave))
        .route(routes::ERASE, post(post_erase))
        .route(routes::WIPED, get(get_wipe_reports).post(post_wipe_report))
        .route(routes::ATTACHMENT, get(get_attachment))
        .route(routes::ATTACHMENT_CHUNK, get(get_chunk).put(put_chunk))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::from_fn(crate::log::requests))
        .with_state(state)
}

pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn team_not_found() -> RelayError {
    RelayError::not_found(ErrorCode::TeamNotFound, "No team with this id exists on this relay.")
}

async fn not_found() -> RelayError {
    RelayError::not_found(ErrorCode::NoSuchRoute, "There is no such route on this relay.")
}

/// For a load balancer's health check: 200 while the relay reaches its database, 503 when
/// not, so the balancer sends devices to a relay process that can serve them.
async fn health(State(state): State<RelayState>) -> (StatusCode, Json<Value>) {
    let storage = Arc::clone(&state.storage);
    match blocking(move || storage.schema_version()).await {
        Ok(schema) => (StatusCode::OK, Json(json!({ "ok": true, "schema": schema }))),
        Err(error) => {
            crate::log::event(
                "health",
                &[("storage", "unreachable"), ("detail", &error.to_string())],
            );
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "ok": false })))
        }
    }
}

type Reply = Result<(StatusCode, Json<Value>)>;

fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Json(value)))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RelayError::storage(format!("a relay task failed: {e}")))?
}

/// Refuses a request whose `Content-Length` is over `MAX_BODY_BYTES` before any handler runs:
/// no body byte read, no roster loaded, no signature checked. A body without a length (or
/// one that lies) is still cut off at the limit by `read_body`.
async fn refuse_declared_oversize(request: Request, next: axum::middleware::Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return body_too_large().into_response();
    }
    next.run(request).await
}

fn body_too_large() -> RelayError {
    RelayError::too_large(
        ErrorCode::BodyTooLarge,
        format!("The request body is over the relay's limit of {MAX_BODY_BYTES} bytes."),
    )
}

/// Reads at most `MAX_BODY_BYTES`, before authentication: the limit holds for anyone, and
/// the signature covers the body's hash, so it cannot be checked without it.
async fn read_body(body: Body) -> Result<Vec<u8>> {
    to_bytes(body, MAX_BODY_BYTES).await.map(|b| b.to_vec()).map_err(|_| body_too_large())
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        RelayError::bad_request(
            ErrorCode::BadJson,
            format!("The request body is not the JSON expected: {e}"),
        )
    })
}

/// Lower-case hex of exactly `len` bytes.
fn hex_id<const N: usize>(field: &str, text: &str) -> Result<[u8; N]> {
    let bad = || {
        RelayError::bad_request(
            ErrorCode::BadId,
            format!("{field} must be {} lower-case hex characters.", N * 2),
        )
    };
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(bad());
    }
    hex::decode(text).ok().and_then(|v| v.try_into().ok()).ok_or_else(bad)
}

fn check_team_path(team: &str) -> Result<()> {
    hex_id::<16>("The team id", team).map(|_| ()).map_err(|_| team_not_found())
}

/// Reads the body, then (on the blocking pool) loads the roster, authenticates the caller (an
/// active device) and runs `f`.
async fn signed<T, F>(state: RelayState, team: String, request: Request, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&RelayState, &str, &Roster, Caller, &[u8]) -> Result<T> + Send + 'static,
{
    signed_admitting(state, team, request, Admit::Active, Replay::RecordNow, f).await
}

/// When a signed request's signature is recorded as seen.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// Before the handler runs, in a write of its own.
    RecordNow,
    /// By the handler, in its own write's transaction (`Caller::seen`).
    WithTheWrite,
}

/// `signed`, letting in the devices `admit` says.
async fn signed_admitting<T, F>(
    state: RelayState,
    team: String,
    request: Request,
    admit: Admit,
    replay: Replay,
    f: F,
) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&RelayState, &str, &Roster, Caller, &[u8]) -> Result<T> + Send + 'static,
{
    check_team_path(&team)?;
    let (parts, body) = request.into_parts();
    let body = read_body(body).await?;
    blocking(move || {
        let roster = state.roster(&team)?;
        let path_and_query =
            parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |p| p.as_str());
        let request = SignedRequest {
            method: parts.method.as_str(),
            path_and_query,
            headers: &parts.headers,
            body: &body,
        };
        let caller = match replay {
            Replay::RecordNow => {
                authenticate(state.storage.as_ref(), &roster, &request, now_millis(), admit)?
            }
            Replay::WithTheWrite => verify(&roster, &request, now_millis(), admit)?,
        };
        f(&state, &team, &roster, caller, &body)
    })
    .await
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

fn query_number(query: Option<&str>, name: &str) -> Result<Option<u64>> {
    query_param(query, name)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                RelayError::bad_request(
                    ErrorCode::BadQuery,
                    format!("The query parameter {name} must be a whole number."),
                )
            })
        })
        .transpose()
}

// ---- teams and roster ----

#[derive(Deserialize)]
struct NewTeam {
    genesis: RosterEntry,
    /// The one-time code from the relay's operator (`eropaf relay code`).
    registration_code: String,
}

async fn create_team(State(state): State<RelayState>, request: Request) -> Reply {
    let body = read_body(request.into_body()).await?;
    blocking(move || {
        let NewTeam { genesis, registration_code } = parse_json(&body)?;
        let roster = Roster::from_entries(vec![genesis.clone()]).map_err(|e| {
            RelayError::bad_request(
                ErrorCode::InvalidGenesis,
                format!("The genesis entry does not verify: {e}"),
            )
        })?;
        let team = roster.team_id().to_owned();
        hex_id::<16>("The team id", &team)?;
        let code_hash = eropaf_protocol::crypto::sha256(registration_code.trim().as_bytes());
        state.storage.create_team(&team, &genesis, &code_hash, now_millis())?;
        Ok((StatusCode::CREATED, Json(json!({ "team_id": team, "head": roster.head() }))))
    })
    .await
}

async fn get_roster(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    let query = request.uri().query().map(str::to_owned);
    // A revoked device reads the roster too: that is how a lost phone learns it must wipe.
    signed_admitting(
        state,
        team,
        request,
        Admit::AlsoRevoked,
        Replay::RecordNow,
        move |_, team, roster, _, _| {
            let from = query_number(query.as_deref(), "from")?.unwrap_or(0);
            let entries: Vec<&RosterEntry> =
                roster.entries().iter().filter(|e| e.index >= from).collect();
            ok(json!({
                "team_id": team,
                "length": roster.len(),
                "head": roster.head(),
                "entries": entries,
            }))
        },
    )
    .await
}

#[derive(Deserialize)]
struct RosterAppend {
    entries: Vec<RosterEntry>,
}

async fn post_roster(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, roster, _caller, body| {
        let append: RosterAppend = parse_json(body)?;
        if append.entries.len() > MAX_ITEMS {
            return Err(RelayError::too_large(
                ErrorCode::BatchTooLarge,
                format!("At most {MAX_ITEMS} roster entries per request."),
            ));
        }
        let stored = roster.len();
        let mut next = roster.clone();
        for (i, entry) in append.entries.iter().enumerate() {
            next.apply(entry.clone()).map_err(|e| {
                RelayError::bad_request(
                    ErrorCode::RosterRefused,
                    format!("Roster entry {i} (index {}) was refused: {e}", entry.index),
                )
            })?;
        }
        let new: Vec<RosterEntry> =
            append.entries.into_iter().filter(|e| e.index >= stored).collect();
        if !new.is_empty() {
            state.storage.append_roster(team, &new)?;
        }
        ok(json!({ "length": next.len(), "head": next.head(), "appended": new.len() }))
    })
    .await
}

// ---- invitations and joining ----

#[derive(Deserialize)]
struct NewInvitation {
    invitation_id: String,
    /// Hex Ed25519 public key of the invitation's one-time key.
    invitation_key: String,
    expires_at: i64,
}

async fn post_invitation(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, _, caller, body| {
        caller.require_supervisor()?;
        let new: NewInvitation = parse_json(body)?;
        hex_id::<16>("invitation_id", &new.invitation_id)?;
        let invitation_key = hex_id::<32>("invitation_key", &new.invitation_key)?.to_vec();
        let now = now_millis();
        if new.expires_at <= now || new.expires_at > now + MAX_INVITATION_MILLIS {
            return Err(RelayError::bad_request(
                ErrorCode::BadExpiry,
                "expires_at must be in the future and at most 30 days ahead (unix milliseconds).",
            ));
        }
        let invitation = Invitation {
            invitation_id: new.invitation_id.clone(),
            invitation_key,
            expires_at: new.expires_at,
            used_at: None,
        };
        state.storage.put_invitation(team, &invitation)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "invitation_id": new.invitation_id, "expires_at": new.expires_at })),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct JoinBody {
    invitation_id: String,
    card: DeviceCard,
    proof: String,
}

async fn post_join(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    check_team_path(&team)?;
    let body = read_body(request.into_body()).await?;
    blocking(move || {
        let roster = state.roster(&team)?;
        let join: JoinBody = parse_json(&body)?;
        hex_id::<16>("invitation_id", &join.invitation_id)?;
        join.card.check().map_err(|e| {
            RelayError::bad_request(
                ErrorCode::InvalidCard,
                format!("The device card is not valid: {e}"),
            )
        })?;
        let now = now_millis();
        let invitation =
            state.storage.invitation(&team, &join.invitation_id)?.ok_or_else(|| {
                RelayError::not_found(
                    ErrorCode::InvitationNotFound,
                    "No such invitation for this team.",
                )
            })?;
        if invitation.used_at.is_some() {
            return Err(RelayError::gone(
                ErrorCode::InvitationUsed,
                "This invitation has already been used; ask a supervisor for a new one.",
            ));
        }
        if invitation.expires_at <= now {
            return Err(RelayError::gone(
                ErrorCode::InvitationExpired,
                "This invitation has expired; ask a supervisor for a new one.",
            ));
        }
        let card_json = serde_json::to_vec(&join.card).map_err(RelayError::storage)?;
        if !verify_join(
            &invitation.invitation_key,
            &team,
            &join.invitation_id,
            &card_json,
            &join.proof,
        ) {
            return Err(RelayError::forbidden(
                ErrorCode::WrongProof,
                "The proof does not match this invitation's secret; check the invitation code.",
            ));
        }
        if roster.device(&join.card.device_id).is_some() {
            return Err(RelayError::conflict(
                ErrorCode::AlreadyMember,
                "This device is already in the team's roster.",
            ));
        }
        let request = JoinRequest {
            invitation_id: join.invitation_id.clone(),
            card_json: String::from_utf8(card_json).map_err(RelayError::storage)?,
            proof: join.proof,
            created_at: now,
        };
        state.storage.use_invitation(&team, &request, now)?;
        Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "status": "pending", "device_id": join.card.device_id })),
        ))
    })
    .await
}

/// "pending" until the roster holds the device, then "approved", or "revoked" after that.
fn enrolment_status(roster: &Roster, device_id: &str) -> &'static str {
    match roster.device(device_id) {
        None => "pending",
        Some(d) if d.is_active() => "approved",
        Some(_) => "revoked",
    }
}

fn join_request_json(roster: &Roster, request: &JoinRequest) -> Result<Value> {
    let card: DeviceCard = serde_json::from_str(&request.card_json)
        .map_err(|e| RelayError::storage(format!("a stored card does not parse: {e}")))?;
    Ok(json!({
        "invitation_id": request.invitation_id,
        "status": enrolment_status(roster, &card.device_id),
        "card": card,
        "proof": request.proof,
        "created_at": request.created_at,
    }))
}

async fn get_join_requests(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, roster, caller, _| {
        caller.require_supervisor()?;
        let requests = state.storage.join_requests(team)?;
        let list =
            requests.iter().map(|r| join_request_json(roster, r)).collect::<Result<Vec<_>>>()?;
        ok(json!({ "join_requests": list }))
    })
    .await
}

async fn get_enrolment(
    State(state): State<RelayState>,
    Path((team, invitation)): Path<(String, String)>,
) -> Reply {
    check_team_path(&team)?;
    blocking(move || {
        hex_id::<16>("invitation_id", &invitation)?;
        let roster = state.roster(&team)?;
        let request = state.storage.join_request(&team, &invitation)?.ok_or_else(|| {
            RelayError::not_found(
                ErrorCode::JoinRequestNotFound,
                "No device has joined with this invitation yet.",
            )
        })?;
        let card: DeviceCard = serde_json::from_str(&request.card_json)
            .map_err(|e| RelayError::storage(format!("a stored card does not parse: {e}")))?;
        ok(json!({
            "status": enrolment_status(&roster, &card.device_id),
            "device_id": card.device_id,
        }))
    })
    .await
}

// ---- key packages ----

#[derive(Deserialize)]
struct KeyPackages {
    packages: Vec<Value>,
}

async fn post_key_packages(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, roster, caller, body| {
        caller.require_supervisor()?;
        let packages: KeyPackages = parse_json(body)?;
        if packages.packages.len() > MAX_ITEMS {
            return Err(RelayError::too_large(
                ErrorCode::BatchTooLarge,
                format!("At most {MAX_ITEMS} key packages per request."),
            ));
        }
        let mut rows = Vec::with_capacity(packages.packages.len());
        for (i, package) in packages.packages.iter().enumerate() {
            let bad = |reason: &str| {
                RelayError::bad_request(
                    ErrorCode::BadKeyPackage,
                    format!("Key package {i}: {reason}"),
                )
            };
            let recipient = package
                .get("recipient")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("it has no recipient"))?;
            let epoch = package
                .get("epoch")
                .and_then(Value::as_u64)
                .and_then(|e| u32::try_from(e).ok())
                .ok_or_else(|| bad("it has no epoch"))?;
            if package.get("team_id").is_some_and(|t| t.as_str() != Some(team)) {
                return Err(bad("it is for another team"));
            }
            if roster.device(recipient).is_none() {
                return Err(bad("its recipient is not in the roster; append the device first"));
            }
            // A key for an epoch that has not begun would outlive its maker's revocation.
            if epoch > roster.epoch() {
                return Err(bad("its epoch has not begun; append the new epoch first"));
            }
            let json = serde_json::to_string(package).map_err(RelayError::storage)?;
            rows.push(KeyPackageRow { recipient: recipient.to_owned(), epoch, json });
        }
        state.storage.put_key_packages(team, &rows)?;
        Ok((StatusCode::CREATED, Json(json!({ "stored": rows.len() }))))
    })
    .await
}

async fn get_key_packages(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, _, caller, _| {
        let rows = state.storage.key_packages(team, &caller.device)?;
        let packages = rows
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.json))
            .collect::<Result<Vec<_>, _>>()
            .map_err(RelayError::storage)?;
        ok(json!({ "packages": packages }))
    })
    .await
}

// ---- envelopes ----

#[derive(Deserialize)]
struct Push {
    envelopes: Vec<String>,
    /// Per document in the batch, the devices the pusher says may read it (hex ids). The
    /// relay serves them its envelopes and serves the others none of them; it checks only
    /// that they are the team's devices: the case keys decide who can read, this only who
    /// downloads.
    #[serde(default)]
    readers: Vec<DocReaders>,
}

#[derive(Deserialize)]
struct DocReaders {
    doc_id: String,
    devices: Vec<String>,
}

/// Adds each document's named readers to the batch's first envelope of that document. A
/// hint for a document not in the batch or for the team document (always everyone's) is
/// refused.
fn attach_readers(
    team: &str,
    roster: &Roster,
    batch: &mut [NewEnvelope],
    hints: Vec<DocReaders>,
) -> Result<()> {
    for hint in hints {
        let doc = hex_id::<16>("doc_id", &hint.doc_id)?;
        if hint.doc_id == team {
            return Err(RelayError::bad_request(
                ErrorCode::BadReaders,
                "The team document is read by the whole team; it takes no readers.",
            ));
        }
        for device in &hint.devices {
            hex_id::<16>("device", device)?;
        }
        let Some(first) = batch.iter_mut().find(|e| e.doc_id == doc) else {
            return Err(RelayError::bad_request(
                ErrorCode::BadReaders,
                "Readers may only be named for a document the push writes to.",
            ));
        };
        // A device the relay's roster does not hold (yet) is left out rather than failing
        // the push: the pusher's outbox must not stall over who downloads what.
        first.readers.extend(hint.devices.into_iter().filter(|d| roster.device(d).is_some()));
    }
    Ok(())
}

fn stored_kind(kind: EnvelopeKind) -> StoredKind {
    match kind {
        EnvelopeKind::Changes => StoredKind::Changes,
        EnvelopeKind::Snapshot => StoredKind::Snapshot,
        EnvelopeKind::Roster => StoredKind::Roster,
        EnvelopeKind::KeyPackage => StoredKind::KeyPackage,
    }
}

/// Parses and checks one pushed envelope: the caller's own, for this team, signed by the key
/// the roster holds for it.
fn check_envelope(team: &str, roster: &Roster, caller: &Caller, text: &str) -> Result<NewEnvelope> {
    let bytes = hex::decode(text)
        .map_err(|_| RelayError::bad_request(ErrorCode::BadHex, "The envelope is not hex."))?;
    let envelope = Envelope::from_bytes(&bytes).map_err(|e| {
        RelayError::bad_request(
            ErrorCode::MalformedEnvelope,
            format!("The envelope does not parse: {e}"),
        )
    })?;
    if hex::encode(envelope.header.team_id) != team {
        return Err(RelayError::forbidden(
            ErrorCode::WrongTeam,
            "The envelope belongs to another team.",
        ));
    }
    let author = envelope.header.author.to_hex();
    if author != caller.device {
        return Err(RelayError::forbidden(
            ErrorCode::NotAuthor,
            "A device may only push envelopes it wrote itself.",
        ));
    }
    let key = roster.signing_key(&author).ok_or_else(|| {
        RelayError::forbidden(
            ErrorCode::UnknownAuthor,
            "The envelope's author is not in the roster.",
        )
    })?;
    envelope.verify(&key).map_err(|e| {
        RelayError::forbidden(
            ErrorCode::BadEnvelopeSignature,
            format!("The envelope was refused: {e}"),
        )
    })?;
    // Devices trust only a supervisor's snapshot to speak for other members' changes, so
    // only a supervisor's may let the relay drop what it covers; anyone else's is kept as
    // the ciphertext it is, for the devices to refuse.
    let covers_server_seq =
        envelope.header.covers_server_seq.filter(|_| caller.role == Role::Supervisor);
    Ok(NewEnvelope {
        hash: envelope.hash(),
        doc_id: envelope.header.doc_id,
        author: *envelope.header.author.as_bytes(),
        kind: stored_kind(envelope.header.kind),
        covers_server_seq,
        bytes,
        readers: Vec::new(),
    })
}

async fn post_envelopes(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    // The signature is recorded in the push's own transaction: a replayed push stores
    // nothing, and the record costs no commit (and on SQLite no fsync) of its own.
    signed_admitting(
        state,
        team,
        request,
        Admit::Active,
        Replay::WithTheWrite,
        |state, team, roster, caller, body| {
            let push: Push = parse_json(body)?;
            if push.envelopes.len() > MAX_PUSH_BATCH {
                return Err(RelayError::too_large(
                    ErrorCode::BatchTooLarge,
                    format!(
                        "{} envelopes in one push; the limit is {MAX_PUSH_BATCH}. Split the batch.",
                        push.envelopes.len()
                    ),
                ));
            }
            let mut batch = push
                .envelopes
                .iter()
                .enumerate()
                .map(|(i, text)| check_envelope(team, roster, &caller, text).map_err(|e| e.at(i)))
                .collect::<Result<Vec<_>>>()?;
            attach_readers(team, roster, &mut batch, push.readers)?;
            let appended = state.storage.push_envelopes(team, &batch, caller.seen.as_ref())?;
            let accepted: Vec<Value> = appended
                .iter()
                .map(|a| {
                    json!({
                        "hash": hex::encode(a.hash),
                        "server_seq": a.server_seq,
                        "duplicate": a.duplicate,
                        "erased": a.erased,
                    })
                })
                .collect();
            ok(json!({ "accepted": accepted }))
        },
    )
    .await
}

async fn get_envelopes(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Result<Response> {
    let query = request.uri().query().map(str::to_owned);
    signed(state, team, request, move |state, team, _, caller, _| {
        let query = query.as_deref();
        let after = query_number(query, "after")?.unwrap_or(0);
        let until = query_number(query, "until")?;
        let doc = query_param(query, "doc").map(|doc| hex_id::<16>("doc", doc)).transpose()?;
        let limit = query_number(query, "limit")?.unwrap_or(MAX_PULL_LIMIT as u64);
        if limit == 0 {
            return Err(RelayError::bad_request(ErrorCode::BadQuery, "limit must be at least 1."));
        }
        let limit = usize::try_from(limit).unwrap_or(MAX_PULL_LIMIT).min(MAX_PULL_LIMIT);
        let feed =
            Feed { reader: &caller.device, doc, after, until, limit, max_bytes: MAX_PULL_BYTES };
        let page = state.storage.pull_envelopes(team, &feed)?;
        Ok(([(CONTENT_TYPE, "application/json")], page_json(&page)).into_response())
    })
    .await
}

/// A pull's page as JSON, written straight into one buffer of the right size:
/// `{"envelopes":[{"server_seq":N,"bytes":"HEX"},…],"next_after":N,"more":B}`, an erasure as
/// `{"server_seq":N,"erased_doc":"HEX","erased_by":"HEX","signature":"HEX"}`. Pages are most
/// of what the relay sends; building them as `serde_json::Value`s of hex `String`s and
/// serialising those took about half of the relay's CPU under load (issue 13's profile). Only
/// numbers, booleans and hex are written, so nothing needs escaping.
fn page_json(page: &Page) -> Vec<u8> {
    let hex_len: usize = page
        .entries
        .iter()
        .map(|p| match p {
            Pulled::Envelope { bytes, .. } => bytes.len() * 2,
            Pulled::Erased { signature, .. } => (16 + 16 + signature.len()) * 2,
        })
        .sum();
    let mut out = Vec::with_capacity(hex_len + 96 * page.entries.len() + 64);
    out.extend_from_slice(b"{\"envelopes\":[");
    for (i, entry) in page.entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("{{\"server_seq\":{}", entry.server_seq()).as_bytes());
        match entry {
            Pulled::Envelope { bytes, .. } => push_hex_field(&mut out, "bytes", bytes),
            Pulled::Erased { doc_id, erased_by, signature, .. } => {
                push_hex_field(&mut out, "erased_doc", doc_id);
                push_hex_field(&mut out, "erased_by", erased_by);
                push_hex_field(&mut out, "signature", signature);
            }
        }
        out.push(b'}');
    }
    out.extend_from_slice(
        format!("],\"next_after\":{},\"more\":{}}}", page.next_after, page.more).as_bytes(),
    );
    out
}

/// `,"name":"hex of bytes"`.
fn push_hex_field(out: &mut Vec<u8>, name: &str, bytes: &[u8]) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":\"");
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2 + 1);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 0x0f)]);
    }
    out.push(b'"');
}

#[derive(Deserialize)]
struct HistoryQuery {
    docs: Vec<String>,
    until: u64,
}

/// Of the cases named, those with an envelope the caller may read at or before `until`: what
/// a pull of each case's history would find non-empty, in one request instead of one per
/// case (a new phone meets every case of its team once).
async fn post_history(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, _, caller, body| {
        let query: HistoryQuery = parse_json(body)?;
        if query.docs.len() > MAX_PUSH_BATCH {
            return Err(RelayError::too_large(
                ErrorCode::BatchTooLarge,
                format!("At most {MAX_PUSH_BATCH} documents at a time."),
            ));
        }
        let mut with_history = Vec::new();
        for doc_id in query.docs {
            let doc = hex_id::<16>("docs", &doc_id)?;
            let feed = Feed {
                reader: &caller.device,
                doc: Some(doc),
                after: 0,
                until: Some(query.until),
                limit: 1,
                max_bytes: MAX_PULL_BYTES,
            };
            if !state.storage.pull_envelopes(team, &feed)?.entries.is_empty() {
                with_history.push(doc_id);
            }
        }
        ok(json!({ "docs": with_history }))
    })
    .await
}

// ---- attachments ----

/// The ids in an attachment's route: its case, the device that attached it, the file.
struct FileRoute {
    doc_id: [u8; 16],
    author: String,
    attachment: [u8; 16],
}

impl FileRoute {
    fn parse(doc: &str, author: &str, attachment: &str) -> Result<FileRoute> {
        let author_id = hex_id::<16>("The device id", author)?;
        Ok(FileRoute {
            doc_id: hex_id::<16>("The case id", doc)?,
            author: hex::encode(author_id),
            attachment: hex_id::<16>("The attachment id", attachment)?,
        })
    }

    fn chunk(&self, index: u32) -> Result<ChunkKey<'_>> {
        if index >= eropaf_protocol::attachment::MAX_CHUNKS {
            return Err(RelayError::bad_request(ErrorCode::BadId, "No file has that many chunks."));
        }
        Ok(ChunkKey {
            doc_id: self.doc_id,
            author: &self.author,
            attachment: self.attachment,
            index,
        })
    }
}

/// The caller may read the case the file belongs to: the same rule as for its envelopes.
fn require_reader(
    state: &RelayState,
    team: &str,
    caller: &Caller,
    doc_id: &[u8; 16],
) -> Result<()> {
    if state.storage.may_read(team, doc_id, &caller.device)? {
        Ok(())
    } else {
        Err(RelayError::forbidden(ErrorCode::NotReader, "This device does not read this case."))
    }
}

/// Which chunks of a file the relay holds: where an upload or a download continues.
async fn get_attachment(
    State(state): State<RelayState>,
    Path((team, doc, author, attachment)): Path<(String, String, String, String)>,
    request: Request,
) -> Reply {
    let file = FileRoute::parse(&doc, &author, &attachment)?;
    signed(state, team, request, move |state, team, _, caller, _| {
        require_reader(state, team, &caller, &file.doc_id)?;
        let held =
            state.storage.chunk_indices(team, &file.doc_id, &file.author, &file.attachment)?;
        ok(json!({ "held": held }))
    })
    .await
}

/// Stores one sealed chunk, uploaded by the device that attached the file. The relay cannot
/// check what it holds (only the case's readers have the key): it checks who sent it, that
/// it fits a chunk, and that the case still exists.
async fn put_chunk(
    State(state): State<RelayState>,
    Path((team, doc, author, attachment, index)): Path<(String, String, String, String, u32)>,
    request: Request,
) -> Reply {
    let file = FileRoute::parse(&doc, &author, &attachment)?;
    file.chunk(index)?;
    signed(state, team, request, move |state, team, _, caller, body| {
        if caller.device != file.author {
            return Err(RelayError::forbidden(
                ErrorCode::NotAuthor,
                "Only the device that attached a file uploads it.",
            ));
        }
        if body.is_empty() || body.len() > eropaf_protocol::attachment::MAX_SEALED_CHUNK_LEN {
            return Err(RelayError::too_large(
                ErrorCode::BodyTooLarge,
                "A chunk is at most 256 KiB and its tag.",
            ));
        }
        require_reader(state, team, &caller, &file.doc_id)?;
        let stored = state.storage.put_chunk(team, &file.chunk(index)?, body)?;
        ok(json!({ "stored": stored }))
    })
    .await
}

/// One sealed chunk, to a reader of its case.
async fn get_chunk(
    State(state): State<RelayState>,
    Path((team, doc, author, attachment, index)): Path<(String, String, String, String, u32)>,
    request: Request,
) -> Result<Response> {
    let file = FileRoute::parse(&doc, &author, &attachment)?;
    file.chunk(index)?;
    signed(state, team, request, move |state, team, _, caller, _| {
        require_reader(state, team, &caller, &file.doc_id)?;
        let bytes = state.storage.chunk(team, &file.chunk(index)?)?.ok_or_else(|| {
            RelayError::not_found(ErrorCode::ChunkNotFound, "The relay does not hold this chunk.")
        })?;
        Ok(([(CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
    })
    .await
}

#[derive(Deserialize)]
struct Leave {
    doc_ids: Vec<String>,
}

/// The calling device forgot these cases: it is served their envelopes no longer.
async fn post_leave(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, _, caller, body| {
        let leave: Leave = parse_json(body)?;
        if leave.doc_ids.len() > MAX_PUSH_BATCH {
            return Err(RelayError::too_large(
                ErrorCode::BatchTooLarge,
                format!("At most {MAX_PUSH_BATCH} documents at a time."),
            ));
        }
        for doc_id in &leave.doc_ids {
            let doc = hex_id::<16>("doc_id", doc_id)?;
            state.storage.leave_doc(team, &doc, &caller.device)?;
        }
        ok(json!({ "left": leave.doc_ids.len() }))
    })
    .await
}

#[derive(Deserialize)]
struct Erase {
    doc_id: String,
    /// Hex: the supervisor's signed order (`team::erasure`), which devices check.
    signature: String,
}

async fn post_erase(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, _, caller, body| {
        caller.require_supervisor()?;
        let erase: Erase = parse_json(body)?;
        let doc_id = hex_id::<16>("doc_id", &erase.doc_id)?;
        let device = hex_id::<16>("device", &caller.device)?;
        let signature = hex::decode(&erase.signature).unwrap_or_default();
        let roster = state.roster(team)?;
        if eropaf_protocol::team::erasure::check(&roster, &erase.doc_id, &caller.device, &signature)
            .is_err()
        {
            return Err(RelayError::bad_request(
                ErrorCode::BadErasureSignature,
                "The erasure order is not signed by this supervisor device.",
            ));
        }
        let seq = state.storage.erase_doc(team, &doc_id, &device, &signature)?;
        ok(json!({ "doc_id": erase.doc_id, "server_seq": seq }))
    })
    .await
}

// ---- a revoked device that wiped itself ----

/// A revoked device's signed word that it wiped itself; kept for the supervisors, once per
/// device. Only a device that is revoked reports, and only for itself.
async fn post_wipe_report(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed_admitting(
        state,
        team,
        request,
        Admit::AlsoRevoked,
        Replay::RecordNow,
        |state, team, roster, caller, body| {
            let report: WipeReport = parse_json(body)?;
            if report.device_id != caller.device || roster.is_active(&caller.device) {
                return Err(RelayError::forbidden(
                    ErrorCode::NotRevoked,
                    "Only a revoked device reports that it wiped itself, and only for itself.",
                ));
            }
            if !report.check(roster) {
                return Err(RelayError::bad_request(
                    ErrorCode::BadWipeReport,
                    "The wipe report is not signed by the device it names.",
                ));
            }
            let json = serde_json::to_string(&report).map_err(RelayError::storage)?;
            state.storage.put_wipe_report(team, &report.device_id, &json)?;
            ok(json!({ "device_id": report.device_id }))
        },
    )
    .await
}

async fn get_wipe_reports(
    State(state): State<RelayState>,
    Path(team): Path<String>,
    request: Request,
) -> Reply {
    signed(state, team, request, |state, team, _, caller, _| {
        caller.require_supervisor()?;
        let reports: Vec<Value> = state
            .storage
            .wipe_reports(team)?
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect();
        ok(json!({ "reports": reports }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written page reads back as the JSON the sync engine parses, for both kinds of
    /// entry, an empty page and an empty signature.
    #[test]
    fn a_page_written_by_hand_is_the_json_of_its_entries() {
        let pages = [
            Page { entries: vec![], more: false, next_after: 0 },
            Page {
                entries: vec![
                    Pulled::Envelope { server_seq: 7, bytes: vec![0x00, 0xab, 0xff, 0x10] },
                    Pulled::Erased {
                        server_seq: 9,
                        doc_id: [0x5a; 16],
                        erased_by: [0x01; 16],
                        signature: vec![],
                    },
                    Pulled::Envelope { server_seq: u64::MAX, bytes: vec![] },
                ],
                more: true,
                next_after: 12,
            },
        ];
        for page in pages {
            let expected: Vec<Value> = page
                .entries
                .iter()
                .map(|p| match p {
                    Pulled::Envelope { server_seq, bytes } => {
                        json!({ "server_seq": server_seq, "bytes": hex::encode(bytes) })
                    }
                    Pulled::Erased { server_seq, doc_id, erased_by, signature } => json!({
                        "server_seq": server_seq,
                        "erased_doc": hex::encode(doc_id),
                        "erased_by": hex::encode(erased_by),
                        "signature": hex::encode(signature),
                    }),
                })
                .collect();
            let expected =
                json!({ "envelopes": expected, "next_after": page.next_after, "more": page.more });
            let written: Value = serde_json::from_slice(&page_json(&page)).unwrap();
            assert_eq!(written, expected);
        }
    }
}
