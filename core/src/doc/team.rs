//! The team's document: the value frameworks, the team's policy (review threshold,
//! maatwerkbudget, retention periods), the record of erased cases and the members' requests
//! for access to cases (their reasons sealed to the supervisors). Frameworks are stored as
//! their source text under `id/version`, so every device reproduces an assessment's
//! justification from the exact framework version it was written against.
//!
//! Every device starts its own team document before it joins, so after a merge the top-level
//! maps exist several times (one per device, concurrently created). Readers take the union of
//! all of them; a writer writes into the one automerge shows as winner, which is the same on
//! every device.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT,
};
use chrono::{DateTime, TimeZone, Utc};

use crate::access_log::{AccessAction, AccessEntry};
use crate::attachments::{CEILING_CASE_MB, CEILING_FILE_MB};
use crate::checklist::Framework;
use crate::crypto::SealedBox;
use crate::model::{CaseType, TeamPolicy, MAX_LOCK_AFTER_IDLE_MINUTES};
use crate::{Error, Result};

pub(crate) const SCHEMA: u64 = 1;
pub(crate) const ACCESS_REQUESTS: &str = "access_requests";

/// An access request as the team document holds it; `device` made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRequest {
    pub id: String,
    pub case_id: String,
    pub device: String,
    pub at: DateTime<Utc>,
    pub urgent: bool,
    /// Its reason, sealed to each device (hex id) that may read it.
    pub reasons: BTreeMap<String, SealedBox>,
    pub decision: Option<StoredDecision>,
}

/// An answer to a request; `device` made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDecision {
    pub device: String,
    pub granted: bool,
    pub at: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// An erased case as the team remembers it: the id and the access, never the resident.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    pub case_id: String,
    pub entry: AccessEntry,
}

pub struct TeamDoc {
    doc: AutoCommit,
}

impl TeamDoc {
    pub fn create(actor: &[u8]) -> Result<TeamDoc> {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema", SCHEMA)?;
        doc.put_object(ROOT, "frameworks", ObjType::Map)?;
        doc.commit();
        Ok(TeamDoc { doc })
    }

    pub fn load(chunks: &[Vec<u8>], actor: &[u8]) -> Result<TeamDoc> {
        let doc = TeamDoc { doc: super::load_chunks(chunks, actor)? };
        doc.check_schema()?;
        Ok(doc)
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Every change this device made (actor ids starting with `device`): what it publishes
    /// the first time it shares a change to the team document.
    pub fn own_changes(&mut self, device: &[u8; 16]) -> Vec<u8> {
        self.doc
            .get_changes(&[])
            .iter()
            .filter(|c| c.actor_id().to_bytes().starts_with(device))
            .flat_map(|c| c.raw_bytes().to_vec())
            .collect()
    }

    /// The first rule a worker's changes in `payload` break (`authority::team_breach`),
    /// checked on a copy: nothing of them is applied here.
    pub fn worker_breach(&self, payload: &[u8]) -> Result<Option<super::authority::Breach>> {
        let mut copy = self.doc.clone();
        let before = copy.get_heads();
        copy.load_incremental(payload)?;
        let changes = copy.get_changes(&before);
        Ok(changes.iter().find_map(|change| super::authority::team_breach(&copy, change)))
    }

    /// Merges another device's changes. Returns whether anything new arrived.
    pub fn merge_bytes(&mut self, bytes: &[u8]) -> Result<bool> {
        let changed = super::merge_changes(&mut self.doc, bytes)?;
        self.check_schema()?;
        Ok(changed)
    }

    fn check_schema(&self) -> Result<()> {
        for (value, _) in self.doc.get_all(ROOT, "schema")? {
            if let Value::Scalar(s) = value {
                if let ScalarValue::Uint(v) = s.as_ref() {
                    if *v > SCHEMA {
                        return Err(Error::Document(
                            "the team document was written by a newer version".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds a framework version. Versions are immutable once shared: a changed framework
    /// needs a higher version number.
    pub fn install_framework(&mut self, framework: &Framework, source: &str) -> Result<()> {
        let key = framework_key(&framework.id, framework.version);
        let newest =
            self.frameworks()?.iter().filter(|f| f.id == framework.id).map(|f| f.version).max();
        if let Some(newest) = newest.filter(|v| *v >= framework.version) {
            return Err(Error::invalid(
                "version",
                format!(
                    "waardenkader {} heeft al versie {newest}; verhoog het versienummer",
                    framework.id
                ),
            ));
        }
        let frameworks = self.writable_map("frameworks")?;
        let obj = self.doc.put_object(&frameworks, key.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "source", source)?;
        self.doc.commit();
        Ok(())
    }

    /// Every installed framework version, sorted by id then version.
    pub fn frameworks(&self) -> Result<Vec<Framework>> {
        let mut sources = BTreeMap::new();
        for map in self.maps("frameworks")? {
            for key in self.doc.keys(&map) {
                if let Some((Value::Object(ObjType::Map), obj)) =
                    self.doc.get(&map, key.as_str())?
                {
                    if let Some(source) = self.string(&obj, "source")? {
                        sources.entry(key).or_insert(source);
                    }
                }
            }
        }
        let mut frameworks = Vec::with_capacity(sources.len());
        for (key, source) in &sources {
            let framework = Framework::parse(source)?;
            // A version's identity is the key it was installed under: a source that claims
            // another id or version there would shadow the framework that assessments were
            // justified against.
            if *key == framework_key(&framework.id, framework.version) {
                frameworks.push(framework);
            }
        }
        frameworks.sort_by(|a, b| a.id.cmp(&b.id).then(a.version.cmp(&b.version)));
        Ok(frameworks)
    }

    /// The TOML source of one framework version, as installed.
    pub fn framework_source(&self, id: &str, version: u32) -> Result<Option<String>> {
        let key = framework_key(id, version);
        for map in self.maps("frameworks")? {
            if let Some((Value::Object(ObjType::Map), obj)) = self.doc.get(&map, key.as_str())? {
                if let Some(source) = self.string(&obj, "source")? {
                    return Ok(Some(source));
                }
            }
        }
        Ok(None)
    }

    pub fn policy(&self) -> Result<TeamPolicy> {
        let mut policy = TeamPolicy::default();
        for map in self.maps("policy")? {
            if let Some(v) = self.uint(&map, "review_threshold_cents")? {
                policy.review_threshold_cents = v;
            }
            if let Some(v) = self.uint(&map, "budget_cents")? {
                policy.budget_cents = v;
            }
            if let Some(v) = self.uint(&map, "shared_caseload")? {
                policy.shared_caseload = v == 1;
            }
            if let Some(v) = self.uint(&map, "workers_add_backups")? {
                policy.workers_add_backups = v == 1;
            }
            // Out of range came from a device that skipped the check below: held to it.
            if let Some(v) = self.uint(&map, "attachment_max_mb")? {
                policy.attachment_max_mb =
                    u32::try_from(v).unwrap_or(u32::MAX).clamp(1, CEILING_FILE_MB);
            }
            if let Some(v) = self.uint(&map, "case_attachments_max_mb")? {
                policy.case_attachments_max_mb =
                    u32::try_from(v).unwrap_or(u32::MAX).clamp(1, CEILING_CASE_MB);
            }
            if let Some(v) = self.uint(&map, "keep_photo_location")? {
                policy.keep_photo_location = v == 1;
            }
            if let Some(v) = self.uint(&map, "fetch_files_on_wifi")? {
                policy.fetch_files_on_wifi = v == 1;
            }
            if let Some(v) = self.uint(&map, "wipe_after_failed_unlocks")? {
                policy.wipe_after_failed_unlocks = u32::try_from(v).unwrap_or(0);
            }
            if let Some(v) = self.uint(&map, "lock_after_idle_minutes")? {
                // A value outside the range came from a device that skipped the check below:
                // the nearest allowed value keeps the phones locking.
                policy.lock_after_idle_minutes = u32::try_from(v)
                    .unwrap_or(MAX_LOCK_AFTER_IDLE_MINUTES)
                    .clamp(1, MAX_LOCK_AFTER_IDLE_MINUTES);
            }
            for case_type in CaseType::ALL {
                let key = format!("retention_years/{}", case_type.key());
                if let Some(years) = self.uint(&map, &key)? {
                    policy
                        .retention_years
                        .insert(*case_type, u32::try_from(years).unwrap_or(u32::MAX));
                }
            }
        }
        Ok(policy)
    }

    /// Stores the fields of `policy` that differ from what the document holds.
    pub fn set_policy(&mut self, policy: &TeamPolicy) -> Result<()> {
        if policy.wipe_after_failed_unlocks != 0 && policy.wipe_after_failed_unlocks < 3 {
            return Err(Error::invalid(
                "wachtwoordpogingen",
                "kies 0 (nooit wissen) of ten minste 3 pogingen: een tikfout mag geen gegevens kosten",
            ));
        }
        if !(1..=MAX_LOCK_AFTER_IDLE_MINUTES).contains(&policy.lock_after_idle_minutes) {
            return Err(Error::invalid(
                "vergrendelen",
                format!(
                    "{} minuten kan niet: kies 1 tot {MAX_LOCK_AFTER_IDLE_MINUTES} minuten zonder gebruik",
                    policy.lock_after_idle_minutes
                ),
            ));
        }
        if !(1..=CEILING_FILE_MB).contains(&policy.attachment_max_mb) {
            return Err(Error::invalid(
                "bijlagen",
                format!(
                    "{} MB per bestand kan niet: kies 1 tot {CEILING_FILE_MB} MB",
                    policy.attachment_max_mb
                ),
            ));
        }
        if !(policy.attachment_max_mb..=CEILING_CASE_MB).contains(&policy.case_attachments_max_mb) {
            return Err(Error::invalid(
                "bijlagen",
                format!(
                    "{} MB per casus kan niet: kies {} (één bestand) tot {CEILING_CASE_MB} MB",
                    policy.case_attachments_max_mb, policy.attachment_max_mb
                ),
            ));
        }
        for (case_type, years) in &policy.retention_years {
            if *years == 0 || *years > 100 {
                return Err(Error::invalid(
                    "retention_years",
                    format!("{} jaar voor {} kan niet: kies 1 tot 100", years, case_type.label()),
                ));
            }
        }
        let current = self.policy()?;
        let map = self.writable_map("policy")?;
        if current.review_threshold_cents != policy.review_threshold_cents {
            self.doc.put(&map, "review_threshold_cents", policy.review_threshold_cents)?;
        }
        if current.budget_cents != policy.budget_cents {
            self.doc.put(&map, "budget_cents", policy.budget_cents)?;
        }
        if current.shared_caseload != policy.shared_caseload {
            self.doc.put(&map, "shared_caseload", u64::from(policy.shared_caseload))?;
        }
        if current.workers_add_backups != policy.workers_add_backups {
            self.doc.put(&map, "workers_add_backups", u64::from(policy.workers_add_backups))?;
        }
        if current.attachment_max_mb != policy.attachment_max_mb {
            self.doc.put(&map, "attachment_max_mb", u64::from(policy.attachment_max_mb))?;
        }
        if current.case_attachments_max_mb != policy.case_attachments_max_mb {
            let mb = u64::from(policy.case_attachments_max_mb);
            self.doc.put(&map, "case_attachments_max_mb", mb)?;
        }
        if current.keep_photo_location != policy.keep_photo_location {
            self.doc.put(&map, "keep_photo_location", u64::from(policy.keep_photo_location))?;
        }
        if current.fetch_files_on_wifi != policy.fetch_files_on_wifi {
            self.doc.put(&map, "fetch_files_on_wifi", u64::from(policy.fetch_files_on_wifi))?;
        }
        if current.wipe_after_failed_unlocks != policy.wipe_after_failed_unlocks {
            self.doc.put(
                &map,
                "wipe_after_failed_unlocks",
                u64::from(policy.wipe_after_failed_unlocks),
            )?;
        }
        if current.lock_after_idle_minutes != policy.lock_after_idle_minutes {
            self.doc.put(
                &map,
                "lock_after_idle_minutes",
                u64::from(policy.lock_after_idle_minutes),
            )?;
        }
        for (case_type, years) in &policy.retention_years {
            if current.retention_years.get(case_type) != Some(years) {
                let key = format!("retention_years/{}", case_type.key());
                self.doc.put(&map, key.as_str(), u64::from(*years))?;
            }
        }
        self.doc.commit();
        Ok(())
    }

    /// Remembers that a case was erased, by id only.
    pub fn record_erasure(&mut self, case_id: &str, entry: &AccessEntry) -> Result<()> {
        let map = self.writable_map("erasures")?;
        let obj = self.doc.put_object(&map, case_id, ObjType::Map)?;
        self.doc.put(&obj, "at", ScalarValue::Timestamp(entry.at.timestamp_millis()))?;
        self.doc.put(&obj, "device", entry.device.as_str())?;
        self.doc.put(&obj, "member", entry.member.as_str())?;
        if let Some(on_behalf) = &entry.on_behalf {
            self.doc.put(&obj, "on_behalf", on_behalf.as_str())?;
        }
        self.doc.commit();
        Ok(())
    }

    /// Erased cases, oldest first.
    pub fn erasures(&self) -> Result<Vec<Erasure>> {
        let mut found = BTreeMap::new();
        for map in self.maps("erasures")? {
            for case_id in self.doc.keys(&map) {
                let Some((Value::Object(ObjType::Map), obj)) =
                    self.doc.get(&map, case_id.as_str())?
                else {
                    continue;
                };
                let at = match self.doc.get(&obj, "at")? {
                    Some((Value::Scalar(s), _)) => match s.as_ref() {
                        ScalarValue::Timestamp(ms) => Utc.timestamp_millis_opt(*ms).single(),
                        _ => None,
                    },
                    _ => None,
                };
                let entry = AccessEntry {
                    at: at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
                    device: self.string(&obj, "device")?.unwrap_or_default(),
                    member: self.string(&obj, "member")?.unwrap_or_default(),
                    action: AccessAction::Erase,
                    on_behalf: self.string(&obj, "on_behalf")?,
                };
                found.entry(case_id.clone()).or_insert(Erasure { case_id, entry });
            }
        }
        let mut erasures: Vec<Erasure> = found.into_values().collect();
        erasures.sort_by_key(|e| e.entry.at);
        Ok(erasures)
    }

    /// Adds a member's request for access to a case, with its reason sealed to each device
    /// that may read it (`recipient -> sealed box`). Who asked is the device whose change
    /// made the request, never a field.
    pub fn add_access_request(
        &mut self,
        request_id: &str,
        case_id: &str,
        urgent: bool,
        at: DateTime<Utc>,
        reasons: &BTreeMap<String, SealedBox>,
    ) -> Result<()> {
        let map = self.writable_map(ACCESS_REQUESTS)?;
        let obj = self.doc.put_object(&map, request_id, ObjType::Map)?;
        self.doc.put(&obj, "case_id", case_id)?;
        self.doc.put(&obj, "urgent", urgent)?;
        self.doc.put(&obj, "at", ScalarValue::Timestamp(at.timestamp_millis()))?;
        let sealed = self.doc.put_object(&obj, "reasons", ObjType::Map)?;
        for (recipient, sealed_box) in reasons {
            let json = serde_json::to_string(sealed_box)
                .map_err(|e| Error::Document(format!("a sealed reason: {e}")))?;
            self.doc.put(&sealed, recipient.as_str(), json)?;
        }
        self.doc.commit();
        Ok(())
    }

    /// Answers a request: granted until `until`, or refused (`until` is then `None`). Who
    /// answered is the device whose change made the decision.
    pub fn decide_access_request(
        &mut self,
        request_id: &str,
        granted: bool,
        at: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let request = self
            .request_objects()?
            .into_iter()
            .find(|(id, _)| id == request_id)
            .map(|(_, obj)| obj)
            .ok_or_else(|| Error::not_found("verzoek", request_id))?;
        let decision = self.doc.put_object(&request, "decision", ObjType::Map)?;
        self.doc.put(&decision, "granted", granted)?;
        self.doc.put(&decision, "at", ScalarValue::Timestamp(at.timestamp_millis()))?;
        if let Some(until) = until {
            self.doc.put(&decision, "until", ScalarValue::Timestamp(until.timestamp_millis()))?;
        }
        self.doc.commit();
        Ok(())
    }

    /// Every access request, oldest first; each field as written by the device that made
    /// the request (or the decision), and a field anyone else wrote over it is not read.
    pub fn access_requests(&self) -> Result<Vec<StoredRequest>> {
        let mut requests = Vec::new();
        for (id, obj) in self.request_objects()? {
            let Some(device) = creator_device(&obj) else { continue };
            let by_device = |key: &str| self.written_by(&obj, key, &device);
            let Some(ScalarValue::Str(case_id)) = by_device("case_id")? else { continue };
            let Some(ScalarValue::Timestamp(at)) = by_device("at")? else { continue };
            let urgent = matches!(by_device("urgent")?, Some(ScalarValue::Boolean(true)));
            let mut reasons = BTreeMap::new();
            if let Some((Value::Object(ObjType::Map), sealed)) = self.doc.get(&obj, "reasons")? {
                if creator_device(&sealed).as_ref() == Some(&device) {
                    for recipient in self.doc.keys(&sealed) {
                        if let Some(ScalarValue::Str(json)) =
                            self.written_by(&sealed, &recipient, &device)?
                        {
                            if let Ok(sealed_box) = serde_json::from_str(&json) {
                                reasons.insert(recipient, sealed_box);
                            }
                        }
                    }
                }
            }
            let decision = match self.doc.get(&obj, "decision")? {
                Some((Value::Object(ObjType::Map), decision)) => creator_device(&decision)
                    .and_then(|by| {
                        let field = |key: &str| self.written_by(&decision, key, &by).ok().flatten();
                        let granted = matches!(field("granted"), Some(ScalarValue::Boolean(true)));
                        let Some(ScalarValue::Timestamp(at)) = field("at") else { return None };
                        let until = match field("until") {
                            Some(ScalarValue::Timestamp(ms)) => {
                                Utc.timestamp_millis_opt(ms).single()
                            }
                            _ => None,
                        };
                        Some(StoredDecision {
                            device: by,
                            granted,
                            at: Utc.timestamp_millis_opt(at).single()?,
                            until,
                        })
                    }),
                _ => None,
            };
            let Some(at) = Utc.timestamp_millis_opt(at).single() else { continue };
            requests.push(StoredRequest {
                id,
                case_id: case_id.to_string(),
                device,
                at,
                urgent,
                reasons,
                decision,
            });
        }
        requests.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        requests.dedup_by(|a, b| a.id == b.id);
        Ok(requests)
    }

    fn request_objects(&self) -> Result<Vec<(String, ObjId)>> {
        let mut found = Vec::new();
        for map in self.maps(ACCESS_REQUESTS)? {
            for id in self.doc.keys(&map) {
                if let Some((Value::Object(ObjType::Map), obj)) = self.doc.get(&map, id.as_str())? {
                    found.push((id, obj));
                }
            }
        }
        Ok(found)
    }

    /// The value under `key` when the device `device` wrote it.
    fn written_by(&self, obj: &ObjId, key: &str, device: &str) -> Result<Option<ScalarValue>> {
        Ok(match self.doc.get(obj, key)? {
            Some((Value::Scalar(value), op)) if creator_device(&op).as_deref() == Some(device) => {
                Some(value.into_owned())
            }
            _ => None,
        })
    }

    /// Every concurrently created map under `key` at the top.
    fn maps(&self, key: &str) -> Result<Vec<ObjId>> {
        Ok(self
            .doc
            .get_all(ROOT, key)?
            .into_iter()
            .filter_map(|(value, id)| matches!(value, Value::Object(ObjType::Map)).then_some(id))
            .collect())
    }

    /// The map under `key` that automerge shows as winner, created when there is none.
    fn writable_map(&mut self, key: &str) -> Result<ObjId> {
        match self.doc.get(ROOT, key)? {
            Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Ok(self.doc.put_object(ROOT, key, ObjType::Map)?),
        }
    }

    fn string(&self, obj: &ObjId, key: &str) -> Result<Option<String>> {
        Ok(match self.doc.get(obj, key)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Str(text) => Some(text.to_string()),
                _ => None,
            },
            _ => None,
        })
    }

    fn uint(&self, obj: &ObjId, key: &str) -> Result<Option<u64>> {
        Ok(match self.doc.get(obj, key)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Uint(v) => Some(*v),
                ScalarValue::Int(v) => u64::try_from(*v).ok(),
                _ => None,
            },
            _ => None,
        })
    }
}

/// The device (hex id) whose change made an object or wrote a value: the first 16 bytes of
/// its actor id.
fn creator_device(id: &ObjId) -> Option<String> {
    match id {
        ObjId::Id(_, actor, _) => {
            let bytes = actor.to_bytes();
            (bytes.len() >= 16).then(|| hex::encode(&bytes[..16]))
        }
        ObjId::Root => None,
    }
}

fn framework_key(id: &str, version: u32) -> String {
    format!("{id}/{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(n: u8) -> Vec<u8> {
        vec![n; 24]
    }

    #[test]
    fn frameworks_and_policy_from_two_independently_started_documents_merge() {
        let builtin = Framework::builtin_source();
        let mut founder = TeamDoc::create(&actor(1)).unwrap();
        founder.install_framework(&Framework::builtin(), builtin).unwrap();
        let mut worker = TeamDoc::create(&actor(2)).unwrap();
        worker.install_framework(&Framework::builtin(), builtin).unwrap();

        let v2 = builtin.replacen("version = 1", "version = 2", 1);
        founder.install_framework(&Framework::parse(&v2).unwrap(), &v2).unwrap();
        let mut policy = TeamPolicy::default();
        policy.retention_years.insert(CaseType::Wmo, 12);
        policy.review_threshold_cents = 10_000;
        founder.set_policy(&policy).unwrap();

        assert!(worker.merge_bytes(&founder.own_changes(&[1; 16])).unwrap());
        let versions: Vec<u32> = worker.frameworks().unwrap().iter().map(|f| f.version).collect();
        assert_eq!(versions, [1, 2]);
        assert_eq!(worker.policy().unwrap(), policy);
    }

    #[test]
    fn a_framework_source_under_another_versions_key_shadows_nothing() {
        let builtin = Framework::builtin_source();
        let mut doc = TeamDoc::create(&actor(1)).unwrap();
        doc.install_framework(&Framework::builtin(), builtin).unwrap();
        let id = Framework::builtin().id;
        let altered = builtin.replacen("version = 1", "version = 1\n# gewijzigd", 1);
        let frameworks = doc.writable_map("frameworks").unwrap();
        let obj = doc.doc.put_object(&frameworks, "a/1", ObjType::Map).unwrap();
        doc.doc.put(&obj, "source", altered.as_str()).unwrap();
        doc.doc.commit();
        let found: Vec<Framework> = doc.frameworks().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(doc.framework_source(&id, 1).unwrap().as_deref(), Some(builtin));
    }

    #[test]
    fn the_default_policy_keeps_wmo_fifteen_and_jeugd_twenty_years() {
        let doc = TeamDoc::create(&actor(1)).unwrap();
        let policy = doc.policy().unwrap();
        assert_eq!(policy.retention_years[&CaseType::Wmo], 15);
        assert_eq!(policy.retention_years[&CaseType::Jeugd], 20);
        let mut bad = policy.clone();
        bad.retention_years.insert(CaseType::Jeugd, 0);
        let mut doc = doc;
        assert!(matches!(doc.set_policy(&bad), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn the_idle_lock_is_five_minutes_until_the_team_chooses_one_to_sixty() {
        let mut doc = TeamDoc::create(&actor(1)).unwrap();
        assert_eq!(doc.policy().unwrap().lock_after_idle_minutes, 5);
        for refused in [0, 61] {
            let bad = TeamPolicy { lock_after_idle_minutes: refused, ..TeamPolicy::default() };
            assert!(matches!(doc.set_policy(&bad), Err(Error::InvalidInput { .. })));
        }
        let quick = TeamPolicy { lock_after_idle_minutes: 2, ..TeamPolicy::default() };
        doc.set_policy(&quick).unwrap();
        assert_eq!(doc.policy().unwrap().lock_after_idle_minutes, 2);

        // A device that skipped the check wrote "never": the phones still lock within the hour.
        let map = doc.writable_map("policy").unwrap();
        doc.doc.put(&map, "lock_after_idle_minutes", 100_000u64).unwrap();
        doc.doc.commit();
        assert_eq!(doc.policy().unwrap().lock_after_idle_minutes, 60);
    }

    /// A device's team document as it starts (with the built-in framework), merged with
    /// `team`'s.
    fn started(n: u8, team: &mut TeamDoc) -> TeamDoc {
        let mut doc = TeamDoc::create(&actor(n)).unwrap();
        doc.install_framework(&Framework::builtin(), Framework::builtin_source()).unwrap();
        doc.merge_bytes(&team.save()).unwrap();
        doc
    }

    /// What `edit` on a copy of `doc` sends, as `worker_breach` on `team` sees it.
    fn breach_of(
        team: &TeamDoc,
        doc: &mut TeamDoc,
        n: u8,
        edit: impl FnOnce(&mut TeamDoc),
    ) -> Option<super::super::authority::Breach> {
        let mut copy = TeamDoc::load(&[doc.save()], &actor(n)).unwrap();
        let heads = copy.heads();
        edit(&mut copy);
        let mut sent = doc.own_changes(&[n; 16]);
        sent.extend(copy.save_after(&heads));
        team.worker_breach(&sent).unwrap()
    }

    #[test]
    fn a_worker_writes_only_its_own_requests_into_the_team_document() {
        use super::super::authority::Breach;
        let now = Utc::now();
        let mut team = TeamDoc::create(&actor(1)).unwrap();
        team.install_framework(&Framework::builtin(), Framework::builtin_source()).unwrap();
        let mut anna = started(2, &mut team);
        // Her first request carries the document her device started with: let through.
        anna.add_access_request("r1", "c1", true, now, &BTreeMap::new()).unwrap();
        let sent = anna.own_changes(&[2; 16]);
        assert_eq!(team.worker_breach(&sent).unwrap(), None);
        team.merge_bytes(&sent).unwrap();
        let requests = team.access_requests().unwrap();
        assert_eq!((requests.len(), requests[0].device.as_str()), (1, "02".repeat(16).as_str()));

        let shared = TeamPolicy { shared_caseload: true, ..TeamPolicy::default() };
        let v2 = Framework::builtin_source().replacen("version = 1", "version = 2", 1);
        type Edit = Box<dyn FnOnce(&mut TeamDoc)>;
        let attacks: Vec<(&str, Edit)> = vec![
            ("the policy", Box::new(move |d| d.set_policy(&shared).unwrap())),
            (
                "an answer to her own request",
                Box::new(move |d| d.decide_access_request("r1", true, now, None).unwrap()),
            ),
            (
                "a framework",
                Box::new(move |d| {
                    d.install_framework(&Framework::parse(&v2).unwrap(), &v2).unwrap()
                }),
            ),
            (
                "the erasure record",
                Box::new(|d| {
                    let entry = AccessEntry {
                        at: Utc::now(),
                        device: "02".repeat(16),
                        member: "Anna".into(),
                        action: AccessAction::Erase,
                        on_behalf: None,
                    };
                    d.record_erasure("c1", &entry).unwrap()
                }),
            ),
            (
                "the requests map replaced",
                Box::new(|d| {
                    d.doc.put_object(ROOT, ACCESS_REQUESTS, ObjType::Map).unwrap();
                    d.doc.commit();
                }),
            ),
        ];
        for (what, edit) in attacks {
            assert_eq!(
                breach_of(&team, &mut anna, 2, edit),
                Some(Breach::TeamDocByWorker),
                "{what}"
            );
        }
        // Another worker writes into Anna's request, or makes one in place of hers.
        let mut bram = started(3, &mut team);
        let into_hers = breach_of(&team, &mut bram, 3, |d| {
            let (_, request) = d.request_objects().unwrap().remove(0);
            d.doc.put(&request, "case_id", "c2").unwrap();
            d.doc.commit();
        });
        assert_eq!(into_hers, Some(Breach::TeamDocByWorker));
        let over_hers = breach_of(&team, &mut bram, 3, |d| {
            d.add_access_request("r1", "c2", false, now, &BTreeMap::new()).unwrap()
        });
        assert_eq!(over_hers, Some(Breach::TeamDocByWorker));
        // His own request, beside hers, is his to make.
        let own = breach_of(&team, &mut bram, 3, |d| {
            d.add_access_request("r2", "c2", false, now, &BTreeMap::new()).unwrap()
        });
        assert_eq!(own, None);
    }
}
