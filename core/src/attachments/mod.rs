//! Files kept with a case (a photo of the letter from the woningcorporatie, a scan of a signed
//! consent): how large they may be, what a worker must give with one, and taking the place a
//! photo was taken out of it (`location`), and reading what is sealed a chunk at a time
//! (`content`), and a case's reference to a file read into what opens it (`sealed`). Sealing is `eropaf_protocol::attachment`; storing and
//! reading them back is the device's (`device/attachments.rs`).

pub mod content;
pub mod location;
pub(crate) mod sealed;

use crate::model::NewAttachment;
use crate::{Error, Result};

/// The most a file may hold.
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// The most the files of one case may hold together.
pub const MAX_CASE_BYTES: u64 = 250 * 1024 * 1024;
/// A name longer than this is a mistake, not a file name.
const MAX_NAME_CHARS: usize = 200;

/// What is attached as given, trimmed and checked, before anything is written: a name, a
/// media type (`application/octet-stream` when none is known) and the size within bounds.
pub fn checked(new: &NewAttachment, size: u64, case_bytes: u64) -> Result<NewAttachment> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("naam", "geef de bijlage een naam, bijvoorbeeld brief.jpg"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid("naam", format!("hoogstens {MAX_NAME_CHARS} tekens")));
    }
    if size > MAX_FILE_BYTES {
        return Err(Error::invalid(
            "bijlage",
            format!(
                "{name} is {}; een bijlage mag hoogstens {} zijn",
                megabytes(size),
                megabytes(MAX_FILE_BYTES)
            ),
        ));
    }
    if case_bytes.saturating_add(size) > MAX_CASE_BYTES {
        return Err(Error::invalid(
            "bijlage",
            format!(
                "de bijlagen van deze casus zijn samen al {}; er kan hoogstens {} bij",
                megabytes(case_bytes),
                megabytes(MAX_CASE_BYTES)
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
        let ok = checked(&new, 1000, 0).unwrap();
        assert_eq!((ok.name.as_str(), ok.media_type.as_str()), ("brief.jpg", "image/jpeg"));
        let untyped = NewAttachment { media_type: String::new(), ..new.clone() };
        assert_eq!(checked(&untyped, 1, 0).unwrap().media_type, "application/octet-stream");
        let too_big = checked(&new, MAX_FILE_BYTES + 1, 0).unwrap_err().to_string();
        assert!(too_big.contains("hoogstens 25 MB"), "{too_big}");
        let full = checked(&new, 2 * 1024 * 1024, MAX_CASE_BYTES - 1024).unwrap_err().to_string();
        assert!(full.contains("hoogstens 250 MB"), "{full}");
        assert!(checked(&NewAttachment { name: "  ".into(), ..new.clone() }, 1, 0).is_err());
        assert!(checked(&NewAttachment { media_type: "jpeg".into(), ..new }, 1, 0).is_err());
    }

    #[test]
    fn a_files_extension_names_its_type() {
        assert_eq!(media_type_for("Brief Woonbron.JPG"), "image/jpeg");
        assert_eq!(media_type_for("toestemming.pdf"), "application/pdf");
        assert_eq!(media_type_for("scan"), "application/octet-stream");
        assert_eq!(media_type_for("archief.tar.gz"), "application/octet-stream");
    }
}
