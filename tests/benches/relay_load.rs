//! `cargo bench -p eropaf-tests --bench relay_load`: the office relay under a municipality's
//! day, on SQLite and on PostgreSQL, one table: envelopes/s, latency, errors and lost envelopes.

// What is measured, and against what (one run, one table at the end):
//
// The load: `teams` wijkteams of `devices per team` devices each (default 25 x 40 = 1,000
// devices). Every device is real: enrolled as a person enrols one (`Team::enrol`: invitation,
// join, safety code, admission; shared caseload, so every device reads every case of its
// team), and it records a realistic day on its own store: one new case, 6 visits with notes of
// 1-2 KB of case-note prose, 3 edits of those notes. Its core seals and signs every change, so
// what is pushed are the envelopes its outbox holds and what signs each request is its own
// device key. That setup is untimed (its duration is printed); it is repeated for every backend,
// because the roster and the team's keys have to exist at the relay under test.
//
// Timed, in two phases, with one tokio task per device and one `reqwest` client per device (one
// keep-alive connection, as a phone has): first every device pushes its day, one envelope per
// signed request (as a sync after every change does); when all pushes are done, every device
// pulls its team's whole log from cursor 0 in pages of 500 (the sync engine's page size). Push
// and pull are separate phases, not interleaved, so that each has a clean wall time and the
// check after the pull phase sees everything that was pushed. Per phase: envelopes/s (envelopes
// over the phase's wall time), p50/p99 latency per request (send until the answer is read and
// parsed), errors (first three printed). Then, per device, lost: envelopes pushed to its team
// that it did not pull; and duplicates: any it pulled twice. A device whose pull failed (counted
// as errors) pulls again after the phase, untimed, as its next sync would: lost is what it still
// misses then, so it measures what the relay lost, not what it failed to serve under load. A
// failed push is not retried: it counts as an error and its envelope as lost. Goal: zero errors,
// zero lost.
//
// Against what: the same load on
//   - SQLite, 1 relay process (database on the disk under `TMPDIR`, as `TestRelay` has it),
//   - PostgreSQL, 1 relay process,
//   - PostgreSQL, 2 relay processes on one database; device i talks to relay i % 2.
// Relays are real OS processes: this benchmark's own executable started again in relay mode
// (`EROPAF_LOAD_RELAY_CHILD`), serving `eropaf_relay::serve` on its own storage, pool and runtime;
// the processes share nothing but the database. PostgreSQL is the test server of the relay's
// own tests (`TestServer`: a throwaway cluster with `fsync = off`), so its figures leave out the
// cost of flushing to disk while SQLite's include it. The load generator, the relays and
// PostgreSQL share the machine's cores: the figures are for comparing backends in one run.
//
// Environment:
//   EROPAF_BENCH_QUICK=1            smoke size: 2 teams x 5 devices (same table), for CI.
//   EROPAF_LOAD_TEAMS=N             teams (default 25; quick 2).
//   EROPAF_LOAD_DEVICES_PER_TEAM=N  devices per team, the supervisor included (default 40;
//                                   quick 5).
//   EROPAF_LOAD_BACKENDS=LIST       a comma-separated subset of `sqlite,pg1,pg2` (default all).
//
// Exits non-zero when any request failed or any envelope was lost or duplicated.

use std::collections::{HashMap, HashSet};
use std::error::Error as StdError;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eropaf_core::crypto::DeviceIdentity;
use eropaf_core::model::{CaseType, LifeDomain, NewVisit, Observation, Resident, Score};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::request::sign_request;
use eropaf_core::Eropaf;
use eropaf_relay::storage::postgres::test_server::TestServer;
use eropaf_relay::{PostgresStorage, SqliteStorage, Storage};
use eropaf_tests::Team;
use serde_json::Value;

type BenchResult<T> = Result<T, Box<dyn StdError + Send + Sync>>;

const QUICK_ENV: &str = "EROPAF_BENCH_QUICK";
const TEAMS_ENV: &str = "EROPAF_LOAD_TEAMS";
const DEVICES_ENV: &str = "EROPAF_LOAD_DEVICES_PER_TEAM";
const BACKENDS_ENV: &str = "EROPAF_LOAD_BACKENDS";
/// Set in a relay child: `sqlite:PATH` or `postgres:URL`.
const CHILD_ENV: &str = "EROPAF_LOAD_RELAY_CHILD";
/// The page size the sync engine asks the relay for (`PULL_PAGE` in core/src/sync/engine.rs).
const PULL_PAGE: u32 = 500;
/// A device's day: visits recorded on its new case, and edits of their notes.
const VISITS: usize = 6;
const NOTE_EDITS: usize = 3;
/// What one day leaves in the outbox: the case's key and creation, then one per change.
const ENVELOPES_PER_DEVICE: usize = 2 + VISITS + NOTE_EDITS;
/// Generous: a request slower than this is an error, not a latency sample.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// `routes::ENVELOPES` of the relay's API, for one team.
fn envelopes_path(team_id: &str) -> String {
    format!("/v1/teams/{team_id}/envelopes")
}

struct Config {
    quick: bool,
    teams: usize,
    per_team: usize,
    backends: Vec<Backend>,
}

impl Config {
    fn from_env() -> BenchResult<Config> {
        let quick = std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        let number = |name: &str, default: usize| -> BenchResult<usize> {
            match std::env::var(name) {
                Ok(v) => Ok(v.trim().parse().map_err(|e| format!("{name}={v}: {e}"))?),
                Err(_) => Ok(default),
            }
        };
        let teams = number(TEAMS_ENV, if quick { 2 } else { 25 })?;
        let per_team = number(DEVICES_ENV, if quick { 5 } else { 40 })?;
        if teams == 0 || per_team == 0 {
            return Err("at least one team of at least one device".into());
        }
        let list = std::env::var(BACKENDS_ENV).unwrap_or_else(|_| "sqlite,pg1,pg2".into());
        let mut backends = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            backends.push(match name {
                "sqlite" => Backend { postgres: false, relays: 1 },
                "pg1" => Backend { postgres: true, relays: 1 },
                "pg2" => Backend { postgres: true, relays: 2 },
                other => return Err(format!("{BACKENDS_ENV}: unknown backend {other}").into()),
            });
        }
        Ok(Config { quick, teams, per_team, backends })
    }

    fn devices(&self) -> usize {
        self.teams * self.per_team
    }
}

#[derive(Clone, Copy)]
struct Backend {
    postgres: bool,
    relays: usize,
}

impl Backend {
    fn label(self) -> String {
        let name = if self.postgres { "PostgreSQL" } else { "SQLite" };
        let s = if self.relays == 1 { "" } else { "s" };
        format!("{name}, {} relay{s}", self.relays)
    }
}

fn main() -> BenchResult<()> {
    if let Ok(what) = std::env::var(CHILD_ENV) {
        return relay_child(&what);
    }
    let started = Instant::now();
    let cfg = Config::from_env()?;
    println!(
        "eropaf relay load benchmark{}: {} teams x {} devices = {} devices, {} envelopes each \
         ({VISITS} visits of 1-2 KB, {NOTE_EDITS} note edits); load average {}",
        if cfg.quick { " (QUICK: smoke size)" } else { "" },
        cfg.teams,
        cfg.per_team,
        group(cfg.devices()),
        ENVELOPES_PER_DEVICE,
        load_average()
    );
    // One PostgreSQL server for the run; each configuration gets a fresh database on it.
    let postgres = cfg.backends.iter().any(|b| b.postgres).then(TestServer::shared);
    let mut rows = Vec::new();
    for &backend in &cfg.backends {
        println!("\n== {} ==", backend.label());
        let run = run_backend(&cfg, backend, postgres)?;
        run.print();
        rows.push((backend, run));
    }

    println!();
    print_table(&rows);
    println!("(issue baseline: SQLite 100 devices: push 1,684 envelopes/s, pull p99 2.09 s)");
    println!(
        "whole run: {:.1} s; load average at the end {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    let errors: usize = rows.iter().map(|(_, r)| r.errors()).sum();
    let lost: usize = rows.iter().map(|(_, r)| r.lost + r.duplicates).sum();
    if errors > 0 || lost > 0 {
        return Err(format!("{errors} failed requests, {lost} envelopes lost or duplicated").into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// one backend configuration

struct Run {
    devices: usize,
    envelopes: usize,
    setup: Duration,
    push: Phase,
    pull: Phase,
    /// Envelopes pushed to a device's team that the device did not pull, summed over devices.
    lost: usize,
    /// Envelopes a device pulled more than once (beyond the first), summed over devices.
    duplicates: usize,
    /// Devices whose pull failed in the timed phase and pulled again afterwards, and the
    /// requests that failed again then.
    retried: usize,
    retry_errors: usize,
    /// Lines the relays wrote to their logs (slow requests and failures).
    relay_log_lines: usize,
}

impl Run {
    fn errors(&self) -> usize {
        self.push.errors.len() + self.pull.errors.len()
    }

    fn print(&self) {
        println!("  setup (untimed): {:.1} s", secs(self.setup));
        for (name, phase) in [("push", &self.push), ("pull", &self.pull)] {
            println!(
                "  {name}: {} envelopes in {} requests, {:.2} s: {:.0} envelopes/s; request p50 \
                 {}, p99 {}, max {}; {} errors",
                phase.envelopes,
                phase.latencies.len(),
                secs(phase.wall),
                phase.rate(),
                fmt_dur(percentile(&phase.latencies, 0.5)),
                fmt_dur(percentile(&phase.latencies, 0.99)),
                fmt_dur(phase.latencies.iter().copied().max().unwrap_or_default()),
                phase.errors.len()
            );
            for e in phase.errors.iter().take(3) {
                println!("    error: {e}");
            }
        }
        println!(
            "  check: {} envelopes pushed; lost {}, duplicated {} (over all devices' pulls; {} \
             devices whose pull failed pulled again, untimed, with {} errors); relay log lines {}",
            self.envelopes,
            self.lost,
            self.duplicates,
            self.retried,
            self.retry_errors,
            self.relay_log_lines
        );
    }
}

fn run_backend(cfg: &Config, backend: Backend, postgres: Option<&TestServer>) -> BenchResult<Run> {
    let work = tempfile::Builder::new().prefix("eropaf-bench-load").tempdir()?;
    let (target, admin): (String, Box<dyn Storage>) = if backend.postgres {
        let server = postgres.ok_or("no PostgreSQL server")?;
        let url = server.fresh_database();
        // Migrates the fresh database once, before the relays start.
        let admin = PostgresStorage::connect(&url)?;
        (format!("postgres:{url}"), Box::new(admin))
    } else {
        let db = work.path().join("relay.db");
        let admin = SqliteStorage::open(&db)?;
        (format!("sqlite:{}", db.display()), Box::new(admin))
    };
    let mut relays = Vec::with_capacity(backend.relays);
    for n in 0..backend.relays {
        relays.push(RelayProcess::start(&target, &work.path().join(format!("relay-{n}.log")))?);
    }
    let urls: Vec<String> = relays.iter().map(|r| r.url.clone()).collect();

    // The operator hands each team's supervisor a registration code, as `eropaf relay code`.
    let codes = (0..cfg.teams)
        .map(|_| eropaf_relay::issue_registration_code(admin.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    drop(admin);
    let setup_started = Instant::now();
    let devices = Arc::new(setup(cfg, &urls, &codes)?);
    let setup = setup_started.elapsed();

    // Every envelope pushed to a team: what each of its devices must pull exactly once.
    let mut expected: HashMap<usize, HashSet<[u8; 32]>> = HashMap::new();
    for d in devices.iter() {
        let set = expected.entry(d.team).or_default();
        set.extend(d.envelopes.iter().map(|e| eropaf_core::crypto::sha256(e)));
    }
    let expected: Arc<HashMap<usize, HashSet<[u8; 32]>>> = Arc::new(expected);
    let envelopes = devices.iter().map(|d| d.envelopes.len()).sum();

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let clients = (0..devices.len())
        .map(|_| reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build())
        .collect::<Result<Vec<_>, _>>()?;
    let clients = Arc::new(clients);
    let urls = Arc::new(urls);

    let (pushes, wall) = runtime.block_on(run_tasks(devices.len(), |i| {
        let (devices, clients, urls) =
            (Arc::clone(&devices), Arc::clone(&clients), Arc::clone(&urls));
        async move {
            let device = &devices[i];
            push_day(&clients[i], &urls[device.relay], device).await
        }
    }));
    let mut push = Phase { wall, ..Phase::default() };
    for outcome in pushes {
        match outcome {
            Ok(phase) => push.merge(phase),
            Err(e) => push.errors.push(e),
        }
    }

    let (pulls, wall) = runtime.block_on(run_tasks(devices.len(), |i| {
        let (devices, clients, urls) =
            (Arc::clone(&devices), Arc::clone(&clients), Arc::clone(&urls));
        let expected = Arc::clone(&expected);
        async move {
            let device = &devices[i];
            let nothing = HashSet::new();
            let team = expected.get(&device.team).unwrap_or(&nothing);
            pull_log(&clients[i], &urls[device.relay], device, team).await
        }
    }));
    let mut pull = Phase { wall, ..Phase::default() };
    let (mut lost, mut duplicates) = (0, 0);
    let mut retry = Vec::new();
    for (i, outcome) in pulls.into_iter().enumerate() {
        match outcome {
            Ok(pulled) if pulled.phase.errors.is_empty() => {
                pull.merge(pulled.phase);
                lost += pulled.lost;
                duplicates += pulled.duplicates;
            }
            Ok(pulled) => {
                pull.merge(pulled.phase);
                retry.push(i);
            }
            Err(e) => {
                pull.errors.push(e);
                retry.push(i);
            }
        }
    }
    // A device whose pull failed syncs again later. Its failed requests are counted as errors
    // above; its retry, one device at a time and untimed, tells whether the relay lost anything:
    // what it still cannot pull then is lost.
    let retried = retry.len();
    let mut retry_errors = 0;
    for i in retry {
        let device = &devices[i];
        let nothing = HashSet::new();
        let team = expected.get(&device.team).unwrap_or(&nothing);
        let pulled = runtime.block_on(pull_log(&clients[i], &urls[device.relay], device, team));
        lost += pulled.lost;
        duplicates += pulled.duplicates;
        retry_errors += pulled.phase.errors.len();
    }
    drop(runtime);
    let relay_log_lines = relays.iter_mut().map(RelayProcess::stop).sum();
    Ok(Run {
        devices: devices.len(),
        envelopes,
        setup,
        push,
        pull,
        lost,
        duplicates,
        retried,
        retry_errors,
        relay_log_lines,
    })
}

// ---------------------------------------------------------------------------------------------
// setup: real devices, real envelopes

/// A device as the load phases need it: its signing key and its day's sealed envelopes.
struct Device {
    team: usize,
    team_id: String,
    identity: DeviceIdentity,
    envelopes: Vec<Vec<u8>>,
    /// Which relay it talks to.
    relay: usize,
    /// The last timestamp it signed a request with: Ed25519 is deterministic, so two identical
    /// requests in one millisecond would carry the same signature and the second would be
    /// refused as a replay (the same rule as the core's HTTP transport, per device).
    last_signed: AtomicI64,
}

impl Device {
    fn sign(&self, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut last = self.last_signed.load(Ordering::SeqCst);
        loop {
            let at = now.max(last + 1);
            match self.last_signed.compare_exchange(last, at, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return sign_request(&self.identity, method, path, body, at),
                Err(actual) => last = actual,
            }
        }
    }
}

/// A device's signing key and its day's envelopes, as its store holds them.
type Member = (DeviceIdentity, Vec<Vec<u8>>);
/// An enrolled team: its number, its id at the relay, its members.
type Enrolled = (usize, String, Vec<Member>);

/// Enrols every team against the first relay (teams in parallel, one thread per core), has
/// each device record its day, and takes each device's identity and outbox. Devices are in
/// team order; device i talks to relay i % relays.
fn setup(cfg: &Config, urls: &[String], codes: &[String]) -> BenchResult<Vec<Device>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(cfg.teams);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    let mut teams: Vec<Enrolled> = std::thread::scope(|scope| -> BenchResult<_> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> BenchResult<Vec<_>> {
                    let transport = HttpTransport::new(&urls[0])?;
                    let mut mine = Vec::new();
                    loop {
                        let t = next.fetch_add(1, Ordering::SeqCst);
                        if t >= cfg.teams {
                            return Ok(mine);
                        }
                        let (team_id, devices) = enrol_team(cfg, &transport, &urls[0], t, codes)?;
                        mine.push((t, team_id, devices));
                        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                        if n.is_multiple_of(5) || n == cfg.teams {
                            println!(
                                "  setup: {n}/{} teams enrolled and their day recorded ({:.0} s)",
                                cfg.teams,
                                started.elapsed().as_secs_f64()
                            );
                        }
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.join().map_err(|_| "a setup thread panicked")??);
        }
        Ok(all)
    })?;
    teams.sort_by_key(|(t, _, _)| *t);
    let relays = urls.len();
    let mut devices = Vec::with_capacity(cfg.devices());
    for (team, team_id, members) in teams {
        for (identity, envelopes) in members {
            let relay = devices.len() % relays;
            devices.push(Device {
                team,
                team_id: team_id.clone(),
                identity,
                envelopes,
                relay,
                last_signed: AtomicI64::new(0),
            });
        }
    }
    Ok(devices)
}

/// One team: its supervisor and `per_team - 1` workers enrolled, each recording its day.
fn enrol_team(
    cfg: &Config,
    transport: &HttpTransport,
    url: &str,
    t: usize,
    codes: &[String],
) -> BenchResult<(String, Vec<Member>)> {
    // Device stores are setup, not what is measured: tmpfs where there is one.
    let mut team =
        Team::enrol(transport, url, &codes[t], cfg.per_team - 1, eropaf_tests::fast_tempdir);
    for (k, device) in team.devices_mut().into_iter().enumerate() {
        record_day(device, t * 1000 + k)?;
    }
    let mut devices = Vec::with_capacity(cfg.per_team);
    // `dirs` is in the order of `devices_mut`: the supervisor, then the workers.
    for (k, dir) in team.dirs.iter().enumerate() {
        let envelopes = eropaf_tests::outbox(dir.path(), &team.key);
        if envelopes.len() != ENVELOPES_PER_DEVICE {
            return Err(format!(
                "team {t} device {k} holds {} envelopes in its outbox, not {ENVELOPES_PER_DEVICE}",
                envelopes.len()
            )
            .into());
        }
        devices.push((eropaf_tests::device_identity(dir.path(), &team.key), envelopes));
    }
    Ok((team.team_id.clone(), devices))
}

/// A day on one device: a new case, visits with notes of 1-2 KB, a few of the notes edited.
fn record_day(device: &mut Eropaf, seed: usize) -> BenchResult<()> {
    let case = device.new_case(&resident(seed), Some(CaseType::Wmo))?;
    let mut visits = Vec::with_capacity(VISITS);
    for v in 0..VISITS {
        visits.push(device.record_visit(&case, &visit(seed * 100 + v)?)?);
    }
    for (e, visit_id) in visits.iter().take(NOTE_EDITS).enumerate() {
        let mut words = Words::new(seed * 100 + 50 + e);
        let length = 1000 + words.next() % 1000;
        device.edit_visit_note(&case, visit_id, &words.text(length))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// the load: one task per device

#[derive(Default)]
struct Phase {
    envelopes: usize,
    latencies: Vec<Duration>,
    errors: Vec<String>,
    wall: Duration,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.envelopes as f64 / secs(self.wall)
    }

    fn merge(&mut self, other: Phase) {
        self.envelopes += other.envelopes;
        self.latencies.extend(other.latencies);
        self.errors.extend(other.errors);
    }
}

/// Runs `task(i)` for `n` devices at once on the runtime; the wall time runs from when every
/// task has been spawned and released until the last one is done.
async fn run_tasks<T, F, Fut>(n: usize, task: F) -> (Vec<Result<T, String>>, Duration)
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let gate = Arc::new(tokio::sync::Barrier::new(n + 1));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let gate = Arc::clone(&gate);
            let work = task(i);
            tokio::spawn(async move {
                gate.wait().await;
                work.await
            })
        })
        .collect();
    gate.wait().await;
    let started = Instant::now();
    let mut results = Vec::with_capacity(n);
    for handle in handles {
        results.push(handle.await.map_err(|e| format!("a device's task failed: {e}")));
    }
    (results, started.elapsed())
}

/// Pushes the device's day one envelope per signed request, in order.
async fn push_day(client: &reqwest::Client, url: &str, device: &Device) -> Phase {
    let mut phase = Phase::default();
    let path = envelopes_path(&device.team_id);
    for envelope in &device.envelopes {
        let body = serde_json::json!({ "envelopes": [hex::encode(envelope)], "readers": [] });
        let t = Instant::now();
        let answer = send(client, url, device, "POST", &path, body.to_string().into_bytes()).await;
        phase.latencies.push(t.elapsed());
        let accepted = answer.and_then(|a| {
            a.get("accepted")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| format!("push: the answer lacks `accepted`: {a}"))
        });
        match accepted.as_deref() {
            Ok([one]) if one.get("duplicate").and_then(Value::as_bool) == Some(false) => {
                phase.envelopes += 1;
            }
            Ok(other) => phase.errors.push(format!("push: unexpected acceptance {other:?}")),
            Err(e) => phase.errors.push(format!("push: {e}")),
        }
    }
    phase
}

struct Pulled {
    phase: Phase,
    lost: usize,
    duplicates: usize,
}

/// Pulls the team's whole log from cursor 0 in the sync engine's page size, and checks it
/// against `expected`: every envelope pushed to the team, each to arrive exactly once.
async fn pull_log(
    client: &reqwest::Client,
    url: &str,
    device: &Device,
    expected: &HashSet<[u8; 32]>,
) -> Pulled {
    let mut phase = Phase::default();
    let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
    let mut cursor = 0u64;
    let base = envelopes_path(&device.team_id);
    loop {
        let path = format!("{base}?after={cursor}&limit={PULL_PAGE}");
        let t = Instant::now();
        let answer = send(client, url, device, "GET", &path, Vec::new()).await;
        phase.latencies.push(t.elapsed());
        let page = answer.and_then(|a| read_page(&a));
        match page {
            Ok((entries, next_after, more)) => {
                phase.envelopes += entries.len();
                for bytes in entries {
                    let hash = eropaf_core::crypto::sha256(&bytes);
                    if expected.contains(&hash) {
                        *seen.entry(hash).or_default() += 1;
                    }
                }
                if !more || next_after <= cursor {
                    break;
                }
                cursor = next_after;
            }
            Err(e) => {
                phase.errors.push(format!("pull after {cursor}: {e}"));
                break;
            }
        }
    }
    Pulled {
        lost: expected.len() - seen.len(),
        duplicates: seen.values().map(|n| n - 1).sum(),
        phase,
    }
}

/// A pull page's envelopes (erasure entries, which this load never makes, are skipped), its
/// `next_after` and `more`.
fn read_page(answer: &Value) -> Result<(Vec<Vec<u8>>, u64, bool), String> {
    let list = answer.get("envelopes").and_then(Value::as_array).ok_or("no `envelopes`")?;
    let mut entries = Vec::with_capacity(list.len());
    for item in list {
        if let Some(text) = item.get("bytes").and_then(Value::as_str) {
            entries.push(hex::decode(text).map_err(|e| format!("an entry's bytes: {e}"))?);
        }
    }
    let next_after = answer.get("next_after").and_then(Value::as_u64).ok_or("no `next_after`")?;
    let more = answer.get("more").and_then(Value::as_bool).ok_or("no `more`")?;
    Ok((entries, next_after, more))
}

/// One signed request, as `core/src/sync/http.rs` sends it: the device id, timestamp and
/// signature headers over method, path and query, timestamp and body.
async fn send(
    client: &reqwest::Client,
    url: &str,
    device: &Device,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<Value, String> {
    let target = format!("{url}{path}");
    let headers = device.sign(method, path, &body);
    let mut request = if method == "GET" {
        client.get(&target)
    } else {
        client.post(&target).header("content-type", "application/json").body(body)
    };
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {}", text.chars().take(200).collect::<String>()));
    }
    serde_json::from_str(&text).map_err(|e| format!("unreadable answer: {e}"))
}

// ---------------------------------------------------------------------------------------------
// relay processes

/// A relay as a process of its own: this executable again, in relay mode.
struct RelayProcess {
    child: Child,
    url: String,
    log: PathBuf,
}

impl RelayProcess {
    fn start(target: &str, log: &Path) -> BenchResult<RelayProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(CHILD_ENV, target)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the relay's stdout")?;
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first)?;
        let url = first.trim().to_string();
        if !url.starts_with("http://") {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("the relay did not start: {first:?}\n{log}").into());
        }
        Ok(RelayProcess { child, url, log: log.to_path_buf() })
    }

    /// Stops the relay (closing its stdin ends it) and counts the lines it logged.
    fn stop(&mut self) -> usize {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).map_or(0, |log| log.lines().count())
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The relay child's `main`: serves `what` (`sqlite:PATH` or `postgres:URL`) on a free
/// loopback port, prints `http://ADDRESS`, and runs until its stdin closes (the benchmark
/// closes it, or ends, however it ends).
fn relay_child(what: &str) -> BenchResult<()> {
    let storage: Arc<dyn Storage> = match what.split_once(':') {
        Some(("sqlite", path)) => Arc::new(SqliteStorage::open(Path::new(path))?),
        Some(("postgres", url)) => Arc::new(PostgresStorage::connect(url)?),
        _ => return Err(format!("{CHILD_ENV}={what}: not sqlite:PATH or postgres:URL").into()),
    };
    // Two workers, as `eropaf_relay::spawn` and the test relay process have.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = stop_tx.send(());
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "http://{}", listener.local_addr()?)?;
        stdout.flush()?;
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        eropaf_relay::serve_with_shutdown(listener, storage, shutdown).await?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// the table

fn print_table(rows: &[(Backend, Run)]) {
    let header = [
        "backend",
        "devices",
        "envelopes",
        "push env/s",
        "push p50",
        "push p99",
        "pull env/s",
        "pull p50",
        "pull p99",
        "errors",
        "lost",
    ]
    .map(String::from);
    let lines: Vec<[String; 11]> = rows
        .iter()
        .map(|(backend, run)| {
            [
                backend.label(),
                group(run.devices),
                group(run.envelopes),
                group(run.push.rate().round() as usize),
                fmt_dur(percentile(&run.push.latencies, 0.5)),
                fmt_dur(percentile(&run.push.latencies, 0.99)),
                group(run.pull.rate().round() as usize),
                fmt_dur(percentile(&run.pull.latencies, 0.5)),
                fmt_dur(percentile(&run.pull.latencies, 0.99)),
                run.errors().to_string(),
                if run.duplicates > 0 {
                    format!("{} (+{} dup)", run.lost, run.duplicates)
                } else {
                    run.lost.to_string()
                },
            ]
        })
        .collect();
    let mut widths = [0usize; 11];
    for row in std::iter::once(&header).chain(&lines) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&lines) {
        let mut line = String::new();
        for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
            let pad = " ".repeat(w - cell.chars().count());
            // Names left, figures right.
            if i == 0 {
                line.push_str(&format!("{cell}{pad}"));
            } else {
                line.push_str(&format!("   {pad}{cell}"));
            }
        }
        println!("{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// workload

fn resident(i: usize) -> Resident {
    const FIRST: [&str; 10] =
        ["Aïsha", "Sjoerd", "Özlem", "Zoë", "Hélène", "Mohamed", "Fatima", "Jan", "Anouk", "Daan"];
    const LAST: [&str; 10] = [
        "de Vries",
        "Jansen",
        "van den Berg",
        "Bakker",
        "Yılmaz",
        "El Idrissi",
        "Öztürk",
        "Dekker",
        "de Wit",
        "van Leeuwen",
    ];
    Resident::named(format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]))
}

/// A visit with a note of 1-2 KB of case-note prose and two observations.
fn visit(i: usize) -> BenchResult<NewVisit> {
    const DOMAINS: [LifeDomain; 4] = [
        LifeDomain::Financien,
        LifeDomain::Huisvesting,
        LifeDomain::HuiselijkeRelaties,
        LifeDomain::GeestelijkeGezondheid,
    ];
    let mut words = Words::new(i);
    let length = 1000 + words.next() % 1000;
    let note = words.text(length);
    let mut observation = |n: usize| -> BenchResult<Observation> {
        let score = u8::try_from((i + n) % 5 + 1)?;
        Ok(Observation::new(
            &words.text(60),
            Some(DOMAINS[(i + n) % DOMAINS.len()]),
            Some(Score::new(score)?),
        )?)
    };
    let observations = vec![observation(0)?, observation(1)?];
    Ok(NewVisit {
        at: None,
        place: Some("thuis".into()),
        present: vec!["bewoner".into(), "wijkverpleegkundige".into()],
        note,
        observations,
    })
}

/// Sentences of random words (the vocabulary of benches/sync.rs); deterministic per seed, so
/// the text compresses about as well as real prose.
struct Words {
    state: u64,
    vocabulary: Vec<&'static str>,
}

impl Words {
    const VOCABULARY: &'static str =
        "huisbezoek samen met de het een wijkverpleegkundige mevrouw meneer maakt zich zorgen \
         over huur achterstand van twee maanden verhuurder heeft brief gestuurd wil graag hulp \
         bij aanvragen bijzondere bijstand kinderen gaan weer naar school afgesproken volgende \
         week juridisch loket dochter was erbij slaapt slecht sinds verhuizing komt weinig buiten \
         post stapelt op brieven gemeente zorgverzekeraar doorgenomen vrijwilliger die helpt \
         administratie afspraak weken eerst bellen kort voordeur tijd werkt drie dagen supermarkt \
         dat gaat goed schuld energieleverancier is geregeld betalingsregeling zoon niet stage \
         voorstel gesprek jongerenwerk huisarts medicatie buurvrouw boodschappen uitkering \
         toeslagen belastingdienst formulier ingevuld wachtlijst schuldhulp budgetcoach eenzaam \
         familie contact ziekenhuis opname thuiszorg douchen lukt alleen trap rollator aanpassing \
         woning wmo indicatie aangevraagd gebeld morgen vrijdag rustig gespannen boos verdrietig \
         opgelucht";

    fn new(seed: usize) -> Words {
        Words {
            state: (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            vocabulary: Self::VOCABULARY.split_whitespace().collect(),
        }
    }

    fn next(&mut self) -> usize {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize
    }

    /// Sentences until at least `chars` characters.
    fn text(&mut self, chars: usize) -> String {
        let mut out = String::new();
        while out.len() < chars {
            let words = 5 + self.next() % 9;
            for w in 0..words {
                let pick = self.next() % self.vocabulary.len();
                let word = self.vocabulary[pick];
                if w == 0 {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    let mut letters = word.chars();
                    out.extend(letters.next().map(|c| c.to_ascii_uppercase()));
                    out.push_str(letters.as_str());
                } else {
                    out.push(' ');
                    out.push_str(word);
                }
            }
            out.push('.');
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// helpers

/// The 1, 5 and 15 minute load averages, where the system tells them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Nearest-rank percentile of unsorted samples.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

fn fmt_dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// 2000 -> "2,000".
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
