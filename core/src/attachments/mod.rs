//! Files kept with a case (a photo of the letter from the woningcorporatie, a scan of a signed
//! consent): how large they may be, what a worker must give with one, and taking the place a
//! photo was taken out of it (`location`), and reading what is sealed a chunk at a time
//! (`content`), and a case's reference to a file read into what opens it (`sealed`). Sealing is `eropaf_protocol::attachment`; storing and
//! reading them back is the device's (`device/attachments.rs`).

pub mod content;
pub mod location;
pub mod location_in_place;
pub(crate) mod sealed;

use crate::model::NewAttachment;
use crate::{Error, Result};

/// The most a file may hold when the team's policy says nothing else.
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// The most the files of one case may hold together when the team's policy says nothing else.
pub const MAX_CASE_BYTES: u64 = 250 * 1024 * 1024;
/// The most a team's policy may allow one file (a phone holds a file whole to show it).
pub const CEILING_FILE_MB: u32 = 100;
/// The most a team's policy may allow a case's files together (the relay's bound per case).
pub const CEILING_CASE_MB: u32 = 2000;

/// How large files may be: the team's policy, or the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub file_bytes: u64,
    pub case_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { file_bytes: MAX_FILE_BYTES, case_bytes: MAX_CASE_BYTES }
    }
}

impl Limits {
    /// The most any team allows: what a file claiming more can only have been written by hand.
    pub const CEILING: Limits = Limits {
        file_bytes: CEILING_FILE_MB as u64 * 1024 * 1024,
        case_bytes: CEILING_CASE_MB as u64 * 1024 * 1024,
    };

    /// The limits a team's policy sets, held to the ceiling.
    pub fn of(policy: &crate::model::TeamPolicy) -> Limits {
        let mb = |n: u32, ceiling: u32| u64::from(n.clamp(1, ceiling)) * 1024 * 1024;
        Limits {
            file_bytes: mb(policy.attachment_max_mb, CEILING_FILE_MB),
            case_bytes: mb(policy.case_attachments_max_mb, CEILING_CASE_MB),
        }
    }
}
/// A name longer than this is a mistake, not a file name.
const MAX_NAME_CHARS: usize = 200;

/// What is attached as given, trimmed and checked, before anything is written: a name, a
/// media type (`application/octet-stream` when none is known) and the size within bounds.
pub fn checked(
    new: &NewAttachment,
    size: u64,
    case_bytes: u64,
    limits: &Limits,
) -> Result<NewAttachment> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("naam", "geef de bijlage een naam, bijvoorbeeld brief.jpg"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid("naam", format!("hoogstens {MAX_NAME_CHARS} tekens")));
    }
    if size > limits.file_bytes {
        return Err(Error::invalid(
            "bijlage",
            format!(
                "{name} is {}; een bijlage mag hoogstens {} zijn",
                megabytes(size),
                megabytes(limits.file_bytes)
            ),
        ));
    }
    if case_bytes.saturating_add(size) > limits.case_bytes {
        return Err(Error::invalid(
            "bijlage",
            format!(
                "de bijlagen van deze casus zijn samen al {}; er kan hoogstens {} bij",
                megabytes(case_bytes),
                megabytes(limits.case_bytes)
            ),
        ));
    }
    let media_type = new.media_type.trim();
    let media_type = if media_type.is_empty() { "application/octet-stream" } else { media_type };
    if media_type.len() > 100 || !media_type.contains('/') {
        return Err(Error::invalid("type", format!("{media_type} is geen mediatype")));
    }
    Ok(NewAttachment {
        name: name.to_string(),
        media_type: media_type.to_ascii_lowercase(),
        caption: new.caption.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(String::from),
        visit_id: new.visit_id.clone(),
    })
}

/// The media type a file name's extension stands for, for shells that get a path and no
/// type; `application/octet-stream` when it says nothing known.
pub fn media_type_for(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("heic") => "image/heic",
        Some("webp") => "image/webp",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("doc") => "application/msword",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)).replace(".0 MB", " MB").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_must_be_named_and_within_the_limits() {
        let new = NewAttachment {
            name: " brief.jpg ".into(),
            media_type: "IMAGE/JPEG".into(),
            ..Default::default()
        };
        let d = Limits::default();
        let ok = checked(&new, 1000, 0, &d).unwrap();
        assert_eq!((ok.name.as_str(), ok.media_type.as_str()), ("brief.jpg", "image/jpeg"));
        let untyped = NewAttachment { media_type: String::new(), ..new.clone() };
        assert_eq!(checked(&untyped, 1, 0, &d).unwrap().media_type, "application/octet-stream");
        let too_big = checked(&new, MAX_FILE_BYTES + 1, 0, &d).unwrap_err().to_string();
        assert!(too_big.contains("hoogstens 25 MB"), "{too_big}");
        let full =
            checked(&new, 2 * 1024 * 1024, MAX_CASE_BYTES - 1024, &d).unwrap_err().to_string();
        assert!(full.contains("hoogstens 250 MB"), "{full}");
        assert!(checked(&NewAttachment { name: "  ".into(), ..new.clone() }, 1, 0, &d).is_err());
        assert!(
            checked(&NewAttachment { media_type: "jpeg".into(), ..new.clone() }, 1, 0, &d).is_err()
        );
        // A team that allows 40 MB a file and 60 MB a case, and one that asks beyond the ceiling.
        let policy = crate::model::TeamPolicy {
            attachment_max_mb: 40,
            case_attachments_max_mb: 60,
            ..Default::default()
        };
        let team = Limits::of(&policy);
        assert!(checked(&new, 30 * 1024 * 1024, 0, &team).is_ok());
        let full = checked(&new, 30 * 1024 * 1024, 31 * 1024 * 1024, &team).unwrap_err();
        assert!(full.to_string().contains("hoogstens 60 MB"), "{full}");
        let greedy = crate::model::TeamPolicy { attachment_max_mb: u32::MAX, ..policy };
        assert_eq!(Limits::of(&greedy).file_bytes, Limits::CEILING.file_bytes);
    }

    #[test]
    fn a_files_extension_names_its_type() {
        assert_eq!(media_type_for("Brief Woonbron.JPG"), "image/jpeg");
        assert_eq!(media_type_for("toestemming.pdf"), "application/pdf");
        assert_eq!(media_type_for("scan"), "application/octet-stream");
        assert_eq!(media_type_for("archief.tar.gz"), "application/octet-stream");
    }
}
