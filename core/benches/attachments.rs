//! `cargo bench -p eropaf-core --bench attachments`: keeping a 25 MB file with a case (a scan,
//! a photo), against the same bytes sealed by ring's AES-256-GCM in one call and against a
//! plain durable copy, in the same run; reading it back against reading the copy; and the
//! peak memory of a fresh process that attaches it. `EROPAF_BENCH_QUICK=1`: 2 MB, two runs.

mod common;

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{fmt_dur, percentile, run_child, vm_kib, BenchResult, ChildRuns, Table, KEY_ENV};
use eropaf_core::crypto::{raw_aes_gcm_seal, SecretKey};
use eropaf_core::model::{NewAttachment, Resident};
use eropaf_core::{Eropaf, Unlock};

const CHILD_ATTACH: &str = "--child-attach";

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == CHILD_ATTACH) {
        return child_attach(&args[at + 1..]);
    }
    parent()
}

/// Bytes that do not compress, as a photo's do not.
fn content(len: usize) -> Vec<u8> {
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

fn letter() -> NewAttachment {
    NewAttachment {
        name: "scan.pdf".into(),
        media_type: "application/pdf".into(),
        caption: None,
        visit_id: None,
    }
}

fn parent() -> BenchResult<()> {
    let quick = common::quick();
    let (size, runs) = if quick { (2 * 1024 * 1024, 2) } else { (25 * 1024 * 1024, 5) };
    println!(
        "eropaf-core attachment benchmark{} — a {} MB file, {runs} runs, stores under {}",
        if quick { " (QUICK: reduced sizes)" } else { "" },
        size / (1024 * 1024),
        std::env::temp_dir().display()
    );
    let bytes = content(size);
    let dir = tempfile::Builder::new().prefix("eropaf-bench-attach").tempdir()?;
    let key = SecretKey::generate()?;
    let mut eropaf = Eropaf::create(&dir.path().join("store"), Unlock::Key(key.clone()), "bench")?;
    let case = eropaf.new_case(&Resident::named("Aïsha Bouali"), None)?;

    let (mut attach, mut raw, mut copy, mut read, mut read_copy) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let t = Instant::now();
        let attached = eropaf.attach(&case, &letter(), black_box(&bytes))?;
        attach.push(t.elapsed());

        let t = Instant::now();
        let mut sealed = bytes.clone();
        raw_aes_gcm_seal(&key, [run as u8; 12], &mut sealed)?;
        black_box(&sealed);
        raw.push(t.elapsed());

        let path = dir.path().join(format!("copy-{run}"));
        let t = Instant::now();
        durable_copy(&path, &bytes)?;
        copy.push(t.elapsed());

        let t = Instant::now();
        let back = eropaf.attachment_content(&case, &attached.id)?;
        read.push(t.elapsed());
        if back != bytes {
            return Err("the attachment did not read back as attached".into());
        }
        let t = Instant::now();
        black_box(std::fs::read(&path)?);
        read_copy.push(t.elapsed());
    }
    let median = |v: &[Duration]| percentile(v, 0.5);
    let (attach, raw, copy, read, read_copy) =
        (median(&attach), median(&raw), median(&copy), median(&read), median(&read_copy));

    // Peak memory of a fresh process attaching the file once from its path, as a phone's
    // share sheet hands it over.
    let key_hex = hex::encode(key.as_bytes());
    let child_dir = dir.path().join("child");
    let source = dir.path().join("scan.pdf");
    durable_copy(&source, &bytes)?;
    let source_arg = source.to_string_lossy().into_owned();
    let memory = ChildRuns(vec![run_child(CHILD_ATTACH, &child_dir, &key_hex, &[&source_arg])?]);
    let (start_mb, peak_mb) =
        (memory.median("hwm_start_kib") / 1024.0, memory.median("hwm_peak_kib") / 1024.0);
    let file_mb = size as f64 / (1024.0 * 1024.0);

    let mut table = Table::default();
    let ratio = |a: Duration, b: Duration| Some(a.as_secs_f64() / b.as_secs_f64());
    table.row(
        "attach (hash, seal in chunks, durable)",
        fmt_dur(attach),
        format!("{} durable copy", fmt_dur(copy)),
        ratio(attach, copy),
        "-".into(),
        None,
    );
    table.row(
        "  against ring AES-256-GCM, one call",
        fmt_dur(attach),
        format!("{} raw seal", fmt_dur(raw)),
        ratio(attach, raw),
        "-".into(),
        None,
    );
    table.row(
        "read back (open chunks, check hash)",
        fmt_dur(read),
        format!("{} reading the copy", fmt_dur(read_copy)),
        ratio(read, read_copy),
        "-".into(),
        None,
    );
    table.row(
        "peak RSS attaching it from its path",
        format!("{peak_mb:.1} MB"),
        format!("{file_mb:.1} MB file, {start_mb:.1} MB at start"),
        Some((peak_mb - start_mb) / file_mb),
        "- (x the file)".into(),
        None,
    );
    println!();
    table.print();
    println!(
        "\nthroughput: attach {:.0} MB/s, raw seal {:.0} MB/s, durable copy {:.0} MB/s, read back {:.0} MB/s",
        file_mb / attach.as_secs_f64(),
        file_mb / raw.as_secs_f64(),
        file_mb / copy.as_secs_f64(),
        file_mb / read.as_secs_f64(),
    );
    Ok(())
}

fn durable_copy(path: &Path, bytes: &[u8]) -> BenchResult<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Child: a fresh store, one case, the file at the given path attached; prints peak memory.
fn child_attach(args: &[String]) -> BenchResult<()> {
    let hwm_start = vm_kib("VmHWM")?;
    let dir = PathBuf::from(args.first().ok_or("--child-attach needs a directory")?);
    let source = PathBuf::from(args.get(1).ok_or("--child-attach needs a file")?);
    let key = SecretKey::from_slice(&hex::decode(std::env::var(KEY_ENV)?)?)?;
    let mut eropaf = Eropaf::create(&dir, Unlock::Key(key), "bench")?;
    let case = eropaf.new_case(&Resident::named("Aïsha Bouali"), None)?;
    eropaf.attach_file(&case, &letter(), &source)?;
    println!("hwm_start_kib {hwm_start}");
    println!("hwm_peak_kib {}", vm_kib("VmHWM")?);
    Ok(())
}
