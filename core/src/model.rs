//! The records of a case as callers see them: resident, visits, observations, assessments,
//! reviews. Read from a case document by `doc`; plain data, serialisable for the CLI's JSON.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checklist::Answers;
use crate::{Error, Result};

/// A resident or household. Only the name is needed; everything else is optional, and
/// absent fields are never written (data minimisation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Resident {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub household: Option<String>,
}

impl Resident {
    pub fn named(name: impl Into<String>) -> Self {
        Resident { name: name.into(), ..Default::default() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
    Escalated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum CaseType {
    Wmo,
    Jeugd,
    Participatiewet,
    Schuldhulp,
    Other,
}

/// Life domains in the style of the Zelfredzaamheid-Matrix, with our own short descriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum LifeDomain {
    Financien,
    WerkOpleiding,
    Tijdsbesteding,
    Huisvesting,
    HuiselijkeRelaties,
    GeestelijkeGezondheid,
    LichamelijkeGezondheid,
    Middelengebruik,
    BasaleAdl,
    InstrumenteleAdl,
    SociaalNetwerk,
    MaatschappelijkeParticipatie,
    Justitie,
}

/// A 1–5 self-sufficiency score: 1 acute problems … 5 fully self-sufficient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Score(u8);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub text: String,
    #[serde(default)]
    pub domain: Option<LifeDomain>,
    #[serde(default)]
    pub score: Option<Score>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Visit {
    pub id: String,
    pub at: DateTime<Utc>,
    pub author_device: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub present: Vec<String>,
    pub note: String,
    pub observations: Vec<Observation>,
}

/// What a worker enters to record a visit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewVisit {
    pub at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub present: Vec<String>,
    pub note: String,
    pub observations: Vec<Observation>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub author_device: String,
    pub framework_id: String,
    pub framework_version: u32,
    #[serde(flatten)]
    pub answers: Answers,
    /// When the worker last submitted it; `None` while it is still being written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whether that submission needs a supervisor's verdict (decided when submitting, from
    /// the team's policy then), so the queue does not shift when the policy changes later.
    pub needs_review: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ReviewVerdict {
    Approved,
    ChangesRequested,
    Escalated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    pub id: String,
    pub assessment_id: String,
    pub at: DateTime<Utc>,
    pub reviewer_device: String,
    pub verdict: ReviewVerdict,
    pub note: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_to: Option<String>,
    /// The submission this verdict is about (its `submitted_at`): a resubmission after
    /// changes were requested starts a new round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission: Option<DateTime<Utc>>,
    /// Earlier verdicts on the same submission that the reviewer saw and replaces. Two
    /// verdicts neither of which replaces the other were given concurrently.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supersedes: Vec<String>,
}

/// A single-valued field that was set concurrently on two devices. Automerge keeps every
/// value; a person chooses, and until then the case shows all of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Conflict {
    /// Where the field lives, e.g. `status` or `assessments/<id>/verdicts/<value>/verdict`.
    pub path: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    pub id: String,
    pub resident: Resident,
    pub status: CaseStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_type: Option<CaseType>,
    pub created_at: DateTime<Utc>,
    /// Sorted by time of the visit, then id, so every device lists them alike.
    pub visits: Vec<Visit>,
    pub assessments: Vec<Assessment>,
    pub reviews: Vec<Review>,
    /// Who opened, exported, printed this case, oldest first (see `access_log`).
    pub access_log: Vec<crate::access_log::AccessEntry>,
    /// When the case was last closed; `None` while it is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    pub conflicts: Vec<Conflict>,
    /// Files kept with the case or one of its visits, oldest first; their bytes are sealed
    /// apart (`Eropaf::attachment_content`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file kept with a case (a photo of a letter, a scan of a signed consent): what the case
/// says of it. Who attached it is the device whose change wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    /// Its media type, e.g. `image/jpeg` or `application/pdf`.
    pub media_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Bytes, as attached (after location data was taken out of a photo).
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit_id: Option<String>,
    pub at: DateTime<Utc>,
    pub author_device: String,
    /// Whether its bytes are on this device (they travel apart from the case).
    pub on_device: bool,
}

/// What a worker gives to attach a file; the bytes come beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewAttachment {
    pub name: String,
    pub media_type: String,
    pub caption: Option<String>,
    /// The visit it belongs to; `None` for the case as a whole.
    pub visit_id: Option<String>,
}

/// The small sealed row kept beside each case document, so that listing and searching never
/// load the documents themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: String,
    pub resident: ResidentName,
    pub status: CaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_type: Option<CaseType>,
    pub visit_count: u32,
    pub assessment_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visit_at: Option<DateTime<Utc>>,
    pub conflict_count: u32,
    /// For retention: when the case was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Who the case is assigned to; `None` while nobody assigned anyone, when the case
    /// belongs to the member whose device created it (`created_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignments: Option<Vec<Assignment>>,
    /// Hex id of the device whose change created the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// A member's place on a case: who reads it besides the team's supervisors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The member's name as the roster shows it.
    pub member: String,
    pub role: AssignmentRole,
    /// Access that ends by itself (granted on request); `None` for an assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Hex id of the supervisor's device that assigned.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A member's request for access to a case she is not assigned to, as this device sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessRequest {
    pub id: String,
    pub case_id: String,
    /// The requesting member, as the roster shows her device's card.
    pub member: String,
    /// Hex id of the device that asked.
    pub device: String,
    pub at: DateTime<Utc>,
    pub urgent: bool,
    /// The reason, when this device may read it (the team's supervisors and the requester);
    /// `None` elsewhere.
    pub reason: Option<String>,
    pub decision: Option<AccessDecision>,
}

/// A supervisor's answer to an access request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessDecision {
    pub granted: bool,
    /// The supervisor, as the roster shows her device's card.
    pub by: String,
    pub at: DateTime<Utc>,
    /// When granted access ends.
    pub until: Option<DateTime<Utc>>,
}

impl Assignment {
    /// Whether the assignment gives access at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum AssignmentRole {
    /// The case's worker.
    Worker,
    /// A colleague who stands in.
    Backup,
    /// Access granted on request, for a period.
    Temporary,
}

impl AssignmentRole {
    pub fn key(self) -> &'static str {
        match self {
            AssignmentRole::Worker => "worker",
            AssignmentRole::Backup => "backup",
            AssignmentRole::Temporary => "temporary",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AssignmentRole::Worker => "casusregisseur",
            AssignmentRole::Backup => "achtervang",
            AssignmentRole::Temporary => "tijdelijke toegang",
        }
    }

    pub fn parse(text: &str) -> Option<AssignmentRole> {
        [AssignmentRole::Worker, AssignmentRole::Backup, AssignmentRole::Temporary]
            .into_iter()
            .find(|role| role.key() == text || role.label() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentName {
    pub name: String,
}

impl Case {
    pub fn summary(&self) -> CaseSummary {
        CaseSummary {
            id: self.id.clone(),
            resident: ResidentName { name: self.resident.name.clone() },
            status: self.status,
            case_type: self.case_type,
            visit_count: count(self.visits.len()),
            assessment_count: count(self.assessments.len()),
            last_visit_at: self.visits.iter().map(|v| v.at).max(),
            conflict_count: count(self.conflicts.len()),
            closed_at: self.closed_at,
            // The full read leaves who may read the case to `CaseDoc::assignments`.
            assignments: None,
            created_by: None,
        }
    }

    pub fn assessment(&self, id: &str) -> Result<&Assessment> {
        self.assessments
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(|| Error::not_found("assessment", id))
    }

    pub fn visit(&self, id: &str) -> Result<&Visit> {
        self.visits.iter().find(|v| v.id == id).ok_or_else(|| Error::not_found("visit", id))
    }
}

pub use eropaf_protocol::text::fold;

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Generates `key()`, `parse()` and `ALL` for an enum whose stored form is a snake_case key.
macro_rules! keyed_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $key:literal, $label:literal;)+ }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn key(self) -> &'static str {
                match self { $($ty::$variant => $key),+ }
            }

            /// The Dutch name shown to workers.
            pub fn label(self) -> &'static str {
                match self { $($ty::$variant => $label),+ }
            }

            /// Accepts the key or the Dutch label, ignoring case and accents
            /// ("Financien", "financiën", "gesloten").
            pub fn parse(s: &str) -> Result<Self> {
                let wanted = fold(s.trim());
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| fold(v.key()) == wanted || fold(v.label()) == wanted)
                    .ok_or_else(|| {
                    let keys: Vec<&str> = Self::ALL.iter().map(|v| v.key()).collect();
                    Error::invalid($what, format!("onbekende waarde {wanted:?}; kies uit {}", keys.join(", ")))
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.key())
            }
        }
    };
}

keyed_enum!(CaseStatus, "status", {
    Open => "open", "Open";
    Closed => "closed", "Gesloten";
    Escalated => "escalated", "Geëscaleerd";
});

keyed_enum!(CaseType, "case_type", {
    Wmo => "wmo", "Wmo";
    Jeugd => "jeugd", "Jeugdwet";
    Participatiewet => "participatiewet", "Participatiewet";
    Schuldhulp => "schuldhulp", "Schuldhulpverlening";
    Other => "other", "Overig";
});

keyed_enum!(ReviewVerdict, "verdict", {
    Approved => "approved", "Goedgekeurd";
    ChangesRequested => "changes_requested", "Aanpassing gevraagd";
    Escalated => "escalated", "Geëscaleerd";
});

keyed_enum!(LifeDomain, "domain", {
    Financien => "financien", "Financiën";
    WerkOpleiding => "werk_opleiding", "Werk & opleiding";
    Tijdsbesteding => "tijdsbesteding", "Tijdsbesteding";
    Huisvesting => "huisvesting", "Huisvesting";
    HuiselijkeRelaties => "huiselijke_relaties", "Huiselijke relaties";
    GeestelijkeGezondheid => "geestelijke_gezondheid", "Geestelijke gezondheid";
    LichamelijkeGezondheid => "lichamelijke_gezondheid", "Lichamelijke gezondheid";
    Middelengebruik => "middelengebruik", "Middelengebruik";
    BasaleAdl => "basale_adl", "Basale ADL";
    InstrumenteleAdl => "instrumentele_adl", "Instrumentele ADL";
    SociaalNetwerk => "sociaal_netwerk", "Sociaal netwerk";
    MaatschappelijkeParticipatie => "maatschappelijke_participatie", "Maatschappelijke participatie";
    Justitie => "justitie", "Justitie";
});

impl LifeDomain {
    /// Our own one-line description of the domain (not the ZRM criteria texts).
    pub fn description(self) -> &'static str {
        match self {
            LifeDomain::Financien => "Inkomen, vaste lasten en schulden",
            LifeDomain::WerkOpleiding => "Betaald werk, opleiding of het zoeken daarnaar",
            LifeDomain::Tijdsbesteding => "Een zinvolle en regelmatige dagbesteding",
            LifeDomain::Huisvesting => "Een veilige, betaalbare en passende woonplek",
            LifeDomain::HuiselijkeRelaties => "Hoe het gaat tussen de mensen in huis",
            LifeDomain::GeestelijkeGezondheid => "Psychisch welzijn en hulp daarbij",
            LifeDomain::LichamelijkeGezondheid => "Lichamelijke klachten, zorg en medicatie",
            LifeDomain::Middelengebruik => "Alcohol, drugs, medicijnen of gokken",
            LifeDomain::BasaleAdl => "Zelf eten, wassen, aankleden en bewegen",
            LifeDomain::InstrumenteleAdl => "Huishouden, boodschappen en post regelen",
            LifeDomain::SociaalNetwerk => "Familie, vrienden en buren om op terug te vallen",
            LifeDomain::MaatschappelijkeParticipatie => {
                "Meedoen in buurt, vereniging of vrijwilligerswerk"
            }
            LifeDomain::Justitie => "Contact met politie of justitie",
        }
    }
}

impl Score {
    pub fn new(value: u8) -> Result<Score> {
        if (1..=5).contains(&value) {
            Ok(Score(value))
        } else {
            Err(Error::invalid("score", format!("{value} ligt niet tussen 1 en 5")))
        }
    }

    pub fn value(self) -> u8 {
        self.0
    }

    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "Acute problematiek",
            2 => "Niet zelfredzaam",
            3 => "Beperkt zelfredzaam",
            4 => "Voldoende zelfredzaam",
            _ => "Volledig zelfredzaam",
        }
    }
}

impl TryFrom<u8> for Score {
    type Error = Error;

    fn try_from(value: u8) -> Result<Score> {
        Score::new(value)
    }
}

impl From<Score> for u8 {
    fn from(score: Score) -> u8 {
        score.0
    }
}

impl Observation {
    /// Parses the CLI form `DOMAIN:SCORE:TEXT`, where domain and score may be left empty
    /// (`::Kijkt weer vooruit`), or plain text without colons.
    pub fn parse_cli(spec: &str) -> Result<Observation> {
        let mut parts = spec.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(domain), Some(score), Some(text)) => {
                let domain = match domain.trim() {
                    "" => None,
                    d => Some(LifeDomain::parse(d)?),
                };
                let score = match score.trim() {
                    "" => None,
                    s => {
                        let n: u8 = s.parse().map_err(|_| {
                            Error::invalid(
                                "score",
                                format!("{s:?} is geen getal van 1 tot en met 5"),
                            )
                        })?;
                        Some(Score::new(n)?)
                    }
                };
                Observation::new(text, domain, score)
            }
            (Some(_), Some(_), None) => Err(Error::invalid(
                "observation",
                format!("{spec:?}: schrijf DOMEIN:SCORE:TEKST, of ::TEKST zonder domein en score"),
            )),
            _ => Observation::new(spec, None, None),
        }
    }

    pub fn new(
        text: &str,
        domain: Option<LifeDomain>,
        score: Option<Score>,
    ) -> Result<Observation> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::invalid("observation", "de tekst is leeg"));
        }
        Ok(Observation { text: text.to_string(), domain, score })
    }
}

/// Parses an amount in euros as people write it ("750", "1234,50", "1.234,50", "1.500",
/// "€ 12.5") into cents.
pub fn parse_euro_cents(text: &str) -> Result<u64> {
    let invalid = || Error::invalid("budget", format!("{text:?} is geen bedrag in euro's"));
    let cleaned: String =
        text.trim().trim_start_matches('€').trim().chars().filter(|c| *c != ' ').collect();
    // With a comma, the comma is the decimal mark and dots group thousands (Dutch style).
    // Without one, dots that each stand before three digits also group thousands: a worker
    // who types "1.500" means fifteen hundred euros, not one and a half.
    let groups_thousands = |text: &str| {
        let mut groups = text.split('.');
        let lead = groups.next().unwrap_or_default();
        text.contains('.') && (1..=3).contains(&lead.len()) && groups.all(|group| group.len() == 3)
    };
    let normalised = if cleaned.contains(',') || groups_thousands(&cleaned) {
        cleaned.replace('.', "").replace(',', ".")
    } else {
        cleaned
    };
    let (whole, fraction) = normalised.split_once('.').unwrap_or((&normalised, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(invalid());
    }
    let euros: u64 = whole.parse().map_err(|_| invalid())?;
    let cents: u64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<2}").parse().map_err(|_| invalid())?
    };
    euros.checked_mul(100).and_then(|c| c.checked_add(cents)).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observation_cli_form_parses_domain_score_and_text() {
        let o = Observation::parse_cli("financien:2:Huurachterstand van drie maanden").unwrap();
        assert_eq!(o.domain, Some(LifeDomain::Financien));
        assert_eq!(o.score.map(Score::value), Some(2));
        assert_eq!(o.text, "Huurachterstand van drie maanden");

        let bare = Observation::parse_cli("::Kijkt weer vooruit").unwrap();
        assert_eq!((bare.domain, bare.score), (None, None));
        let plain = Observation::parse_cli("Geen post geopend").unwrap();
        assert_eq!(plain.text, "Geen post geopend");
        let accented = Observation::parse_cli("Financiën:2:Schulden").unwrap();
        assert_eq!(accented.domain, Some(LifeDomain::Financien));
        assert!(Observation::parse_cli("financien:2").is_err(), "a mistyped spec is not free text");
    }

    #[test]
    fn bad_observations_name_the_field() {
        let err = Observation::parse_cli("financien:7:Te hoog").unwrap_err();
        assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "score"));
        let err = Observation::parse_cli("geld:3:Onbekend domein").unwrap_err();
        assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "domain"));
        let err = Observation::parse_cli("financien:3:   ").unwrap_err();
        assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "observation"));
    }

    #[test]
    fn euro_amounts_parse_as_people_write_them() {
        assert_eq!(parse_euro_cents("750").unwrap(), 75_000);
        assert_eq!(parse_euro_cents("1234,50").unwrap(), 123_450);
        assert_eq!(parse_euro_cents("€ 1.234,5").unwrap(), 123_450);
        assert_eq!(parse_euro_cents("12.05").unwrap(), 1_205);
        assert_eq!(parse_euro_cents("12.5").unwrap(), 1_250);
        assert_eq!(parse_euro_cents("1.500").unwrap(), 150_000, "a dot before three digits groups");
        assert_eq!(parse_euro_cents("€ 12.345.678").unwrap(), 1_234_567_800);
        for bad in ["", "abc", "-5", "1,234", "1.2.3", "1.5000", "1234.500"] {
            assert!(parse_euro_cents(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_domain_key_from_the_design_is_known() {
        let keys = "financien werk_opleiding tijdsbesteding huisvesting huiselijke_relaties \
                    geestelijke_gezondheid lichamelijke_gezondheid middelengebruik basale_adl \
                    instrumentele_adl sociaal_netwerk maatschappelijke_participatie justitie";
        for key in keys.split_whitespace() {
            assert_eq!(LifeDomain::parse(key).unwrap().key(), key);
        }
        assert_eq!(LifeDomain::ALL.len(), 13);
        assert_eq!(CaseStatus::parse("Gesloten").unwrap(), CaseStatus::Closed);
        assert_eq!(CaseStatus::parse("geescaleerd").unwrap(), CaseStatus::Escalated);
    }
}

/// How long a phone app stays unlocked without use when its team set nothing (or before it
/// joined one): long enough for a conversation at the kitchen table, short enough that a phone
/// left behind locks before the finder has it.
pub const DEFAULT_LOCK_AFTER_IDLE_MINUTES: u32 = 5;
/// The longest idle time a team may choose.
pub const MAX_LOCK_AFTER_IDLE_MINUTES: u32 = 60;

/// What the team decided about reviews, budget and retention. Every field has a default, so a
/// team that never set one still works.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TeamPolicy {
    /// A maatwerkbudget above this amount (cents) needs a supervisor's verdict.
    pub review_threshold_cents: u64,
    /// The team's maatwerkbudget for the year, in cents.
    pub budget_cents: u64,
    /// Years a closed case of each type is kept before it is listed for erasure.
    pub retention_years: std::collections::BTreeMap<CaseType, u32>,
    /// "Gedeelde caseload": every member reads every case, as before need-to-know. Off by
    /// default: a case is read by its assigned members and the supervisors only. A small
    /// team that covers for each other may decide otherwise; the choice is the team's,
    /// recorded in the team document, and changed by a supervisor only.
    pub shared_caseload: bool,
    /// After this many wrong passphrases in a row a device destroys its store (0: never).
    /// Stops someone who has the phone from guessing in the app; it does not stop one who
    /// copied the store's file first and guesses offline (Argon2id makes each guess cost).
    pub wipe_after_failed_unlocks: u32,
    /// The phone apps lock (forget the store key) after this many minutes without use, and
    /// ask for the platform's user presence (biometric or PIN) to go on. 1 to 60.
    pub lock_after_idle_minutes: u32,
    /// A case's worker may add a colleague as backup herself (off by default: supervisors
    /// assign). Every receiver holds such a change to exactly that (`doc::authority`).
    pub workers_add_backups: bool,
    /// The most one attached file may hold, in MB (1 to `attachments::CEILING_FILE_MB`).
    pub attachment_max_mb: u32,
    /// The most a case's files may hold together, in MB (1 to `attachments::CEILING_CASE_MB`).
    pub case_attachments_max_mb: u32,
    /// Photos keep the place they were taken (EXIF GPS). Off by default: where a resident
    /// lives is in the case already, and a photo's location also tells where the worker was.
    pub keep_photo_location: bool,
    /// Phones fetch every file of their cases whenever they are on Wi-Fi, not only the one a
    /// worker opens: a team that visits where there is no network may want the letters with
    /// them. Off by default: a phone holds what it needs.
    pub fetch_files_on_wifi: bool,
}

impl Default for TeamPolicy {
    fn default() -> Self {
        TeamPolicy {
            review_threshold_cents: 50_000,
            budget_cents: 2_500_000,
            retention_years: CaseType::ALL
                .iter()
                .map(|t| (*t, crate::records::retention::default_years(*t)))
                .collect(),
            shared_caseload: false,
            wipe_after_failed_unlocks: 0,
            lock_after_idle_minutes: DEFAULT_LOCK_AFTER_IDLE_MINUTES,
            workers_add_backups: false,
            attachment_max_mb: 25,
            case_attachments_max_mb: 250,
            keep_photo_location: false,
            fetch_files_on_wifi: false,
        }
    }
}
