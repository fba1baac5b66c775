//! Where a photo was taken, in the formats that keep it in a container's chunks or boxes: PNG
//! (`eXIf`, XMP in text chunks), WebP (`EXIF`, `XMP `) and HEIC/AVIF (an `Exif` item, an XMP
//! item). The places are found by walking the container, reading only its headers and those
//! items, and overwritten in place: the file keeps its length, so every offset in it stays
//! right and the picture streams as it is. A file that is none of these comes back without
//! patches.

use std::io::{self, Read, Seek, SeekFrom};

use super::location::{tiff_without_gps, EXIF};

/// Bytes to write over the file at `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    pub at: u64,
    pub bytes: Vec<u8>,
}

/// Metadata larger than this is not read to be cleaned but blanked whole (an EXIF block is at
/// most 64 kB in a JPEG; phones write a few kB).
const MAX_METADATA: u64 = 4 * 1024 * 1024;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The patches that take the place a photo was taken out of the file `reader` holds, `len`
/// bytes long; sorted and apart.
pub fn patches<R: Read + Seek>(reader: &mut R, len: u64) -> io::Result<Vec<Patch>> {
    let head = read_at(reader, 0, len.min(12))?;
    let mut patches = if head.starts_with(PNG_SIGNATURE) {
        png(reader, len)?
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        webp(reader, len)?
    } else if head.get(4..8) == Some(b"ftyp") {
        isobmff(reader, len)?
    } else {
        Vec::new()
    };
    patches.sort_by_key(|p| p.at);
    Ok(patches)
}

/// An EXIF block (a TIFF, perhaps after `Exif\0\0`) with its GPS entries zeroed; zeroed whole
/// when it does not parse: what cannot be read cannot be shown to hold no place.
fn cleaned_exif(data: &[u8]) -> Vec<u8> {
    let skip = if data.starts_with(EXIF) { EXIF.len() } else { 0 };
    let mut out = data.to_vec();
    match tiff_without_gps(&data[skip..]) {
        Some(tiff) => out[skip..].copy_from_slice(&tiff),
        None => out.fill(0),
    }
    out
}

/// PNG: an `eXIf` chunk is cleaned as EXIF; a text chunk whose keyword names EXIF or XMP
/// (`XML:com.adobe.xmp`, `Raw profile type exif`) is blanked after its keyword. Each changed
/// chunk gets its CRC again.
fn png<R: Read + Seek>(reader: &mut R, len: u64) -> io::Result<Vec<Patch>> {
    let mut patches = Vec::new();
    let mut pos = PNG_SIGNATURE.len() as u64;
    while pos + 12 <= len {
        let header = read_at(reader, pos, 8)?;
        let size = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let kind = &header[4..8];
        let data_at = pos + 8;
        if data_at + size + 4 > len || kind == b"IEND" {
            break;
        }
        let text = matches!(kind, b"tEXt" | b"iTXt" | b"zTXt");
        if kind == b"eXIf" || text {
            let data = if size <= MAX_METADATA {
                read_at(reader, data_at, size)?
            } else {
                vec![0; usize::try_from(size).unwrap_or(0)]
            };
            let cleaned = if kind == b"eXIf" {
                Some(cleaned_exif(&data))
            } else {
                let keyword_end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                let keyword = String::from_utf8_lossy(&data[..keyword_end]).to_lowercase();
                (keyword.contains("xmp") || keyword.contains("exif")).then(|| {
                    let mut out = data.clone();
                    out[keyword_end..].fill(b' ');
                    out
                })
            };
            if let Some(cleaned) = cleaned.filter(|cleaned| *cleaned != data) {
                let mut crc = flate2::Crc::new();
                crc.update(kind);
                crc.update(&cleaned);
                let mut bytes = cleaned;
                bytes.extend_from_slice(&crc.sum().to_be_bytes());
                patches.push(Patch { at: data_at, bytes });
            }
        }
        pos = data_at + size + 4;
    }
    Ok(patches)
}

/// WebP: the `EXIF` chunk is cleaned, the `XMP ` chunk blanked.
fn webp<R: Read + Seek>(reader: &mut R, len: u64) -> io::Result<Vec<Patch>> {
    let mut patches = Vec::new();
    let mut pos = 12;
    while pos + 8 <= len {
        let header = read_at(reader, pos, 8)?;
        let size = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
        let data_at = pos + 8;
        if data_at + size > len {
            break;
        }
        let kind = &header[..4];
        if kind == b"EXIF" || kind == b"XMP " {
            let bytes = if size > MAX_METADATA {
                vec![0; usize::try_from(size).unwrap_or(0)]
            } else if kind == b"EXIF" {
                cleaned_exif(&read_at(reader, data_at, size)?)
            } else {
                vec![b' '; usize::try_from(size).unwrap_or(0)]
            };
            patches.push(Patch { at: data_at, bytes });
        }
        pos = data_at + size + (size & 1);
    }
    Ok(patches)
}

/// A box's type, where its content starts and where it ends.
struct BoxAt {
    kind: [u8; 4],
    content: u64,
    end: u64,
}

/// The boxes from `pos` to `end`, in order; stops at the first that does not fit.
fn boxes<R: Read + Seek>(reader: &mut R, mut pos: u64, end: u64) -> io::Result<Vec<BoxAt>> {
    let mut found = Vec::new();
    while pos + 8 <= end {
        let header = read_at(reader, pos, 8)?;
        let size = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let kind = [header[4], header[5], header[6], header[7]];
        let (content, box_end) = match size {
            0 => (pos + 8, end),
            1 => {
                let large = read_at(reader, pos + 8, 8)?;
                let size = u64::from_be_bytes(large.try_into().unwrap_or_default());
                (pos + 16, pos.saturating_add(size))
            }
            _ => (pos + 8, pos + size),
        };
        if box_end > end || box_end < content {
            break;
        }
        found.push(BoxAt { kind, content, end: box_end });
        pos = box_end;
    }
    Ok(found)
}

/// HEIC, AVIF (ISO base media): the `Exif` item is cleaned and the XMP item (`mime`,
/// `application/rdf+xml`) blanked, wherever `iloc` says they are.
fn isobmff<R: Read + Seek>(reader: &mut R, len: u64) -> io::Result<Vec<Patch>> {
    let Some(meta) = boxes(reader, 0, len)?.into_iter().find(|b| &b.kind == b"meta") else {
        return Ok(Vec::new());
    };
    // `meta` is a full box: a version and flags before its children.
    let children = boxes(reader, meta.content + 4, meta.end)?;
    let child = |kind: &[u8; 4]| children.iter().find(|b| &b.kind == kind);
    let (Some(iinf), Some(iloc)) = (child(b"iinf"), child(b"iloc")) else {
        return Ok(Vec::new());
    };
    let idat_at = child(b"idat").map(|b| b.content);
    let read_box = |reader: &mut R, b: &BoxAt| -> io::Result<Vec<u8>> {
        read_at(reader, b.content, (b.end - b.content).min(MAX_METADATA))
    };
    let items = item_kinds(reader, iinf)?;
    let locations = item_locations(&read_box(reader, iloc)?).unwrap_or_default();
    let mut patches = Vec::new();
    for (item, kind) in items {
        let Some((method, extents)) = locations.iter().find(|l| l.0 == item).map(|l| (l.1, &l.2))
        else {
            continue;
        };
        let base = match (method, idat_at) {
            (0, _) => 0,
            (1, Some(idat)) => idat,
            _ => continue,
        };
        let extents: Vec<(u64, u64)> = extents
            .iter()
            .map(|&(offset, length)| (base.saturating_add(offset), length))
            .filter(|&(at, length)| at.saturating_add(length) <= len)
            .collect();
        let total: u64 = extents.iter().map(|e| e.1).sum();
        let mut data = Vec::new();
        for &(at, length) in &extents {
            if total <= MAX_METADATA {
                data.extend(read_at(reader, at, length)?);
            } else {
                data.resize(data.len() + usize::try_from(length).unwrap_or(0), 0);
            }
        }
        let cleaned = match kind {
            ItemKind::Exif if total <= MAX_METADATA && data.len() >= 4 => {
                // An `Exif` item starts with the offset of its TIFF header after those 4 bytes.
                let skip = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                let tiff = 4usize.saturating_add(usize::try_from(skip).unwrap_or(usize::MAX));
                let mut out = data.clone();
                match data.get(tiff..) {
                    Some(rest) => out[tiff..].copy_from_slice(&cleaned_exif(rest)),
                    None => out.fill(0),
                }
                out
            }
            ItemKind::Exif => vec![0; data.len()],
            ItemKind::Xmp => vec![b' '; data.len()],
        };
        let mut from = 0usize;
        for (at, length) in extents {
            let length = usize::try_from(length).unwrap_or(0);
            patches.push(Patch { at, bytes: cleaned[from..from + length].to_vec() });
            from += length;
        }
    }
    Ok(patches)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ItemKind {
    Exif,
    Xmp,
}

/// The items of `iinf` that hold a place: EXIF and XMP, by item id.
fn item_kinds<R: Read + Seek>(reader: &mut R, iinf: &BoxAt) -> io::Result<Vec<(u32, ItemKind)>> {
    let version = read_at(reader, iinf.content, 1)?.first().copied().unwrap_or(0);
    let first = iinf.content + 4 + if version == 0 { 2 } else { 4 };
    let mut found = Vec::new();
    for infe in boxes(reader, first, iinf.end)? {
        if &infe.kind != b"infe" {
            continue;
        }
        let data = read_at(reader, infe.content, (infe.end - infe.content).min(4096))?;
        let Some(&version) = data.first() else { continue };
        // Versions 2 and 3 name the item's type; earlier ones predate EXIF items.
        let (id, rest) = match version {
            2 if data.len() >= 12 => (u32::from(u16::from_be_bytes([data[4], data[5]])), 8),
            3 if data.len() >= 14 => (u32::from_be_bytes([data[4], data[5], data[6], data[7]]), 10),
            _ => continue,
        };
        let kind = &data[rest..rest + 4];
        let after_name = data[rest + 4..].iter().position(|&b| b == 0).map(|n| rest + 5 + n);
        if kind == b"Exif" {
            found.push((id, ItemKind::Exif));
        } else if kind == b"mime" {
            let content_type = after_name.and_then(|at| data.get(at..)).unwrap_or_default();
            if content_type.starts_with(b"application/rdf+xml") {
                found.push((id, ItemKind::Xmp));
            }
        }
    }
    Ok(found)
}

/// `iloc`: each item's id, construction method and extents (offset, length).
type Locations = Vec<(u32, u16, Vec<(u64, u64)>)>;

fn item_locations(iloc: &[u8]) -> Option<Locations> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<u64> {
        let bytes = iloc.get(at..at.checked_add(n)?)?;
        at += n;
        Some(bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    };
    let version = take(1)?;
    take(3)?;
    let sizes = take(1)?;
    let (offset_size, length_size) = ((sizes >> 4) as usize, (sizes & 15) as usize);
    let sizes = take(1)?;
    let base_offset_size = (sizes >> 4) as usize;
    let index_size = if version >= 1 { (sizes & 15) as usize } else { 0 };
    let count = take(if version < 2 { 2 } else { 4 })?;
    let mut locations = Vec::new();
    for _ in 0..count.min(65_536) {
        let id = u32::try_from(take(if version < 2 { 2 } else { 4 })?).ok()?;
        let method = if version >= 1 { (take(2)? & 15) as u16 } else { 0 };
        take(2)?;
        let base = take(base_offset_size)?;
        let extents = take(2)?;
        let mut found = Vec::new();
        for _ in 0..extents {
            take(index_size)?;
            let offset = take(offset_size)?;
            let length = take(length_size)?;
            found.push((base.checked_add(offset)?, length));
        }
        locations.push((id, method, found));
    }
    Some(locations)
}

fn read_at<R: Read + Seek>(reader: &mut R, at: u64, len: u64) -> io::Result<Vec<u8>> {
    reader.seek(SeekFrom::Start(at))?;
    let mut out = Vec::new();
    reader.take(len).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::attachments::location::tests::{exif_tiff, LATITUDE};

    fn holds(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn patched(file: &[u8]) -> Vec<u8> {
        let mut out = file.to_vec();
        for patch in patches(&mut Cursor::new(file), file.len() as u64).unwrap() {
            let at = usize::try_from(patch.at).unwrap();
            out[at..at + patch.bytes.len()].copy_from_slice(&patch.bytes);
        }
        out
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        chunk.extend_from_slice(&crc.sum().to_be_bytes());
        chunk
    }

    #[test]
    fn a_png_loses_its_place_and_its_chunks_stay_valid() {
        let xmp = b"XML:com.adobe.xmp\0\0\0\0\0<exif:GPSLatitude>52,22.2N</exif:GPSLatitude>";
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        png.extend(png_chunk(b"eXIf", &exif_tiff(true)));
        png.extend(png_chunk(b"iTXt", xmp));
        png.extend(png_chunk(b"tEXt", b"Title\0Brief van Woonbron"));
        png.extend(png_chunk(b"IDAT", b"the picture"));
        png.extend(png_chunk(b"IEND", b""));
        let clean = patched(&png);
        assert_eq!(clean.len(), png.len());
        assert!(holds(&png, &LATITUDE) && !holds(&clean, &LATITUDE), "the latitude went");
        assert!(!holds(&clean, b"GPSLatitude"), "the XMP went");
        assert!(holds(&clean, b"Brief van Woonbron") && holds(&clean, b"the picture"));
        // Every chunk's CRC still holds.
        let mut pos = 8;
        while pos < clean.len() {
            let size = usize::try_from(u32::from_be_bytes(clean[pos..pos + 4].try_into().unwrap()))
                .unwrap();
            let mut crc = flate2::Crc::new();
            crc.update(&clean[pos + 4..pos + 8 + size]);
            let stored =
                u32::from_be_bytes(clean[pos + 8 + size..pos + 12 + size].try_into().unwrap());
            assert_eq!(crc.sum(), stored);
            pos += 12 + size;
        }
    }

    #[test]
    fn a_place_across_a_chunk_boundary_is_taken_out_of_both_chunks() {
        use crate::attachments::content::{Content, Location};
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        // The EXIF chunk's latitude straddles the first chunk's end.
        let filler = eropaf_protocol::attachment::CHUNK_LEN - png.len() - 12 - 8 - 70;
        png.extend(png_chunk(b"IDAT", &vec![7; filler]));
        png.extend(png_chunk(b"eXIf", &exif_tiff(false)));
        png.extend(png_chunk(b"IEND", b""));
        let mut content =
            Content::new(Cursor::new(&png), png.len() as u64, Location::Strip).unwrap();
        let mut sealed_as = Vec::new();
        content
            .for_each_chunk(|_, chunk| {
                sealed_as.extend_from_slice(chunk);
                Ok(())
            })
            .unwrap();
        assert_eq!(sealed_as, patched(&png));
        assert!(holds(&png, &LATITUDE) && !holds(&sealed_as, &LATITUDE));
        let mut kept = Content::new(Cursor::new(&png), png.len() as u64, Location::Keep).unwrap();
        let mut as_taken = Vec::new();
        kept.for_each_chunk(|_, chunk| {
            as_taken.extend_from_slice(chunk);
            Ok(())
        })
        .unwrap();
        assert_eq!(as_taken, png, "a team that keeps the place gets the photo as taken");
    }

    #[test]
    fn a_webp_loses_its_place() {
        let chunk = |kind: &[u8; 4], data: &[u8]| {
            let mut c = kind.to_vec();
            c.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
            c.extend_from_slice(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let mut body = b"WEBP".to_vec();
        body.extend(chunk(b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        body.extend(chunk(b"VP8 ", b"the picture"));
        body.extend(chunk(b"EXIF", &[EXIF, &exif_tiff(false)[..]].concat()));
        body.extend(chunk(b"XMP ", b"<exif:GPSLatitude>52,22.2N</exif:GPSLatitude>"));
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
        webp.extend(body);
        let clean = patched(&webp);
        assert!(holds(&webp, &LATITUDE) && !holds(&clean, &LATITUDE));
        assert!(!holds(&clean, b"GPSLatitude") && holds(&clean, b"the picture"));
        assert_eq!(clean.len(), webp.len());
    }

    fn bmff(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(content.len() + 8).unwrap().to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(content);
        b
    }

    /// A HEIC as an iPhone writes one, cut down: `ftyp`, `meta` with item 1 the picture, item 2
    /// EXIF, item 3 XMP, then `mdat` holding all three.
    fn heic() -> Vec<u8> {
        let exif = [&[0, 0, 0, 6][..], EXIF, &exif_tiff(true)].concat();
        let xmp = b"<exif:GPSLatitude>52,22.2N</exif:GPSLatitude>".to_vec();
        let picture = b"the picture".to_vec();
        let infe = |id: u16, kind: &[u8; 4], extra: &[u8]| {
            let mut c = vec![2, 0, 0, 0];
            c.extend_from_slice(&id.to_be_bytes());
            c.extend_from_slice(&[0, 0]);
            c.extend_from_slice(kind);
            c.push(0);
            c.extend_from_slice(extra);
            bmff(b"infe", &c)
        };
        let mut iinf = vec![0, 0, 0, 0, 0, 3];
        iinf.extend(infe(1, b"hvc1", b""));
        iinf.extend(infe(2, b"Exif", b""));
        iinf.extend(infe(3, b"mime", b"application/rdf+xml\0"));
        let ftyp = bmff(b"ftyp", b"heic\0\0\0\0mif1heic");
        // iloc v0, offset and length 4 bytes, no base offset: the offsets are filled in below.
        let iloc_len = 8 + 4 + 2 + 2 + 3 * (2 + 2 + 2 + 8);
        let meta_len = 8 + 4 + (8 + iinf.len()) + iloc_len;
        let mdat_data = ftyp.len() + meta_len + 8;
        let mut iloc = vec![0, 0, 0, 0, 0x44, 0x00, 0, 3];
        let mut at = mdat_data;
        for (id, len) in [(1u16, picture.len()), (2, exif.len()), (3, xmp.len())] {
            iloc.extend_from_slice(&id.to_be_bytes());
            iloc.extend_from_slice(&[0, 0, 0, 1]);
            iloc.extend_from_slice(&u32::try_from(at).unwrap().to_be_bytes());
            iloc.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
            at += len;
        }
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(bmff(b"iinf", &iinf));
        meta.extend(bmff(b"iloc", &iloc));
        let mut file = ftyp;
        file.extend(bmff(b"meta", &meta));
        assert_eq!(file.len() + 8, mdat_data);
        file.extend(bmff(b"mdat", &[picture, exif, xmp].concat()));
        file
    }

    #[test]
    fn a_heic_loses_its_place_where_its_item_locations_say() {
        let heic = heic();
        let clean = patched(&heic);
        assert!(holds(&heic, &LATITUDE) && !holds(&clean, &LATITUDE), "the latitude went");
        assert!(!holds(&clean, b"GPSLatitude"), "the XMP went");
        assert!(holds(&clean, b"the picture") && holds(&clean, EXIF));
        assert_eq!(clean.len(), heic.len());
    }

    #[test]
    fn a_file_cut_anywhere_or_of_another_kind_gets_no_patch_it_cannot_place() {
        for file in [heic(), b"%PDF-1.7 brief".to_vec()] {
            for cut in 0..file.len() {
                let part = &file[..cut];
                for patch in patches(&mut Cursor::new(part), part.len() as u64).unwrap() {
                    assert!(patch.at + patch.bytes.len() as u64 <= part.len() as u64);
                }
            }
        }
    }
}
