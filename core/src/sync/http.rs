//! The HTTP transport to the office relay: JSON over HTTP, every member request signed by the
//! device (see `request`). `https://` relays are reached over rustls (ring provider, the
//! platform's certificate verifier); plain `http://` is for loopback and tests.

use std::io::Read;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use eropaf_protocol::api::{routes, ErrorCode};
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::envelope::MAX_BODY;
use super::limits::MAX_RESPONSE_BYTES;
use super::request::sign_request;
use super::transport::{DocReaders, FileAt, JoinRequest, PullPage, Pulled, Transport};
use crate::crypto::DeviceIdentity;
use crate::team::epoch::KeyPackage;
use crate::team::roster::{DeviceCard, RosterEntry};
use crate::team::wipe::WipeReport;
use crate::{Error, Result};
use eropaf_protocol::attachment::MAX_SEALED_CHUNK_LEN;

pub struct HttpTransport {
    base: String,
    client: Client,
}

pub use eropaf_protocol::api::check_relay_url;

impl HttpTransport {
    /// A transport to the relay at `base_url`, which must pass `check_relay_url`.
    pub fn new(base_url: &str) -> Result<HttpTransport> {
        check_relay_url(base_url)?;
        // TLS through rustls on ring, the crypto library the rest of the core uses. Installing
        // fails harmlessly when a provider is already installed for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Network(e.to_string()))?;
        Ok(HttpTransport { base: base_url.trim_end_matches('/').to_string(), client })
    }

    fn send(
        &self,
        signer: Option<&DeviceIdentity>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        let bytes =
            body.map(serde_json::to_vec).transpose().map_err(|e| Error::Network(e.to_string()))?;
        let body = bytes.as_deref().map(|bytes| ("application/json", bytes));
        read(self.exchange(signer, method, path, body)?)
    }

    /// One request, signed by `signer` when given, with an optional body and its type.
    fn exchange(
        &self,
        signer: Option<&DeviceIdentity>,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
    ) -> Result<Response> {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.client.get(&url),
            "PUT" => self.client.put(&url),
            _ => self.client.post(&url),
        };
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes.to_vec());
        }
        if let Some(signer) = signer {
            let now = signing_time();
            let signed = body.map(|(_, bytes)| bytes).unwrap_or_default();
            for (name, value) in sign_request(signer, method, path, signed, now) {
                request = request.header(name, value);
            }
        }
        request.send().map_err(|e| Error::Network(e.to_string()))
    }
}

/// Milliseconds for a request signature, strictly increasing within the process: Ed25519 is
/// deterministic, so two identical requests in one millisecond would carry the same signature
/// and the relay would refuse the second as a replay.
fn signing_time() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_millis();
    let mut last = LAST.load(Ordering::SeqCst);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return next,
            Err(actual) => last = actual,
        }
    }
}

#[derive(Deserialize)]
struct RelayErrorBody {
    error: String,
    #[serde(default)]
    code: String,
}

fn read(response: Response) -> Result<Value> {
    let status = response.status();
    let text = read_bounded(response, MAX_RESPONSE_BYTES)?;
    if status.is_success() {
        return serde_json::from_str(&text)
            .map_err(|e| Error::Network(format!("onleesbaar antwoord van de relay: {e}")));
    }
    let body = serde_json::from_str::<RelayErrorBody>(&text)
        .unwrap_or(RelayErrorBody { error: text, code: String::new() });
    Err(relay_error(status, &body))
}

/// A body of bytes (a sealed chunk), at most `limit` of them; the relay's error otherwise.
fn read_bytes(response: Response, limit: u64) -> Result<Vec<u8>> {
    let status = response.status();
    if !status.is_success() {
        let text = read_bounded(response, MAX_RESPONSE_BYTES)?;
        let body = serde_json::from_str::<RelayErrorBody>(&text)
            .unwrap_or(RelayErrorBody { error: text, code: String::new() });
        return Err(relay_error(status, &body));
    }
    read_limited(response, limit)
}

/// The body as text, refused when it declares or turns out to be over `limit` bytes.
fn read_bounded(response: Response, limit: u64) -> Result<String> {
    String::from_utf8(read_limited(response, limit)?)
        .map_err(|_| Error::Network("het antwoord van de relay is geen tekst".into()))
}

/// The body, refused when it declares or turns out to be over `limit` bytes: checked against
/// `Content-Length` before anything is read, and enforced while reading (a body without a
/// length, or one that lies about it).
fn read_limited(response: Response, limit: u64) -> Result<Vec<u8>> {
    let too_large =
        || Error::Network(format!("het antwoord van de relay is groter dan {limit} bytes"));
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    response
        .take(limit.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| Error::Network(e.to_string()))?;
    if body.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(body)
}

/// The relay answers in English with a machine-readable code; people get Dutch, and callers
/// get the error case they can act on.
fn relay_error(status: StatusCode, body: &RelayErrorBody) -> Error {
    let unauthorised = |nl: &str| Error::Unauthorised(nl.to_string());
    use ErrorCode as C;
    match ErrorCode::parse(&body.code) {
        Some(C::RevokedDevice) => Error::Revoked,
        Some(C::UnknownDevice) => unauthorised("dit apparaat staat (nog) niet in de teamlijst"),
        Some(C::NotSupervisor) => unauthorised("alleen een leidinggevende mag dit"),
        Some(C::BadRegistrationCode) => Error::invalid(
            "registratiecode",
            "de relay kent deze registratiecode niet of hij is al gebruikt; vraag de beheerder \
             van de relay om een nieuwe",
        ),
        Some(C::StaleRequest | C::BadTimestamp) => {
            unauthorised("de klok van dit apparaat loopt te ver af; zet de tijd goed")
        }
        Some(C::ReplayedRequest) => {
            Error::Network("de relay zag dit verzoek al; probeer het opnieuw".into())
        }
        Some(C::InvitationUsed) => {
            Error::invalid("uitnodiging", "deze uitnodiging is al gebruikt; vraag een nieuwe")
        }
        Some(C::InvitationExpired) => {
            Error::invalid("uitnodiging", "deze uitnodiging is verlopen; vraag een nieuwe")
        }
        Some(C::InvitationNotFound | C::WrongProof) => {
            Error::invalid("uitnodiging", "de relay kent deze uitnodiging niet")
        }
        Some(C::AlreadyMember) => {
            Error::invalid("uitnodiging", "dit apparaat hoort al bij het team")
        }
        Some(C::TeamNotFound) => Error::invalid("team", "de relay kent dit team niet"),
        Some(C::ChunkNotFound) => Error::NotFound {
            what: "bijlage",
            id: "de relay heeft dit deel van het bestand (nog) niet".into(),
        },
        Some(C::DocErased) => Error::Refused("deze casus is gewist, met zijn bijlagen".into()),
        Some(C::NotReader) => unauthorised("dit apparaat leest deze casus niet"),
        Some(C::RosterChanged) => Error::Network(
            "de teamlijst is intussen gewijzigd; synchroniseer en probeer opnieuw".into(),
        ),
        _ if status.is_server_error() => Error::Network(format!("{status}: {}", body.error)),
        _ if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN => {
            Error::Unauthorised(body.error.clone())
        }
        _ => Error::Refused(format!("{} ({})", body.error, body.code)),
    }
}

fn field<T: DeserializeOwned>(value: &Value, name: &str) -> Result<T> {
    serde_json::from_value(value.get(name).cloned().unwrap_or(Value::Null))
        .map_err(|e| Error::Network(format!("the relay's answer lacks {name}: {e}")))
}

impl HttpTransport {
    /// One page of the log from `path` (a pull of the team's or of one document's entries).
    fn pull_page(&self, signer: &DeviceIdentity, path: &str) -> Result<PullPage> {
        let answer = self.send(Some(signer), "GET", path, None)?;
        let list: Vec<Value> = field(&answer, "envelopes")?;
        let mut entries = Vec::with_capacity(list.len());
        for item in &list {
            // Without its sequence number an entry cannot be placed, nor the cursor moved past
            // it: the page as a whole is refused (the relay is at fault, and may be retried).
            let server_seq: u64 = field(item, "server_seq")?;
            let decode = |name: &str, max: usize| -> Option<Vec<u8>> {
                let text: String = field(item, name).ok()?;
                // Checked before decoding: hex is two characters a byte.
                if text.len() > max.saturating_mul(2) {
                    return None;
                }
                hex::decode(text).ok()
            };
            let entry = if item.get("erased_doc").is_some() {
                let erased_by = decode("erased_by", 16)
                    .and_then(|id| <[u8; 16]>::try_from(id).ok())
                    .unwrap_or_default();
                // An order without a signature is handed on as one, and refused by the inbox.
                let signature = decode("signature", 1024).unwrap_or_default();
                decode("erased_doc", 16)
                    .and_then(|id| <[u8; 16]>::try_from(id).ok())
                    .map(|doc_id| Pulled::Erased { server_seq, doc_id, erased_by, signature })
            } else {
                // The largest envelope: its body and a generous allowance for header and
                // signature (which `Envelope::from_bytes` then checks exactly).
                decode("bytes", MAX_BODY + 1024).map(|bytes| Pulled::Envelope { server_seq, bytes })
            };
            // One bad entry is quarantined, not a reason to refuse the page: refusing it
            // would stall this device at the same cursor for good. It is handed on as an
            // empty envelope, which the inbox refuses and reports like any malformed one, and
            // the cursor moves past it.
            entries.push(entry.unwrap_or(Pulled::Envelope { server_seq, bytes: Vec::new() }));
        }
        Ok(PullPage {
            entries,
            next_after: field(&answer, "next_after")?,
            more: field(&answer, "more")?,
        })
    }
}

impl HttpTransport {
    fn file_path(team_id: &str, file: &FileAt) -> String {
        routes::attachment(team_id, &file.doc_id, &file.author, &file.attachment_id)
    }

    fn chunk_path(team_id: &str, file: &FileAt, index: u32) -> String {
        routes::attachment_chunk(team_id, &file.doc_id, &file.author, &file.attachment_id, index)
    }
}

impl Transport for HttpTransport {
    fn chunks_held(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
    ) -> Result<Vec<u32>> {
        let answer = self.send(Some(signer), "GET", &Self::file_path(team_id, file), None)?;
        field(&answer, "held")
    }

    fn put_chunk(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
        index: u32,
        sealed: &[u8],
    ) -> Result<()> {
        let path = Self::chunk_path(team_id, file, index);
        let body = Some(("application/octet-stream", sealed));
        read(self.exchange(Some(signer), "PUT", &path, body)?).map(|_| ())
    }

    fn chunk(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
        index: u32,
    ) -> Result<Vec<u8>> {
        let path = Self::chunk_path(team_id, file, index);
        let response = self.exchange(Some(signer), "GET", &path, None)?;
        read_bytes(response, MAX_SEALED_CHUNK_LEN as u64)
    }

    fn register_team(&self, genesis: &RosterEntry, registration_code: &str) -> Result<()> {
        let body = json!({ "genesis": genesis, "registration_code": registration_code });
        self.send(None, "POST", routes::TEAMS, Some(&body)).map(|_| ())
    }

    fn roster(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<RosterEntry>> {
        let answer =
            self.send(Some(signer), "GET", &routes::path(routes::ROSTER, team_id), None)?;
        field(&answer, "entries")
    }

    fn append_roster(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        entries: &[RosterEntry],
    ) -> Result<()> {
        let body = json!({ "entries": entries });
        self.send(Some(signer), "POST", &routes::path(routes::ROSTER, team_id), Some(&body))
            .map(|_| ())
    }

    fn push(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        envelopes: &[Vec<u8>],
        readers: &[DocReaders],
    ) -> Result<Vec<u64>> {
        let body = json!({
            "envelopes": envelopes.iter().map(hex::encode).collect::<Vec<_>>(),
            "readers": readers,
        });
        let answer = self.send(
            Some(signer),
            "POST",
            &routes::path(routes::ENVELOPES, team_id),
            Some(&body),
        )?;
        let accepted: Vec<Value> = field(&answer, "accepted")?;
        accepted.iter().map(|a| field(a, "server_seq")).collect()
    }

    fn pull(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<PullPage> {
        let path =
            format!("{}?after={after}&limit={limit}", routes::path(routes::ENVELOPES, team_id));
        self.pull_page(signer, &path)
    }

    fn pull_history(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_id: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<PullPage> {
        if hex::decode(doc_id).map_or(true, |d| d.len() != 16) {
            return Err(Error::invalid("casus", "dit is geen casusnummer"));
        }
        let path = format!(
            "{}?doc={doc_id}&after={after}&until={until}&limit={limit}",
            routes::path(routes::ENVELOPES, team_id)
        );
        self.pull_page(signer, &path)
    }

    fn docs_with_history(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_ids: &[String],
        until: u64,
    ) -> Result<Vec<String>> {
        let body = json!({ "docs": doc_ids, "until": until });
        let reply =
            self.send(Some(signer), "POST", &routes::path(routes::HISTORY, team_id), Some(&body))?;
        let docs: Vec<String> = reply
            .get("docs")
            .cloned()
            .and_then(|docs| serde_json::from_value(docs).ok())
            .ok_or_else(|| {
                Error::Network("onleesbaar antwoord van de relay over eerdere enveloppen".into())
            })?;
        Ok(docs)
    }

    fn leave(&self, signer: &DeviceIdentity, team_id: &str, doc_ids: &[String]) -> Result<()> {
        let body = json!({ "doc_ids": doc_ids });
        self.send(Some(signer), "POST", &routes::path(routes::LEAVE, team_id), Some(&body))
            .map(|_| ())
    }

    fn put_key_packages(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        packages: &[KeyPackage],
    ) -> Result<()> {
        let body = json!({ "packages": packages });
        self.send(Some(signer), "POST", &routes::path(routes::KEY_PACKAGES, team_id), Some(&body))
            .map(|_| ())
    }

    fn key_packages(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<KeyPackage>> {
        let answer =
            self.send(Some(signer), "GET", &routes::path(routes::KEY_PACKAGES, team_id), None)?;
        // Each package on its own: one that does not even decode is dropped here (the relay
        // checked its shape when it took it, so only a relay at fault serves one; it could as
        // well withhold it) instead of refusing all of them on every sync.
        let list: Vec<Value> = field(&answer, "packages")?;
        Ok(list.into_iter().filter_map(|p| serde_json::from_value(p).ok()).collect())
    }

    fn create_invitation(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        invitation_id: &str,
        invitation_key: &[u8],
        expires_at_millis: i64,
    ) -> Result<()> {
        let body = json!({
            "invitation_id": invitation_id,
            "invitation_key": hex::encode(invitation_key),
            "expires_at": expires_at_millis,
        });
        self.send(Some(signer), "POST", &routes::path(routes::INVITATIONS, team_id), Some(&body))
            .map(|_| ())
    }

    fn join(
        &self,
        team_id: &str,
        invitation_id: &str,
        card: &DeviceCard,
        proof: &str,
    ) -> Result<()> {
        let body = json!({ "invitation_id": invitation_id, "card": card, "proof": proof });
        self.send(None, "POST", &routes::path(routes::JOIN, team_id), Some(&body)).map(|_| ())
    }

    fn erase(&self, signer: &DeviceIdentity, team_id: &str, doc_id: &str) -> Result<()> {
        let signature = crate::team::erasure::sign(signer, team_id, doc_id);
        let body = json!({ "doc_id": doc_id, "signature": hex::encode(signature) });
        self.send(Some(signer), "POST", &routes::path(routes::ERASE, team_id), Some(&body))
            .map(|_| ())
    }

    fn join_requests(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<JoinRequest>> {
        let answer =
            self.send(Some(signer), "GET", &routes::path(routes::JOIN_REQUESTS, team_id), None)?;
        field(&answer, "join_requests")
    }

    fn report_wiped(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        report: &WipeReport,
    ) -> Result<()> {
        let body = serde_json::to_value(report).map_err(|e| Error::Storage(e.to_string()))?;
        self.send(Some(signer), "POST", &routes::path(routes::WIPED, team_id), Some(&body))
            .map(|_| ())
    }

    fn wipe_reports(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<WipeReport>> {
        let answer = self.send(Some(signer), "GET", &routes::path(routes::WIPED, team_id), None)?;
        let list: Vec<Value> = field(&answer, "reports")?;
        Ok(list.into_iter().filter_map(|r| serde_json::from_value(r).ok()).collect())
    }
}
