//! A file's content as it is sealed, read a chunk at a time from bytes in memory or from a
//! file on disk, never whole: a photo's header segments (where its place is written) are read
//! and cleaned first, and the picture after them streams as it is.

use std::io::{Read, Seek, SeekFrom};

use eropaf_protocol::attachment::CHUNK_LEN;

use super::location;
use super::location_in_place::{self, Patch};
use crate::{Error, Result};

/// How much of a JPEG is read to find where its picture starts; headers are a few hundred kB
/// at most (segments of up to 64 kB each). One that does not fit is cleaned whole.
const HEAD_LEN: u64 = 1 << 20;

pub struct Content<R> {
    /// The cleaned start of the content; empty when nothing needed cleaning.
    head: Vec<u8>,
    /// Where in `reader` what follows `head` starts, and where it ends.
    rest: (u64, u64),
    /// Bytes written over what `reader` holds (offsets in `reader`): a PNG's, WebP's or
    /// HEIC's place, taken out in place. Sorted and apart; only with an empty `head`.
    patches: Vec<Patch>,
    reader: R,
}

/// What becomes of the place a photo was taken: the team's policy (`keep_photo_location`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    Strip,
    Keep,
}

impl<R: Read + Seek> Content<R> {
    /// The content of `reader`, `len` bytes long, as it will be sealed.
    pub fn new(mut reader: R, len: u64, location: Location) -> Result<Content<R>> {
        let whole = |reader, patches| Content { head: Vec::new(), rest: (0, len), reader, patches };
        if location == Location::Keep {
            return Ok(whole(reader, Vec::new()));
        }
        let mut head = Vec::new();
        (&mut reader).take(len.min(3)).read_to_end(&mut head).map_err(read_error)?;
        if !location::is_jpeg(&head) {
            let patches = location_in_place::patches(&mut reader, len).map_err(read_error)?;
            return Ok(whole(reader, patches));
        }
        (&mut reader).take(len.min(HEAD_LEN) - 3).read_to_end(&mut head).map_err(read_error)?;
        let (mut cleaned, scan) = location::clean_header(&head);
        if scan.is_none() && (head.len() as u64) < len {
            // No picture within the first megabyte: cleaned whole, in memory.
            reader.seek(SeekFrom::Start(0)).map_err(read_error)?;
            let mut whole = Vec::new();
            (&mut reader).take(len).read_to_end(&mut whole).map_err(read_error)?;
            let cleaned = location::without_location(&whole).into_owned();
            return Ok(Content { head: cleaned, rest: (len, len), reader, patches: Vec::new() });
        }
        let rest = match scan {
            Some(at) => (at as u64, len),
            None => (len, len),
        };
        cleaned.shrink_to_fit();
        Ok(Content { head: cleaned, rest, reader, patches: Vec::new() })
    }

    /// Bytes of content.
    pub fn len(&self) -> u64 {
        self.head.len() as u64 + (self.rest.1 - self.rest.0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `each` with every chunk in order: `CHUNK_LEN` bytes each, the last shorter, and
    /// one empty chunk for an empty file. Reads the content again from its start each time.
    pub fn for_each_chunk(&mut self, mut each: impl FnMut(u32, &[u8]) -> Result<()>) -> Result<()> {
        self.reader.seek(SeekFrom::Start(self.rest.0)).map_err(read_error)?;
        let mut rest = (&mut self.reader).take(self.rest.1 - self.rest.0);
        let mut head = self.head.as_slice();
        let mut chunk = Vec::with_capacity(CHUNK_LEN);
        let mut index = 0u32;
        let mut read_at = self.rest.0;
        loop {
            let from_head = head.len().min(CHUNK_LEN - chunk.len());
            chunk.extend_from_slice(&head[..from_head]);
            head = &head[from_head..];
            let wanted = (CHUNK_LEN - chunk.len()) as u64;
            let from = chunk.len();
            (&mut rest).take(wanted).read_to_end(&mut chunk).map_err(read_error)?;
            apply(&self.patches, read_at, &mut chunk[from..]);
            read_at += (chunk.len() - from) as u64;
            let last = chunk.len() < CHUNK_LEN;
            if !chunk.is_empty() || index == 0 {
                each(index, &chunk)?;
                index += 1;
            }
            if last {
                return Ok(());
            }
            chunk.clear();
        }
    }
}

/// Writes the parts of `patches` that fall on `bytes`, which were read from `at` on.
fn apply(patches: &[Patch], at: u64, bytes: &mut [u8]) {
    let end = at + bytes.len() as u64;
    for patch in patches {
        let patch_end = patch.at + patch.bytes.len() as u64;
        if patch_end <= at || patch.at >= end {
            continue;
        }
        let from = patch.at.max(at);
        let to = patch_end.min(end);
        let (into, out_of) = ((from - at) as usize, (from - patch.at) as usize);
        let n = (to - from) as usize;
        bytes[into..into + n].copy_from_slice(&patch.bytes[out_of..out_of + n]);
    }
}

fn read_error(e: std::io::Error) -> Error {
    Error::invalid("bestand", format!("niet te lezen: {e}"))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::attachments::location::tests::{photo, LATITUDE};

    fn chunks_of(bytes: &[u8]) -> (u64, Vec<Vec<u8>>) {
        let mut content =
            Content::new(Cursor::new(bytes), bytes.len() as u64, Location::Strip).unwrap();
        let mut chunks = Vec::new();
        content
            .for_each_chunk(|index, chunk| {
                assert_eq!(index as usize, chunks.len());
                chunks.push(chunk.to_vec());
                Ok(())
            })
            .unwrap();
        (content.len(), chunks)
    }

    #[test]
    fn content_streams_in_chunks_as_the_bytes_are_or_without_a_photos_place() {
        for len in [0, 1, CHUNK_LEN - 1, CHUNK_LEN, CHUNK_LEN + 1, 3 * CHUNK_LEN] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let (total, chunks) = chunks_of(&bytes);
            assert_eq!(total, len as u64);
            assert_eq!(chunks.len(), len.div_ceil(CHUNK_LEN).max(1), "len {len}");
            assert!(chunks.iter().rev().skip(1).all(|c| c.len() == CHUNK_LEN));
            assert_eq!(chunks.concat(), bytes);
        }
        // A photo with a long picture: the header cleaned, the picture as it is.
        let mut big = photo(false);
        big.truncate(big.len() - 2);
        big.extend((0..2 * CHUNK_LEN).map(|i| (i % 251) as u8));
        big.extend([0xFF, 0xD9]);
        let (total, chunks) = chunks_of(&big);
        let whole = chunks.concat();
        assert_eq!(whole, location::without_location(&big).as_ref());
        assert_eq!(total, whole.len() as u64);
        assert!(!whole.windows(LATITUDE.len()).any(|w| w == LATITUDE));
    }
}
