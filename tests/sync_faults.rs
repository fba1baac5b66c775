//! The relay dies in the middle of a large sync: it runs as a process of its own on a SQLite
//! file on disk and is killed with SIGKILL while a worker pushes 300 cases with 3 visits each,
//! and again while a colleague pulls them. Each time the sync reports a network error; the
//! relay restarts on the same file (on another port); syncing again finishes the job; and in
//! the end the colleague has every case and every visit exactly once.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eropaf_core::crypto::DeviceIdentity;
use eropaf_core::model::{AssignmentRole, NewAttachment, NewVisit, Resident, TeamPolicy};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::transport::{FileAt, PullPage, Transport};
use eropaf_core::{Eropaf, Error, Result, SyncProgress, SyncReport};
use eropaf_tests::{
    fast_tempdir, open_device, outbox, relay_db, Intercept, Intercepted, Team, TestRelay,
};

const CASES: usize = 300;
const VISITS: usize = 3;
/// Each case: its key announcement, its creation, and one envelope per visit.
const ENVELOPES: usize = CASES * (2 + VISITS);

/// The relay as a child process (`relay-server`, this crate's binary), on `db`.
struct RelayProcess {
    child: Child,
    url: String,
}

impl RelayProcess {
    fn start(db: &Path) -> RelayProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
            .arg("--db")
            .arg(db)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("http://"), "the relay did not start: {line:?}");
        RelayProcess { child, url: line.trim().to_string() }
    }

    fn transport(&self) -> HttpTransport {
        HttpTransport::new(&self.url).unwrap()
    }

    /// SIGKILL: no shutdown, no flushing, requests in flight cut off.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Push,
    Pull,
}

/// Syncs `device` on a thread and kills the relay during it: once the sync has moved its
/// first batch in `phase`, after `delay`. With `pause`, the sync waits at that point until the
/// relay is dead, so the kill certainly lands between two requests; without, it keeps going
/// and the kill lands wherever it lands, often in the middle of a request. Returns whether the
/// sync reached `phase`, and its result.
fn sync_while_killing(
    device: &mut Eropaf,
    relay: &mut RelayProcess,
    phase: Phase,
    pause: bool,
    delay: Duration,
) -> (bool, Result<SyncReport>) {
    let transport = relay.transport();
    let (reached_tx, reached_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let sync = scope.spawn(move || {
            let mut signalled = false;
            let mut progress = |p: SyncProgress| {
                let hit = match p {
                    SyncProgress::Pushing { .. } => phase == Phase::Push,
                    SyncProgress::Pulling { .. } => phase == Phase::Pull,
                    SyncProgress::Roster | SyncProgress::Uploading { .. } => false,
                };
                if hit && !signalled {
                    signalled = true;
                    let _ = reached_tx.send(());
                    if pause {
                        let _ = go_rx.recv();
                    }
                }
            };
            device.sync(&transport, &mut progress)
        });
        // Disconnected (the sync ended without reaching the phase) also ends the wait.
        let reached = reached_rx.recv_timeout(Duration::from_secs(120)).is_ok();
        if reached {
            std::thread::sleep(delay);
        }
        relay.kill();
        let _ = go_tx.send(());
        (reached, sync.join().unwrap())
    })
}

/// Syncs until a sync succeeds (a few tries: the relay was only just started).
fn sync_until_done(device: &mut Eropaf, relay: &RelayProcess) -> SyncReport {
    let transport = relay.transport();
    let mut last = None;
    for _ in 0..5 {
        match device.sync(&transport, &mut |_| {}) {
            Ok(report) => return report,
            Err(e @ Error::Network(_)) => last = Some(e),
            Err(e) => panic!("sync failed: {e:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no sync succeeded against a running relay: {last:?}");
}

fn outcome(result: &Result<SyncReport>) -> String {
    match result {
        Ok(report) => {
            format!("the sync finished (pushed {}, pulled {})", report.pushed, report.pulled)
        }
        Err(e) => format!("the sync failed: {e}"),
    }
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// case id → (resident name, visit id → note)
type Recorded = BTreeMap<String, (String, BTreeMap<String, String>)>;

/// The device holds exactly the recorded cases, each with exactly its visits.
fn assert_holds_exactly(device: &mut Eropaf, recorded: &Recorded, who: &str) {
    let cases = device.cases().unwrap();
    assert_eq!(cases.len(), recorded.len(), "{who}: number of cases");
    let ids: BTreeSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), cases.len(), "{who}: a case listed twice");
    for (id, (name, visits)) in recorded {
        let case = device.case(id).unwrap_or_else(|e| panic!("{who}: case {name}: {e:?}"));
        assert_eq!(&case.resident.name, name, "{who}");
        let seen: BTreeMap<String, String> =
            case.visits.iter().map(|v| (v.id.clone(), v.note.clone())).collect();
        assert_eq!(case.visits.len(), VISITS, "{who}: {name} has {} visits", case.visits.len());
        assert_eq!(&seen, visits, "{who}: the visits of {name}");
    }
}

#[test]
fn a_relay_killed_in_the_middle_of_a_large_sync_loses_and_duplicates_nothing() {
    let mut seed: u64 = 0x005E_ED0F_FA17;
    // The relay's database on disk, as at the office; the devices' stores in memory where
    // possible (what is tested here is the relay dying, not the device's disk).
    let relay_dir = tempfile::tempdir().unwrap();
    let db = relay_dir.path().join("relay.db");
    let mut relay = RelayProcess::start(&db);
    let mut team = Team::enrol(
        &relay.transport(),
        &relay.url,
        &eropaf_tests::registration_code(&db),
        2,
        fast_tempdir,
    );
    let worker_dir = team.dirs[1].path().to_path_buf();

    // A worker with a backlog: 300 cases of 3 visits each, recorded offline.
    let mut recorded = Recorded::new();
    for i in 0..CASES {
        let name = format!("Bewoner {i:03}");
        let id = team.workers[0].new_case(&Resident::named(&name), None).unwrap();
        let mut visits = BTreeMap::new();
        for j in 0..VISITS {
            let note = format!("Casus {i:03}, bezoek {j}");
            let visit = NewVisit { note: note.clone(), ..NewVisit::default() };
            visits.insert(team.workers[0].record_visit(&id, &visit).unwrap(), note);
        }
        recorded.insert(id, (name, visits));
    }
    assert_eq!(outbox(&worker_dir, &team.key).len(), ENVELOPES);

    // Killed between two pushes: the sync says the network failed; part went, part waits.
    let (reached, result) =
        sync_while_killing(&mut team.workers[0], &mut relay, Phase::Push, true, Duration::ZERO);
    assert!(reached, "the sync was pushing");
    assert!(matches!(result, Err(Error::Network(_))), "{result:?}");
    let waiting = outbox(&worker_dir, &team.key).len();
    assert!(0 < waiting && waiting < ENVELOPES, "{waiting} of {ENVELOPES} still waiting");

    // Restarted on the same file, on another port; killed again, three times, wherever the
    // push happens to be (in the middle of a request, mostly).
    for _ in 0..3 {
        relay = RelayProcess::start(&db);
        let delay = Duration::from_millis(xorshift(&mut seed) % 40);
        let (_, result) =
            sync_while_killing(&mut team.workers[0], &mut relay, Phase::Push, false, delay);
        let waiting = outbox(&worker_dir, &team.key).len();
        eprintln!("push killed after {delay:?}: {}, {waiting} envelopes waiting", outcome(&result));
        assert!(matches!(result, Ok(_) | Err(Error::Network(_))), "{result:?}");
    }

    // Restarted once more: syncing finishes the job.
    relay = RelayProcess::start(&db);
    sync_until_done(&mut team.workers[0], &relay);
    assert!(outbox(&worker_dir, &team.key).is_empty(), "the outbox is empty");
    let again = sync_until_done(&mut team.workers[0], &relay);
    assert_eq!((again.pushed, again.applied), (0, 0));
    // The relay took each envelope exactly once, however often it was sent.
    let (rows, distinct): (i64, i64) = relay_db(&db)
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT hash) FROM envelopes WHERE author = ?1",
            [team.workers[0].device_id().as_bytes().to_vec()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, distinct), (ENVELOPES as i64, ENVELOPES as i64));

    // A colleague pulls it all; the relay is killed after the first page, then at random.
    let (reached, result) =
        sync_while_killing(&mut team.workers[1], &mut relay, Phase::Pull, true, Duration::ZERO);
    assert!(reached, "the sync was pulling");
    assert!(matches!(result, Err(Error::Network(_))), "{result:?}");
    // The app is closed there and opened again: the list shows what the cases hold.
    let colleague_dir = team.dirs[2].path().to_path_buf();
    team.workers[1] = open_device(&colleague_dir, &team.key);
    let listed = team.workers[1].cases().unwrap();
    assert!(!listed.is_empty(), "the first page was kept");
    for summary in listed {
        let case = team.workers[1].case(&summary.id).unwrap();
        assert_eq!(summary.visit_count as usize, case.visits.len(), "the list is up to date");
    }
    for _ in 0..2 {
        relay = RelayProcess::start(&db);
        let delay = Duration::from_millis(xorshift(&mut seed) % 200);
        let (_, result) =
            sync_while_killing(&mut team.workers[1], &mut relay, Phase::Pull, false, delay);
        eprintln!("pull killed after {delay:?}: {}", outcome(&result));
        assert!(matches!(result, Ok(_) | Err(Error::Network(_))), "{result:?}");
    }
    relay = RelayProcess::start(&db);
    let report = sync_until_done(&mut team.workers[1], &relay);
    assert!(report.refused.is_empty() && report.unreadable == 0, "{report:?}");

    assert_holds_exactly(&mut team.workers[1], &recorded, "the colleague");
    assert_holds_exactly(&mut team.workers[0], &recorded, "the worker");
    let again = sync_until_done(&mut team.workers[1], &relay);
    assert_eq!((again.pulled, again.applied), (0, 0), "nothing left to pull");
}

/// Holds every pull until the test lets it go, and says when one waits.
/// Where a call to the relay is held: it says it is waiting, then waits (at most 30 s) until
/// the test says go.
struct Gate {
    waiting: std::sync::Mutex<mpsc::Sender<()>>,
    go: std::sync::Mutex<mpsc::Receiver<()>>,
}

impl Gate {
    /// The gate, and the test's ends: told when a call waits, and letting it go.
    fn new() -> (Gate, mpsc::Receiver<()>, mpsc::Sender<()>) {
        let (waiting_tx, waiting) = mpsc::channel();
        let (go, go_rx) = mpsc::channel();
        let gate =
            Gate { waiting: std::sync::Mutex::new(waiting_tx), go: std::sync::Mutex::new(go_rx) };
        (gate, waiting, go)
    }

    fn hold(&self) {
        let _ = self.waiting.lock().unwrap().send(());
        let _ = self.go.lock().unwrap().recv_timeout(Duration::from_secs(30));
    }
}

/// Holds every page of a pull.
struct HeldPull(Gate);

impl Intercept for HeldPull {
    fn pull(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        after: u64,
        limit: u32,
    ) -> Result<PullPage> {
        self.0.hold();
        inner.pull(s, t, after, limit)
    }
}

/// Twenty keystrokes of a note on `device` while a sync step waits for the relay; each must be
/// stored at once, not after the step.
fn type_meanwhile(device: &std::sync::Mutex<Eropaf>, case: &str, visit: &str) {
    let typed = Instant::now();
    for n in 1..=20 {
        let note = "Brief van Woonbron besproken".chars().take(n).collect::<String>();
        device.lock().unwrap().edit_visit_note(case, visit, &note).unwrap();
    }
    let typing = typed.elapsed();
    assert!(typing < Duration::from_secs(5), "20 keystrokes took {typing:?}");
}

/// Holds every chunk a download asks for.
struct HeldChunk(Gate);

impl Intercept for HeldChunk {
    fn chunk(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        file: &FileAt,
        index: u32,
    ) -> Result<Vec<u8>> {
        self.0.hold();
        inner.chunk(s, t, file, index)
    }
}

#[test]
fn a_worker_keeps_typing_while_files_come_down_on_wifi() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let policy = TeamPolicy { fetch_files_on_wifi: true, ..team.supervisor.policy().unwrap() };
    team.supervisor.set_policy(&policy).unwrap();
    let case = team.supervisor.new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
    team.supervisor.assign(&case, "Werker 0", AssignmentRole::Backup, None).unwrap();
    team.supervisor.sync(&http, &mut |_| {}).unwrap();
    let worker = &mut team.workers[0];
    worker.sync(&http, &mut |_| {}).unwrap();
    let letter: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let brief = NewAttachment {
        name: "brief.pdf".into(),
        media_type: "application/pdf".into(),
        caption: None,
        visit_id: None,
    };
    let attached = worker.attach(&case, &brief, &letter).unwrap();
    worker.sync(&http, &mut |_| {}).unwrap();
    team.supervisor.sync(&http, &mut |_| {}).unwrap();
    let visit = team.supervisor.record_visit(&case, &NewVisit::default()).unwrap();

    let shared = std::sync::Mutex::new(team.supervisor);
    let (gate, waiting, go) = Gate::new();
    let hooks = HeldChunk(gate);
    let (device, url) = (&shared, relay.url.clone());
    std::thread::scope(|scope| {
        let fetching = scope.spawn(move || {
            let http = HttpTransport::new(&url).unwrap();
            let slow = Intercepted { inner: &http, hooks };
            Eropaf::fetch_files_sharing(device, &slow, true, &mut |_| {})
        });
        waiting.recv_timeout(Duration::from_secs(30)).expect("the fetch asked for a chunk");
        type_meanwhile(&shared, &case, &visit);
        assert!(!fetching.is_finished(), "the file still waits for the relay");
        for _ in 0..3 {
            let _ = go.send(());
        }
        assert_eq!(fetching.join().unwrap().unwrap(), 1, "the letter came down");
    });
    let mut device = shared.into_inner().unwrap();
    assert_eq!(device.attachment_content(&case, &attached.id).unwrap(), letter);
    assert_eq!(device.case(&case).unwrap().visit(&visit).unwrap().note, "Brief van Woonbron b");
}

#[test]
fn a_worker_keeps_typing_while_a_sync_waits_for_the_relay() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 0, fast_tempdir);
    let case = team.supervisor.new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
    let visit = team.supervisor.record_visit(&case, &NewVisit::default()).unwrap();
    team.supervisor.sync(&http, &mut |_| {}).unwrap();
    let shared = std::sync::Mutex::new(team.supervisor);
    let (gate, waiting, go) = Gate::new();
    let hooks = HeldPull(gate);
    let (device, url) = (&shared, relay.url.clone());
    std::thread::scope(|scope| {
        let syncing = scope.spawn(move || {
            let http = HttpTransport::new(&url).unwrap();
            let slow = Intercepted { inner: &http, hooks };
            Eropaf::sync_sharing(device, &slow, &mut |_| {})
        });
        waiting.recv_timeout(Duration::from_secs(30)).expect("the sync reached its pull");
        // The relay has not answered; the worker types on, and each keystroke is stored now.
        type_meanwhile(&shared, &case, &visit);
        assert!(!syncing.is_finished(), "the sync still waits for the relay");
        go.send(()).unwrap();
        let report = syncing.join().unwrap().unwrap();
        assert!(report.pushed >= 1, "what was typed during the sync left with it: {report:?}");
    });
    let mut device = shared.into_inner().unwrap();
    assert_eq!(device.case(&case).unwrap().visit(&visit).unwrap().note, "Brief van Woonbron b");
    assert_eq!(device.unsent().unwrap().changes, 0, "nothing waits");
}
