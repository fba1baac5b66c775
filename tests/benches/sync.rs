//! `cargo bench -p eropaf-tests --bench sync`: what team sync costs, each number set against a
//! baseline measured in the same run — bootstrap over the loopback relay vs merging the same
//! automerge data in process, vs samod (automerge-repo), and the relay under many devices vs one.

// What is measured, and against what (one run, one table at the end; ratios, not absolutes):
//
// 1. Bootstrapping a new device: a supervisor writes `cases` cases with `visits` visits each
//    (visits recorded round-robin over the cases, as a team's weeks go) and syncs them to the
//    real relay on loopback; a new device is enrolled; timed is its first sync (pull, verify,
//    decrypt, apply, store). A transport wrapper splits the time into transport (HTTP plus the
//    relay's work) and the client's own work. Run once with the new device's store on the disk
//    under test (`TMPDIR`) and once on tmpfs (fsync is free: the software cost alone). Baseline:
//    the same automerge payloads (each case's creation snapshot, then each visit's change)
//    loaded and merged into fresh `AutoCommit` documents in process: no crypto, no storage.
// 2. The same documents synced by samod over a loopback TCP connection, plaintext, from a repo
//    holding all of them to an empty one; timed until the empty one has every document at the
//    same heads.
// 3. The relay under `devices` enrolled devices pushing their own sealed envelopes (one case
//    and `pushes` visits each, one envelope per signed request, as a sync after every visit
//    does) concurrently from threads, then each pulling what the others pushed. Baseline: one
//    device pushing and pulling as many envelopes sequentially, on the same relay.
//
// `EROPAF_BENCH_QUICK=1` shrinks every size for a CI smoke run; the table is the same.

use std::cell::{Cell, RefCell};
use std::error::Error as StdError;
use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use automerge::{AutoCommit, ChangeHash};
use eropaf_core::crypto::DeviceIdentity;
use eropaf_core::model::{
    CaseType, LifeDomain, NewVisit, Observation, Resident, Score, TeamPolicy,
};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::transport::{DocReaders, FileAt, JoinRequest, PullPage, Transport};
use eropaf_core::team::epoch::KeyPackage;
use eropaf_core::team::roster::{DeviceCard, Role, RosterEntry};
use eropaf_core::team::wipe::WipeReport;
use eropaf_core::{Eropaf, Invitation, SyncProgress, SyncReport};
use eropaf_tests::{create_device, new_key, Team, TestRelay};

type BenchResult<T> = Result<T, Box<dyn StdError + Send + Sync>>;

const QUICK_ENV: &str = "EROPAF_BENCH_QUICK";
/// A comma-separated subset of `bootstrap,samod,relay,scoped` to run (samod needs the bootstrap's
/// documents); every part when unset.
const PARTS_ENV: &str = "EROPAF_BENCH_PARTS";
/// Part 5: what syncing a file may add to the peak resident set, whatever the file's size:
/// a few chunks in flight and the stores' page caches, never the file whole.
const GOAL_FILE_RSS_MB: u64 = 12;
const TMPFS: &str = "/dev/shm";
/// The page size the sync engine asks the relay for (`PULL_PAGE` in core/src/sync/engine.rs).
const PULL_PAGE: u32 = 500;
const GOAL_BOOTSTRAP_RATIO: f64 = 2.0;
/// Issue 14: a bootstrap within this factor of loading the same documents whole in process.
const GOAL_BOOTSTRAP_WHOLE_RATIO: f64 = 1.5;
/// How often the in-process baseline runs; the median counts.
const BASELINE_RUNS: usize = 5;
const SAMOD_TIMEOUT: Duration = Duration::from_secs(600);

struct Config {
    quick: bool,
    /// Cases the supervisor writes before the new device bootstraps.
    cases: usize,
    /// Visits per case.
    visits: usize,
    /// Devices pushing at once in part 3.
    devices: usize,
    /// Visits each of them records and pushes, one envelope per request.
    pushes: usize,
    /// Part 4: workers in the team, and cases each is assigned.
    workers: usize,
    per_worker: usize,
    scoped: bool,
    /// Part 5: one file of this many bytes, attached, uploaded and downloaded.
    file_bytes: usize,
    files: bool,
    bootstrap: bool,
    samod: bool,
    relay: bool,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        let parts = std::env::var(PARTS_ENV)
            .unwrap_or_else(|_| "bootstrap,samod,relay,scoped,files".into());
        let part = |name: &str| parts.split(',').any(|p| p.trim() == name);
        let (bootstrap, samod, relay) = (part("bootstrap"), part("samod"), part("relay"));
        let (cases, devices, pushes) = if quick { (100, 10, 10) } else { (2_000, 100, 20) };
        let (workers, per_worker) = if quick { (4, 10) } else { (40, 100) };
        Config {
            quick,
            cases,
            visits: 5,
            devices,
            pushes,
            workers,
            per_worker,
            bootstrap,
            samod,
            relay,
            scoped: part("scoped"),
            file_bytes: if quick { 2 * 1024 * 1024 } else { 25 * 1024 * 1024 },
            files: part("files"),
        }
    }
}

fn main() -> BenchResult<()> {
    let started = Instant::now();
    let cfg = Config::from_env();
    println!(
        "eropaf sync benchmark{} — relay and stores under {}, tmpfs comparisons under {TMPFS}; load average {}",
        if cfg.quick { " (QUICK: reduced sizes)" } else { "" },
        std::env::temp_dir().display(),
        load_average()
    );
    let mut table = Table::default();

    if cfg.bootstrap || cfg.samod {
        // ---- 1. bootstrap ----
        println!(
            "\n== 1. bootstrap a new device: {} cases x {} visits over the loopback relay ==",
            group(cfg.cases),
            cfg.visits
        );
        let boot = bench_bootstrap(&cfg)?;
        boot.print();
        let base = boot.baseline;
        for (label, run) in [("disk", &boot.disk), ("tmpfs", &boot.tmpfs)] {
            let Some(run) = run else { continue };
            let ratio = secs(run.total) / secs(base);
            let on_disk = label == "disk";
            table.row(
                &format!("bootstrap {} cases ({label})", group(cfg.cases)),
                fmt_dur(run.total),
                format!("{} in-process", fmt_dur(base)),
                Some(ratio),
                if on_disk { format!("<= {GOAL_BOOTSTRAP_RATIO}x") } else { "-".into() },
                on_disk.then_some(ratio <= GOAL_BOOTSTRAP_RATIO),
            );
            if on_disk {
                let whole_ratio = secs(run.total) / secs(boot.whole);
                table.row(
                    "  vs loading whole documents",
                    fmt_dur(run.total),
                    format!("{} in-process", fmt_dur(boot.whole)),
                    Some(whole_ratio),
                    format!("<= {GOAL_BOOTSTRAP_WHOLE_RATIO}x"),
                    Some(whole_ratio <= GOAL_BOOTSTRAP_WHOLE_RATIO),
                );
                table.row(
                    "  floor: per-case keys and signatures",
                    fmt_dur(boot.floor),
                    format!("{} in-process", fmt_dur(boot.whole)),
                    Some(secs(boot.floor) / secs(boot.whole)),
                    "- (one core, no storage, no HTTP)".into(),
                    None,
                );
                let mib = |kib: u64| kib as f64 / 1024.0;
                table.row(
                    "  peak RSS while bootstrapping",
                    format!("{:.1} MB", mib(run.rss_peak_kib)),
                    format!("{:.1} MB at its start", mib(run.rss_start_kib)),
                    Some(mib(run.rss_peak_kib) / mib(run.rss_start_kib)),
                    "- (relay in this process)".into(),
                    None,
                );
            }
            table.row(
                &format!("  transport: HTTP + relay ({label})"),
                fmt_dur(run.transport),
                format!("{} requests", run.requests),
                Some(secs(run.transport) / secs(base)),
                "-".into(),
                None,
            );
            table.row(
                &format!("  client: verify+decrypt+apply ({label})"),
                fmt_dur(run.client()),
                format!("{} in-process", fmt_dur(base)),
                Some(secs(run.client()) / secs(base)),
                "-".into(),
                None,
            );
            table.row(
                &format!("  envelopes/s ({label})"),
                format!("{:.0}/s", run.envelopes as f64 / secs(run.total)),
                format!("{:.0}/s in-process", run.envelopes as f64 / secs(base)),
                Some(secs(base) / secs(run.total)),
                "-".into(),
                None,
            );
        }

        // ---- 2. samod ----
        println!(
            "\n== 2. the same {} documents synced by samod {} over loopback TCP ==",
            group(cfg.cases),
            SAMOD_VERSION
        );
        let disk_total = boot.disk.as_ref().map(|r| r.total);
        let samod_runs: &[(&str, bool)] = if cfg.samod {
            &[("in-memory storage", false), ("filesystem storage", true)]
        } else {
            &[]
        };
        for &(label, on_disk) in samod_runs {
            match bench_samod(&boot.documents, on_disk) {
                Ok(run) => {
                    run.print(label);
                    if let Some(eropaf) = disk_total {
                        let ratio = secs(eropaf) / secs(run.total);
                        table.row(
                            &format!("Eropaf bootstrap vs samod ({label})"),
                            fmt_dur(eropaf),
                            format!("{} samod", fmt_dur(run.total)),
                            Some(ratio),
                            "< 1x (Eropaf faster)".into(),
                            Some(ratio < 1.0),
                        );
                    }
                }
                Err(e) => {
                    println!("  samod ({label}): not measured ({e})");
                    table.row(
                        &format!("samod ({label})"),
                        format!("not measured ({e})"),
                        "-".into(),
                        None,
                        "-".into(),
                        None,
                    );
                }
            }
        }
        drop(boot);
    }

    // ---- 4. need-to-know: a worker's new phone against a phone that reads the whole team ----
    if cfg.scoped {
        println!(
            "\n== 4. bootstrap under need-to-know: {} workers x {} cases, one visit each ==",
            cfg.workers, cfg.per_worker
        );
        let scoped = bench_scoped(&cfg)?;
        scoped.print();
        let (worker, team) = (&scoped.worker, &scoped.whole_team);
        table.row(
            &format!("worker's new phone: bytes ({} cases)", group(cfg.per_worker)),
            format!("{:.2} MB", mb(worker.bytes)),
            format!("{:.2} MB whole team", mb(team.bytes)),
            Some(worker.bytes as f64 / team.bytes as f64),
            format!("~ 1/{}", cfg.workers),
            Some(worker.bytes as f64 <= 2.0 * team.bytes as f64 / cfg.workers as f64),
        );
        table.row(
            "  its bootstrap time",
            fmt_dur(worker.total),
            format!("{} whole team", fmt_dur(team.total)),
            Some(secs(worker.total) / secs(team.total)),
            "-".into(),
            None,
        );
    }

    // ---- 5. a file, sealed and synced ----
    if cfg.files {
        let mb_of = |bytes: usize| bytes / (1024 * 1024);
        println!(
            "\n== 5. a {} MB file: uploaded by the phone that attached it, downloaded by another ==",
            mb_of(cfg.file_bytes)
        );
        let files = bench_files(&cfg)?;
        files.print();
        for (label, took) in
            [("upload (sync)", files.upload), ("download (opened)", files.download)]
        {
            table.row(
                &format!("{} MB file {label}", mb_of(cfg.file_bytes)),
                fmt_dur(took),
                format!("{} raw AES-GCM", fmt_dur(files.raw_seal)),
                Some(secs(took) / secs(files.raw_seal)),
                "-".into(),
                None,
            );
            table.row(
                "  vs a plain durable copy",
                fmt_dur(took),
                format!("{} copy", fmt_dur(files.plain_copy)),
                Some(secs(took) / secs(files.plain_copy)),
                "-".into(),
                None,
            );
        }
        let growth = files.rss_peak_kib.saturating_sub(files.rss_start_kib);
        let file_kib = (cfg.file_bytes / 1024) as u64;
        table.row(
            "  peak RSS growth while syncing it",
            format!("{:.1} MB", growth as f64 / 1024.0),
            format!("{:.1} MB file", file_kib as f64 / 1024.0),
            Some(growth as f64 / file_kib as f64),
            format!("<= {GOAL_FILE_RSS_MB} MB (streamed)"),
            Some(growth <= GOAL_FILE_RSS_MB * 1024),
        );
    }

    // ---- 3. relay under many devices ----
    if !cfg.relay {
        println!();
        table.print();
        return Ok(());
    }
    println!(
        "\n== 3. the relay under {} concurrent devices, {} visits each ==",
        cfg.devices, cfg.pushes
    );
    let relay = bench_relay(&cfg)?;
    relay.print();
    let n = relay.concurrent_push.envelopes;
    table.row(
        &format!("relay push, {} devices at once", cfg.devices),
        format!("{:.0} env/s", relay.concurrent_push.rate()),
        format!("{:.0} env/s 1 device", relay.sequential_push.rate()),
        Some(relay.concurrent_push.rate() / relay.sequential_push.rate()),
        "-".into(),
        None,
    );
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        table.row(
            &format!("  push request {name} ({n} requests)"),
            fmt_dur(percentile(&relay.concurrent_push.latencies, p)),
            format!("{} 1 device", fmt_dur(percentile(&relay.sequential_push.latencies, p))),
            Some(
                secs(percentile(&relay.concurrent_push.latencies, p))
                    / secs(percentile(&relay.sequential_push.latencies, p)),
            ),
            "-".into(),
            None,
        );
    }
    table.row(
        &format!("relay pull, {} devices at once", cfg.devices),
        format!("{:.0} env/s", relay.concurrent_pull.rate()),
        format!("{:.0} env/s 1 device", relay.sequential_pull.rate()),
        Some(relay.concurrent_pull.rate() / relay.sequential_pull.rate()),
        "-".into(),
        None,
    );
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        table.row(
            &format!("  pull request {name}"),
            fmt_dur(percentile(&relay.concurrent_pull.latencies, p)),
            format!("{} 1 device", fmt_dur(percentile(&relay.sequential_pull.latencies, p))),
            Some(
                secs(percentile(&relay.concurrent_pull.latencies, p))
                    / secs(percentile(&relay.sequential_pull.latencies, p)),
            ),
            "-".into(),
            None,
        );
    }
    let errors = relay.errors();
    table.row(
        "relay errors (all phases)",
        errors.to_string(),
        "0".into(),
        None,
        "0".into(),
        Some(errors == 0),
    );

    println!();
    table.print();
    println!(
        "\nwhole run: {:.1} s; load average at the end {} (other processes on the machine skew every ratio)",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    if errors > 0 {
        return Err(format!("the relay refused or failed {errors} requests").into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1. bootstrap

struct BootstrapRun {
    total: Duration,
    /// Time inside the transport: HTTP, JSON, hex and the relay's own work.
    transport: Duration,
    requests: u32,
    envelopes: u64,
    /// Time inside `pull` calls only, and how many.
    pull: Duration,
    pulls: usize,
    /// The client's time for each page of `PULL_PAGE` envelopes, in order.
    page_client: Vec<Duration>,
    report: SyncReport,
    /// Store size after the bootstrap.
    store_bytes: u64,
    /// Resident memory when the bootstrap began, and its peak during it (this process, so
    /// the relay's threads too), in KiB.
    rss_start_kib: u64,
    rss_peak_kib: u64,
}

impl BootstrapRun {
    fn client(&self) -> Duration {
        self.total.saturating_sub(self.transport)
    }
}

struct Bootstrap {
    disk: Option<BootstrapRun>,
    tmpfs: Option<BootstrapRun>,
    baseline: Duration,
    baseline_runs: Vec<Duration>,
    /// Loading each case's whole saved document instead (what a bootstrap from snapshots
    /// would merge).
    whole: Duration,
    /// The least any bootstrap that keeps per-case keys and signatures does per case, in
    /// process on one core: verify three envelopes (the case's key, this device's grant, a
    /// snapshot), open the grant, decrypt the snapshot and load it (`crypto_floor`).
    floor: Duration,
    /// Each case's whole automerge document as the supervisor exports it (for samod).
    documents: Vec<Vec<u8>>,
    payload_bytes: usize,
    payloads: usize,
    envelopes_at_relay: u64,
    /// Key and creation envelopes, which come first in the log.
    creation_envelopes: usize,
    relay_bytes: u64,
    setup: Duration,
}

impl Bootstrap {
    fn print(&self) {
        println!(
            "  setup (untimed): {:.1} s; {} envelopes at the relay, relay database {:.1} MB",
            secs(self.setup),
            self.envelopes_at_relay,
            mb(self.relay_bytes)
        );
        println!(
            "  automerge payloads: {} ({:.1} MB); baseline runs: {}",
            self.payloads,
            mb(self.payload_bytes as u64),
            self.baseline_runs.iter().map(|d| fmt_dur(*d)).collect::<Vec<_>>().join(", ")
        );
        for (label, run) in [("disk", &self.disk), ("tmpfs", &self.tmpfs)] {
            let Some(run) = run else { continue };
            println!(
                "  {label:<5}: first sync {:>9}  = transport {:>9} ({} requests; {} pulls {:>9}) + client {:>9}; pulled {}, applied {}, unreadable {}, refused {}; store {:.1} MB",
                fmt_dur(run.total),
                fmt_dur(run.transport),
                run.requests,
                run.pulls,
                fmt_dur(run.pull),
                fmt_dur(run.client()),
                run.report.pulled,
                run.report.applied,
                run.report.unreadable,
                run.report.refused.len(),
                mb(run.store_bytes),
            );
            println!(
                "         per envelope: {:.0} µs total, {:.0} µs client; {:.0} envelopes/s",
                secs(run.total) * 1e6 / run.envelopes as f64,
                secs(run.client()) * 1e6 / run.envelopes as f64,
                run.envelopes as f64 / secs(run.total)
            );
            // Envelopes arrive in the order they were written: every case's key and creation
            // snapshot first, then the visits round by round.
            let creation_pages = self.creation_envelopes / PULL_PAGE as usize;
            let per_envelope = |pages: &[Duration]| {
                secs(pages.iter().sum()) * 1e6 / (pages.len().max(1) * PULL_PAGE as usize) as f64
            };
            let full_pages = run.page_client.len().saturating_sub(1);
            if creation_pages > 0 && full_pages > creation_pages {
                println!(
                    "         client per envelope by page: case keys + creations {:.0} µs (pages 1-{creation_pages}), visits {:.0} µs (pages {}-{full_pages}); client ms per page: {}",
                    per_envelope(&run.page_client[..creation_pages]),
                    per_envelope(&run.page_client[creation_pages..full_pages]),
                    creation_pages + 1,
                    run.page_client.iter().map(|d| format!("{:.0}", secs(*d) * 1e3)).collect::<Vec<_>>().join(" ")
                );
            }
        }
        println!(
            "  baseline (AutoCommit::load + load_incremental, same payloads): median {}; loading each whole document instead: median {}",
            fmt_dur(self.baseline),
            fmt_dur(self.whole)
        );
        println!(
            "  floor of a bootstrap with per-case keys (per case: verify 3 envelopes, open 1 grant, decrypt and load the document; one core): median {}",
            fmt_dur(self.floor)
        );
    }
}

/// One case's payloads as the envelopes carry them: the creation snapshot, then one change
/// per visit.
struct CasePayloads {
    creation: Vec<u8>,
    visits: Vec<Vec<u8>>,
}

fn bench_bootstrap(cfg: &Config) -> BenchResult<Bootstrap> {
    let setup_started = Instant::now();
    let relay_dir = tempfile::Builder::new().prefix("eropaf-bench-relay").tempdir()?;
    let relay = TestRelay::start(relay_dir.path());
    let transport = HttpTransport::new(&relay.url)?;
    let key = new_key();
    // The supervisor's store is setup, not what is measured: tmpfs where there is one.
    let supervisor_dir = fast_tempdir("eropaf-bench-supervisor")?;
    let mut supervisor = create_device(supervisor_dir.path(), &key, "Marieke (leidinggevende)");
    supervisor.create_team("Wijkteam Noord", &relay.url, &relay.registration_code())?;
    // Every phone reads every case, as every phone did before need-to-know (part 4 measures
    // what need-to-know saves).
    let shared = TeamPolicy { shared_caseload: true, ..supervisor.policy()? };
    supervisor.set_policy(&shared)?;
    checked_sync(&mut supervisor, &transport)?;

    let mut ids = Vec::with_capacity(cfg.cases);
    let mut creations = Vec::with_capacity(cfg.cases);
    for i in 0..cfg.cases {
        let id = supervisor.new_case(&resident(i), Some(CASE_TYPES[i % CASE_TYPES.len()]))?;
        creations.push(supervisor.export_case(&id)?);
        ids.push(id);
    }
    for v in 0..cfg.visits {
        for (i, id) in ids.iter().enumerate() {
            supervisor.record_visit(id, &visit(i * cfg.visits + v)?)?;
        }
    }
    let pushed = checked_sync(&mut supervisor, &transport)?.pushed;
    print!("  supervisor pushed {pushed} envelopes; ");

    // The automerge payloads for the baseline and the documents for samod.
    let mut documents = Vec::with_capacity(cfg.cases);
    let mut payloads = Vec::with_capacity(cfg.cases);
    let mut payload_bytes = 0;
    for (id, creation) in ids.iter().zip(creations) {
        let full = supervisor.export_case(id)?;
        let mut created = AutoCommit::load(&creation)?;
        let heads = created.get_heads();
        let mut doc = AutoCommit::load(&full)?;
        let visits: Vec<Vec<u8>> =
            doc.get_changes(&heads).iter_mut().map(|c| c.bytes().into_owned()).collect();
        if visits.len() != cfg.visits {
            return Err(
                format!("case {id}: {} visit changes, not {}", visits.len(), cfg.visits).into()
            );
        }
        payload_bytes += creation.len() + visits.iter().map(Vec::len).sum::<usize>();
        payloads.push(CasePayloads { creation, visits });
        documents.push(full);
    }

    // Two new devices: one with its store on the disk under test, one on tmpfs.
    let disk_dir = tempfile::Builder::new().prefix("eropaf-bench-newdevice").tempdir()?;
    let tmpfs_dir = Path::new(TMPFS)
        .is_dir()
        .then(|| tempfile::Builder::new().prefix("eropaf-bench-newdevice").tempdir_in(TMPFS))
        .transpose()?;
    let mut newcomers = vec![enrol(&mut supervisor, &transport, disk_dir.path(), &key, "Nieuw")?];
    if let Some(dir) = &tmpfs_dir {
        newcomers.push(enrol(&mut supervisor, &transport, dir.path(), &key, "Nieuw (tmpfs)")?);
    }
    let envelopes_at_relay = u64::try_from(cfg.cases * (cfg.visits + 2))?;
    let relay_bytes = dir_bytes(relay_dir.path());
    let setup = setup_started.elapsed();
    println!("setup took {:.1} s", secs(setup));

    let mut runs = Vec::new();
    for (device, dir) in
        newcomers.iter_mut().zip([Some(disk_dir.path()), tmpfs_dir.as_ref().map(|d| d.path())])
    {
        let timed = Timed::new(&transport);
        let mut pages_done = Vec::new();
        let rss_start_kib = reset_peak_rss()?;
        let t = Instant::now();
        let report = device.sync(&timed, &mut |progress| {
            if let SyncProgress::Pulling { .. } = progress {
                pages_done.push(Instant::now());
            }
        })?;
        let total = t.elapsed();
        let rss_peak_kib = status_kib("VmHWM")?;
        let pulls = timed.pulls.take();
        // The client's time for each page: from the pull's return to the page's progress call.
        let page_client: Vec<Duration> = pulls
            .iter()
            .zip(&pages_done)
            .map(|((pulled, _), done)| done.saturating_duration_since(*pulled))
            .collect();
        if !report.refused.is_empty() || report.unreadable > 0 {
            return Err(format!(
                "the bootstrap refused {} and could not read {} envelopes: {:?}",
                report.refused.len(),
                report.unreadable,
                report.refused.first()
            )
            .into());
        }
        check_bootstrap(device, &ids, cfg.visits)?;
        runs.push(BootstrapRun {
            total,
            transport: timed.spent.get(),
            requests: timed.requests.get(),
            envelopes: report.pulled,
            pull: pulls.iter().map(|(_, d)| *d).sum(),
            pulls: pulls.len(),
            page_client,
            store_bytes: dir.map_or(0, dir_bytes),
            report,
            rss_start_kib,
            rss_peak_kib,
        });
    }
    let mut runs = runs.into_iter();
    let disk = runs.next();
    let tmpfs = runs.next();

    let mut baseline_runs: Vec<Duration> =
        (0..BASELINE_RUNS).map(|_| merge_in_process(&payloads)).collect::<BenchResult<_>>()?;
    let baseline = percentile(&baseline_runs, 0.5);
    baseline_runs.sort_unstable();
    let whole_runs: Vec<Duration> =
        (0..BASELINE_RUNS).map(|_| load_whole(&documents)).collect::<BenchResult<_>>()?;
    let whole = percentile(&whole_runs, 0.5);
    let floor_runs: Vec<Duration> =
        (0..BASELINE_RUNS).map(|_| crypto_floor(&documents)).collect::<BenchResult<_>>()?;
    let floor = percentile(&floor_runs, 0.5);
    drop(relay);
    Ok(Bootstrap {
        disk,
        tmpfs,
        baseline,
        baseline_runs,
        whole,
        floor,
        documents,
        payload_bytes,
        payloads: payloads.iter().map(|p| 1 + p.visits.len()).sum(),
        envelopes_at_relay,
        creation_envelopes: 2 * cfg.cases,
        relay_bytes,
        setup,
    })
}

// ---------------------------------------------------------------------------------------------
// 4. need-to-know

/// One new phone's first sync.
struct ScopedRun {
    total: Duration,
    /// Envelope bytes the relay served it.
    bytes: u64,
    envelopes: u64,
    cases: usize,
}

struct Scoped {
    /// A second phone of worker 0, who is assigned `per_worker` cases.
    worker: ScopedRun,
    /// A second phone of the supervisor, who reads every case: what every phone downloaded
    /// before need-to-know.
    whole_team: ScopedRun,
    setup: Duration,
    relay_bytes: u64,
}

impl Scoped {
    fn print(&self) {
        println!(
            "  setup (untimed): {:.1} s; relay database {:.1} MB",
            secs(self.setup),
            mb(self.relay_bytes)
        );
        for (label, run) in [("worker's phone", &self.worker), ("whole team", &self.whole_team)] {
            println!(
                "  {label:<15}: first sync {:>9}; {} envelopes, {:.2} MB downloaded; {} cases readable",
                fmt_dur(run.total),
                run.envelopes,
                mb(run.bytes),
                run.cases
            );
        }
    }
}

/// A team of `workers` workers, each writing `per_worker` cases of their own (one visit
/// each), all synced; then a second phone for worker 0 and one for the supervisor are
/// enrolled, and each one's first sync is timed, counting the envelope bytes it downloads.
fn bench_scoped(cfg: &Config) -> BenchResult<Scoped> {
    let setup_started = Instant::now();
    let relay_dir = tempfile::Builder::new().prefix("eropaf-bench-relay").tempdir()?;
    let relay = TestRelay::start(relay_dir.path());
    let transport = HttpTransport::new(&relay.url)?;
    let mut team = Team::enrol_need_to_know(
        &transport,
        &relay.url,
        &relay.registration_code(),
        cfg.workers,
        eropaf_tests::fast_tempdir,
    );
    for (w, worker) in team.workers.iter_mut().enumerate() {
        for c in 0..cfg.per_worker {
            let i = w * cfg.per_worker + c;
            let id = worker.new_case(&resident(i), Some(CASE_TYPES[i % CASE_TYPES.len()]))?;
            worker.record_visit(&id, &visit(i)?)?;
        }
        checked_sync(worker, &transport)?;
    }
    checked_sync(&mut team.supervisor, &transport)?;
    let setup = setup_started.elapsed();

    let mut runs = Vec::new();
    for (member, role, expected) in [
        ("Werker 0", Role::Worker, cfg.per_worker),
        ("Marieke (leidinggevende)", Role::Supervisor, cfg.workers * cfg.per_worker),
    ] {
        let dir = tempfile::Builder::new().prefix("eropaf-bench-newphone").tempdir()?;
        let mut phone = create_device(dir.path(), &team.key, member);
        let invitation = team.supervisor.invite(&transport, role)?;
        let shown = phone.join(&transport, &Invitation::parse(&invitation.code)?)?;
        team.supervisor.refresh_pending_joiners(&transport)?;
        // Admitting it grants it the keys of the cases its member reads.
        team.supervisor.admit(&transport, &phone.device_id().to_hex(), &shown)?;
        let timed = Timed::new(&transport);
        let t = Instant::now();
        let report = checked_sync(&mut phone, &timed)?;
        let total = t.elapsed();
        let cases = phone.cases()?.len();
        if cases != expected {
            return Err(format!("{member}'s new phone reads {cases} cases, not {expected}").into());
        }
        runs.push(ScopedRun { total, bytes: timed.bytes.get(), envelopes: report.pulled, cases });
    }
    let relay_bytes = dir_bytes(relay_dir.path());
    let whole_team = runs.pop().ok_or("no whole-team run")?;
    let worker = runs.pop().ok_or("no worker run")?;
    Ok(Scoped { worker, whole_team, setup, relay_bytes })
}

/// The baseline: every case's payloads loaded and merged into a fresh document, as the new
/// device's engine does, but without a relay, crypto or a store.
fn merge_in_process(payloads: &[CasePayloads]) -> BenchResult<Duration> {
    let t = Instant::now();
    for case in payloads {
        let mut doc = AutoCommit::load(black_box(&case.creation))?;
        for change in &case.visits {
            doc.load_incremental(black_box(change))?;
        }
        let heads: Vec<ChangeHash> = doc.get_heads();
        black_box(heads);
    }
    Ok(t.elapsed())
}

/// The other in-process figure: each case's whole saved document loaded at once.
fn load_whole(documents: &[Vec<u8>]) -> BenchResult<Duration> {
    let t = Instant::now();
    for bytes in documents {
        let mut doc = AutoCommit::load(black_box(bytes))?;
        black_box(doc.get_heads());
    }
    Ok(t.elapsed())
}

/// The cryptography no bootstrap can skip while every case has its own key, granted to each
/// device, and every envelope its author's signature: per case, three envelopes verified (the
/// case's key announcement, this device's grant, one snapshot of the whole document), the
/// grant opened (HPKE), the snapshot decrypted and loaded. Sealed beforehand, untimed.
fn crypto_floor(documents: &[Vec<u8>]) -> BenchResult<Duration> {
    use eropaf_core::crypto::{AgreementKey, SecretKey};
    use eropaf_core::sync::envelope::{Envelope as Sealed, EnvelopeHeader, EnvelopeKind};
    use eropaf_core::team::grant::{CaseKeyGrant, GrantScope};

    let author = DeviceIdentity::generate()?;
    let device = AgreementKey::generate()?;
    let me = DeviceIdentity::generate()?.id().to_hex();
    let team_id = [7u8; 16];
    let team_hex = hex::encode(team_id);
    let mut cases = Vec::with_capacity(documents.len());
    for (n, document) in documents.iter().enumerate() {
        let mut doc_id = [0u8; 16];
        doc_id[..8].copy_from_slice(&(n as u64).to_be_bytes());
        let doc_hex = hex::encode(doc_id);
        let key = SecretKey::generate()?;
        let scope = GrantScope { team_id: &team_hex, doc_id: &doc_hex, version: 1 };
        let grant = CaseKeyGrant::seal(scope, &key, &me, &device.public_key())?;
        let mut envelopes = Vec::with_capacity(3);
        for (kind, payload) in [
            (EnvelopeKind::KeyPackage, &[0u8; 200][..]),
            (EnvelopeKind::KeyPackage, &[0u8; 200][..]),
            (EnvelopeKind::Snapshot, document.as_slice()),
        ] {
            // Each the first of its chain (the signature's cost is the same further on).
            let header = EnvelopeHeader::new(team_id, doc_id, 1, author.id(), 1, None, kind)?;
            envelopes.push(Sealed::seal(header, &key, payload, &author)?.to_bytes());
        }
        cases.push((doc_hex, grant, envelopes));
    }
    let t = Instant::now();
    for (doc_hex, grant, envelopes) in &cases {
        let mut opened = Vec::with_capacity(envelopes.len());
        for bytes in envelopes {
            let envelope = Sealed::from_bytes(black_box(bytes))?;
            envelope.verify(author.public_key())?;
            opened.push(envelope);
        }
        let scope = GrantScope { team_id: &team_hex, doc_id: doc_hex, version: 1 };
        let key = grant.open(scope, &device)?;
        let snapshot = opened.last().ok_or("no snapshot")?.open(&key)?;
        let mut doc = AutoCommit::load(&snapshot)?;
        black_box(doc.get_heads());
    }
    Ok(t.elapsed())
}

/// Invitation, join, approval and the joining device's waiting sync: everything before its
/// first real sync.
fn enrol(
    supervisor: &mut Eropaf,
    transport: &HttpTransport,
    dir: &Path,
    key: &eropaf_core::crypto::SecretKey,
    name: &str,
) -> BenchResult<Eropaf> {
    let mut device = create_device(dir, key, name);
    let invitation = supervisor.invite(transport, Role::Worker)?;
    let shown = device.join(transport, &Invitation::parse(&invitation.code)?)?;
    if !device.sync(transport, &mut |_| {})?.waiting_for_approval {
        return Err("a device that just joined should wait for approval".into());
    }
    let waiting = supervisor.sync(transport, &mut |_| {})?.waiting_joiners;
    if waiting != 1 {
        return Err(format!("{waiting} devices wait for the supervisor, not 1").into());
    }
    supervisor.admit(transport, &device.device_id().to_hex(), &shown)?;
    Ok(device)
}

fn checked_sync(device: &mut Eropaf, transport: &dyn Transport) -> BenchResult<SyncReport> {
    let report = device.sync(transport, &mut |_| {})?;
    if !report.refused.is_empty() {
        return Err(format!("a sync refused envelopes: {:?}", report.refused).into());
    }
    Ok(report)
}

/// Every case arrived, with every visit.
fn check_bootstrap(device: &mut Eropaf, ids: &[String], visits: usize) -> BenchResult<()> {
    let listed = device.cases()?.len();
    if listed != ids.len() {
        return Err(format!("the new device lists {listed} cases, not {}", ids.len()).into());
    }
    for id in ids {
        let got = device.case(id)?.visits.len();
        if got != visits {
            return Err(format!("case {id} arrived with {got} visits, not {visits}").into());
        }
    }
    Ok(())
}

/// Times every call the sync engine makes through it.
struct Timed<'a> {
    inner: &'a dyn Transport,
    spent: Cell<Duration>,
    requests: Cell<u32>,
    /// Each pull: when it returned, and how long it took.
    pulls: RefCell<Vec<(Instant, Duration)>>,
    /// Envelope bytes pulled.
    bytes: Cell<u64>,
}

impl<'a> Timed<'a> {
    fn new(inner: &'a dyn Transport) -> Timed<'a> {
        Timed {
            inner,
            spent: Cell::new(Duration::ZERO),
            requests: Cell::new(0),
            pulls: RefCell::new(Vec::new()),
            bytes: Cell::new(0),
        }
    }

    fn count(&self, page: &PullPage) {
        let bytes: usize = page
            .entries
            .iter()
            .map(|e| match e {
                eropaf_core::sync::transport::Pulled::Envelope { bytes, .. } => bytes.len(),
                _ => 0,
            })
            .sum();
        self.bytes.set(self.bytes.get() + bytes as u64);
    }

    fn time<T>(&self, call: impl FnOnce(&dyn Transport) -> T) -> T {
        let t = Instant::now();
        let out = call(self.inner);
        self.spent.set(self.spent.get() + t.elapsed());
        self.requests.set(self.requests.get() + 1);
        out
    }
}

impl Transport for Timed<'_> {
    fn register_team(&self, genesis: &RosterEntry, code: &str) -> eropaf_core::Result<()> {
        self.time(|t| t.register_team(genesis, code))
    }

    fn roster(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
    ) -> eropaf_core::Result<Vec<RosterEntry>> {
        self.time(|t| t.roster(signer, team_id))
    }

    fn append_roster(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        entries: &[RosterEntry],
    ) -> eropaf_core::Result<()> {
        self.time(|t| t.append_roster(signer, team_id, entries))
    }

    fn push(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        envelopes: &[Vec<u8>],
        readers: &[DocReaders],
    ) -> eropaf_core::Result<Vec<u64>> {
        self.time(|t| t.push(signer, team_id, envelopes, readers))
    }

    fn pull_history(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_id: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> eropaf_core::Result<PullPage> {
        let page = self.time(|t| t.pull_history(signer, team_id, doc_id, after, until, limit));
        if let Ok(page) = &page {
            self.count(page);
        }
        page
    }

    fn docs_with_history(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_ids: &[String],
        until: u64,
    ) -> eropaf_core::Result<Vec<String>> {
        self.time(|t| t.docs_with_history(signer, team_id, doc_ids, until))
    }

    fn leave(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_ids: &[String],
    ) -> eropaf_core::Result<()> {
        self.time(|t| t.leave(signer, team_id, doc_ids))
    }

    fn pull(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        after: u64,
        limit: u32,
    ) -> eropaf_core::Result<PullPage> {
        let t = Instant::now();
        let page = self.time(|inner| inner.pull(signer, team_id, after, limit));
        self.pulls.borrow_mut().push((Instant::now(), t.elapsed()));
        if let Ok(page) = &page {
            self.count(page);
        }
        page
    }

    fn put_key_packages(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        packages: &[KeyPackage],
    ) -> eropaf_core::Result<()> {
        self.time(|t| t.put_key_packages(signer, team_id, packages))
    }

    fn key_packages(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
    ) -> eropaf_core::Result<Vec<KeyPackage>> {
        self.time(|t| t.key_packages(signer, team_id))
    }

    fn create_invitation(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        invitation_id: &str,
        invitation_key: &[u8],
        expires_at_millis: i64,
    ) -> eropaf_core::Result<()> {
        self.time(|t| {
            t.create_invitation(signer, team_id, invitation_id, invitation_key, expires_at_millis)
        })
    }

    fn join(
        &self,
        team_id: &str,
        invitation_id: &str,
        card: &DeviceCard,
        proof: &str,
    ) -> eropaf_core::Result<()> {
        self.time(|t| t.join(team_id, invitation_id, card, proof))
    }

    fn join_requests(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
    ) -> eropaf_core::Result<Vec<JoinRequest>> {
        self.time(|t| t.join_requests(signer, team_id))
    }

    fn erase(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_id: &str,
    ) -> eropaf_core::Result<()> {
        self.time(|t| t.erase(signer, team_id, doc_id))
    }

    fn report_wiped(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        report: &WipeReport,
    ) -> eropaf_core::Result<()> {
        self.time(|t| t.report_wiped(signer, team_id, report))
    }

    fn wipe_reports(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
    ) -> eropaf_core::Result<Vec<WipeReport>> {
        self.time(|t| t.wipe_reports(signer, team_id))
    }

    fn chunks_held(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
    ) -> eropaf_core::Result<Vec<u32>> {
        self.time(|t| t.chunks_held(signer, team_id, file))
    }

    fn put_chunk(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
        index: u32,
        sealed: &[u8],
    ) -> eropaf_core::Result<()> {
        self.time(|t| t.put_chunk(signer, team_id, file, index, sealed))
    }

    fn chunk(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
        index: u32,
    ) -> eropaf_core::Result<Vec<u8>> {
        self.time(|t| t.chunk(signer, team_id, file, index))
    }
}

// ---------------------------------------------------------------------------------------------
// 2. samod

const SAMOD_VERSION: &str = "0.16";

struct SamodRun {
    total: Duration,
    connect: Duration,
    documents: usize,
    /// Documents that `find` returned before all their changes had arrived.
    waited: usize,
    setup: Duration,
}

impl SamodRun {
    fn print(&self, label: &str) {
        println!(
            "  samod ({label}): {} documents at the same heads after {} (connection up after {}; {} found before all their changes arrived); setup {:.1} s; {:.0} documents/s",
            self.documents,
            fmt_dur(self.total),
            fmt_dur(self.connect),
            self.waited,
            secs(self.setup),
            self.documents as f64 / secs(self.total)
        );
    }
}

/// Repo A holds every document; repo B, empty, dials A over loopback TCP and looks every
/// document up. Timed from the dial until B holds all of them at A's heads.
fn bench_samod(documents: &[Vec<u8>], on_disk: bool) -> BenchResult<SamodRun> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let storage_dir = tempfile::Builder::new().prefix("eropaf-bench-samod").tempdir()?;
    let storage_path = storage_dir.path().to_path_buf();
    runtime.block_on(async move {
        let setup = Instant::now();
        let a = samod::Repo::build_tokio().load().await;
        let mut handles = Vec::with_capacity(documents.len());
        let mut expected = Vec::with_capacity(documents.len());
        for bytes in documents {
            let doc = automerge::Automerge::load(bytes)?;
            let heads = doc.get_heads();
            let handle = a.create(doc).await?;
            expected.push((handle.document_id().clone(), heads));
            handles.push(handle);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let acceptor = a.make_acceptor(samod::Url::parse(&format!("tcp://{address}"))?)?;
        let accepting = tokio::spawn(async move {
            while let Ok((io, _)) = listener.accept().await {
                if acceptor.accept(samod::Transport::from_tokio_io(io)).is_err() {
                    break;
                }
            }
        });
        let b = if on_disk {
            samod::Repo::build_tokio()
                .with_storage(samod::storage::TokioFilesystemStorage::new(&storage_path))
                .load()
                .await
        } else {
            samod::Repo::build_tokio().load().await
        };
        let setup = setup.elapsed();

        let t = Instant::now();
        let dialer = b
            .dial_tcp(
                samod::Url::parse(&format!("tcp://{address}"))?,
                samod::BackoffConfig::default(),
            )
            .map_err(|e| format!("dial: {e}"))?;
        dialer.established().await.map_err(|e| format!("connection: {e}"))?;
        let connect = t.elapsed();
        let mut lookups = tokio::task::JoinSet::new();
        for (id, heads) in expected {
            let find = b.find(id.clone());
            lookups.spawn(async move {
                let handle = find
                    .await
                    .map_err(|e| format!("find: {e}"))?
                    .ok_or_else(|| format!("repo B did not find document {id}"))?;
                // `find` resolves after a sync round with a peer that has the document; make
                // sure everything arrived.
                let deadline = Instant::now() + SAMOD_TIMEOUT;
                let mut waited = false;
                loop {
                    if handle.with_document(|doc| doc.get_heads()) == heads {
                        return Ok::<bool, String>(waited);
                    }
                    waited = true;
                    if Instant::now() > deadline {
                        return Err(format!("document {id} never reached the source's heads"));
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            });
        }
        let (mut found, mut waited) = (0, 0);
        while let Some(result) = tokio::time::timeout(SAMOD_TIMEOUT, lookups.join_next()).await? {
            waited += usize::from(result??);
            found += 1;
        }
        let total = t.elapsed();
        accepting.abort();
        b.stop().await;
        a.stop().await;
        drop(handles);
        Ok(SamodRun { total, connect, documents: found, waited, setup })
    })
}

// ---------------------------------------------------------------------------------------------
// 3. the relay under many devices

/// One phase of requests: per-request latencies and what they moved.
#[derive(Default)]
struct Phase {
    wall: Duration,
    latencies: Vec<Duration>,
    envelopes: usize,
    errors: Vec<String>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.envelopes as f64 / secs(self.wall)
    }

    fn merge(&mut self, other: Phase) {
        self.latencies.extend(other.latencies);
        self.envelopes += other.envelopes;
        self.errors.extend(other.errors);
    }

    fn print(&self, label: &str) {
        println!(
            "  {label:<32} {:>6} requests, {:>6} envelopes in {:>9}: {:>7.0} envelopes/s, {:>6.0} requests/s; latency p50 {:>9} p99 {:>9} max {:>9}; errors {}",
            self.latencies.len(),
            self.envelopes,
            fmt_dur(self.wall),
            self.rate(),
            self.latencies.len() as f64 / secs(self.wall),
            fmt_dur(percentile(&self.latencies, 0.5)),
            fmt_dur(percentile(&self.latencies, 0.99)),
            fmt_dur(percentile(&self.latencies, 1.0)),
            self.errors.len()
        );
        for e in self.errors.iter().take(3) {
            println!("      error: {e}");
        }
    }
}

struct RelayRun {
    sequential_push: Phase,
    concurrent_push: Phase,
    sequential_pull: Phase,
    concurrent_pull: Phase,
    setup: Duration,
    relay_bytes: u64,
}

impl RelayRun {
    fn errors(&self) -> usize {
        [&self.sequential_push, &self.concurrent_push, &self.sequential_pull, &self.concurrent_pull]
            .iter()
            .map(|p| p.errors.len())
            .sum()
    }

    fn print(&self) {
        println!(
            "  setup (untimed: enrolment, recording): {:.1} s; relay database afterwards {:.1} MB",
            secs(self.setup),
            mb(self.relay_bytes)
        );
        self.sequential_push.print("push, 1 device sequentially");
        self.concurrent_push.print("push, all devices at once");
        self.sequential_pull.print("pull, 1 device");
        self.concurrent_pull.print("pull, all devices at once");
    }
}

/// A device ready to talk to the relay directly: its identity and its sealed envelopes.
struct Pusher {
    identity: DeviceIdentity,
    envelopes: Vec<Vec<u8>>,
}

fn bench_relay(cfg: &Config) -> BenchResult<RelayRun> {
    let setup_started = Instant::now();
    let relay_dir = tempfile::Builder::new().prefix("eropaf-bench-relay").tempdir()?;
    let relay = TestRelay::start(relay_dir.path());
    let transport = HttpTransport::new(&relay.url)?;
    // Device stores are setup, not what is measured: tmpfs where there is one. Worker 0 is the
    // sequential baseline; the others push at once.
    let mut team =
        Team::enrol(&transport, &relay.url, &relay.registration_code(), cfg.devices + 1, || {
            fast_tempdir("eropaf-bench-device").expect("temporary directory")
        });
    let team_id = team.team_id.clone();
    let mut pushers = Vec::with_capacity(cfg.devices + 1);
    for (n, worker) in team.workers.iter_mut().enumerate() {
        // The baseline device writes as much as all the others together.
        let cases = if n == 0 { cfg.devices } else { 1 };
        for c in 0..cases {
            let case = worker.new_case(&resident(n * 1000 + c), Some(CaseType::Wmo))?;
            for v in 0..cfg.pushes {
                worker.record_visit(&case, &visit(n * 100_000 + c * 100 + v)?)?;
            }
        }
        let dir = team.dirs[1 + n].path();
        pushers.push(Pusher {
            identity: eropaf_tests::device_identity(dir, &team.key),
            envelopes: eropaf_tests::outbox(dir, &team.key),
        });
    }
    let per_device = cfg.pushes + 2;
    for (n, p) in pushers.iter().enumerate() {
        let expected = if n == 0 { cfg.devices * per_device } else { per_device };
        if p.envelopes.len() != expected {
            return Err(format!(
                "device {n} has {} envelopes in its outbox, not {expected}",
                p.envelopes.len()
            )
            .into());
        }
    }
    let setup = setup_started.elapsed();
    let url = relay.url.clone();

    // Sequential baseline: one device, one envelope per request.
    let baseline = pushers.remove(0);
    let sequential_push = push_all(&url, &team_id, &baseline, None)?;
    let cursor = sequential_push.1;
    let sequential_push = sequential_push.0;

    // All the others at once, each on its own thread with its own connection.
    let barrier = Arc::new(Barrier::new(pushers.len() + 1));
    let concurrent_push = run_concurrently(&pushers, &barrier, |p, barrier| {
        push_all(&url, &team_id, p, Some(barrier)).map(|(phase, _)| phase)
    })?;

    // Pulling what the concurrent phase pushed: one device alone, then every device at once.
    let sequential_pull = pull_all(&url, &team_id, &baseline.identity, cursor, None)?;
    let barrier = Arc::new(Barrier::new(pushers.len() + 1));
    let concurrent_pull = run_concurrently(&pushers, &barrier, |p, barrier| {
        pull_all(&url, &team_id, &p.identity, cursor, Some(barrier))
    })?;
    let expected = cfg.devices * per_device;
    if sequential_pull.envelopes != expected || concurrent_pull.envelopes != expected * cfg.devices
    {
        return Err(format!(
            "pulled {} and {} envelopes, expected {expected} and {}",
            sequential_pull.envelopes,
            concurrent_pull.envelopes,
            expected * cfg.devices
        )
        .into());
    }
    drop(team);
    let relay_bytes = dir_bytes(relay_dir.path());
    drop(relay);
    Ok(RelayRun {
        sequential_push,
        concurrent_push,
        sequential_pull,
        concurrent_pull,
        setup,
        relay_bytes,
    })
}

/// Runs `work` for every pusher on its own thread, all released at once by the barrier; the
/// phase's wall time runs from the release until the last thread is done.
fn run_concurrently(
    pushers: &[Pusher],
    barrier: &Arc<Barrier>,
    work: impl Fn(&Pusher, &Barrier) -> BenchResult<Phase> + Sync,
) -> BenchResult<Phase> {
    let phases = Mutex::new(Vec::with_capacity(pushers.len()));
    let wall = std::thread::scope(|scope| {
        let threads: Vec<_> = pushers
            .iter()
            .map(|p| {
                let barrier = Arc::clone(barrier);
                let work = &work;
                let phases = &phases;
                scope.spawn(move || {
                    let phase = work(p, &barrier);
                    if let Ok(mut phases) = phases.lock() {
                        phases.push(phase.map_err(|e| e.to_string()));
                    }
                })
            })
            .collect();
        barrier.wait();
        let t = Instant::now();
        for thread in threads {
            let _ = thread.join();
        }
        t.elapsed()
    });
    let mut total = Phase { wall, ..Phase::default() };
    let phases = phases.into_inner().map_err(|_| "a worker thread panicked")?;
    if phases.len() != pushers.len() {
        return Err("a worker thread panicked".into());
    }
    for phase in phases {
        match phase {
            Ok(phase) => total.merge(phase),
            Err(e) => total.errors.push(e),
        }
    }
    Ok(total)
}

/// Pushes the device's envelopes one per signed request, as a sync after every recorded
/// visit does. Returns the phase and the highest server sequence handed out.
fn push_all(
    url: &str,
    team_id: &str,
    pusher: &Pusher,
    barrier: Option<&Barrier>,
) -> BenchResult<(Phase, u64)> {
    let transport = HttpTransport::new(url)?;
    if let Some(barrier) = barrier {
        barrier.wait();
    }
    let mut phase = Phase::default();
    let mut last_seq = 0;
    let started = Instant::now();
    for envelope in &pusher.envelopes {
        let t = Instant::now();
        let result = transport.push(&pusher.identity, team_id, std::slice::from_ref(envelope), &[]);
        phase.latencies.push(t.elapsed());
        match result {
            Ok(seqs) => {
                phase.envelopes += seqs.len();
                last_seq = seqs.into_iter().fold(last_seq, u64::max);
            }
            Err(e) => phase.errors.push(e.to_string()),
        }
    }
    phase.wall = started.elapsed();
    Ok((phase, last_seq))
}

/// Pulls everything after `cursor` in the sync engine's page size.
fn pull_all(
    url: &str,
    team_id: &str,
    identity: &DeviceIdentity,
    mut cursor: u64,
    barrier: Option<&Barrier>,
) -> BenchResult<Phase> {
    let transport = HttpTransport::new(url)?;
    if let Some(barrier) = barrier {
        barrier.wait();
    }
    let mut phase = Phase::default();
    let started = Instant::now();
    loop {
        let t = Instant::now();
        let result = transport.pull(identity, team_id, cursor, PULL_PAGE);
        phase.latencies.push(t.elapsed());
        match result {
            Ok(page) => {
                phase.envelopes += page.entries.len();
                cursor = page.next_after.max(cursor);
                if !page.more || page.entries.is_empty() {
                    break;
                }
            }
            Err(e) => {
                phase.errors.push(e.to_string());
                break;
            }
        }
    }
    phase.wall = started.elapsed();
    Ok(phase)
}

// ---------------------------------------------------------------------------------------------
// workload

const CASE_TYPES: [CaseType; 3] = [CaseType::Wmo, CaseType::Jeugd, CaseType::Participatiewet];

fn resident(i: usize) -> Resident {
    const FIRST: [&str; 20] = [
        "Aïsha", "Sjoerd", "Özlem", "Zoë", "Hélène", "Mohamed", "Fatima", "Jan", "Anouk", "Daan",
        "Noëlle", "Bram", "Yusuf", "Emma", "Ingrid", "Thijs", "Saskia", "Rachid", "Lotte", "Kees",
    ];
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

/// A visit as a worker records it (the shape core/benches/store.rs uses): a note of about 300
/// characters and two observations, words drawn at random from case-note vocabulary so the
/// text compresses about as well as real prose.
fn visit(i: usize) -> BenchResult<NewVisit> {
    const DOMAINS: [LifeDomain; 4] = [
        LifeDomain::Financien,
        LifeDomain::Huisvesting,
        LifeDomain::HuiselijkeRelaties,
        LifeDomain::GeestelijkeGezondheid,
    ];
    let mut words = Words::new(i);
    let note = format!("{} (bezoek {})", words.text(300), i + 1);
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

/// Sentences of random words; deterministic per seed.
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

/// A temporary directory on tmpfs where there is one, for setup that is not what is measured.
fn fast_tempdir(prefix: &str) -> BenchResult<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    Ok(if Path::new(TMPFS).is_dir() { builder.tempdir_in(TMPFS)? } else { builder.tempdir()? })
}

/// The 1, 5 and 15 minute load averages, where the system tells them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Bytes in all files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|e| e.path()));
            }
        } else if let Ok(meta) = std::fs::metadata(&path) {
            total += meta.len();
        }
    }
    total
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

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
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

#[derive(Default)]
struct Table(Vec<[String; 6]>);

impl Table {
    fn row(
        &mut self,
        name: &str,
        measured: String,
        baseline: String,
        ratio: Option<f64>,
        goal: String,
        met: Option<bool>,
    ) {
        let ratio = ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}x"));
        let met = match met {
            Some(true) => "ok",
            Some(false) => "MISSED",
            None => "",
        };
        self.0.push([name.into(), measured, baseline, ratio, goal, met.into()]);
    }

    fn print(&self) {
        let header = ["benchmark", "measured", "baseline", "ratio", "goal", ""].map(String::from);
        let mut widths = [0usize; 6];
        for row in std::iter::once(&header).chain(&self.0) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&self.0) {
            let mut line = String::new();
            for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(w - cell.chars().count() + 3));
                }
            }
            println!("{}", line.trim_end());
        }
    }
}

struct FilesRun {
    upload: Duration,
    download: Duration,
    chunks: u64,
    raw_seal: Duration,
    plain_copy: Duration,
    rss_start_kib: u64,
    rss_peak_kib: u64,
}

impl FilesRun {
    fn print(&self) {
        println!(
            "upload {} ({} chunks), download {}; raw AES-GCM {}, plain copy {}; RSS {:.1} MB \
             at start, {:.1} MB peak (relay, both phones and the test in one process)",
            fmt_dur(self.upload),
            self.chunks,
            fmt_dur(self.download),
            fmt_dur(self.raw_seal),
            fmt_dur(self.plain_copy),
            self.rss_start_kib as f64 / 1024.0,
            self.rss_peak_kib as f64 / 1024.0,
        );
    }
}

/// A worker attaches a file from its path, her sync uploads it to the loopback relay, the
/// supervisor's phone downloads it when opened. Baselines in the same run: ring's AES-256-GCM
/// over the same bytes in memory, and a durable copy of the file.
fn bench_files(cfg: &Config) -> BenchResult<FilesRun> {
    let relay_dir = tempfile::tempdir()?;
    let relay = TestRelay::start(relay_dir.path());
    let transport = HttpTransport::new(&relay.url)?;
    let mut team = Team::enrol(&transport, &relay.url, &relay.registration_code(), 1, || {
        tempfile::tempdir().expect("temporary directory")
    });
    let bytes = incompressible(cfg.file_bytes);
    let source = relay_dir.path().join("scan.pdf");
    std::fs::write(&source, &bytes)?;
    let new = eropaf_core::model::NewAttachment {
        name: "scan.pdf".into(),
        media_type: "application/pdf".into(),
        ..Default::default()
    };
    let case = team.workers[0].new_case(&Resident::named("Aïsha"), None)?;
    let attached = team.workers[0].attach_file(&case, &new, &source)?;
    drop(bytes);
    let rss_start_kib = reset_peak_rss()?;
    let t = Instant::now();
    let report = team.workers[0].sync(&transport, &mut |_| {})?;
    let upload = t.elapsed();
    team.supervisor.sync(&transport, &mut |_| {})?;
    let t = Instant::now();
    team.supervisor.download_attachment(&transport, &case, &attached.id, &mut |_| {})?;
    let download = t.elapsed();
    let rss_peak_kib = status_kib("VmHWM")?;

    let mut sealed = std::fs::read(&source)?;
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &[7; 32])
            .map_err(|_| "an AES-256 key is 32 bytes")?,
    );
    let t = Instant::now();
    let tag = key
        .seal_in_place_separate_tag(
            ring::aead::Nonce::assume_unique_for_key([1; 12]),
            ring::aead::Aad::empty(),
            &mut sealed,
        )
        .map_err(|_| "sealing failed")?;
    let raw_seal = t.elapsed();
    let _ = black_box((&sealed, tag));
    let copy = relay_dir.path().join("copy.pdf");
    let t = Instant::now();
    std::fs::copy(&source, &copy)?;
    std::fs::File::open(&copy)?.sync_all()?;
    let plain_copy = t.elapsed();
    Ok(FilesRun {
        upload,
        download,
        chunks: report.chunks_uploaded,
        raw_seal,
        plain_copy,
        rss_start_kib,
        rss_peak_kib,
    })
}

/// Bytes that do not compress, as a scan's or a photo's do not.
fn incompressible(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

/// Resets this process's peak resident set to what it holds now (Linux `clear_refs` 5) and
/// returns that, in KiB: the next `VmHWM` is the peak of what runs in between.
fn reset_peak_rss() -> BenchResult<u64> {
    std::fs::write("/proc/self/clear_refs", "5")?;
    status_kib("VmRSS")
}

/// A `kB` field of /proc/self/status.
fn status_kib(field: &str) -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    Ok(value.trim().trim_end_matches("kB").trim().parse()?)
}
