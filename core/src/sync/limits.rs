//! What a device accepts from others, and how much of its memory that may take: the limits
//! for everything received (HTTP bodies, automerge payloads), and the check that keeps an
//! automerge payload from growing past them once automerge inflates and decodes it.
//!
//! Automerge 0.12 stores deflate-compressed data in two places: a whole compressed change
//! chunk (type 2), and single columns of a document chunk (the column's deflate bit). The
//! format declares no uncompressed size, and automerge inflates with `read_to_end`, so a
//! quarter megabyte of crafted deflate becomes a quarter gigabyte in memory (and several
//! times that once parsed). Run-length encoded columns are a second lever: a few bytes can
//! declare millions of rows, each of which automerge decodes as an operation.
//!
//! `check_automerge` walks the chunk and column framing itself, inflates every compressed
//! region into a counting sink that stops at the budget (nothing is kept), and decodes the
//! run lengths of every column without materialising a row. Only a payload within both
//! budgets reaches automerge.

use std::io::Read;

use crate::{Error, Result};

/// Largest HTTP response body the client reads from the relay. The relay stops a pull page
/// at 8 MiB of envelopes but always sends at least one, and an envelope body is at most
/// `envelope::MAX_BODY` (16 MiB): 24 MiB in hex is 48 MiB, plus JSON framing. Checked
/// against `Content-Length` before reading and enforced while reading.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Most bytes one envelope's automerge payload may take once inflated. A visit is 1-2 KB; a
/// two-year case snapshots to a few MB, and automerge's deflate gains about 3-10x on such
/// documents, so 32 MiB leaves ample room. Decoding costs a few times this in memory, which a
/// phone can still afford; the 250 KiB bomb that took a receiver to 770 MiB is refused.
pub const MAX_INFLATED_PAYLOAD: u64 = 32 * 1024 * 1024;

/// Most rows (operations, changes) any column of one payload may declare, summed over its
/// chunks. Every character typed is one operation: a two-year case of 200 visits with 2 KB
/// notes is about 400,000, so this is ten times a large case; it keeps a run-length encoded
/// column from making automerge decode billions of operations out of a few bytes.
pub const MAX_PAYLOAD_ROWS: u64 = 4_000_000;

// Automerge's storage format (automerge.org/automerge-binary-format-spec).
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED_CHANGE: u8 = 2;
/// In a column specification: the column's data is deflated.
const COLUMN_DEFLATE: u64 = 0b1000;

/// Refuses an automerge payload (any number of chunks) that would inflate past
/// `MAX_INFLATED_PAYLOAD` bytes or declare more than `MAX_PAYLOAD_ROWS` rows in a column,
/// before automerge allocates for it. Malformed framing is refused too: automerge would
/// refuse it as well, and nothing here must be read differently from how automerge reads it.
pub fn check_automerge(payload: &[u8]) -> Result<()> {
    check_automerge_within(payload, MAX_INFLATED_PAYLOAD, MAX_PAYLOAD_ROWS)
}

/// `check_automerge` with explicit budgets (tests use small ones).
pub fn check_automerge_within(payload: &[u8], max_bytes: u64, max_rows: u64) -> Result<()> {
    let mut budget = Budget { bytes_left: max_bytes, rows_left: max_rows };
    let mut rest = payload;
    while !rest.is_empty() {
        let mut r = Cursor(rest);
        if r.take(4)? != CHUNK_MAGIC {
            return Err(malformed());
        }
        r.take(4)?; // checksum: automerge checks it
        let chunk_type = r.u8()?;
        let len = usize::try_from(r.uleb()?).map_err(|_| malformed())?;
        let data = r.take(len)?;
        rest = r.0;
        match chunk_type {
            CHUNK_CHANGE => {
                budget.spend_bytes(data.len() as u64)?;
                change_rows(data, &mut budget)?;
            }
            CHUNK_COMPRESSED_CHANGE => {
                let inflated = inflate(data, &mut budget)?;
                change_rows(&inflated, &mut budget)?;
            }
            CHUNK_DOCUMENT => document(data, &mut budget)?,
            // Bundles and unknown types are refused by the callers with a clearer reason.
            _ => budget.spend_bytes(data.len() as u64)?,
        }
    }
    Ok(())
}

struct Budget {
    bytes_left: u64,
    rows_left: u64,
}

impl Budget {
    fn spend_bytes(&mut self, n: u64) -> Result<()> {
        self.bytes_left = self.bytes_left.checked_sub(n).ok_or_else(|| {
            Error::Refused(format!(
                "the automerge data inflates to more than {} bytes",
                MAX_INFLATED_PAYLOAD
            ))
        })?;
        Ok(())
    }

    fn spend_rows(&mut self, n: u64) -> Result<()> {
        self.rows_left = self.rows_left.checked_sub(n).ok_or_else(too_many_rows)?;
        Ok(())
    }
}

fn too_many_rows() -> Error {
    Error::Refused(format!("the automerge data declares more than {MAX_PAYLOAD_ROWS} operations"))
}

fn malformed() -> Error {
    Error::Refused("the payload is not automerge data".into())
}

/// Inflates `data` while it fits the byte budget, which it spends. The output is kept: the
/// budget bounds it, and the columns inside still need their rows counted.
fn inflate(data: &[u8], budget: &mut Budget) -> Result<Vec<u8>> {
    let limit = budget.bytes_left;
    let mut out = Vec::new();
    // One byte past the budget tells "exactly at the limit" from "over it".
    let mut decoder = flate2::bufread::DeflateDecoder::new(data).take(limit.saturating_add(1));
    decoder.read_to_end(&mut out).map_err(|_| malformed())?;
    budget.spend_bytes(out.len() as u64)?;
    Ok(out)
}

/// A change chunk's body: header fields, then its op columns (never compressed inside a
/// change chunk; automerge refuses a compressed one).
fn change_rows(data: &[u8], budget: &mut Budget) -> Result<()> {
    let mut r = Cursor(data);
    let deps = r.uleb()?;
    r.take(usize::try_from(deps).ok().and_then(|d| d.checked_mul(32)).ok_or_else(malformed)?)?;
    r.bytes()?; // actor
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.sleb()?; // time
    r.bytes()?; // message
    let others = r.uleb()?;
    for _ in 0..others {
        r.bytes()?;
    }
    let columns = r.columns()?;
    let mut data = r;
    let mut rows = 0;
    for (spec, len) in columns {
        let column = data.take(len)?;
        if spec & COLUMN_DEFLATE != 0 {
            return Err(malformed());
        }
        rows = rows.max(column_rows(spec, column, budget.rows_left)?);
    }
    budget.spend_rows(rows)
}

/// A document chunk: actors, heads, change and op column metadata, then the column data.
/// A compressed column is inflated within what is left of the byte budget, counted, and
/// dropped; one column at a time is held.
fn document(data: &[u8], budget: &mut Budget) -> Result<()> {
    budget.spend_bytes(data.len() as u64)?;
    let mut r = Cursor(data);
    let actors = r.uleb()?;
    for _ in 0..actors {
        r.bytes()?;
    }
    let heads = r.uleb()?;
    r.take(usize::try_from(heads).ok().and_then(|h| h.checked_mul(32)).ok_or_else(malformed)?)?;
    let change_columns = r.columns()?;
    let op_columns = r.columns()?;
    for columns in [change_columns, op_columns] {
        let mut rows = 0;
        for (spec, len) in columns {
            let column = r.take(len)?;
            let count = if spec & COLUMN_DEFLATE != 0 {
                let inflated = inflate(column, budget)?;
                column_rows(spec, &inflated, budget.rows_left)?
            } else {
                column_rows(spec, column, budget.rows_left)?
            };
            rows = rows.max(count);
        }
        budget.spend_rows(rows)?;
    }
    Ok(())
}

/// How many rows a column holds, decoded from its encoding without materialising any.
/// Stops, refusing, as soon as the count passes `max_rows`, so that a long literal run costs no
/// more time than the budget allows.
fn column_rows(spec: u64, data: &[u8], max_rows: u64) -> Result<u64> {
    let mut r = Cursor(data);
    let mut rows: u64 = 0;
    let add = |rows: &mut u64, n: u64| -> Result<()> {
        *rows = rows.checked_add(n).filter(|&total| total <= max_rows).ok_or_else(too_many_rows)?;
        Ok(())
    };
    match spec & 0b111 {
        // Boolean: alternating run lengths, false first.
        4 => {
            while !r.0.is_empty() {
                add(&mut rows, r.uleb()?)?;
            }
        }
        // Raw values: bytes whose rows the metadata column counts.
        7 => {}
        // Group cardinality, actor, unsigned, delta, string, value metadata: run-length
        // encoded. A positive count repeats one value, a negative one is that many literal
        // values, zero is a run of nulls whose length follows.
        column_type => {
            let value = |r: &mut Cursor<'_>| -> Result<()> {
                match column_type {
                    3 => r.sleb().map(|_| ()),
                    5 => r.bytes().map(|_| ()),
                    _ => r.uleb().map(|_| ()),
                }
            };
            while !r.0.is_empty() {
                let count = r.sleb()?;
                if count > 0 {
                    value(&mut r)?;
                    add(&mut rows, count.unsigned_abs())?;
                } else if count < 0 {
                    let n = count.unsigned_abs();
                    add(&mut rows, n)?;
                    for _ in 0..n {
                        value(&mut r)?;
                    }
                } else {
                    add(&mut rows, r.uleb()?)?;
                }
            }
        }
    }
    Ok(rows)
}

/// Bounds-checked reads over untrusted bytes.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(malformed());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// Unsigned LEB128, at most 64 bits.
    fn uleb(&mut self) -> Result<u64> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = self.u8()?;
            let low = u64::from(byte & 0x7f);
            if i == 9 && low > 1 {
                return Err(malformed());
            }
            value |= low << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed())
    }

    /// Signed LEB128, at most 64 bits.
    fn sleb(&mut self) -> Result<i64> {
        let mut value: i64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.u8()?;
            if shift == 63 && byte != 0 && byte != 0x7f {
                return Err(malformed());
            }
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            if shift > 63 {
                return Err(malformed());
            }
        }
    }

    /// A length-prefixed byte string.
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = usize::try_from(self.uleb()?).map_err(|_| malformed())?;
        self.take(len)
    }

    /// Column metadata: a count, then (specification, data length) pairs.
    fn columns(&mut self) -> Result<Vec<(u64, usize)>> {
        let count = self.uleb()?;
        // Each pair takes at least two bytes, so a count beyond what is left is malformed;
        // checked before allocating for it.
        if count > self.0.len() as u64 / 2 {
            return Err(malformed());
        }
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let spec = self.uleb()?;
            let len = usize::try_from(self.uleb()?).map_err(|_| malformed())?;
            out.push((spec, len));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::{AutoCommit, ObjType, ROOT};

    use super::*;

    /// A realistic case: a few visits with notes typed as text, saved every way automerge
    /// writes data (changes, compressed changes, a document with compressed columns).
    fn case_doc(visits: usize) -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "status", "open").unwrap();
        let list = doc.put_object(ROOT, "visits", ObjType::Map).unwrap();
        for n in 0..visits {
            let visit = doc.put_object(&list, format!("v{n}"), ObjType::Map).unwrap();
            let note = doc.put_object(&visit, "note", ObjType::Text).unwrap();
            doc.splice_text(
                &note,
                0,
                0,
                &"Huurachterstand, gesprek met de verhuurder. ".repeat(30),
            )
            .unwrap();
            doc.splice_text(&note, 5, 3, "").unwrap();
            doc.put(&visit, "score", n as i64 - 3).unwrap();
            doc.put(&visit, "done", n % 2 == 0).unwrap();
            doc.commit();
        }
        doc
    }

    #[test]
    fn real_documents_and_changes_pass() {
        let mut doc = case_doc(40);
        let saved = doc.save();
        check_automerge(&saved).unwrap();
        check_automerge(&doc.save_nocompress()).unwrap();
        check_automerge(&doc.save_after(&[])).unwrap();
        let mut compressed = Vec::new();
        for mut change in doc.get_changes(&[]) {
            compressed.extend_from_slice(&change.bytes());
        }
        assert!(compressed.len() < doc.save_after(&[]).len(), "some changes were compressed");
        check_automerge(&compressed).unwrap();
        // A snapshot followed by loose changes, as a store keeps a case.
        let heads = doc.get_heads();
        doc.put(ROOT, "status", "closed").unwrap();
        doc.commit();
        let mut chunks = saved.clone();
        chunks.extend_from_slice(&doc.save_after(&heads));
        check_automerge(&chunks).unwrap();
        check_automerge(b"").unwrap();
    }

    #[test]
    fn the_budgets_are_exact() {
        let mut doc = case_doc(5);
        let changes: Vec<u8> = doc.save_after(&[]);
        let rows = |payload: &[u8]| {
            (0..100_000u64)
                .find(|&n| check_automerge_within(payload, MAX_INFLATED_PAYLOAD, n).is_ok())
                .unwrap()
        };
        let needed = rows(&changes);
        assert!(needed > 5 * 1000, "every character counts as an operation ({needed})");
        assert!(check_automerge_within(&changes, MAX_INFLATED_PAYLOAD, needed - 1).is_err());
        let saved = doc.save();
        let inflated = (0..10_000_000u64)
            .step_by(64)
            .find(|&n| check_automerge_within(&saved, n, MAX_PAYLOAD_ROWS).is_ok())
            .unwrap();
        assert!(inflated > saved.len() as u64, "compressed columns count inflated");
        assert!(check_automerge_within(&saved, inflated - 64, MAX_PAYLOAD_ROWS).is_err());
    }

    /// A valid change whose message is 40 MiB of one letter: deflate makes it 40 KiB.
    fn message_bomb(len: usize) -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "status", "open").unwrap();
        doc.commit_with(CommitOptions::default().with_message("a".repeat(len)));
        let mut change = doc.get_changes(&[]).into_iter().next().unwrap();
        change.bytes().into_owned()
    }

    #[test]
    fn a_compressed_change_that_inflates_past_the_budget_is_refused() {
        let bomb = message_bomb(40 * 1024 * 1024);
        assert!(bomb.len() < 128 * 1024, "{} bytes", bomb.len());
        assert_eq!(bomb[8], CHUNK_COMPRESSED_CHANGE);
        let err = check_automerge(&bomb).unwrap_err();
        assert!(matches!(&err, Error::Refused(m) if m.contains("inflates")), "{err:?}");
        // Smaller ones pass, up to the budget.
        check_automerge(&message_bomb(1024 * 1024)).unwrap();
    }

    #[test]
    fn a_document_column_that_inflates_past_the_budget_is_refused() {
        // A document whose value column holds one 40 MiB string, saved with compressed columns.
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", "b".repeat(40 * 1024 * 1024)).unwrap();
        doc.commit();
        let saved = doc.save();
        assert!(saved.len() < 256 * 1024, "{} bytes", saved.len());
        assert_eq!(saved[8], CHUNK_DOCUMENT);
        let err = check_automerge(&saved).unwrap_err();
        assert!(matches!(&err, Error::Refused(m) if m.contains("inflates")), "{err:?}");
    }

    /// A change chunk whose action column says "a billion times: set": eleven bytes of
    /// column that automerge would decode into a billion operations.
    fn rle_bomb(rows: i64) -> Vec<u8> {
        let mut data = vec![0]; // no dependencies
        data.push(16);
        data.extend_from_slice(&[7; 16]); // actor
        data.extend_from_slice(&[1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
        let mut column = Vec::new();
        write_sleb(&mut column, rows);
        column.push(1);
        data.push(1); // one column: action (id 4, unsigned run-length)
        data.push(0x42);
        data.push(column.len() as u8);
        data.extend_from_slice(&column);
        let mut chunk = CHUNK_MAGIC.to_vec();
        chunk.extend_from_slice(&[0; 4]);
        chunk.push(CHUNK_CHANGE);
        chunk.push(data.len() as u8);
        chunk.extend_from_slice(&data);
        chunk
    }

    fn write_sleb(out: &mut Vec<u8>, mut value: i64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
            out.push(if done { byte } else { byte | 0x80 });
            if done {
                return;
            }
        }
    }

    #[test]
    fn a_column_declaring_too_many_rows_is_refused() {
        let bomb = rle_bomb(1_000_000_000);
        assert!(bomb.len() < 64);
        let err = check_automerge(&bomb).unwrap_err();
        assert!(matches!(&err, Error::Refused(m) if m.contains("operations")), "{err:?}");
        // A literal run is counted before its values are read.
        let mut literal = rle_bomb(1);
        let at = literal.len() - 2;
        literal[at] = 0x7f; // sleb -1: one literal value follows; fine
        check_automerge(&literal).unwrap();
        check_automerge(&rle_bomb(1000)).unwrap();
    }

    #[test]
    fn leb128_reads_the_whole_range() {
        for value in [0i64, 1, -1, 63, 64, -64, -65, i64::MAX, i64::MIN, 1 << 40] {
            let mut bytes = Vec::new();
            write_sleb(&mut bytes, value);
            assert_eq!(Cursor(&bytes).sleb().unwrap(), value, "{value}");
        }
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Cursor(&max).uleb().unwrap(), u64::MAX);
        assert!(Cursor(&[0x80]).uleb().is_err());
        assert!(Cursor(&[0xff; 11]).sleb().is_err());
    }
}
