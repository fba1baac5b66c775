//! The relay end to end: a real server on loopback over a SQLite file in a temp dir, driven
//! with reqwest as a device would, with real rosters and sealed envelopes from eropaf-core.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use eropaf_protocol::crypto::{fill_random, DeviceIdentity, SecretKey};
use eropaf_protocol::envelope::{Envelope, EnvelopeHeader, EnvelopeKind};
use eropaf_protocol::team::invitation::Invitation;
use eropaf_protocol::team::roster::{DeviceCard, Role, Roster, RosterChange};
use eropaf_relay::{serve_with_shutdown, sign_request, SqliteStorage};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Strictly increasing timestamps: two identical requests signed in the same millisecond
/// would otherwise carry the same signature and the second would count as a replay.
fn now_millis() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let prev = LAST.fetch_max(wall, Ordering::SeqCst);
    if prev >= wall {
        LAST.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        wall
    }
}

struct Relay {
    url: String,
    db: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    http: reqwest::Client,
}

impl Relay {
    /// A fresh one-time code for registering a team, as the operator issues one.
    fn registration_code(&self) -> String {
        eropaf_relay::issue_registration_code(&SqliteStorage::open(&self.db).unwrap()).unwrap()
    }

    async fn start(db: &Path) -> Relay {
        let storage = Arc::new(SqliteStorage::open(db).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            serve_with_shutdown(listener, storage, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Relay { url, db: db.to_owned(), shutdown: Some(tx), task: Some(task), http: client() }
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    async fn restart(mut self) -> Relay {
        self.stop().await;
        Relay::start(&self.db.clone()).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&'static str, String)],
    ) -> (StatusCode, Value) {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json").body(bytes);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Headers for a signed request at `now`.
    fn sign(
        id: &DeviceIdentity,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        now: i64,
    ) -> Vec<(&'static str, String)> {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        sign_request(id, method.as_str(), path, &bytes, now)
    }

    async fn signed(
        &self,
        id: &DeviceIdentity,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let headers = Relay::sign(id, &method, path, body, now_millis());
        self.send(method, path, body, &headers).await
    }

    async fn unsigned(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        self.send(method, path, body, &[]).await
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn card(id: &DeviceIdentity, member: &str, role: Role) -> DeviceCard {
    let mut agreement = [0u8; 32];
    fill_random(&mut agreement).unwrap();
    DeviceCard::for_identity(id, &agreement, member, role).unwrap()
}

/// A team on the relay: its roster (as the supervisor device keeps it) and the supervisor.
struct Team {
    roster: Roster,
    supervisor: DeviceIdentity,
    id: String,
    key: SecretKey,
}

impl Team {
    /// A fresh invitation to this team, as a supervisor's device makes one.
    fn invitation(&self) -> Invitation {
        let expires = chrono::Utc::now() + chrono::Duration::hours(1);
        Invitation::generate(
            &self.id,
            "http://127.0.0.1:1",
            Role::Worker,
            self.roster.head(),
            None,
            expires,
        )
        .unwrap()
    }

    async fn create(relay: &Relay) -> Team {
        let supervisor = DeviceIdentity::generate().unwrap();
        let roster = Roster::create(
            "Wijkteam Noord",
            &supervisor,
            card(&supervisor, "Sanne", Role::Supervisor),
        )
        .unwrap();
        let genesis = &roster.entries()[0];
        // Without a code from the operator, or with one already used, no team is registered.
        let code = relay.registration_code();
        for wrong in [String::new(), "0".repeat(32)] {
            let body = json!({ "genesis": genesis, "registration_code": wrong });
            let (status, reply) = relay.unsigned(Method::POST, "/v1/teams", Some(&body)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
            assert_eq!(reply["code"], "bad_registration_code");
        }
        let body = json!({ "genesis": genesis, "registration_code": code });
        let (status, body) = relay.unsigned(Method::POST, "/v1/teams", Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["team_id"], roster.team_id());
        let id = roster.team_id().to_owned();
        Team { roster, supervisor, id, key: SecretKey::generate().unwrap() }
    }

    fn path(&self, rest: &str) -> String {
        format!("/v1/teams/{}/{rest}", self.id)
    }

    fn team_bytes(&self) -> [u8; 16] {
        hex::decode(&self.id).unwrap().try_into().unwrap()
    }

    /// Adds a device with the supervisor's signature and sends the entry to the relay.
    async fn add(&mut self, relay: &Relay, role: Role) -> DeviceIdentity {
        let device = DeviceIdentity::generate().unwrap();
        let change = RosterChange::AddDevice { card: card(&device, "Femke", role) };
        let entry = self.roster.append(change, &self.supervisor).unwrap();
        let body = json!({ "entries": [entry] });
        let (status, reply) =
            relay.signed(&self.supervisor, Method::POST, &self.path("roster"), Some(&body)).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        device
    }

    async fn revoke(&mut self, relay: &Relay, device: &DeviceIdentity) {
        let change = RosterChange::Revoke { device_id: device.id().to_hex(), last_taken: None };
        let entry = self.roster.append(change, &self.supervisor).unwrap();
        let body = json!({ "entries": [entry] });
        let (status, reply) =
            relay.signed(&self.supervisor, Method::POST, &self.path("roster"), Some(&body)).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
}

/// Seals a chain of `n` Changes envelopes for one document.
fn seal_chain(
    team: &Team,
    author: &DeviceIdentity,
    doc: [u8; 16],
    payloads: &[&[u8]],
) -> Vec<Envelope> {
    let mut prev = None;
    let mut out = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        let header = EnvelopeHeader::new(
            team.team_bytes(),
            doc,
            1,
            author.id(),
            i as u64 + 1,
            prev,
            EnvelopeKind::Changes,
        )
        .unwrap();
        let envelope = Envelope::seal(header, &team.key, payload, author).unwrap();
        prev = Some(envelope.hash());
        out.push(envelope);
    }
    out
}

fn push_body(envelopes: &[Envelope]) -> Value {
    json!({ "envelopes": envelopes.iter().map(|e| hex::encode(e.to_bytes())).collect::<Vec<_>>() })
}

async fn push(
    relay: &Relay,
    team: &Team,
    device: &DeviceIdentity,
    envelopes: &[Envelope],
) -> (StatusCode, Value) {
    relay.signed(device, Method::POST, &team.path("envelopes"), Some(&push_body(envelopes))).await
}

/// Everything in the team's log, as (server_seq, entry).
async fn pull_all(relay: &Relay, team: &Team, device: &DeviceIdentity) -> Vec<Value> {
    let (status, body) =
        relay.signed(device, Method::GET, &team.path("envelopes?after=0"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["more"], false);
    body["envelopes"].as_array().unwrap().clone()
}

async fn stored(relay: &Relay, team: &Team) -> usize {
    pull_all(relay, team, &team.supervisor).await.len()
}

fn random_doc() -> [u8; 16] {
    let mut doc = [0u8; 16];
    fill_random(&mut doc).unwrap();
    doc
}

async fn fresh_relay() -> (tempfile::TempDir, Relay) {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.db")).await;
    (dir, relay)
}

#[tokio::test]
async fn a_member_pushes_and_pulls_and_a_duplicate_push_changes_nothing() {
    let (_dir, relay) = fresh_relay().await;
    let mut team = Team::create(&relay).await;
    let worker = team.add(&relay, Role::Worker).await;
    let doc = random_doc();
    let envelopes = seal_chain(&team, &worker, doc, &[b"one", b"two", b"three"]);

    let (status, body) = push(&relay, &team, &worker, &envelopes).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let accepted = body["accepted"].as_array().unwrap();
    let seqs: Vec<u64> = accepted.iter().map(|a| a["server_seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(accepted[0]["hash"], hex::encode(envelopes[0].hash()));

    // Pushing the same envelopes again (a retry after a lost response) returns the same
    // sequences and stores nothing new.
    let (status, body) = push(&relay, &team, &worker, &envelopes[1..]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"][0]["server_seq"], 2);
    assert_eq!(body["accepted"][0]["duplicate"], true);

    // The supervisor pulls what the worker wrote, byte for byte, and can open it.
    let pulled = pull_all(&relay, &team, &team.supervisor).await;
    assert_eq!(pulled.len(), 3);
    for (entry, sent) in pulled.iter().zip(&envelopes) {
        let bytes = hex::decode(entry["bytes"].as_str().unwrap()).unwrap();
        assert_eq!(bytes, sent.to_bytes());
    }
    let first =
        Envelope::from_bytes(&hex::decode(pulled[0]["bytes"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(first.open(&team.key).unwrap(), b"one");

    // Members read the roster.
    let (status, body) = relay.signed(&worker, Method::GET, &team.path("roster"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["entries"].as_array().unwrap().len(), 2);
    assert_eq!(body["head"], team.roster.head());

    // A second genesis for the same team is refused.
    let code = relay.registration_code();
    let genesis = json!({ "genesis": team.roster.entries()[0], "registration_code": code });
    let (status, body) = relay.unsigned(Method::POST, "/v1/teams", Some(&genesis)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "team_exists");
}

#[tokio::test]
async fn pull_pages_through_the_log_with_after_and_limit() {
    let (_dir, relay) = fresh_relay().await;
    let team = Team::create(&relay).await;
    let payloads: Vec<Vec<u8>> = (0..7).map(|i| format!("change {i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let envelopes = seal_chain(&team, &team.supervisor, random_doc(), &refs);
    assert_eq!(push(&relay, &team, &team.supervisor, &envelopes).await.0, StatusCode::OK);

    let mut after = 0;
    let mut pages = Vec::new();
    loop {
        let path = team.path(&format!("envelopes?after={after}&limit=3"));
        let (status, body) = relay.signed(&team.supervisor, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let seqs: Vec<u64> = body["envelopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["server_seq"].as_u64().unwrap())
            .collect();
        after = body["next_after"].as_u64().unwrap();
        pages.push(seqs);
        if body["more"] == false {
            break;
        }
    }
    assert_eq!(pages, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);

    // Past the end: nothing, and the cursor stays.
    let (_, body) =
        relay.signed(&team.supervisor, Method::GET, &team.path("envelopes?after=7"), None).await;
    assert_eq!(body["envelopes"].as_array().unwrap().len(), 0);
    assert_eq!(body["next_after"], 7);
    let (status, body) =
        relay.signed(&team.supervisor, Method::GET, &team.path("envelopes?after=x"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn bad_envelopes_and_bad_requests_are_refused_and_store_nothing() {
    let (_dir, relay) = fresh_relay().await;
    let mut team = Team::create(&relay).await;
    let worker = team.add(&relay, Role::Worker).await;
    let other_team = Team::create(&relay).await;
    let doc = random_doc();
    let good = seal_chain(&team, &worker, doc, &[b"first"]);
    assert_eq!(push(&relay, &team, &worker, &good).await.0, StatusCode::OK);
    assert_eq!(stored(&relay, &team).await, 1);

    // A tampered envelope (one byte of the body flipped), in a batch after a good one: the
    // whole batch is refused, naming the bad one.
    let chain = seal_chain(&team, &worker, random_doc(), &[b"a", b"b"]);
    let mut body = push_body(&chain);
    let mut bytes = chain[1].to_bytes();
    let last = bytes.len() - 70;
    bytes[last] ^= 1;
    body["envelopes"][1] = json!(hex::encode(bytes));
    let (status, reply) =
        relay.signed(&worker, Method::POST, &team.path("envelopes"), Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert_eq!(reply["code"], "bad_envelope_signature");
    assert_eq!(reply["index"], 1);
    assert_eq!(stored(&relay, &team).await, 1);

    // Garbage where an envelope should be.
    let body = json!({ "envelopes": [hex::encode(b"not an envelope")] });
    let (status, reply) =
        relay.signed(&worker, Method::POST, &team.path("envelopes"), Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["code"], "malformed_envelope");

    // An envelope of another team, pushed by a member of this one.
    let foreign = seal_chain(&other_team, &other_team.supervisor, doc, &[b"x"]);
    let (status, reply) = push(&relay, &team, &worker, &foreign).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert_eq!(reply["code"], "wrong_team");

    // A device of another team signing a push to this team is unknown here.
    let (status, reply) = push(&relay, &team, &other_team.supervisor, &foreign).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(reply["code"], "unknown_device");

    // A member pushing another member's envelope.
    let by_supervisor = seal_chain(&team, &team.supervisor, random_doc(), &[b"s"]);
    let (status, reply) = push(&relay, &team, &worker, &by_supervisor).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert_eq!(reply["code"], "not_author");

    // A stranger's device.
    let stranger = DeviceIdentity::generate().unwrap();
    let (status, reply) = relay.signed(&stranger, Method::GET, &team.path("envelopes"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(reply["code"], "unknown_device");

    // No signature at all.
    let (status, reply) = relay.unsigned(Method::GET, &team.path("envelopes"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");

    // A stale timestamp (ten minutes ago), correctly signed.
    let fresh = seal_chain(&team, &worker, random_doc(), &[b"late"]);
    let body = push_body(&fresh);
    let path = team.path("envelopes");
    let headers = Relay::sign(&worker, &Method::POST, &path, Some(&body), now_millis() - 600_000);
    let (status, reply) = relay.send(Method::POST, &path, Some(&body), &headers).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(reply["code"], "stale_request");

    // A signature for one body does not cover another.
    let headers =
        Relay::sign(&worker, &Method::POST, &path, Some(&json!({"envelopes": []})), now_millis());
    let (status, reply) = relay.send(Method::POST, &path, Some(&body), &headers).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(reply["code"], "bad_signature");
    assert_eq!(stored(&relay, &team).await, 1);

    // A replayed request: the same headers and body a second time.
    let headers = Relay::sign(&worker, &Method::POST, &path, Some(&body), now_millis());
    let (status, _) = relay.send(Method::POST, &path, Some(&body), &headers).await;
    assert_eq!(status, StatusCode::OK);
    let (status, reply) = relay.send(Method::POST, &path, Some(&body), &headers).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert_eq!(reply["code"], "replayed_request");
    assert_eq!(stored(&relay, &team).await, 2);

    // Too many envelopes in one batch.
    let body = json!({ "envelopes": vec!["00"; 501] });
    let (status, reply) = relay.signed(&worker, Method::POST, &path, Some(&body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
    assert_eq!(reply["code"], "batch_too_large");

    // A revoked device is refused, also for what it signed before the revocation.
    let before = seal_chain(&team, &worker, random_doc(), &[b"before revocation"]);
    team.revoke(&relay, &worker).await;
    let (status, reply) = push(&relay, &team, &worker, &before).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert_eq!(reply["code"], "revoked_device");
    let (status, reply) = relay.signed(&worker, Method::GET, &team.path("envelopes"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert_eq!(stored(&relay, &team).await, 2);

    // A worker may not do a supervisor's work.
    let mut team2 = other_team;
    let worker2 = team2.add(&relay, Role::Worker).await;
    let body = json!({ "doc_id": hex::encode(doc) });
    let (status, reply) =
        relay.signed(&worker2, Method::POST, &team2.path("erase"), Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert_eq!(reply["code"], "not_supervisor");
}

#[tokio::test]
async fn a_device_joins_with_a_one_time_invitation() {
    let (_dir, relay) = fresh_relay().await;
    let mut team = Team::create(&relay).await;
    let made = team.invitation();
    let invitation_id = made.invitation_id.clone();
    let invitation = json!({
        "invitation_id": invitation_id,
        "invitation_key": hex::encode(made.public_key().unwrap()),
        "expires_at": now_millis() + 3_600_000,
    });
    let (status, reply) = relay
        .signed(&team.supervisor, Method::POST, &team.path("invitations"), Some(&invitation))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");

    // The new device: its card and a proof of the secret bound to that card.
    let newcomer = DeviceIdentity::generate().unwrap();
    let newcomer_card = card(&newcomer, "Joris", Role::Worker);
    let card_json = serde_json::to_vec(&newcomer_card).unwrap();

    let wrong = team.invitation().sign_join(&card_json).unwrap();
    let join = |proof: String| json!({ "invitation_id": invitation_id, "card": newcomer_card, "proof": proof });
    let (status, reply) =
        relay.unsigned(Method::POST, &team.path("join"), Some(&join(wrong))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert_eq!(reply["code"], "wrong_proof");

    // Before joining, the device cannot see anything.
    let enrolment = team.path(&format!("enrolment/{invitation_id}"));
    let (status, _) = relay.unsigned(Method::GET, &enrolment, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, reply) = relay
        .unsigned(
            Method::POST,
            &team.path("join"),
            Some(&join(made.sign_join(&card_json).unwrap())),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    assert_eq!(reply["status"], "pending");
    let (status, reply) = relay.unsigned(Method::GET, &enrolment, None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], "pending");

    // One time only: a second use, even with the right proof, is gone.
    let again = card(&DeviceIdentity::generate().unwrap(), "Indringer", Role::Supervisor);
    let again_json = serde_json::to_vec(&again).unwrap();
    let body = json!({ "invitation_id": invitation_id, "card": again, "proof": made.sign_join(&again_json).unwrap() });
    let (status, reply) = relay.unsigned(Method::POST, &team.path("join"), Some(&body)).await;
    assert_eq!(status, StatusCode::GONE, "{reply}");
    assert_eq!(reply["code"], "invitation_used");

    // Pending: the newcomer is not a member yet.
    let (status, _) = relay.signed(&newcomer, Method::GET, &team.path("envelopes"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The supervisor sees the request, checks the proof itself, approves it.
    let (status, reply) =
        relay.signed(&team.supervisor, Method::GET, &team.path("join-requests"), None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let request = &reply["join_requests"][0];
    assert_eq!(request["status"], "pending");
    let card_back: DeviceCard = serde_json::from_value(request["card"].clone()).unwrap();
    assert_eq!(card_back, newcomer_card);
    assert_eq!(request["proof"], made.sign_join(&serde_json::to_vec(&card_back).unwrap()).unwrap());

    let entry =
        team.roster.append(RosterChange::AddDevice { card: card_back }, &team.supervisor).unwrap();
    let (status, reply) = relay
        .signed(
            &team.supervisor,
            Method::POST,
            &team.path("roster"),
            Some(&json!({ "entries": [entry] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let package = json!({ "team_id": team.id, "epoch": 1, "recipient": newcomer.id().to_hex(), "sealed": "…" });
    let (status, reply) = relay
        .signed(
            &team.supervisor,
            Method::POST,
            &team.path("key-packages"),
            Some(&json!({ "packages": [package] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");

    let (_, reply) = relay.unsigned(Method::GET, &enrolment, None).await;
    assert_eq!(reply["status"], "approved");
    let (status, reply) =
        relay.signed(&newcomer, Method::GET, &team.path("key-packages"), None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["packages"], json!([package]));
    let (status, reply) =
        relay.signed(&team.supervisor, Method::GET, &team.path("key-packages"), None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["packages"], json!([]));

    // The newcomer now pulls what the supervisor wrote.
    let written = seal_chain(&team, &team.supervisor, random_doc(), &[b"welkom"]);
    assert_eq!(push(&relay, &team, &team.supervisor, &written).await.0, StatusCode::OK);
    assert_eq!(pull_all(&relay, &team, &newcomer).await.len(), 1);
}

#[tokio::test]
async fn an_expired_invitation_is_gone() {
    let (_dir, relay) = fresh_relay().await;
    let team = Team::create(&relay).await;
    let made = team.invitation();
    let (invitation_id, key) =
        (made.invitation_id.clone(), hex::encode(made.public_key().unwrap()));
    // Too far ahead and in the past are refused when creating.
    // A minute back, not a millisecond: the machine's clock may step between test and relay.
    for expires_at in [now_millis() - 60_000, now_millis() + 40 * 24 * 3_600_000] {
        let body = json!({ "invitation_id": invitation_id, "invitation_key": key, "expires_at": expires_at });
        let (status, _) = relay
            .signed(&team.supervisor, Method::POST, &team.path("invitations"), Some(&body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let body = json!({ "invitation_id": invitation_id, "invitation_key": key, "expires_at": now_millis() + 800 });
    let (status, _) =
        relay.signed(&team.supervisor, Method::POST, &team.path("invitations"), Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let newcomer = card(&DeviceIdentity::generate().unwrap(), "Joris", Role::Worker);
    let proof = made.sign_join(&serde_json::to_vec(&newcomer).unwrap()).unwrap();
    let body = json!({ "invitation_id": invitation_id, "card": newcomer, "proof": proof });
    let (status, reply) = relay.unsigned(Method::POST, &team.path("join"), Some(&body)).await;
    assert_eq!(status, StatusCode::GONE, "{reply}");
    assert_eq!(reply["code"], "invitation_expired");
}

#[tokio::test]
async fn the_database_holds_no_plaintext_and_survives_a_restart() {
    let (dir, relay) = fresh_relay().await;
    let team = Team::create(&relay).await;
    let marker = b"Willem de Vries, Kerkstraat 12, schuld bij de woningcorporatie";
    let doc = random_doc();
    let envelopes = seal_chain(&team, &team.supervisor, doc, &[marker, b"second"]);
    assert_eq!(push(&relay, &team, &team.supervisor, &envelopes).await.0, StatusCode::OK);

    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        assert!(!bytes.windows(12).any(|w| w == &marker[..12]), "plaintext in the relay's files");
        assert!(!bytes.windows(6).any(|w| w == b"Willem"));
    }
    assert!(files >= 2, "expected the database and its WAL");

    // A request captured before the restart is still a replay after it.
    let path = team.path("envelopes?after=0");
    let captured = Relay::sign(&team.supervisor, &Method::GET, &path, None, now_millis());
    assert_eq!(relay.send(Method::GET, &path, None, &captured).await.0, StatusCode::OK);

    let relay = relay.restart().await;
    let (status, reply) = relay.send(Method::GET, &path, None, &captured).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    let pulled = pull_all(&relay, &team, &team.supervisor).await;
    let seqs: Vec<u64> = pulled.iter().map(|e| e["server_seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2]);
    // Sequences continue after the restart; duplicates are still recognised.
    let more = seal_chain(&team, &team.supervisor, random_doc(), &[b"after restart"]);
    let (_, body) = push(&relay, &team, &team.supervisor, &more).await;
    assert_eq!(body["accepted"][0]["server_seq"], 3);
    let (_, body) = push(&relay, &team, &team.supervisor, &envelopes).await;
    assert_eq!(body["accepted"][1]["server_seq"], 2);
    assert_eq!(body["accepted"][1]["duplicate"], true);
}

#[tokio::test]
async fn a_snapshot_compacts_the_changes_it_covers() {
    let (_dir, relay) = fresh_relay().await;
    let team = Team::create(&relay).await;
    let doc = random_doc();
    let other_doc = random_doc();
    let sup = &team.supervisor;
    let changes = seal_chain(&team, sup, doc, &[b"c1", b"c2", b"c3"]);
    let other = seal_chain(&team, sup, other_doc, &[b"o1"]);
    assert_eq!(push(&relay, &team, sup, &changes).await.0, StatusCode::OK); // 1..=3
    assert_eq!(push(&relay, &team, sup, &other).await.0, StatusCode::OK); // 4

    let snapshot = |seq: u64, prev: [u8; 32], covers: u64, payload: &[u8]| {
        let header = EnvelopeHeader::new(
            team.team_bytes(),
            doc,
            1,
            sup.id(),
            seq,
            Some(prev),
            EnvelopeKind::Snapshot,
        )
        .unwrap()
        .covering(covers);
        Envelope::seal(header, &team.key, payload, sup).unwrap()
    };
    // Snapshot 1 covers c1 and c2; c3 was written after it.
    let snap1 = snapshot(4, changes[2].hash(), 2, b"snapshot one");
    let (_, body) = push(&relay, &team, sup, std::slice::from_ref(&snap1)).await;
    assert_eq!(body["accepted"][0]["server_seq"], 5);
    let seqs = |entries: Vec<Value>| {
        entries.iter().map(|e| e["server_seq"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(seqs(pull_all(&relay, &team, sup).await), [3, 4, 5]);

    // Snapshot 2 covers everything up to snapshot 1: c3 goes, snapshot 1 (the previous
    // snapshot) stays, and so do other documents.
    let snap2 = snapshot(5, snap1.hash(), 5, b"snapshot two");
    let (_, body) = push(&relay, &team, sup, std::slice::from_ref(&snap2)).await;
    assert_eq!(body["accepted"][0]["server_seq"], 6);
    assert_eq!(seqs(pull_all(&relay, &team, sup).await), [4, 5, 6]);

    // A snapshot cannot claim to cover itself or the future.
    let snap3 = snapshot(6, snap2.hash(), 1_000, b"snapshot three");
    let (_, body) = push(&relay, &team, sup, &[snap3]).await;
    assert_eq!(body["accepted"][0]["server_seq"], 7);
    assert_eq!(seqs(pull_all(&relay, &team, sup).await), [4, 6, 7]);
}

/// Devices trust only a supervisor's snapshot for other members' changes, so a worker's
/// snapshot is stored like any envelope but lets nothing go.
#[tokio::test]
async fn a_workers_snapshot_compacts_nothing() {
    let (_dir, relay) = fresh_relay().await;
    let mut team = Team::create(&relay).await;
    let worker = team.add(&relay, Role::Worker).await;
    let doc = random_doc();
    let changes = seal_chain(&team, &worker, doc, &[b"c1", b"c2"]);
    let (status, reply) = push(&relay, &team, &worker, &changes).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let first = reply["accepted"][0]["server_seq"].as_u64().unwrap();
    let header = EnvelopeHeader::new(
        team.team_bytes(),
        doc,
        1,
        worker.id(),
        3,
        Some(changes[1].hash()),
        EnvelopeKind::Snapshot,
    )
    .unwrap()
    .covering(first + 1);
    let snapshot = Envelope::seal(header, &team.key, b"snapshot", &worker).unwrap();
    let (status, reply) = push(&relay, &team, &worker, &[snapshot]).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let seqs: Vec<u64> = pull_all(&relay, &team, &team.supervisor)
        .await
        .iter()
        .filter_map(|e| e["server_seq"].as_u64())
        .collect();
    assert_eq!(seqs, [first, first + 1, first + 2], "nothing dropped");
}

#[tokio::test]
async fn an_erased_document_leaves_a_tombstone_and_refuses_new_envelopes() {
    let (_dir, relay) = fresh_relay().await;
    let team = Team::create(&relay).await;
    let sup = &team.supervisor;
    let doc = random_doc();
    let chain = seal_chain(&team, sup, doc, &[b"e1", b"e2", b"e3"]);
    assert_eq!(push(&relay, &team, sup, &chain[..2]).await.0, StatusCode::OK);
    // An order without the supervisor's signature is refused: devices could not check it.
    let body = json!({ "doc_id": hex::encode(doc), "signature": hex::encode([0u8; 64]) });
    let (status, reply) = relay.signed(sup, Method::POST, &team.path("erase"), Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["code"], "bad_erasure_signature");
    let signature = eropaf_protocol::team::erasure::sign(sup, &team.id, &hex::encode(doc));
    let body = json!({ "doc_id": hex::encode(doc), "signature": hex::encode(&signature) });
    let (status, reply) = relay.signed(sup, Method::POST, &team.path("erase"), Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["server_seq"], 3);

    let pulled = pull_all(&relay, &team, sup).await;
    let tombstone = json!({
        "server_seq": 3,
        "erased_doc": hex::encode(doc),
        "erased_by": sup.id().to_hex(),
        "signature": hex::encode(&signature),
    });
    assert_eq!(pulled, vec![tombstone]);

    // A device that was offline pushes the rest of its outbox: dropped, and told so.
    let (status, reply) = push(&relay, &team, sup, &chain[2..]).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["accepted"][0]["erased"], true);
    assert_eq!(pull_all(&relay, &team, sup).await.len(), 1);
}

/// reqwest is built with rustls but no crypto provider of its own (the core picks ring for the
/// whole workspace), so the provider is installed before a client is made.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A client that declares a body over the relay's limit is answered 413 at once, before the
/// relay reads a byte of it or looks at who is asking: it cannot hold the relay busy waiting
/// for gigabytes, nor make it authenticate anything. Here no body byte is ever sent.
#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_dir, relay) = fresh_relay().await;
    let address = relay.url.trim_start_matches("http://").to_string();
    for path in ["/v1/teams", &format!("/v1/teams/{}/envelopes", "ab".repeat(16))] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            eropaf_relay::api::MAX_BODY_BYTES as u64 * 100
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 512];
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer))
                .await
                .expect("answered without waiting for the body")
                .unwrap();
        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn reader_hints_scope_a_document_and_cannot_hide_the_team_document() {
    let (_dir, relay) = fresh_relay().await;
    let mut team = Team::create(&relay).await;
    let worker = team.add(&relay, Role::Worker).await;
    let colleague = team.add(&relay, Role::Worker).await;
    let hinted = |envelopes: &[Envelope], doc: String, devices: Vec<String>| {
        let mut body = push_body(envelopes);
        body["readers"] = json!([{ "doc_id": doc, "devices": devices }]);
        body
    };
    let me = vec![worker.id().to_hex()];
    // A member cannot keep the team document from the others, nor name readers for a
    // document her push does not write to: refused whole, nothing stored.
    let team_doc: [u8; 16] = hex::decode(&team.id).unwrap().try_into().unwrap();
    let team_change = seal_chain(&team, &worker, team_doc, &[b"beleid"]);
    let body = hinted(&team_change, team.id.clone(), me.clone());
    let (status, reply) =
        relay.signed(&worker, Method::POST, &team.path("envelopes"), Some(&body)).await;
    assert_eq!((status, reply["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_readers")));
    let case = seal_chain(&team, &worker, random_doc(), &[b"bezoek"]);
    let body = hinted(&case, hex::encode(random_doc()), me.clone());
    let (status, reply) =
        relay.signed(&worker, Method::POST, &team.path("envelopes"), Some(&body)).await;
    assert_eq!((status, reply["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_readers")));
    assert_eq!(stored(&relay, &team).await, 0);

    // Her own case, named hers: the colleague's pull leaves it out, hers has it.
    let doc = case[0].header.doc_id;
    let (status, reply) = relay
        .signed(
            &worker,
            Method::POST,
            &team.path("envelopes"),
            Some(&hinted(&case, hex::encode(doc), me)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(pull_all(&relay, &team, &worker).await.len(), 1);
    assert!(pull_all(&relay, &team, &colleague).await.is_empty());
}

/// Asks the relay which of `docs` hold envelopes `device` may read at or before `until`.
async fn ask_history(
    relay: &Relay,
    team: &Team,
    device: &DeviceIdentity,
    docs: &[String],
    until: u64,
) -> (StatusCode, Value) {
    let body = json!({ "docs": docs, "until": until });
    relay.signed(device, Method::POST, &team.path("history"), Some(&body)).await
}

#[tokio::test]
async fn the_history_question_names_only_cases_the_caller_may_read_before_the_point() {
    let (_dir, relay) = fresh_relay().await;
    let mut team = Team::create(&relay).await;
    let worker = team.add(&relay, Role::Worker).await;
    let colleague = team.add(&relay, Role::Worker).await;
    // The worker's own case (named hers), a team-wide case, and a case nobody wrote yet.
    let own = seal_chain(&team, &worker, random_doc(), &[b"bezoek"]);
    let mut body = push_body(&own);
    let own_doc = hex::encode(own[0].header.doc_id);
    body["readers"] = json!([{ "doc_id": own_doc, "devices": [worker.id().to_hex()] }]);
    let (status, reply) =
        relay.signed(&worker, Method::POST, &team.path("envelopes"), Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let first = reply["accepted"][0]["server_seq"].as_u64().unwrap();
    let shared = seal_chain(&team, &worker, random_doc(), &[b"teambreed"]);
    let (status, reply) = push(&relay, &team, &worker, &shared).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let second = reply["accepted"][0]["server_seq"].as_u64().unwrap();
    let shared_doc = hex::encode(shared[0].header.doc_id);
    let unknown = hex::encode(random_doc());
    let all = [own_doc.clone(), shared_doc.clone(), unknown.clone()];

    let (status, reply) = ask_history(&relay, &team, &worker, &all, second).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["docs"], json!([own_doc.clone(), shared_doc.clone()]));
    // Up to the first envelope only: the shared case begins after that point.
    let (_, reply) = ask_history(&relay, &team, &worker, &all, first).await;
    assert_eq!(reply["docs"], json!([own_doc]));
    // A colleague learns nothing of a case she may not read, not even that it exists.
    let (_, reply) = ask_history(&relay, &team, &colleague, &all, second).await;
    assert_eq!(reply["docs"], json!([shared_doc]));
    // No signature, a malformed case id, or too many at once: refused.
    let body = json!({ "docs": all, "until": second });
    let (status, _) = relay.unsigned(Method::POST, &team.path("history"), Some(&body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = ask_history(&relay, &team, &worker, &["niet-hex".into()], second).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, reply) = ask_history(&relay, &team, &worker, &vec![unknown; 501], second).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("batch_too_large"))
    );
}
