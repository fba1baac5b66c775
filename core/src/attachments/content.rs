//! A file's content as it is sealed, read a chunk at a time from bytes in memory or from a
//! file on disk, never whole: a photo's header segments (where its place is written) are read
//! and cleaned first, and the picture after them streams as it is.

use std::io::{Read, Seek, SeekFrom};

use eropaf_protocol::attachment::CHUNK_LEN;

use super::location;
use crate::{Error, Result};

/// How much of a JPEG is read to find where its picture starts; headers are a few hundred kB
/// at most (segments of up to 64 kB each). One that does not fit is cleaned whole.
const HEAD_LEN: u64 = 1 << 20;

pub struct Content<R> {
    /// The cleaned start of the content; empty when nothing needed cleaning.
    head: Vec<u8>,
    /// Where in `reader` what follows `head` starts, and where it ends.
    rest: (u64, u64),
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
        if location == Location::Keep {
            return Ok(Content { head: Vec::new(), rest: (0, len), reader });
        }
        let mut head = Vec::new();
        (&mut reader).take(len.min(3)).read_to_end(&mut head).map_err(read_error)?;
        if !location::is_jpeg(&head) {
            return Ok(Content { head: Vec::new(), rest: (0, len), reader });
        }
        (&mut reader).take(len.min(HEAD_LEN) - 3).read_to_end(&mut head).map_err(read_error)?;
        let (mut cleaned, scan) = location::clean_header(&head);
        if scan.is_none() && (head.len() as u64) < len {
            // No picture within the first megabyte: cleaned whole, in memory.
            reader.seek(SeekFrom::Start(0)).map_err(read_error)?;
            let mut whole = Vec::new();
            (&mut reader).take(len).read_to_end(&mut whole).map_err(read_error)?;
            let cleaned = location::without_location(&whole).into_owned();
            return Ok(Content { head: cleaned, rest: (len, len), reader });
        }
        let rest = match scan {
            Some(at) => (at as u64, len),
            None => (len, len),
        };
        cleaned.shrink_to_fit();
        Ok(Content { head: cleaned, rest, reader })
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
        loop {
            let from_head = head.len().min(CHUNK_LEN - chunk.len());
            chunk.extend_from_slice(&head[..from_head]);
            head = &head[from_head..];
            let wanted = (CHUNK_LEN - chunk.len()) as u64;
            (&mut rest).take(wanted).read_to_end(&mut chunk).map_err(read_error)?;
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
