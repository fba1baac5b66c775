//! Shared fixtures for the scenario tests: devices on real stores in temporary directories,
//! and a scan of every file a store leaves on disk.

mod intercept;

use std::path::Path;

use eropaf_core::crypto::{DeviceIdentity, SecretKey};
use eropaf_core::sync::transport::Transport;
use eropaf_core::team::roster::RosterEntry;
use eropaf_core::{Eropaf, Unlock};
pub use intercept::{Intercept, Intercepted};

/// The store key travels to child processes in this variable, as hex.
pub const KEY_ENV: &str = "EROPAF_TEST_STORE_KEY";

pub fn new_key() -> SecretKey {
    SecretKey::generate().expect("randomness")
}

pub fn key_from_hex(hex_key: &str) -> SecretKey {
    let bytes: Vec<u8> = (0..hex_key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex_key[i..i + 2], 16).expect("hex key"))
        .collect();
    SecretKey::from_slice(&bytes).expect("32-byte key")
}

pub fn key_to_hex(key: &SecretKey) -> String {
    key.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn create_device(dir: &Path, key: &SecretKey, name: &str) -> Eropaf {
    Eropaf::create(dir, Unlock::Key(key.clone()), name).expect("create device store")
}

pub fn open_device(dir: &Path, key: &SecretKey) -> Eropaf {
    Eropaf::open(dir, Unlock::Key(key.clone())).expect("open device store")
}

/// The real relay on a loopback port, backed by SQLite in `dir`, running on its own thread
/// until the value is dropped (`eropaf_relay::spawn`).
pub struct TestRelay {
    pub url: String,
    pub db: std::path::PathBuf,
    _spawned: eropaf_relay::Spawned,
}

/// A fresh one-time code for registering a team at the relay whose database is `db`, as the
/// relay's operator issues one (`eropaf relay code`).
pub fn registration_code(db: &Path) -> String {
    let storage = eropaf_relay::SqliteStorage::open(db).expect("relay database");
    eropaf_relay::issue_registration_code(&storage).expect("registration code")
}

impl TestRelay {
    /// A fresh one-time code for registering a team here.
    pub fn registration_code(&self) -> String {
        registration_code(&self.db)
    }

    /// What the relay's operator can do to its own database: `bytes` (an envelope, for doc
    /// and author read from its header) as the next entry of team `team_id`'s log, of `kind`.
    pub fn plant(&self, team_id: &str, bytes: &[u8], kind: &str) {
        let conn = relay_db(&self.db);
        let seq: i64 = conn
            .query_row(
                "UPDATE teams SET last_seq = last_seq + 1 WHERE team_id = ?1 RETURNING last_seq",
                [team_id],
                |r| r.get(0),
            )
            .expect("the team's log");
        conn.execute(
            "INSERT INTO envelopes (team_id, server_seq, hash, doc_id, author, kind, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                team_id,
                seq,
                &eropaf_core::crypto::sha256(bytes)[..],
                &bytes[17..33],
                &bytes[37..53],
                kind,
                bytes
            ],
        )
        .expect("planted");
    }

    pub fn start(dir: &Path) -> TestRelay {
        let spawned = eropaf_relay::spawn(&dir.join("relay.db")).expect("relay starts");
        TestRelay { url: spawned.url.clone(), db: spawned.db.clone(), _spawned: spawned }
    }
}

/// Every file under `dir` (recursively) that contains `marker`.
pub fn files_containing(dir: &Path, marker: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir").flatten() {
                pending.push(entry.path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(marker.len()).any(|w| w == marker) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// A temporary directory on a RAM-backed file system where there is one (`/dev/shm`), else the
/// usual one. For scenario tests that run thousands of small syncs: stores and the relay
/// fsync every commit, which costs milliseconds on a disk and microseconds in memory. What
/// they test is sync logic; durability is tested on a disk (crash.rs, sync_faults.rs).
pub fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new().prefix("eropaf-test-").tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("temporary directory")
}

/// A supervisor and enrolled workers on one relay, each holding the team's epoch key. The
/// directories live as long as the team; `dirs[0]` is the supervisor's, `dirs[1 + n]` worker
/// `n`'s.
pub struct Team {
    pub key: SecretKey,
    pub team_id: String,
    pub supervisor: Eropaf,
    pub workers: Vec<Eropaf>,
    pub dirs: Vec<tempfile::TempDir>,
}

impl Team {
    /// `enrol_need_to_know`, then the supervisor sets the team's policy to a shared caseload
    /// (every member reads every case) and everyone syncs: the setting of the scenarios that
    /// are about something else than who may read a case (merging, authority, faults).
    pub fn enrol(
        transport: &dyn Transport,
        relay_url: &str,
        registration_code: &str,
        workers: usize,
        tempdir: fn() -> tempfile::TempDir,
    ) -> Team {
        let mut team =
            Team::enrol_need_to_know(transport, relay_url, registration_code, workers, tempdir);
        let policy = eropaf_core::model::TeamPolicy {
            shared_caseload: true,
            ..team.supervisor.policy().expect("policy")
        };
        team.supervisor.set_policy(&policy).expect("shared caseload");
        for device in team.devices_mut() {
            device.sync(transport, &mut |_| {}).expect("sync after the policy");
        }
        team
    }

    /// Enrols `workers` workers as a person would (invitation, join, the supervisor's sync
    /// lists them, the supervisor admits each after comparing safety codes, the worker's sync
    /// completes), with stores in directories from `tempdir`. The team keeps the default
    /// policy: a case is read by its assigned members and the supervisors only.
    pub fn enrol_need_to_know(
        transport: &dyn Transport,
        relay_url: &str,
        registration_code: &str,
        workers: usize,
        tempdir: fn() -> tempfile::TempDir,
    ) -> Team {
        let key = new_key();
        let supervisor_dir = tempdir();
        let mut supervisor = create_device(supervisor_dir.path(), &key, "Marieke (leidinggevende)");
        let team_id = supervisor
            .create_team("Wijkteam Noord", relay_url, registration_code)
            .expect("team")
            .team_id;
        supervisor.sync(transport, &mut |_| {}).expect("supervisor's first sync");
        let mut dirs = vec![supervisor_dir];
        let mut enrolled = Vec::new();
        let mut codes = Vec::new();
        for n in 0..workers {
            let dir = tempdir();
            let mut worker = create_device(dir.path(), &key, &format!("Werker {n}"));
            let invitation = supervisor
                .invite(transport, eropaf_core::team::roster::Role::Worker)
                .expect("invitation");
            let code = eropaf_core::Invitation::parse(&invitation.code).expect("invitation code");
            codes.push((worker.device_id().to_hex(), worker.join(transport, &code).expect("join")));
            dirs.push(dir);
            enrolled.push(worker);
        }
        let report = supervisor.sync(transport, &mut |_| {}).expect("supervisor's sync");
        assert_eq!(report.waiting_joiners, workers as u64, "every join request waits");
        for (device_id, code) in codes {
            supervisor.admit(transport, &device_id, &code).expect("codes match: admitted");
        }
        for worker in &mut enrolled {
            let report = worker.sync(transport, &mut |_| {}).expect("worker's first sync");
            assert!(!report.waiting_for_approval, "an approved worker is a member");
        }
        Team { key, team_id, supervisor, workers: enrolled, dirs }
    }

    /// The supervisor first, then the workers.
    pub fn devices_mut(&mut self) -> Vec<&mut Eropaf> {
        std::iter::once(&mut self.supervisor).chain(self.workers.iter_mut()).collect()
    }
}

/// A second handle on a device's store, for what a test must see that the `Eropaf` API does
/// not show (the identity, case keys, the outbox).
pub fn open_store(dir: &Path, key: &SecretKey) -> eropaf_core::store::Store {
    eropaf_core::store::Store::open(dir, Unlock::Key(key.clone())).expect("open store")
}

/// The device's signing identity, as its store holds it.
pub fn device_identity(dir: &Path, key: &SecretKey) -> DeviceIdentity {
    let pkcs8 = open_store(dir, key).meta("device_identity").expect("meta").expect("identity");
    DeviceIdentity::from_pkcs8(&pkcs8).expect("identity")
}

/// A case key of the newest epoch the device holds one for: (version, key). Versions are
/// random ids, so the epoch tells which is newer.
pub fn case_key(dir: &Path, key: &SecretKey, case_id: &str) -> (u32, SecretKey) {
    let keys = open_store(dir, key).case_keys(case_id).expect("case keys");
    let newest =
        keys.into_iter().max_by_key(|k| k.epoch).expect("the device holds a key for the case");
    (newest.version, newest.key)
}

/// Envelopes waiting in the device's outbox, oldest first.
pub fn outbox(dir: &Path, key: &SecretKey) -> Vec<Vec<u8>> {
    open_store(dir, key).outbox(10_000).expect("outbox").into_iter().map(|(_, b)| b).collect()
}

/// A connection to the relay's SQLite database beside the running relay (WAL: both may use
/// it at once), for tests that look at or tamper with what the relay stores.
pub fn relay_db(db: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).expect("open the relay's database");
    conn.busy_timeout(std::time::Duration::from_secs(10)).expect("busy timeout");
    conn
}

/// One device joins the team as a person would: the supervisor invites with `role`, the
/// device joins, the supervisor sees it waiting, compares the safety code and admits it, and
/// the device's first sync makes it a member.
pub fn enrol(
    supervisor: &mut Eropaf,
    device: &mut Eropaf,
    transport: &dyn Transport,
    role: eropaf_core::team::roster::Role,
) {
    let invitation = supervisor.invite(transport, role).expect("invitation");
    let code = eropaf_core::Invitation::parse(&invitation.code).expect("invitation code");
    let safety_code = device.join(transport, &code).expect("join");
    let waiting = supervisor.refresh_pending_joiners(transport).expect("pending joiners");
    let device_id = device.device_id().to_hex();
    assert!(waiting.iter().any(|p| p.device_id == device_id && p.code == safety_code));
    supervisor.admit(transport, &device_id, &safety_code).expect("admitted");
    let report = device.sync(transport, &mut |_| {}).expect("newcomer's first sync");
    assert!(!report.waiting_for_approval, "an admitted device is a member");
}

/// An assessment of `case` weighed through the whole checklist of the team's first framework,
/// as maatwerk asking `budget` cents; returns its id.
pub fn weighed(device: &mut Eropaf, case: &str, question: &str, budget: Option<u64>) -> String {
    use eropaf_core::checklist::{self, Item, Verdict};
    let id = device.start_assessment(case, question, None).expect("assessment");
    let framework = device.frameworks().expect("frameworks").remove(0);
    for item in checklist::flow(&framework) {
        match &item {
            Item::Value(key) => device
                .set_verdict(case, &id, key, Verdict::InTension, "Schuurt wat.")
                .expect("verdict"),
            _ => device.answer(case, &id, &item, "Besproken met de bewoner.").expect("answer"),
        }
    }
    device.set_maatwerk(case, &id, true, budget).expect("maatwerk");
    id
}

/// An enrolled worker's device (the team's `workers[0]`, Mallory) writing straight to the
/// relay with only what she really has: her device's keys, the key of a case she created, her
/// own copy of that case. What she seals is her own valid, signed next envelope for the case.
pub struct Forger {
    pub identity: DeviceIdentity,
    pub team_id: [u8; 16],
    pub doc_id: [u8; 16],
    pub key_version: u32,
    pub case_key: SecretKey,
    pub seq: u64,
    pub prev: Option<[u8; 32]>,
    /// The case as her device holds it.
    pub exported: Vec<u8>,
}

impl Forger {
    /// Mallory created `case` on her own device, so she holds its key.
    pub fn new(team: &mut Team, case: &str) -> Forger {
        let dir = team.dirs[1].path().to_path_buf();
        let mut store = open_store(&dir, &team.key);
        let tx = store.transaction().expect("transaction");
        let chain = tx.own_chain(case).expect("own chain");
        drop(tx);
        let (key_version, case_key) = case_key(&dir, &team.key, case);
        let id16 = |hex_id: &str| -> [u8; 16] {
            let bytes: Vec<u8> = (0..hex_id.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex_id[i..i + 2], 16).expect("hex id"))
                .collect();
            bytes.try_into().expect("16-byte id")
        };
        Forger {
            identity: device_identity(&dir, &team.key),
            team_id: id16(&team.team_id),
            doc_id: id16(case),
            key_version,
            case_key,
            seq: chain.seq,
            prev: chain.prev,
            exported: team.workers[0].export_case(case).expect("export"),
        }
    }

    /// Sealed and signed by her own device, as her next envelope for the case.
    pub fn seal(
        &mut self,
        kind: eropaf_core::sync::envelope::EnvelopeKind,
        payload: &[u8],
    ) -> Vec<u8> {
        use eropaf_core::sync::envelope::{Envelope, EnvelopeHeader};
        let header = EnvelopeHeader::new(
            self.team_id,
            self.doc_id,
            self.key_version,
            self.identity.id(),
            self.seq + 1,
            self.prev,
            kind,
        )
        .expect("header");
        let envelope =
            Envelope::seal(header, &self.case_key, payload, &self.identity).expect("seal");
        self.seq += 1;
        self.prev = Some(envelope.hash());
        envelope.to_bytes()
    }

    /// To the relay, which cannot look inside.
    pub fn push(&self, http: &dyn Transport, team_id: &str, envelope: Vec<u8>) {
        http.push(&self.identity, team_id, &[envelope], &[]).expect("push");
    }
}

/// A relay that serves the roster of its choosing (`serve` gets the real one) and passes
/// everything else through: what a dishonest relay can do with the roster.
pub type RosterRelay<'a> = Intercepted<'a, ServeRoster<'a>>;

/// `RosterRelay` over `inner`, serving what `serve` makes of the real roster.
pub fn roster_relay<'a>(
    inner: &'a dyn Transport,
    serve: impl Fn(Vec<RosterEntry>) -> Vec<RosterEntry> + 'a,
) -> RosterRelay<'a> {
    Intercepted { inner, hooks: ServeRoster(Box::new(serve)) }
}

#[allow(clippy::type_complexity)]
pub struct ServeRoster<'a>(Box<dyn Fn(Vec<RosterEntry>) -> Vec<RosterEntry> + 'a>);

impl Intercept for ServeRoster<'_> {
    fn roster(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
    ) -> eropaf_core::Result<Vec<RosterEntry>> {
        // Whatever the real relay would say (even a refusal), this one serves its own choice.
        Ok((self.0)(inner.roster(s, t).unwrap_or_default()))
    }
}
