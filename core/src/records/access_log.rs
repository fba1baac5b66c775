//! The access log of a case (NEN 7513 style): who opened, exported, printed or erased it,
//! when, and on whose behalf. Entries live inside the case's encrypted document, so they sync
//! like the rest of the case and an inzage export can include them; erasures, which outlive
//! the case, are kept in the team document by case id only.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A repeated identical access within this window is one entry: opening a case ten times
/// while writing a report must not grow the document ten times.
pub const COALESCE_WINDOW_MINUTES: i64 = 15;

/// How far back a new entry looks for an identical one (entries of other devices may
/// interleave).
const COALESCE_LOOKBACK: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    Open,
    Export,
    Print,
    Erase,
    /// A supervisor granted a member access on her request (`on_behalf` says whose, why and
    /// until when).
    GrantAccess,
    /// A supervisor refused a member's request for access.
    RefuseAccess,
    /// A file kept with the case was opened (its bytes shown or saved).
    OpenAttachment,
}

impl AccessAction {
    pub const ALL: [AccessAction; 7] = [
        AccessAction::Open,
        AccessAction::Export,
        AccessAction::Print,
        AccessAction::Erase,
        AccessAction::GrantAccess,
        AccessAction::RefuseAccess,
        AccessAction::OpenAttachment,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AccessAction::Open => "open",
            AccessAction::Export => "export",
            AccessAction::Print => "print",
            AccessAction::Erase => "erase",
            AccessAction::GrantAccess => "grant_access",
            AccessAction::RefuseAccess => "refuse_access",
            AccessAction::OpenAttachment => "open_attachment",
        }
    }

    /// The Dutch word shown in the log.
    pub fn label(self) -> &'static str {
        match self {
            AccessAction::Open => "Geopend",
            AccessAction::Export => "Geëxporteerd",
            AccessAction::Print => "Afgedrukt",
            AccessAction::Erase => "Gewist",
            AccessAction::GrantAccess => "Toegang verleend",
            AccessAction::RefuseAccess => "Toegang geweigerd",
            AccessAction::OpenAttachment => "Bijlage geopend",
        }
    }

    pub fn parse(key: &str) -> Option<AccessAction> {
        AccessAction::ALL.into_iter().find(|a| a.key() == key)
    }
}

/// One access: event, time, case (the document it lives in), user, action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub at: DateTime<Utc>,
    /// The device (hex id) that recorded the access.
    pub device: String,
    /// The person using that device, as the team knows them.
    pub member: String,
    pub action: AccessAction,
    /// Whom the access was for, when not for the member's own work (e.g. "inzageverzoek
    /// bewoner", "bezwaarcommissie").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf: Option<String>,
}

impl AccessEntry {
    /// Whether `self` repeats `earlier` closely enough to be left out.
    pub fn repeats(&self, earlier: &AccessEntry) -> bool {
        self.device == earlier.device
            && self.member == earlier.member
            && self.action == earlier.action
            && self.on_behalf == earlier.on_behalf
            && self.at >= earlier.at
            && self.at - earlier.at < Duration::minutes(COALESCE_WINDOW_MINUTES)
    }
}

/// Whether `entry` adds anything to a log ending in `log` (oldest first). Exports, prints
/// and erasures are always recorded; only opens (of the case, or of its files) coalesce.
pub fn is_new(log: &[AccessEntry], entry: &AccessEntry) -> bool {
    if !matches!(entry.action, AccessAction::Open | AccessAction::OpenAttachment) {
        return true;
    }
    !log.iter().rev().take(COALESCE_LOOKBACK).any(|earlier| entry.repeats(earlier))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(minutes: i64, action: AccessAction) -> AccessEntry {
        AccessEntry {
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap() + Duration::minutes(minutes),
            device: "aa".into(),
            member: "Marieke".into(),
            action,
            on_behalf: None,
        }
    }

    #[test]
    fn opens_coalesce_within_the_window_but_exports_never_do() {
        let log = vec![entry(0, AccessAction::Open)];
        assert!(!is_new(&log, &entry(5, AccessAction::Open)));
        assert!(is_new(&log, &entry(COALESCE_WINDOW_MINUTES, AccessAction::Open)));
        assert!(is_new(&log, &entry(1, AccessAction::Export)));
        let log = vec![entry(0, AccessAction::Export)];
        assert!(is_new(&log, &entry(1, AccessAction::Export)));
        let mut other = entry(1, AccessAction::Open);
        other.on_behalf = Some("inzageverzoek".into());
        assert!(is_new(&[entry(0, AccessAction::Open)], &other), "another purpose is news");
    }
}
