//! Where a photo was taken, taken out before it is sealed: a phone's camera writes the place
//! into the photo (EXIF GPS, and in XMP), and a photo of a letter taken in a resident's kitchen
//! would tell everyone who later opens it where she lives. This module cleans JPEG headers
//! (which are rewritten); PNG, WebP and HEIC are patched in place (`location_in_place`).

use std::borrow::Cow;

pub(super) const EXIF: &[u8] = b"Exif\0\0";
const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The IFD0 tag that points at the GPS IFD.
const GPS_IFD: u16 = 0x8825;

/// `bytes` without location data: in a JPEG, the EXIF GPS entries and their values are zeroed
/// and the GPS directory emptied (the rest of the EXIF data, such as the orientation, stays),
/// and XMP packets go. EXIF that does not parse goes whole: what cannot be read cannot be
/// shown to hold no place. Anything else comes back unchanged.
pub fn without_location(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !is_jpeg(bytes) {
        return Cow::Borrowed(bytes);
    }
    let (mut out, scan) = clean_header(bytes);
    if let Some(at) = scan {
        out.extend_from_slice(&bytes[at..]);
    }
    Cow::Owned(out)
}

/// Whether `bytes` begin as a JPEG does.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// A JPEG's header segments without location data, and where its picture (the scan, or the
/// end marker) starts in `bytes`: what follows is kept as it is. `None` when the headers end
/// without one (cut short, or garbage): the rest is left out, since it could hold a place no
/// reader would find but a later one might.
pub fn clean_header(bytes: &[u8]) -> (Vec<u8>, Option<usize>) {
    let mut out = Vec::with_capacity(bytes.len().min(1 << 20));
    out.extend_from_slice(&bytes[..2.min(bytes.len())]);
    let mut pos = 2;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() >= 2 && rest[0] == 0xFF && matches!(rest[1], 0xDA | 0xD9) {
            return (out, Some(pos));
        }
        if rest.len() < 2 || rest[0] != 0xFF {
            break;
        }
        let marker = rest[1];
        if marker == 0xFF {
            out.push(0xFF);
            pos += 1;
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            out.extend_from_slice(&rest[..2]);
            pos += 2;
            continue;
        }
        let Some(len) = rest.get(2..4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            break;
        };
        if len < 2 || rest.len() < 2 + len {
            break;
        }
        let segment = &rest[..2 + len];
        let payload = &segment[4..];
        if marker == 0xE1 && payload.starts_with(EXIF) {
            if let Some(tiff) = tiff_without_gps(&payload[EXIF.len()..]) {
                out.extend_from_slice(&segment[..4]);
                out.extend_from_slice(EXIF);
                out.extend_from_slice(&tiff);
            }
        } else if !(marker == 0xE1 && payload.starts_with(XMP)) {
            out.extend_from_slice(segment);
        }
        pos += 2 + len;
    }
    (out, None)
}

/// The TIFF block of an EXIF segment with its GPS directory emptied and every GPS value
/// zeroed, the same length as before (offsets elsewhere stay valid); `None` when it does not
/// parse.
pub(super) fn tiff_without_gps(tiff: &[u8]) -> Option<Vec<u8>> {
    let mut out = tiff.to_vec();
    let order = Order::of(tiff)?;
    let ifd0 = usize::try_from(order.u32(tiff, 4)?).ok()?;
    let entries = usize::from(order.u16(tiff, ifd0)?);
    let mut gps = None;
    for n in 0..entries {
        let entry = ifd0 + 2 + 12 * n;
        if order.u16(tiff, entry)? == GPS_IFD {
            gps = Some(usize::try_from(order.u32(tiff, entry + 8)?).ok()?);
        }
    }
    let Some(gps) = gps else { return Some(out) };
    let count = usize::from(order.u16(tiff, gps)?);
    for n in 0..count {
        let entry = gps + 2 + 12 * n;
        let unit = type_size(order.u16(tiff, entry + 2)?)?;
        let size = unit.checked_mul(usize::try_from(order.u32(tiff, entry + 4)?).ok()?)?;
        if size > 4 {
            let at = usize::try_from(order.u32(tiff, entry + 8)?).ok()?;
            out.get_mut(at..at.checked_add(size)?)?.fill(0);
        }
    }
    // The entries go, and the count becomes 0: the directory reads as empty, and its
    // next-directory link (now the first zeroed entry) as none.
    out.get_mut(gps..gps + 2 + 12 * count)?.fill(0);
    Some(out)
}

/// Bytes per value of each TIFF type; `None` for a type TIFF does not define.
fn type_size(kind: u16) -> Option<usize> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn of(tiff: &[u8]) -> Option<Order> {
        match tiff.get(..4)? {
            [b'I', b'I', 42, 0] => Some(Order::Little),
            [b'M', b'M', 0, 42] => Some(Order::Big),
            _ => None,
        }
    }

    fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Order::Little => u16::from_le_bytes(raw),
            Order::Big => u16::from_be_bytes(raw),
        })
    }

    fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Order::Little => u32::from_le_bytes(raw),
            Order::Big => u32::from_be_bytes(raw),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A rational latitude no other part of the test photo holds: 52° 22' 12.34".
    pub const LATITUDE: [u8; 24] =
        [52, 0, 0, 0, 1, 0, 0, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0xD2, 0x04, 0, 0, 100, 0, 0, 0];
    pub const SCAN: &[u8] = b"scan data of the photo itself";

    /// A small little-endian EXIF block: IFD0 with the orientation and the GPS pointer, and a
    /// GPS directory with the latitude's reference (inline) and the latitude (at an offset).
    pub fn exif_tiff(big_endian: bool) -> Vec<u8> {
        let u16b = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut t = Vec::new();
        t.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
        t.extend_from_slice(&u32b(8));
        // IFD0 at 8: two entries, then the next-IFD link.
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u16b(0x0112)); // orientation, SHORT, 1, value 6
        t.extend_from_slice(&u16b(3));
        t.extend_from_slice(&u32b(1));
        t.extend_from_slice(&u16b(6));
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&u16b(GPS_IFD)); // GPS pointer, LONG, 1, offset 38
        t.extend_from_slice(&u16b(4));
        t.extend_from_slice(&u32b(1));
        t.extend_from_slice(&u32b(38));
        t.extend_from_slice(&u32b(0));
        assert_eq!(t.len(), 38);
        // GPS IFD at 38: two entries, the link, then the latitude's 24 bytes at 68.
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u16b(1)); // GPSLatitudeRef, ASCII, 2, "N\0"
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u32b(2));
        t.extend_from_slice(b"N\0\0\0");
        t.extend_from_slice(&u16b(2)); // GPSLatitude, RATIONAL, 3, at 68
        t.extend_from_slice(&u16b(5));
        t.extend_from_slice(&u32b(3));
        t.extend_from_slice(&u32b(68));
        t.extend_from_slice(&u32b(0));
        assert_eq!(t.len(), 68);
        t.extend_from_slice(&LATITUDE);
        t
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// A JPEG as a phone writes it: EXIF with GPS, an XMP packet naming the place, a comment,
    /// then the scan.
    pub fn photo(big_endian: bool) -> Vec<u8> {
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(segment(0xE1, &[EXIF, &exif_tiff(big_endian)[..]].concat()));
        jpeg.extend(segment(
            0xE1,
            &[XMP, b"<exif:GPSLatitude>52,22.2N</exif:GPSLatitude>"].concat(),
        ));
        jpeg.extend(segment(0xFE, b"brief woningcorporatie"));
        jpeg.extend([0xFF, 0xDA]);
        jpeg.extend_from_slice(SCAN);
        jpeg.extend([0xFF, 0xD9]);
        jpeg
    }

    fn holds(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_photo_loses_its_place_and_keeps_everything_else() {
        for big_endian in [false, true] {
            let photo = photo(big_endian);
            // The value's bytes as written (their order does not matter to what is removed).
            let latitude = LATITUDE.to_vec();
            assert!(holds(&photo, &latitude), "the test photo holds its place");
            let clean = without_location(&photo);
            assert!(!holds(&clean, &latitude), "the latitude is gone");
            assert!(!holds(&clean, b"GPSLatitude"), "the XMP packet is gone");
            assert!(!holds(&clean, b"N\0\0\0"), "the latitude's reference is gone");
            assert!(holds(&clean, b"brief woningcorporatie"), "other segments stay");
            assert!(clean.ends_with(&[SCAN, &[0xFF, 0xD9][..]].concat()), "the picture stays");
            // The EXIF block keeps its length and its orientation; the GPS directory is empty.
            let tiff_at = 2 + 4 + EXIF.len();
            let tiff = &clean[tiff_at..tiff_at + 92];
            let order = Order::of(tiff).unwrap();
            assert_eq!(order.u16(tiff, 8 + 2 + 8), Some(6), "orientation kept");
            assert_eq!(order.u16(tiff, 38), Some(0), "no GPS entries");
            assert_eq!(without_location(&clean).as_ref(), clean.as_ref(), "stripping twice");
        }
    }

    #[test]
    fn exif_that_does_not_parse_goes_whole_and_other_files_stay_as_they_are() {
        let mut photo = photo(false);
        // The GPS pointer now points past the end of the block.
        let pointer = 2 + 4 + EXIF.len() + 8 + 2 + 12 + 8;
        photo[pointer..pointer + 4].copy_from_slice(&5000u32.to_le_bytes());
        let clean = without_location(&photo);
        assert!(!holds(&clean, &LATITUDE), "nothing of the EXIF block stays");
        assert!(!holds(&clean, EXIF));
        assert!(clean.ends_with(&[0xFF, 0xD9]));
        let pdf = b"%PDF-1.7 brief van de woningcorporatie".to_vec();
        assert!(matches!(without_location(&pdf), Cow::Borrowed(_)));
        // A JPEG cut short anywhere: its place never stays, and nothing panics.
        let photo = self::photo(false);
        for cut in 0..photo.len() {
            let clean = without_location(&photo[..cut]);
            assert!(!holds(&clean, &LATITUDE[..8]), "cut at {cut}");
            assert!(!holds(&clean, b"GPSLatitude"), "cut at {cut}");
        }
    }
}
