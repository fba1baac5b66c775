//! `cargo bench -p eropaf-core --bench store`: what the store costs, each number set against a
//! baseline measured in the same run on the same machine, so the ratios mean something even
//! where the absolute numbers depend on the disk.
//!
//! 1. Recording a visit durably vs a bare rusqlite insert of the same number of bytes with the
//!    same durability pragmas. fsync dominates both; that is the point of the comparison.
//! 2. Opening a store of many cases and listing them, in a fresh child process (wall time and
//!    peak RSS), vs opening a plain connection and selecting the sealed summaries.
//! 3. Sealing throughput vs raw AES-256-GCM from ring.
//!
//! `EROPAF_BENCH_QUICK=1` shrinks every size for a CI smoke run; the table is the same.
//! Temporary stores go where `TMPDIR` points (the disk under test), plus `/dev/shm` for the
//! no-fsync comparison when it exists.

mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    fmt_dur, group, kib_mb, mb, ms, percentile, resident, run_child, visit, vm_kib, BareInsert,
    BenchResult, ChildRuns, Table, KEY_ENV,
};
use eropaf_core::crypto::{self, Sealer, SecretKey, SEAL_OVERHEAD};
use eropaf_core::model::CaseType;
use eropaf_core::DB_FILE;
use eropaf_core::{Eropaf, Unlock};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

const CHILD_LIST: &str = "--child-list";
const CHILD_RAW: &str = "--child-raw";
const SEARCH_QUERY: &str = "aisha";
/// Building the listing store faster than this on the real disk is not worth a detour.
const BUILD_BUDGET: Duration = Duration::from_secs(60);
const TMPFS: &str = "/dev/shm";
const GOAL_RECORD_RATIO: f64 = 3.0;
const GOAL_LIST_MS: f64 = 300.0;
const GOAL_LIST_MB: f64 = 100.0;

struct Config {
    quick: bool,
    /// Timed visits recorded to one case (after `warmup_visits` untimed ones).
    visits: usize,
    warmup_visits: usize,
    /// Cases in the store that is opened and listed.
    cases: usize,
    /// Cases built on the real disk to project how long building all of them would take.
    probe_cases: usize,
    /// Child processes per measurement (each opens the store afresh).
    child_runs: usize,
    /// Bytes sealed per round and per variant; the best round counts.
    seal_bytes: usize,
    seal_rounds: usize,
}

impl Config {
    fn from_env() -> Config {
        let quick = common::quick();
        if quick {
            Config {
                quick,
                visits: 50,
                warmup_visits: 3,
                cases: 1_000,
                probe_cases: 20,
                child_runs: 3,
                seal_bytes: 4 << 20,
                seal_rounds: 4,
            }
        } else {
            Config {
                quick,
                visits: 300,
                warmup_visits: 5,
                cases: 10_000,
                probe_cases: 50,
                child_runs: 7,
                seal_bytes: 32 << 20,
                seal_rounds: 8,
            }
        }
    }
}

fn main() -> BenchResult<()> {
    // `cargo bench` passes `--bench` (and maybe a filter); only our own flags matter.
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == CHILD_LIST) {
        return child_list(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == CHILD_RAW) {
        return child_raw(&args[at + 1..]);
    }
    parent()
}

fn parent() -> BenchResult<()> {
    let started = Instant::now();
    let cfg = Config::from_env();
    let tmpfs = Path::new(TMPFS).is_dir().then(|| PathBuf::from(TMPFS));
    println!(
        "eropaf-core store benchmark{} — temporary stores under {}",
        if cfg.quick { " (QUICK: reduced sizes)" } else { "" },
        std::env::temp_dir().display()
    );
    let mut table = Table::default();

    // ---- 1. record a visit ----
    println!("\n== 1. record a visit durably ({} visits to one case) ==", cfg.visits);
    let sample = visit(0)?;
    println!(
        "  a visit: a note of {} characters (\"{}…\"), {} observations, 2 people present",
        sample.note.chars().count(),
        sample.note.chars().take(60).collect::<String>(),
        sample.observations.len()
    );
    let disk_dir = tempfile::Builder::new().prefix("eropaf-bench-visit").tempdir()?;
    let disk = bench_record(disk_dir.path(), &cfg)?;
    disk.print("disk");
    drop(disk_dir);
    let ram = match &tmpfs {
        Some(tmpfs) => {
            let ram_dir =
                tempfile::Builder::new().prefix("eropaf-bench-visit").tempdir_in(tmpfs)?;
            let ram = bench_record(ram_dir.path(), &cfg)?;
            ram.print("tmpfs, fsync is free: the software cost alone");
            Some(ram)
        }
        None => None,
    };
    let ratio = ms(disk.store_median()) / ms(disk.base_median());
    table.row(
        "record visit, median",
        fmt_dur(disk.store_median()),
        fmt_dur(disk.base_median()),
        Some(ratio),
        format!("<= {GOAL_RECORD_RATIO}x"),
        Some(ratio <= GOAL_RECORD_RATIO),
    );
    table.row(
        "record visit, p95",
        fmt_dur(disk.store_p95()),
        fmt_dur(disk.base_p95()),
        Some(ms(disk.store_p95()) / ms(disk.base_p95())),
        "-".into(),
        None,
    );
    if let Some(ram) = &ram {
        table.row(
            "record visit, median (tmpfs)",
            fmt_dur(ram.store_median()),
            fmt_dur(ram.base_median()),
            Some(ms(ram.store_median()) / ms(ram.base_median())),
            "- (no fsync)".into(),
            None,
        );
    }

    // ---- 2. open and list ----
    println!("\n== 2. open the store and list {} cases (fresh child process) ==", cfg.cases);
    let list_dir = tempfile::Builder::new().prefix("eropaf-bench-list").tempdir()?;
    let store_dir = list_dir.path().join("store");
    let key = SecretKey::generate()?;
    build_listing_store(&store_dir, &key, &cfg, tmpfs.as_deref())?;
    let db_bytes = std::fs::metadata(store_dir.join(DB_FILE))?.len();
    println!("  store file: {:.1} MB", mb(db_bytes as f64));
    let key_hex = hex::encode(key.as_bytes());
    let mut list_runs = Vec::new();
    let mut raw_runs = Vec::new();
    // Alternate the two so drift (page cache, other load) hits both alike.
    for _ in 0..cfg.child_runs {
        list_runs.push(run_child(CHILD_LIST, &store_dir, &key_hex, &[])?);
        raw_runs.push(run_child(CHILD_RAW, &store_dir, &key_hex, &[])?);
    }
    let list = ChildRuns(list_runs);
    let raw = ChildRuns(raw_runs);
    let cases_seen = list.median("cases");
    if cases_seen as usize != cfg.cases {
        return Err(format!("the child listed {cases_seen} cases, not {}", cfg.cases).into());
    }
    println!("  {} child runs each, warm OS page cache; medians (min .. max):", cfg.child_runs);
    for (label, runs, key) in [
        ("Eropaf::open", &list, "open_ms"),
        ("cases()", &list, "cases_ms"),
        ("open + cases()", &list, "open_list_ms"),
        ("search(\"aisha\")", &list, "search_ms"),
        ("child process wall (spawn..exit)", &list, "wall_ms"),
        ("raw open + SELECT summaries", &raw, "raw_ms"),
        ("raw child process wall", &raw, "wall_ms"),
    ] {
        println!(
            "    {label:<34} {:>9.2} ms  ({:.2} .. {:.2})",
            runs.median(key),
            runs.min(key),
            runs.max(key)
        );
    }
    println!(
        "    search hits: {} of {}; sealed summary bytes selected: {:.2} MB",
        list.median("search_hits"),
        cases_seen,
        mb(raw.median("summary_bytes"))
    );
    for (label, runs, key) in [
        ("peak RSS at child start", &list, "hwm_start_kib"),
        ("peak RSS after open + cases()", &list, "hwm_list_kib"),
        ("peak RSS after search too", &list, "hwm_end_kib"),
        ("raw child: peak RSS at start", &raw, "hwm_start_kib"),
        ("raw child: peak RSS at end", &raw, "hwm_end_kib"),
    ] {
        println!(
            "    {label:<34} {:>9.1} MB  (max {:.1})",
            kib_mb(runs.median(key)),
            kib_mb(runs.max(key))
        );
    }
    let open_list_ms = list.median("open_list_ms");
    let raw_ms = raw.median("raw_ms");
    let peak_mb = kib_mb(list.max("hwm_list_kib"));
    let start_mb = kib_mb(list.max("hwm_start_kib"));
    let n = group(cfg.cases);
    table.row(
        &format!("open + list {n} cases"),
        format!("{open_list_ms:.1} ms"),
        format!("{raw_ms:.1} ms raw"),
        Some(open_list_ms / raw_ms),
        format!("<= {GOAL_LIST_MS} ms"),
        Some(open_list_ms <= GOAL_LIST_MS),
    );
    table.row(
        &format!("  peak RSS ({n} cases)"),
        format!("{peak_mb:.1} MB"),
        format!("{start_mb:.1} MB at start"),
        Some(peak_mb / start_mb),
        format!("<= {GOAL_LIST_MB} MB"),
        Some(peak_mb <= GOAL_LIST_MB),
    );
    table.row(
        &format!("search over {n} cases"),
        format!("{:.1} ms", list.median("search_ms")),
        format!("{:.1} ms cases()", list.median("cases_ms")),
        Some(list.median("search_ms") / list.median("cases_ms")),
        "-".into(),
        None,
    );
    drop(list_dir);

    // ---- 3. sealing ----
    println!(
        "\n== 3. sealing throughput ({} MiB per round, best of {} rounds) ==",
        cfg.seal_bytes >> 20,
        cfg.seal_rounds
    );
    for row in bench_seal(&cfg)? {
        println!(
            "  {:>2} KiB  Sealer::seal {:>8.0} MB/s  raw_aes_gcm_seal {:>8.0} MB/s  ring (key once) {:>8.0} MB/s  |  Sealer::open {:>8.0} MB/s  ring open {:>8.0} MB/s",
            row.size >> 10,
            row.seal,
            row.raw,
            row.ring_seal,
            row.open,
            row.ring_open
        );
        let kib = row.size >> 10;
        table.row(
            &format!("seal {kib} KiB (Sealer/raw)"),
            format!("{:.0} MB/s", row.seal),
            format!("{:.0} MB/s", row.raw),
            Some(row.seal / row.raw),
            "- (>1x = faster)".into(),
            None,
        );
        table.row(
            &format!("seal {kib} KiB (Sealer/ring)"),
            format!("{:.0} MB/s", row.seal),
            format!("{:.0} MB/s", row.ring_seal),
            Some(row.seal / row.ring_seal),
            "- (>1x = faster)".into(),
            None,
        );
        table.row(
            &format!("open {kib} KiB (Sealer/ring)"),
            format!("{:.0} MB/s", row.open),
            format!("{:.0} MB/s", row.ring_open),
            Some(row.open / row.ring_open),
            "- (>1x = faster)".into(),
            None,
        );
    }

    println!();
    table.print();
    println!("\nwhole run: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1. recording a visit

struct RecordRun {
    store: Vec<Duration>,
    base: Vec<Duration>,
    /// Sealed bytes each visit appended (its change row, or the whole snapshot on compaction);
    /// the baseline inserted a blob of the same size.
    sizes: Vec<usize>,
    compactions: usize,
    summary_bytes: usize,
}

impl RecordRun {
    fn store_median(&self) -> Duration {
        percentile(&self.store, 0.5)
    }
    fn base_median(&self) -> Duration {
        percentile(&self.base, 0.5)
    }
    fn store_p95(&self) -> Duration {
        percentile(&self.store, 0.95)
    }
    fn base_p95(&self) -> Duration {
        percentile(&self.base, 0.95)
    }

    fn print(&self, what: &str) {
        let n = self.store.len();
        let tenth = (n / 10).max(1);
        let mut sizes = self.sizes.clone();
        sizes.sort_unstable();
        let mean = self.sizes.iter().sum::<usize>() as f64 / n as f64;
        println!("  {what}:");
        println!(
            "    record_visit      median {:>9}  p95 {:>9}  max {:>9}   first tenth median {:>9}  last tenth median {:>9}",
            fmt_dur(self.store_median()),
            fmt_dur(self.store_p95()),
            fmt_dur(percentile(&self.store, 1.0)),
            fmt_dur(percentile(&self.store[..tenth], 0.5)),
            fmt_dur(percentile(&self.store[n - tenth..], 0.5)),
        );
        println!(
            "    baseline insert   median {:>9}  p95 {:>9}  max {:>9}   first tenth median {:>9}  last tenth median {:>9}",
            fmt_dur(self.base_median()),
            fmt_dur(self.base_p95()),
            fmt_dur(percentile(&self.base, 1.0)),
            fmt_dur(percentile(&self.base[..tenth], 0.5)),
            fmt_dur(percentile(&self.base[n - tenth..], 0.5)),
        );
        println!(
            "    bytes per visit (sealed row; baseline blob): median {} B, mean {mean:.0} B, max {} B; {} of {n} writes compacted the whole snapshot; the sealed summary ({} B) is rewritten on every write too",
            sizes[sizes.len() / 2],
            sizes[sizes.len() - 1],
            self.compactions,
            self.summary_bytes,
        );
    }
}

fn bench_record(root: &Path, cfg: &Config) -> BenchResult<RecordRun> {
    let store_dir = root.join("store");
    let mut eropaf = Eropaf::create(&store_dir, Unlock::Key(SecretKey::generate()?), "bench")?;
    let case_id = eropaf.new_case(&resident(0), Some(CaseType::Wmo))?;
    // Sizes are read beside the store (never inside the timed call) on a read-only connection;
    // WAL lets it read while the store writes.
    let probe = Connection::open_with_flags(
        store_dir.join(DB_FILE),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut base = BareInsert::open(&root.join("baseline"))?;

    let mut run = RecordRun {
        store: Vec::with_capacity(cfg.visits),
        base: Vec::with_capacity(cfg.visits),
        sizes: Vec::with_capacity(cfg.visits),
        compactions: 0,
        summary_bytes: 0,
    };
    // Interleaved, so that anything the disk does over time hits both alike.
    for i in 0..cfg.warmup_visits + cfg.visits {
        let visit = visit(i)?;
        let t = Instant::now();
        black_box(eropaf.record_visit(&case_id, black_box(&visit))?);
        let store_time = t.elapsed();

        let latest: Option<i64> = probe
            .prepare_cached(
                "SELECT length(bytes) FROM doc_changes WHERE doc_id = ?1 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([&case_id], |r| r.get(0))
            .optional()?;
        let (snapshot, summary): (i64, i64) = probe
            .prepare_cached(
                "SELECT length(s.snapshot), length(d.summary)
                 FROM docs d JOIN doc_snapshots s USING (doc_id) WHERE d.doc_id = ?1",
            )?
            .query_row([&case_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        // Every write appends a change row; none left means this write folded them all into a
        // new snapshot, which is then what it wrote.
        let (size, compacted) = match latest {
            Some(change) => (change, false),
            None => (snapshot, true),
        };
        let mut blob = vec![0u8; usize::try_from(size)?];
        crypto::fill_random(&mut blob)?;

        let base_time = base.insert(&blob)?;

        if i >= cfg.warmup_visits {
            run.store.push(store_time);
            run.base.push(base_time);
            run.sizes.push(blob.len());
            run.compactions += usize::from(compacted);
            run.summary_bytes = usize::try_from(summary)?;
        }
    }
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// 2. opening and listing

/// Builds the store with `cfg.cases` cases of one visit each in `dir`. Building is not timed,
/// but with a full fsync per write it can take long; when a probe says it would exceed the
/// budget, the same API calls run on tmpfs and the finished file is copied to `dir`: the file
/// is byte for byte what the API wrote, only the wait for the disk is skipped.
fn build_listing_store(
    dir: &Path,
    key: &SecretKey,
    cfg: &Config,
    tmpfs: Option<&Path>,
) -> BenchResult<()> {
    let probe_dir = tempfile::Builder::new().prefix("eropaf-bench-probe").tempdir()?;
    let t = Instant::now();
    add_cases(&probe_dir.path().join("store"), key, cfg.probe_cases)?;
    let per_case = t.elapsed() / u32::try_from(cfg.probe_cases)?;
    drop(probe_dir);
    let projected = per_case * u32::try_from(cfg.cases)?;
    println!(
        "  building on disk: {} per case (new_case + record_visit) over {} probe cases; {} cases would take {:.1} s",
        fmt_dur(per_case),
        cfg.probe_cases,
        cfg.cases,
        projected.as_secs_f64()
    );
    let t = Instant::now();
    match tmpfs {
        Some(tmpfs) if projected > BUILD_BUDGET => {
            let ram = tempfile::Builder::new().prefix("eropaf-bench-build").tempdir_in(tmpfs)?;
            let ram_store = ram.path().join("store");
            add_cases(&ram_store, key, cfg.cases)?;
            std::fs::create_dir_all(dir)?;
            // Closing the store checkpointed its WAL into the main file; copy what is there.
            for suffix in ["", "-wal"] {
                let from = ram_store.join(format!("{DB_FILE}{suffix}"));
                if from.exists() {
                    let to = dir.join(format!("{DB_FILE}{suffix}"));
                    std::fs::copy(&from, &to)?;
                    std::fs::File::open(&to)?.sync_all()?;
                }
            }
            println!(
                "  built with the same API calls on tmpfs and copied to disk in {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
        _ => {
            add_cases(dir, key, cfg.cases)?;
            println!("  built on disk in {:.1} s", t.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

fn add_cases(dir: &Path, key: &SecretKey, count: usize) -> BenchResult<()> {
    let mut eropaf = Eropaf::create(dir, Unlock::Key(key.clone()), "bench")?;
    let types = [CaseType::Wmo, CaseType::Jeugd, CaseType::Participatiewet, CaseType::Schuldhulp];
    for i in 0..count {
        let case_id = eropaf.new_case(&resident(i), Some(types[i % types.len()]))?;
        eropaf.record_visit(&case_id, &visit(i)?)?;
    }
    Ok(())
}

/// Child: open the store, list, search; report times and peak RSS as `key value` lines.
fn child_list(args: &[String]) -> BenchResult<()> {
    let hwm_start = vm_kib("VmHWM")?;
    let dir = PathBuf::from(args.first().ok_or("--child-list needs the store directory")?);
    let key = SecretKey::from_slice(&hex::decode(std::env::var(KEY_ENV)?)?)?;

    let t = Instant::now();
    let eropaf = Eropaf::open(&dir, Unlock::Key(key))?;
    let open = t.elapsed();
    let cases = black_box(eropaf.cases()?);
    let open_list = t.elapsed();
    let hwm_list = vm_kib("VmHWM")?;

    let t = Instant::now();
    let hits = black_box(eropaf.search(SEARCH_QUERY)?);
    let search = t.elapsed();
    let hwm_end = vm_kib("VmHWM")?;

    println!("open_ms {}", ms(open));
    println!("cases_ms {}", ms(open_list - open));
    println!("open_list_ms {}", ms(open_list));
    println!("search_ms {}", ms(search));
    println!("cases {}", cases.len());
    println!("search_hits {}", hits.len());
    println!("hwm_start_kib {hwm_start}");
    println!("hwm_list_kib {hwm_list}");
    println!("hwm_end_kib {hwm_end}");
    Ok(())
}

/// Child baseline: a plain connection selecting every sealed summary, nothing decrypted.
fn child_raw(args: &[String]) -> BenchResult<()> {
    let hwm_start = vm_kib("VmHWM")?;
    let dir = PathBuf::from(args.first().ok_or("--child-raw needs the store directory")?);

    let t = Instant::now();
    let conn = Connection::open(dir.join(DB_FILE))?;
    let mut stmt = conn.prepare("SELECT doc_id, summary FROM docs WHERE kind = 'case'")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<Vec<u8>>>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let rows = black_box(rows);
    let raw = t.elapsed();
    let hwm_end = vm_kib("VmHWM")?;

    let bytes: usize = rows.iter().map(|(_, s)| s.as_ref().map_or(0, Vec::len)).sum();
    println!("raw_ms {}", ms(raw));
    println!("cases {}", rows.len());
    println!("summary_bytes {bytes}");
    println!("hwm_start_kib {hwm_start}");
    println!("hwm_end_kib {hwm_end}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3. sealing

struct SealRow {
    size: usize,
    seal: f64,
    raw: f64,
    ring_seal: f64,
    open: f64,
    ring_open: f64,
}

fn bench_seal(cfg: &Config) -> BenchResult<Vec<SealRow>> {
    let key = SecretKey::generate()?;
    let sealer = Sealer::new(&key);
    let ring_key =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.as_bytes()).map_err(|_| "ring key")?);
    // Where a change row of a case lives: the associated data the store really uses.
    let aad = format!("doc_changes/{}/17", crypto::random_id()?);
    let aad = aad.as_bytes();
    let mut counter = 0u64;
    let mut next_nonce = || {
        counter += 1;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..8].copy_from_slice(&counter.to_le_bytes());
        nonce
    };

    let mut rows = Vec::new();
    for size in [1 << 10, 64 << 10] {
        let iters = (cfg.seal_bytes / size).max(1);
        let total = (iters * size) as f64;
        let mut plain = vec![0u8; size];
        crypto::fill_random(&mut plain)?;
        let sealed: Vec<Vec<u8>> =
            (0..16).map(|_| sealer.seal(aad, &plain)).collect::<Result<_, _>>()?;
        let mut samples: [Vec<f64>; 5] = Default::default();
        for _ in 0..cfg.seal_rounds {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(sealer.seal(aad, black_box(&plain))?);
            }
            samples[0].push(total / t.elapsed().as_secs_f64());

            // The same copy into a fresh buffer that Sealer::seal makes, so only sealing differs.
            let t = Instant::now();
            for _ in 0..iters {
                let mut buf = Vec::with_capacity(size + SEAL_OVERHEAD);
                buf.extend_from_slice(black_box(&plain));
                crypto::raw_aes_gcm_seal(&key, next_nonce(), &mut buf)?;
                black_box(buf);
            }
            samples[1].push(total / t.elapsed().as_secs_f64());

            let t = Instant::now();
            for _ in 0..iters {
                let mut buf = Vec::with_capacity(size + SEAL_OVERHEAD);
                buf.extend_from_slice(black_box(&plain));
                ring_key
                    .seal_in_place_append_tag(
                        Nonce::assume_unique_for_key(next_nonce()),
                        Aad::from(aad),
                        &mut buf,
                    )
                    .map_err(|_| "ring seal")?;
                black_box(buf);
            }
            samples[2].push(total / t.elapsed().as_secs_f64());

            let t = Instant::now();
            for i in 0..iters {
                black_box(sealer.open(aad, black_box(&sealed[i % sealed.len()]))?);
            }
            samples[3].push(total / t.elapsed().as_secs_f64());

            // Sealed layout: version byte, nonce, ciphertext and tag.
            let t = Instant::now();
            for i in 0..iters {
                let one = black_box(&sealed[i % sealed.len()]);
                let mut nonce = [0u8; NONCE_LEN];
                nonce.copy_from_slice(&one[1..1 + NONCE_LEN]);
                let mut buf = one[1 + NONCE_LEN..].to_vec();
                let len = ring_key
                    .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
                    .map_err(|_| "ring open")?
                    .len();
                buf.truncate(len);
                black_box(buf);
            }
            samples[4].push(total / t.elapsed().as_secs_f64());
        }
        // Best of the rounds: other load on the machine only ever slows a round down.
        let [seal, raw, ring_seal, open, ring_open] =
            samples.map(|s| mb(s.into_iter().fold(0.0, f64::max)));
        rows.push(SealRow { size, seal, raw, ring_seal, open, ring_open });
    }
    Ok(rows)
}
