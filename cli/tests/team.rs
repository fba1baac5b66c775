//! End-to-end tests of team sync through the `eropaf` binary: a real `relay serve` child on a
//! loopback port, a supervisor and a worker on their own homes, enrolment, a case crossing over,
//! revocation refused in Dutch; and `demo --no-serve` telling the team story.
// Tests: an unwrap that fails is a failing test, with the panic message as the report.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use serde_json::Value;

const PASSPHRASE: &str = "correct paard batterij nietje";

fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eropaf"));
    command
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("EROPAF_HOME")
        .env("EROPAF_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::null());
    command
}

fn eropaf(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed; returns its stdout.
#[track_caller]
fn ok(home: &Path, args: &[&str]) -> String {
    let out = eropaf(home, args);
    assert!(
        out.status.success(),
        "eropaf {args:?} failed ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[track_caller]
fn ok_json(home: &Path, args: &[&str]) -> Value {
    let stdout = ok(home, args);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("eropaf {args:?} printed no JSON ({e}):\n{stdout}"))
}

/// A command that must fail: non-zero exit, nothing on stdout; returns stderr.
#[track_caller]
fn fails(home: &Path, args: &[&str]) -> String {
    let out = eropaf(home, args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "eropaf {args:?} should have failed; stderr:\n{stderr}");
    assert!(out.stdout.is_empty(), "eropaf {args:?} failed but printed:\n{}", text(&out.stdout));
    assert!(!stderr.trim().is_empty(), "eropaf {args:?} failed without saying why");
    stderr
}

#[track_caller]
fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value:#}"))
}

#[track_caller]
fn num_at(value: &Value, pointer: &str) -> u64 {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {value:#}"))
}

/// `eropaf relay serve` as a child process on a free loopback port; killed when dropped.
struct Relay {
    child: Child,
    url: String,
    // Held open so the relay's later status lines never meet a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Relay {
    fn start(db: &Path) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eropaf"))
            .args(["relay", "serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let url = first
            .trim()
            .strip_prefix("Relay luistert op ")
            .unwrap_or_else(|| panic!("the relay's first line names no address: {first:?}"))
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{url}");
        Relay { child, url, _stdout: stdout }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn members_by_name(members: &Value) -> Vec<(String, String, bool)> {
    let mut rows: Vec<_> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(str_at(m, "/device_id").len(), 32, "{m:#}");
            (
                str_at(m, "/member").to_string(),
                str_at(m, "/role").to_string(),
                m["revoked"].as_bool().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_team_enrols_syncs_a_case_and_refuses_a_revoked_device() {
    let temp = tempfile::tempdir().unwrap();
    let relay_db = temp.path().join("relay.db");
    let relay = Relay::start(&relay_db);
    let office = temp.path().join("marieke");
    let phone = temp.path().join("sanne");
    let (office, phone) = (office.as_path(), phone.as_path());
    ok(office, &["init", "--name", "Marieke"]);
    let sanne = ok_json(phone, &["init", "--name", "Sanne", "--json"]);
    let sanne_id = str_at(&sanne, "/device_id").to_string();

    // Nothing to sync with before there is a team; an unreachable relay creates no team.
    let stderr = fails(office, &["sync"]);
    assert!(stderr.contains("hoort nog niet bij een team"), "{stderr}");
    let code = "0123456789abcdef0123456789abcdef";
    let unreachable = ["team", "create", "--name", "X", "--relay", "http://127.0.0.1:1"];
    let stderr = fails(office, &[&unreachable[..], &["--code", code]].concat());
    assert!(stderr.contains("niet bereikbaar") && stderr.contains("geen team"), "{stderr}");

    // Registering a team takes a one-time code from the relay's operator.
    let create = ["team", "create", "--name", "Wijkteam Noord", "--relay", &relay.url];
    let stderr = fails(office, &[&create[..], &["--code", "kapot"]].concat());
    assert!(stderr.contains("registratiecode"), "{stderr}");
    // A well-formed code the relay does not know: the team exists here, the relay refuses
    // it, and a new code from the operator registers it.
    let unknown = "0123456789abcdef0123456789abcdef";
    let stderr = fails(office, &[&create[..], &["--code", unknown]].concat());
    assert!(stderr.contains("registratiecode") && stderr.contains("team register"), "{stderr}");
    let issued = ok(office, &["relay", "code", "--db", relay_db.to_str().unwrap()]);
    let code = issued.trim();
    assert_eq!(code.len(), 32, "{issued}");

    // The supervisor's team is registered; the relay knows it at once (invitations need that).
    let registered = ok(office, &["team", "register", "--code", code]);
    assert!(registered.contains("bij de relay bekend"), "{registered}");
    let stderr = fails(office, &["team", "register", "--code", code]);
    assert!(stderr.contains("al bij de relay bekend"), "{stderr}");
    let stderr = fails(office, &["team", "invite", "--role", "baas"]);
    assert!(stderr.contains("baas"), "{stderr}");
    let invitation = ok_json(office, &["team", "invite", "--role", "worker", "--json"]);
    let code = str_at(&invitation, "/code").to_string();
    let expires = chrono::DateTime::parse_from_rfc3339(str_at(&invitation, "/expires_at")).unwrap();
    assert!(expires > chrono::Utc::now(), "expired at once: {invitation:#}");

    // The worker joins, her screen shows a safety code, and she waits until the supervisor
    // compares that code and admits her: a sync admits nobody.
    let stderr = fails(phone, &["team", "join", "eropaf2|kapot"]);
    assert!(stderr.contains("uitnodigingscode"), "{stderr}");
    let joined = ok_json(phone, &["team", "join", &code, "--json"]);
    let shown = str_at(&joined, "/safety_code").to_string();
    let phone_id = str_at(&joined, "/device_id").to_string();
    assert_eq!(shown.len(), 14, "{joined:#}");
    let waiting = ok_json(phone, &["sync", "--json"]);
    assert_eq!(waiting["waiting_for_approval"], Value::Bool(true), "{waiting:#}");
    let syncing = ok_json(office, &["sync", "--json"]);
    assert_eq!(num_at(&syncing, "/waiting_joiners"), 1, "{syncing:#}");
    let waiting = ok_json(phone, &["sync", "--json"]);
    assert_eq!(waiting["waiting_for_approval"], Value::Bool(true), "{waiting:#}");
    let pending = ok_json(office, &["team", "pending", "--json"]);
    assert_eq!(str_at(&pending, "/0/device_id"), phone_id, "{pending:#}");
    assert_eq!(str_at(&pending, "/0/member"), "Sanne", "{pending:#}");
    assert_eq!(str_at(&pending, "/0/code"), shown, "{pending:#}");
    let listed = ok(office, &["team", "pending"]);
    assert!(listed.contains(&shown) && listed.contains("Sanne"), "{listed}");
    let stderr = fails(office, &["team", "admit", &phone_id, "0000 0000 0000"]);
    assert!(stderr.contains("veiligheidscode"), "{stderr}");
    let admitted = ok(office, &["team", "admit", &phone_id, &shown.replace(' ', "")]);
    assert!(admitted.contains("Toegelaten: Sanne"), "{admitted}");
    let admitted = ok_json(phone, &["sync", "--json"]);
    assert_eq!(admitted["waiting_for_approval"], Value::Bool(false), "{admitted:#}");
    // The code works once.
    let stranger = temp.path().join("vreemde");
    ok(&stranger, &["init", "--name", "Vreemde"]);
    let second_use = eropaf(&stranger, &["team", "join", &code]);
    assert!(!second_use.status.success(), "a used code was accepted again");

    let expected = vec![
        ("Marieke".to_string(), "supervisor".to_string(), false),
        ("Sanne".to_string(), "worker".to_string(), false),
    ];
    for home in [office, phone] {
        let members = ok_json(home, &["team", "members", "--json"]);
        assert_eq!(members_by_name(&members), expected, "{members:#}");
    }

    // A case made on the phone reaches the office, with its visit.
    let case = ok_json(phone, &["case", "new", "--resident", "Aïsha El Amrani", "--json"]);
    let case = str_at(&case, "/id").to_string();
    let note = "Huur van 750 euro per maand kan ze niet betalen.";
    ok(phone, &["visit", "add", &case, "--note", note]);
    let pushed = ok_json(phone, &["sync", "--json"]);
    assert!(num_at(&pushed, "/pushed") >= 2, "{pushed:#}");
    let pulled = ok_json(office, &["sync", "--json"]);
    assert!(pulled["changed_cases"].as_array().unwrap().contains(&Value::from(case.as_str())));
    let list = ok_json(office, &["case", "list", "--json"]);
    let listed = list.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{list:#}");
    assert_eq!(str_at(&listed[0], "/id"), case);
    assert_eq!(str_at(&listed[0], "/resident/name"), "Aïsha El Amrani");
    let shown = ok_json(office, &["case", "show", &case, "--json"]);
    assert_eq!(str_at(&shown, "/visits/0/note"), note);
    assert_eq!(str_at(&shown, "/visits/0/author_device"), sanne_id);
    // For people: what moved, in Dutch.
    assert!(ok(office, &["sync"]).contains("Gesynchroniseerd"));
    // Who may read it: Sanne, who made it; only a supervisor assigns, and only members.
    let access = ok(office, &["case", "access", &case]);
    assert!(access.contains("Nog niemand toegewezen") && access.contains("Sanne"), "{access}");
    let stderr = fails(office, &["case", "assign", &case, "Onbekend"]);
    assert!(stderr.contains("geen actief lid"), "{stderr}");
    let stderr = fails(phone, &["case", "assign", &case, "Marieke"]);
    assert!(stderr.contains("leidinggevende"), "{stderr}");

    // Access on request: a case of Marieke's is not on Sanne's phone until Marieke grants it.
    let own = ok_json(office, &["case", "new", "--resident", "Henk Smit", "--json"]);
    let own = str_at(&own, "/id").to_string();
    ok(office, &["sync"]);
    ok(phone, &["sync"]);
    let list = ok_json(phone, &["case", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "only her own case: {list:#}");
    let asked = ok(phone, &["access", "request", &own, "--reason", "Meneer belde mij", "--urgent"]);
    assert!(asked.contains("wacht op"), "{asked}");
    ok(phone, &["sync"]);
    ok(office, &["sync"]);
    let requests = ok(office, &["access", "list"]);
    assert!(
        requests.contains("Sanne (spoed)") && requests.contains("Meneer belde mij"),
        "{requests}"
    );
    let request = ok_json(office, &["access", "list", "--json"]);
    let request_id = str_at(&request, "/0/id").to_string();
    let stderr = fails(phone, &["access", "grant", &request_id[..8]]);
    assert!(stderr.contains("leidinggevende"), "{stderr}");
    let granted = ok(office, &["access", "grant", &request_id[..8], "--days", "2"]);
    assert!(granted.contains("Toegang verleend voor 2 dag"), "{granted}");
    ok(office, &["sync"]);
    ok(phone, &["sync"]);
    let list = ok_json(phone, &["case", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "granted: {list:#}");
    assert!(ok(phone, &["access", "list"]).contains("verleend door Marieke"));

    // Revocation by a short prefix; the revoked phone is refused, in Dutch, and gets nothing.
    let stderr = fails(office, &["team", "revoke", "ab"]);
    assert!(stderr.contains("4 tekens"), "{stderr}");
    let revoked = ok(office, &["team", "revoke", &sanne_id[..6]]);
    assert!(revoked.contains("Ingetrokken") && revoked.contains("Sanne"), "{revoked}");
    let members = ok_json(office, &["team", "members", "--json"]);
    assert_eq!(
        members_by_name(&members),
        vec![
            ("Marieke".to_string(), "supervisor".to_string(), false),
            ("Sanne".to_string(), "worker".to_string(), true),
        ]
    );
    ok(office, &["visit", "add", &case, "--note", "Na de intrekking vastgelegd."]);
    ok(office, &["sync"]);
    // The lost phone reaches the relay again: it reads its revocation and wipes itself.
    let wiped = ok(phone, &["sync"]);
    assert!(wiped.contains("ingetrokken en heeft zichzelf gewist om"), "{wiped}");
    let stderr = fails(phone, &["case", "show", &case, "--json"]);
    assert!(!stderr.contains("Aïsha"), "{stderr}");
    let list = ok_json(phone, &["case", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list:#}");
    // The office sees when, from the phone's signed report.
    ok(office, &["sync"]);
    let members = ok(office, &["team", "members"]);
    assert!(members.contains("ingetrokken, gewist om"), "{members}");
}

#[test]
fn demo_tells_the_team_story() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_eropaf"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&dir)
        .env_remove("EROPAF_HOME")
        .env_remove("EROPAF_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{}", text(&out.stderr));

    // The merged case on the supervisor's device: both offline visits, each by its author.
    let merged = stdout
        .split("Op Mariekes apparaat:")
        .nth(1)
        .unwrap_or_else(|| panic!("no merged case shown:\n{stdout}"));
    assert!(merged.contains("Aïsha El Amrani"), "{stdout}");
    assert!(merged.contains("Bezoeken (3):"), "{stdout}");
    assert!(merged.contains("door Sanne") && merged.contains("door Daan"), "{stdout}");
    assert!(merged.contains("woningcorporatie") && merged.contains("Jongerenloket"), "{stdout}");

    // Need-to-know: Sanne's phone holds her cases only, not Daan's.
    assert!(stdout.contains("Marieke zet Daan als achtervang"), "{stdout}");
    let sannes = stdout
        .split("Op Sannes telefoon staan alleen haar eigen casussen: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("Sanne's cases not shown:\n{stdout}"));
    assert!(sannes.starts_with("Aïsha El Amrani, Samir Haddad."), "{sannes}");
    // The revocation: Daan's phone, back online, wipes itself; Marieke sees when.
    assert!(stdout.contains("Ingetrokken: Daan"), "{stdout}");
    assert!(stdout.contains("Op Mariekes apparaat: 4 bezoeken."), "{stdout}");
    assert!(stdout.contains("wist hij zichzelf"), "{stdout}");
    assert!(stdout.contains("Op Daans telefoon: 0 casussen."), "{stdout}");
    assert!(stdout.contains("(ingetrokken, gewist om "), "{stdout}");
    assert!(stdout.contains("De relaydatabase bevat 0 van de 6"), "{stdout}");

    // The three decisions: two in Marieke's queue, one approved (Sanne sees it after sync),
    // one escalated one rung; the inzage of Aïsha's case holds nothing of the others.
    assert!(stdout.contains("In Mariekes wachtrij: 2 afwegingen."), "{stdout}");
    assert!(stdout.contains("Aïsha: goedgekeurd."), "{stdout}");
    assert!(
        stdout
            .contains("Samir: geëscaleerd, één trede hoger: Omgekeerde toets en waardendriehoek."),
        "{stdout}"
    );
    assert!(stdout.contains("Sanne synchroniseert en ziet: Goedgekeurd"), "{stdout}");
    assert!(stdout.contains("0 namen uit andere casussen"), "{stdout}");
    let inzage = std::fs::read_to_string(dir.join("inzage-aisha.html")).unwrap();
    assert!(inzage.contains("Jongerenloket") && inzage.contains("Weging van de waarden"));
    assert!(inzage.contains("Geëxporteerd") && !inzage.contains("Samir"));

    // The supervisor's home is left for scripts: the escalated assessment still waits there.
    let queue = Command::new(env!("CARGO_BIN_EXE_eropaf"))
        .args(["assess", "queue", "--json", "--home"])
        .arg(dir.join("supervisor"))
        .env("EROPAF_PASSPHRASE", "demo-wachtwoord")
        .output()
        .unwrap();
    assert!(queue.status.success(), "{}", text(&queue.stderr));
    let queue: Value = serde_json::from_slice(&queue.stdout).unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue:#}");
    assert_eq!(queue[0]["resident"], "Samir Haddad");
    assert_eq!(queue[0]["state"]["state"], "decided");
    assert_eq!(queue[0]["state"]["review"]["verdict"], "escalated");

    for store in ["supervisor", "sanne", "daan"] {
        assert!(dir.join(store).is_dir(), "no store in {store}");
    }
    let relay_db = std::fs::read(dir.join("relay.db")).unwrap();
    for marker in ["Aïsha", "Jongerenloket", "woningcorporatie"] {
        let found = relay_db.windows(marker.len()).any(|w| w == marker.as_bytes());
        assert!(!found, "the relay database holds {marker:?} in readable form");
    }
}

/// A TCP proxy between the devices and the relay that lets through a set number of bytes in one
/// direction and then holds that connection, forwarding nothing more: a transfer cut at an
/// exact byte. The relay behind it can be replaced (a restart on another port).
struct CuttingProxy {
    url: String,
    shared: std::sync::Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    upstream: std::sync::Mutex<String>,
    /// Bytes still allowed towards the relay and back; `u64::MAX`: no limit.
    allowance: std::sync::Mutex<[u64; 2]>,
    tripped: std::sync::atomic::AtomicBool,
    /// Bumped when the test moves on: held connections of an earlier round close.
    round: std::sync::atomic::AtomicU64,
}

const TO_RELAY: usize = 0;
const TO_DEVICE: usize = 1;

impl CuttingProxy {
    fn start(upstream: &str) -> CuttingProxy {
        use std::sync::Arc;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(ProxyState::default());
        shared.set(upstream, [u64::MAX; 2]);
        let state = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let address = state.upstream.lock().unwrap().clone();
                let Ok(relay) = std::net::TcpStream::connect(address) else { continue };
                let round = state.round.load(std::sync::atomic::Ordering::SeqCst);
                for (from, to, direction) in [
                    (client.try_clone().unwrap(), relay.try_clone().unwrap(), TO_RELAY),
                    (relay, client, TO_DEVICE),
                ] {
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || state.pump(from, to, direction, round));
                }
            }
        });
        CuttingProxy { url, shared }
    }
}

impl ProxyState {
    /// A new round: this relay, these allowances; connections held in the last round close.
    fn set(&self, upstream: &str, allowance: [u64; 2]) {
        *self.upstream.lock().unwrap() =
            upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        *self.allowance.lock().unwrap() = allowance;
        self.tripped.store(false, std::sync::atomic::Ordering::SeqCst);
        self.round.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn wait_tripped(&self) {
        let start = std::time::Instant::now();
        while !self.tripped.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(start.elapsed().as_secs() < 120, "the transfer never reached the cut");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    fn pump(
        &self,
        mut from: std::net::TcpStream,
        mut to: std::net::TcpStream,
        direction: usize,
        round: u64,
    ) {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering::SeqCst;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let allowed = {
                let mut allowance = self.allowance.lock().unwrap();
                let allowed = allowance[direction].min(n as u64);
                if allowance[direction] != u64::MAX {
                    allowance[direction] -= allowed;
                }
                usize::try_from(allowed).unwrap()
            };
            if to.write_all(&buf[..allowed]).is_err() {
                break;
            }
            if allowed < n {
                self.tripped.store(true, SeqCst);
                while self.round.load(SeqCst) == round {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
        let _ = from.shutdown(std::net::Shutdown::Both);
    }
}

fn chunks_in(db: &Path) -> i64 {
    eropaf_tests::relay_db(db)
        .query_row("SELECT COUNT(*) FROM attachment_chunks", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_20_mb_letter_survives_the_relay_killed_mid_upload_and_the_phone_killed_mid_download() {
    let temp = tempfile::tempdir().unwrap();
    let relay_db = temp.path().join("relay.db");
    let mut relay = Relay::start(&relay_db);
    let proxy = CuttingProxy::start(&relay.url);
    let office = temp.path().join("marieke");
    let phone = temp.path().join("sanne");
    let (office, phone) = (office.as_path(), phone.as_path());
    ok(office, &["init", "--name", "Marieke"]);
    ok(phone, &["init", "--name", "Sanne"]);
    let issued = ok(office, &["relay", "code", "--db", relay_db.to_str().unwrap()]);
    let create = ["team", "create", "--name", "Wijkteam Noord", "--relay", &proxy.url];
    ok(office, &[&create[..], &["--code", issued.trim()]].concat());
    let invitation = ok_json(office, &["team", "invite", "--role", "worker", "--json"]);
    let joined = ok_json(phone, &["team", "join", str_at(&invitation, "/code"), "--json"]);
    ok(office, &["sync"]);
    let code = str_at(&joined, "/safety_code").replace(' ', "");
    ok(office, &["team", "admit", str_at(&joined, "/device_id"), &code]);
    ok(phone, &["sync"]);

    // A 20 MB scan of the letter, attached on the phone.
    let marker = "WOONBRON-ACHTERSTAND-7731";
    let letter: Vec<u8> =
        format!("{marker} huurachterstand. ").bytes().cycle().take(20 * 1024 * 1024).collect();
    let scan = temp.path().join("brief.pdf");
    std::fs::write(&scan, &letter).unwrap();
    let case = ok_json(phone, &["case", "new", "--resident", "Aïsha El Amrani", "--json"]);
    let case = str_at(&case, "/id").to_string();
    let attached = ok_json(phone, &["attach", "add", &case, scan.to_str().unwrap(), "--json"]);
    let id = str_at(&attached, "/id").to_string();

    // The relay is killed (SIGKILL) with 5 MB and a few bytes of the upload through: in the
    // middle of a chunk's request.
    proxy.shared.set(&relay.url, [5_000_000 + 123, u64::MAX]);
    let syncing = command(phone, &["sync"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
    let mut syncing = syncing.unwrap();
    proxy.shared.wait_tripped();
    relay.child.kill().unwrap();
    relay.child.wait().unwrap();
    assert!(!syncing.wait().unwrap().success(), "the sync saw the relay go");
    let kept = chunks_in(&relay_db);
    assert!((1..80).contains(&kept), "part of the upload got through: {kept} chunks");

    // Restarted, the relay takes the rest: only the chunks it lacks are sent.
    relay = Relay::start(&relay_db);
    proxy.shared.set(&relay.url, [u64::MAX; 2]);
    let resumed = ok_json(phone, &["sync", "--json"]);
    assert_eq!(num_at(&resumed, "/chunks_uploaded"), 80 - kept as u64, "{resumed:#}");
    assert_eq!(chunks_in(&relay_db), 80, "every chunk once");

    // The office opens it; the command is killed (SIGKILL) 7 MB into the download.
    ok(office, &["sync"]);
    let out = temp.path().join("brief-kantoor.pdf");
    let get = ["attach", "get", &case, &id, "--out", out.to_str().unwrap()];
    proxy.shared.set(&relay.url, [u64::MAX, 7_000_000 + 77]);
    let mut getting =
        command(office, &get).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    proxy.shared.wait_tripped();
    getting.kill().unwrap();
    assert!(!getting.wait().unwrap().success());
    assert!(!out.exists(), "nothing half-written");
    proxy.shared.set(&relay.url, [u64::MAX; 2]);
    let finished = command(office, &get).output().unwrap();
    let said = text(&finished.stderr);
    assert!(finished.status.success(), "{said}");
    let held = said
        .split("delen van de relay; ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("no count of chunks already here in: {said}"));
    assert!((1..80).contains(&held), "the download went on from what it had: {said}");
    assert!(std::fs::read(&out).unwrap() == letter, "the same to the byte");

    // Nothing of it was readable at the relay or in either phone's store.
    for dir in [office, phone] {
        let found = eropaf_tests::files_containing(dir, marker.as_bytes());
        assert!(found.is_empty(), "readable in {found:?}");
    }
    let relay_files: Vec<_> = std::fs::read_dir(temp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("relay.db"))
        .filter(|e| {
            let bytes = std::fs::read(e.path()).unwrap();
            bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
        })
        .map(|e| e.path())
        .collect();
    assert!(relay_files.is_empty(), "the relay holds it readable in {relay_files:?}");
}
