//! A cheap look at the database file before SQLite opens it, so that a file that is not a
//! store, or one cut short (a failed copy, a full disk), is reported as damaged up front
//! instead of failing half-way through a later read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

const MAGIC: &[u8; 16] = b"SQLite format 3\0";

pub fn check(path: &Path) -> Result<()> {
    let mut header = [0u8; 100];
    let file_len = std::fs::metadata(path)?.len();
    let read = File::open(path)?.read(&mut header)?;
    if read < header.len() || &header[..16] != MAGIC {
        return Err(Error::Corrupt("the file is not an Eropaf store (bad header)".into()));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    if !page_size.is_power_of_two() || !(512..=65_536).contains(&page_size) {
        return Err(Error::Corrupt("the file header names an impossible page size".into()));
    }
    // Uncheckpointed WAL frames may legitimately extend the database beyond the main file
    // (a checkpoint interrupted half-way), so the length check only holds without a WAL.
    let wal_len =
        std::fs::metadata(format!("{}-wal", path.display())).map(|m| m.len()).unwrap_or(0);
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    let page_count =
        u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    if wal_len == 0
        && change_counter == valid_for
        && page_count > 0
        && file_len < page_count * page_size
    {
        return Err(Error::Corrupt(format!(
            "the database file is truncated ({file_len} of {} bytes)",
            page_count * page_size
        )));
    }
    Ok(())
}
