//! `cargo bench -p eropaf-core --bench long_case`: a resident followed for two years, one case
//! of 100 visits (notes of about 1,500 characters, three observations each), and what the
//! device's calls on it cost against the floors measured in the same run:
//!
//! 1. Recording each visit durably, at visit 1, 45 and 95, vs a bare durable SQLite insert of
//!    the visit's bytes (same pragmas as the store), interleaved so the disk hits both alike.
//! 2. Autosave while typing: one character appended to a 1,500-character note, vs the same
//!    bare insert of that note's bytes.
//! 3. Opening that case: the first `case()` after the store is opened, in a fresh child
//!    process (time and peak RSS), vs automerge's own `load` of the same document's bytes in
//!    a child of its own (what any reader built on the document must at least pay).
//! 4. Merging the exported case into a fresh replica, vs automerge's `load` of those bytes.
//! 5. Many short cases: 10,000 cases of 2 visits each, the mean cost of a call (`new_case`,
//!    `record_visit`) vs the bare insert of the same bytes.
//! 6. The floor of the document format: the same visits written straight into automerge, laid
//!    out as case schema 1 (each note a text object, merged character by character), schema 2
//!    (a value per field, the note one string) and schema 3 (what was recorded one JSON
//!    string); per visit and for loading the whole case. The schema 3 visit plus the bare
//!    insert is the floor of any design that writes the visit's change durably within the
//!    call.
//!
//! `EROPAF_BENCH_QUICK=1` shrinks sizes for a CI smoke run; the table is the same.
//! Temporary stores go where `TMPDIR` points (the disk under test).

mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    fmt_dur, group, kib_mb, long_visit, ms, percentile, resident, run_child, visit, visit_bytes,
    vm_kib, BareInsert, BenchResult, ChildRuns, Table, KEY_ENV,
};
use eropaf_core::crypto::SecretKey;
use eropaf_core::model::CaseType;
use eropaf_core::{Eropaf, Unlock};

const CHILD_OPEN: &str = "--child-open";
const CHILD_LOAD: &str = "--child-automerge-load";
const GOAL_RECORD_RATIO: f64 = 2.0;
const GOAL_OPEN_MS: f64 = 20.0;
const GOAL_MERGE_MS: f64 = 50.0;
const GOAL_AUTOSAVE_RATIO: f64 = 2.0;
const GOAL_MANY_MS: f64 = 1.0;

struct Config {
    visits: usize,
    autosaves: usize,
    child_runs: usize,
    merge_runs: usize,
    many_cases: usize,
}

impl Config {
    fn from_env() -> Config {
        if common::quick() {
            Config { visits: 100, autosaves: 10, child_runs: 2, merge_runs: 2, many_cases: 200 }
        } else {
            Config { visits: 100, autosaves: 50, child_runs: 7, merge_runs: 7, many_cases: 10_000 }
        }
    }
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == CHILD_OPEN) {
        return child_open(&args[at + 1..]);
    }
    if let Some(at) = args.iter().position(|a| a == CHILD_LOAD) {
        return child_automerge_load(&args[at + 1..]);
    }
    parent()
}

fn parent() -> BenchResult<()> {
    let started = Instant::now();
    let cfg = Config::from_env();
    println!(
        "eropaf-core long-case benchmark{} — temporary stores under {}",
        if common::quick() { " (QUICK: reduced sizes)" } else { "" },
        std::env::temp_dir().display()
    );
    let mut table = Table::default();
    let dir = tempfile::Builder::new().prefix("eropaf-bench-long").tempdir()?;
    let store_dir = dir.path().join("store");
    let key = SecretKey::generate()?;
    let mut bare = BareInsert::open(&dir.path().join("baseline"))?;

    // ---- 1. record visits ----
    let sample = long_visit(0)?;
    println!(
        "\n== 1. record {} visits to one case (notes of {} characters, {} observations) ==",
        cfg.visits,
        sample.note.chars().count(),
        sample.observations.len()
    );
    let mut eropaf = Eropaf::create(&store_dir, Unlock::Key(key.clone()), "bench")?;
    let case_id = eropaf.new_case(&resident(0), Some(CaseType::Wmo))?;
    let mut store_times = Vec::with_capacity(cfg.visits);
    let mut base_times = Vec::with_capacity(cfg.visits);
    let mut last_visit = String::new();
    let mut last_note = String::new();
    for i in 0..cfg.visits {
        let visit = long_visit(i)?;
        let t = Instant::now();
        last_visit = black_box(eropaf.record_visit(&case_id, black_box(&visit))?);
        store_times.push(t.elapsed());
        base_times.push(bare.insert(&visit_bytes(&visit))?);
        last_note = visit.note;
    }
    // Windows of ten visits around visit 1, 45 and 95: one write is one noisy sample.
    let late_bare = percentile(&base_times[cfg.visits.saturating_sub(10)..], 0.5);
    for (label, from) in [("visit 1-10", 0), ("visit 41-50", 40), ("visit 91-100", 90)] {
        let to = (from + 10).min(cfg.visits);
        let store = percentile(&store_times[from..to], 0.5);
        let base = percentile(&base_times[from..to], 0.5);
        println!(
            "  {label:<13} record_visit median {:>9}  bare insert median {:>9}",
            fmt_dur(store),
            fmt_dur(base)
        );
        let ratio = ms(store) / ms(base);
        table.row(
            &format!("record visit, {label}"),
            fmt_dur(store),
            format!("{} bare", fmt_dur(base)),
            Some(ratio),
            format!("<= {GOAL_RECORD_RATIO}x"),
            Some(ratio <= GOAL_RECORD_RATIO),
        );
    }

    // ---- 2. autosave ----
    println!("\n== 2. autosave: one character typed into a note, {} times ==", cfg.autosaves);
    let mut note = last_note;
    let mut store_times = Vec::new();
    let mut base_times = Vec::new();
    for i in 0..cfg.autosaves {
        note.push(if i % 6 == 5 { ' ' } else { 'a' });
        let t = Instant::now();
        eropaf.edit_visit_note(&case_id, &last_visit, black_box(&note))?;
        store_times.push(t.elapsed());
        base_times.push(bare.insert(note.as_bytes())?);
    }
    let (store, base) = (percentile(&store_times, 0.5), percentile(&base_times, 0.5));
    println!("  edit_visit_note median {}  bare insert median {}", fmt_dur(store), fmt_dur(base));
    let ratio = ms(store) / ms(base);
    table.row(
        "autosave one character",
        fmt_dur(store),
        format!("{} bare", fmt_dur(base)),
        Some(ratio),
        format!("<= {GOAL_AUTOSAVE_RATIO}x"),
        Some(ratio <= GOAL_AUTOSAVE_RATIO),
    );

    let exported = eropaf.export_case(&case_id)?;
    let export_path = dir.path().join("case.automerge");
    std::fs::write(&export_path, &exported)?;
    drop(eropaf);

    // ---- 3. open the long case ----
    println!(
        "\n== 3. open the store and read the case (fresh child process, {} runs each) ==",
        cfg.child_runs
    );
    let key_hex = hex::encode(key.as_bytes());
    let (mut open_runs, mut load_runs) = (Vec::new(), Vec::new());
    for _ in 0..cfg.child_runs {
        open_runs.push(run_child(CHILD_OPEN, &store_dir, &key_hex, &[&case_id])?);
        load_runs.push(run_child(CHILD_LOAD, &export_path, "", &[])?);
    }
    let (open, load) = (ChildRuns(open_runs), ChildRuns(load_runs));
    for (label, runs, key) in [
        ("Eropaf::open", &open, "open_ms"),
        ("case() right after", &open, "case_ms"),
        ("automerge load of the export", &load, "load_ms"),
    ] {
        println!(
            "    {label:<30} {:>9.2} ms  ({:.2} .. {:.2})",
            runs.median(key),
            runs.min(key),
            runs.max(key)
        );
    }
    let (case_ms, load_ms) = (open.median("case_ms"), load.median("load_ms"));
    println!("  the exported document: {} bytes", group(exported.len()));
    table.row(
        "open the long case (case())",
        format!("{case_ms:.1} ms"),
        format!("{load_ms:.1} ms automerge load"),
        Some(case_ms / load_ms),
        format!("<= {GOAL_OPEN_MS} ms"),
        Some(case_ms <= GOAL_OPEN_MS),
    );
    let (peak, start) = (kib_mb(open.max("hwm_case_kib")), kib_mb(open.max("hwm_start_kib")));
    table.row(
        "  peak RSS opening it",
        format!("{peak:.1} MB"),
        format!("{:.1} MB automerge load", kib_mb(load.max("hwm_end_kib"))),
        Some(peak / kib_mb(load.max("hwm_end_kib"))),
        format!("- ({start:.1} MB at start)"),
        None,
    );

    // ---- 4. merge into a fresh replica ----
    println!(
        "\n== 4. merge the exported case ({} bytes) into a fresh replica, {} runs ==",
        group(exported.len()),
        cfg.merge_runs
    );
    let (mut merges, mut loads) = (Vec::new(), Vec::new());
    for run in 0..cfg.merge_runs {
        let replica_dir = dir.path().join(format!("replica-{run}"));
        let mut replica =
            Eropaf::create(&replica_dir, Unlock::Key(SecretKey::generate()?), "replica")?;
        let t = Instant::now();
        black_box(replica.merge_case(black_box(&exported))?);
        merges.push(t.elapsed());
        let t = Instant::now();
        black_box(automerge::AutoCommit::load(black_box(&exported))?);
        loads.push(t.elapsed());
        drop(replica);
        std::fs::remove_dir_all(&replica_dir)?;
    }
    let (merge, load) = (percentile(&merges, 0.5), percentile(&loads, 0.5));
    println!("  merge_case median {}  automerge load median {}", fmt_dur(merge), fmt_dur(load));
    table.row(
        "merge the long case, fresh replica",
        fmt_dur(merge),
        format!("{} automerge load", fmt_dur(load)),
        Some(ms(merge) / ms(load)),
        format!("<= {GOAL_MERGE_MS} ms"),
        Some(ms(merge) <= GOAL_MERGE_MS),
    );

    // ---- 5. many short cases ----
    println!("\n== 5. {} cases of 2 visits each, on disk ==", group(cfg.many_cases));
    let many_dir = dir.path().join("many");
    let mut eropaf = Eropaf::create(&many_dir, Unlock::Key(key.clone()), "bench")?;
    let (mut store_total, mut base_total, mut calls) = (Duration::ZERO, Duration::ZERO, 0u32);
    for i in 0..cfg.many_cases {
        let who = resident(i);
        let t = Instant::now();
        let case_id = eropaf.new_case(&who, Some(CaseType::Wmo))?;
        store_total += t.elapsed();
        base_total += bare.insert(who.name.as_bytes())?;
        for v in 0..2 {
            let visit = visit(i * 2 + v)?;
            let t = Instant::now();
            eropaf.record_visit(&case_id, &visit)?;
            store_total += t.elapsed();
            base_total += bare.insert(&visit_bytes(&visit))?;
        }
        calls += 3;
    }
    let (store, base) = (store_total / calls, base_total / calls);
    println!("  per call: eropaf {}  bare insert {}", fmt_dur(store), fmt_dur(base));
    table.row(
        &format!("{} cases x 2 visits, a call", group(cfg.many_cases)),
        fmt_dur(store),
        format!("{} bare", fmt_dur(base)),
        Some(ms(store) / ms(base)),
        format!("<= {GOAL_MANY_MS} ms"),
        Some(ms(store) <= GOAL_MANY_MS),
    );

    // ---- 6. the floor: the same case in bare automerge, long texts mapped two ways ----
    println!(
        "\n== 6. the same {} visits in bare automerge, laid out as case schemas 1, 2 and 3 ==",
        cfg.visits
    );
    for mapping in [TextMapping::Text, TextMapping::Fields, TextMapping::Record] {
        let floor = bare_automerge(mapping, cfg.visits)?;
        println!(
            "  {:<24} a visit (edit, commit, save_after) median {:>9}  document {:>7} bytes  load {:>9}",
            mapping.label(),
            fmt_dur(floor.visit),
            group(floor.bytes),
            fmt_dur(floor.load)
        );
        table.row(
            &format!("bare automerge visit, {}", mapping.label()),
            fmt_dur(floor.visit),
            "-".into(),
            None,
            "- (floor)".into(),
            None,
        );
        if let TextMapping::Record = mapping {
            // What any design pays that writes the visit's change durably within the call.
            let floor_record = floor.visit + late_bare;
            table.row(
                "  + bare insert: a durable visit's floor",
                fmt_dur(floor_record),
                format!("{} bare", fmt_dur(late_bare)),
                Some(ms(floor_record) / ms(late_bare)),
                "- (floor)".into(),
                None,
            );
        }
        table.row(
            &format!("bare automerge load, {}", mapping.label()),
            fmt_dur(floor.load),
            format!("{} bytes", group(floor.bytes)),
            None,
            "- (floor)".into(),
            None,
        );
    }

    println!();
    table.print();
    println!("\nwhole run: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Child: open the store, read the long case; report times and peak RSS as `key value` lines.
fn child_open(args: &[String]) -> BenchResult<()> {
    let hwm_start = vm_kib("VmHWM")?;
    let dir = PathBuf::from(args.first().ok_or("--child-open needs the store directory")?);
    let case_id = args.get(1).ok_or("--child-open needs the case id")?;
    let key = SecretKey::from_slice(&hex::decode(std::env::var(KEY_ENV)?)?)?;
    let t = Instant::now();
    let mut eropaf = Eropaf::open(&dir, Unlock::Key(key))?;
    let open = t.elapsed();
    let t = Instant::now();
    let case = black_box(eropaf.case(case_id)?);
    let read = t.elapsed();
    println!("open_ms {}", ms(open));
    println!("case_ms {}", ms(read));
    println!("visits {}", case.visits.len());
    println!("hwm_start_kib {hwm_start}");
    println!("hwm_case_kib {}", vm_kib("VmHWM")?);
    Ok(())
}

/// Child baseline: automerge's own load of the exported document.
fn child_automerge_load(args: &[String]) -> BenchResult<()> {
    let hwm_start = vm_kib("VmHWM")?;
    let bytes =
        std::fs::read(Path::new(args.first().ok_or("--child-automerge-load needs a file")?))?;
    let t = Instant::now();
    black_box(automerge::AutoCommit::load(&bytes)?);
    println!("load_ms {}", ms(t.elapsed()));
    println!("hwm_start_kib {hwm_start}");
    println!("hwm_end_kib {}", vm_kib("VmHWM")?);
    Ok(())
}

#[derive(Clone, Copy)]
enum TextMapping {
    /// Each note a text object, merged character by character (case schema 1).
    Text,
    /// Each field its own value, the note one string (case schema 2).
    Fields,
    /// What was recorded one JSON string in the visit's map (case schema 3).
    Record,
}

impl TextMapping {
    fn label(self) -> &'static str {
        match self {
            TextMapping::Text => "notes as text objects",
            TextMapping::Fields => "a value per field",
            TextMapping::Record => "the visit as one string",
        }
    }
}

struct Floor {
    visit: Duration,
    bytes: usize,
    load: Duration,
}

/// The same visits written straight into an automerge document, without Eropaf's store,
/// sealing or summaries: what the document format alone costs per visit and per load.
fn bare_automerge(mapping: TextMapping, visits: usize) -> BenchResult<Floor> {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    let mut doc = AutoCommit::new();
    let visits_map = doc.put_object(ROOT, "visits", ObjType::Map)?;
    doc.commit();
    let mut times = Vec::with_capacity(visits);
    for i in 0..visits {
        let visit = long_visit(i)?;
        let observations: Vec<String> = visit
            .observations
            .iter()
            .enumerate()
            .map(|(n, o)| format!("{{\"text\":{:?},\"score\":{n}}}", o.text))
            .collect();
        let t = Instant::now();
        let heads = doc.get_heads();
        let v = doc.put_object(&visits_map, format!("visit-{i}"), ObjType::Map)?;
        match mapping {
            TextMapping::Text => {
                doc.put(&v, "at", i as i64)?;
                let note = doc.put_object(&v, "note", ObjType::Text)?;
                doc.splice_text(&note, 0, 0, &visit.note)?;
                let list = doc.put_object(&v, "observations", ObjType::List)?;
                for (n, observation) in visit.observations.iter().enumerate() {
                    let o = doc.insert_object(&list, n, ObjType::Map)?;
                    let text = doc.put_object(&o, "text", ObjType::Text)?;
                    doc.splice_text(&text, 0, 0, &observation.text)?;
                    doc.put(&o, "score", n as i64)?;
                }
            }
            TextMapping::Fields => {
                doc.put(&v, "at", i as i64)?;
                doc.put(&v, "note", visit.note.as_str())?;
                let list = doc.put_object(&v, "observations", ObjType::List)?;
                doc.splice(
                    &list,
                    0,
                    0,
                    observations.iter().map(|o| automerge::ScalarValue::from(o.as_str())),
                )?;
            }
            TextMapping::Record => {
                let record = format!(
                    "{{\"at\":{i},\"note\":{:?},\"observations\":[{}]}}",
                    visit.note,
                    observations.join(",")
                );
                doc.put(&v, "recorded", record)?;
            }
        }
        doc.commit();
        black_box(doc.save_after(&heads));
        times.push(t.elapsed());
    }
    let bytes = doc.save();
    let mut loads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        black_box(AutoCommit::load(&bytes)?);
        loads.push(t.elapsed());
    }
    Ok(Floor { visit: percentile(&times, 0.5), bytes: bytes.len(), load: percentile(&loads, 0.5) })
}
