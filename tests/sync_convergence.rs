//! Convergence as a property, over the real relay on loopback: a supervisor and 2–4 workers
//! create cases, record visits, edit notes and add observations in random order (now and then
//! a long burst, so busy cases get snapshotted for the relay, which then compacts its log);
//! random devices sync at random moments, some stay offline for a stretch, and the network
//! between them and the relay duplicates deliveries, cuts pages small and loses requests and
//! replies (after the relay acted on some). At the end everyone syncs twice; then every device
//! shows the same cases, and nothing anyone recorded is missing.
//!
//! 200 schedules by default; `EROPAF_LONG=1` runs ten times as many (with a fresh base seed
//! each run); `EROPAF_SEED=N` replays the one batch a failure names. The seed fixes the
//! schedule and the network's faults; ids, salts and clocks inside the devices stay random.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use eropaf_core::crypto::DeviceIdentity;
use eropaf_core::model::{AssignmentRole, NewVisit, Observation, Resident};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::transport::{DocReaders, PullPage, Pulled, Transport};
use eropaf_core::team::epoch::KeyPackage;
use eropaf_core::team::roster::RosterEntry;
use eropaf_core::{Eropaf, Error, Result, SyncReport};
use eropaf_tests::{fast_tempdir, Intercept, Intercepted, Team, TestRelay};

/// Schedules share a team (and its relay) in batches of this many, each with fresh cases:
/// enrolling is cheap, but not free.
const BATCH: usize = 25;
const DEFAULT_BASE_SEED: u64 = 0x0E70_FA5E_ED00_0001;

// ---- a small deterministic random source ----

/// SplitMix64: small, fast, and the whole state is the seed a failure prints.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` > 0.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

// ---- the network between the devices and the relay ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// Each pull page in the relay's order (causal order: a device pushes what it has seen).
    AsSent,
    /// Each pull page shuffled.
    Shuffled,
    /// Each pull page back to front.
    Reversed,
}

#[derive(Clone, Copy, Debug)]
struct Faults {
    /// Some entries arrive twice in a page, entries of earlier pages arrive again, and some
    /// pushes are sent twice.
    duplicate: bool,
    order: Order,
    /// Pages of 1–4 entries, so syncs span many pages.
    small_pages: bool,
    /// Some requests are lost before they reach the relay, some replies after it acted.
    lose_messages: bool,
}

/// How often each fault struck, to show the network was as hostile as intended.
#[derive(Clone, Copy, Debug, Default)]
struct Struck {
    duplicated_in_page: u64,
    delivered_again: u64,
    pushed_twice: u64,
    lost: u64,
    pages: u64,
    /// Snapshots the devices gave the relay (which then dropped what they cover).
    snapshots: u64,
}

impl std::ops::AddAssign for Struck {
    fn add_assign(&mut self, other: Struck) {
        self.duplicated_in_page += other.duplicated_in_page;
        self.delivered_again += other.delivered_again;
        self.pushed_twice += other.pushed_twice;
        self.lost += other.lost;
        self.pages += other.pages;
        self.snapshots += other.snapshots;
    }
}

/// `HttpTransport` to the real relay, with the faults above. The devices' sync engine cannot
/// tell it from the plain transport.
type Flaky<'a> = Intercepted<'a, Faulty>;

fn flaky(inner: &HttpTransport, faults: Faults, seed: u64) -> Flaky<'_> {
    Intercepted { inner, hooks: Faulty::new(faults, seed) }
}

/// What the faults do to the calls they touch, and what they did.
struct Faulty {
    faults: Faults,
    rng: RefCell<Rng>,
    /// Per device: entries it was given in earlier pages, to deliver again.
    delivered: RefCell<HashMap<String, Vec<Pulled>>>,
    struck: RefCell<Struck>,
}

impl Faulty {
    fn new(faults: Faults, seed: u64) -> Faulty {
        Faulty {
            faults,
            rng: RefCell::new(Rng(seed)),
            delivered: RefCell::default(),
            struck: RefCell::default(),
        }
    }

    fn chance(&self, percent: u64) -> bool {
        self.rng.borrow_mut().chance(percent)
    }

    fn below(&self, n: usize) -> usize {
        self.rng.borrow_mut().below(n)
    }

    /// A lost request or reply, sometimes.
    fn maybe_lose(&self, what: &str) -> Result<()> {
        if self.faults.lose_messages && self.chance(4) {
            self.struck.borrow_mut().lost += 1;
            return Err(Error::Network(format!("test network lost the {what}")));
        }
        Ok(())
    }

    /// The page as this network delivers it.
    fn deliver(&self, device: &str, page: &PullPage) -> Vec<Pulled> {
        let mut out = page.entries.clone();
        if self.faults.duplicate {
            // A copy of an entry, somewhere after the original (back to front so positions
            // still to be visited do not shift).
            for i in (0..out.len()).rev() {
                if self.chance(15) {
                    let at = i + 1 + self.below(out.len() - i);
                    let copy = out[i].clone();
                    out.insert(at, copy);
                    self.struck.borrow_mut().duplicated_in_page += 1;
                }
            }
            // Entries of earlier pages, again: already applied, wherever they land.
            let delivered = self.delivered.borrow();
            if let Some(earlier) = delivered.get(device).filter(|e| !e.is_empty()) {
                if self.chance(20) {
                    for _ in 0..1 + self.below(3) {
                        let entry = earlier[self.below(earlier.len())].clone();
                        let at = self.below(out.len() + 1);
                        out.insert(at, entry);
                        self.struck.borrow_mut().delivered_again += 1;
                    }
                }
            }
        }
        match self.faults.order {
            Order::AsSent => {}
            Order::Reversed => out.reverse(),
            Order::Shuffled => {
                for i in (1..out.len()).rev() {
                    let j = self.below(i + 1);
                    out.swap(i, j);
                }
            }
        }
        let mut delivered = self.delivered.borrow_mut();
        let earlier = delivered.entry(device.to_string()).or_default();
        earlier.extend(page.entries.iter().cloned());
        let excess = earlier.len().saturating_sub(200);
        earlier.drain(..excess);
        out
    }
}

impl Intercept for Faulty {
    fn roster(
        &self,
        inner: &dyn Transport,
        signer: &DeviceIdentity,
        team_id: &str,
    ) -> Result<Vec<RosterEntry>> {
        self.maybe_lose("roster request")?;
        inner.roster(signer, team_id)
    }

    fn push(
        &self,
        inner: &dyn Transport,
        signer: &DeviceIdentity,
        team_id: &str,
        envelopes: &[Vec<u8>],
        readers: &[DocReaders],
    ) -> Result<Vec<u64>> {
        self.maybe_lose("push")?;
        let seqs = inner.push(signer, team_id, envelopes, readers)?;
        if self.faults.duplicate && self.chance(10) {
            // Sent again, as a client retrying after a timeout would: the same answer.
            let again = inner.push(signer, team_id, envelopes, readers)?;
            self.struck.borrow_mut().pushed_twice += 1;
            assert_eq!(again, seqs, "a repeated push is given the same server sequences");
        }
        self.maybe_lose("push reply")?;
        Ok(seqs)
    }

    fn pull(
        &self,
        inner: &dyn Transport,
        signer: &DeviceIdentity,
        team_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<PullPage> {
        self.maybe_lose("pull")?;
        let limit =
            if self.faults.small_pages { limit.min(1 + self.below(4) as u32) } else { limit };
        let page = inner.pull(signer, team_id, after, limit)?;
        self.maybe_lose("pull reply")?;
        let entries = self.deliver(&signer.id().to_hex(), &page);
        self.struck.borrow_mut().pages += 1;
        Ok(PullPage { entries, ..page })
    }

    fn key_packages(
        &self,
        inner: &dyn Transport,
        signer: &DeviceIdentity,
        team_id: &str,
    ) -> Result<Vec<KeyPackage>> {
        self.maybe_lose("key package request")?;
        inner.key_packages(signer, team_id)
    }
}

// ---- what the workers recorded ----

struct ExpectedCase {
    id: String,
    name: String,
    visits: Vec<ExpectedVisit>,
}

struct ExpectedVisit {
    id: String,
    note: String,
    /// Markers that edits put before or after the note; edits never remove text, so every
    /// one must survive every merge, in the note or in a version of it in conflict.
    tokens: Vec<String>,
    observations: Vec<String>,
}

/// Who reads which case in a batch's team.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Everyone reads every case (the team's policy).
    SharedCaseload,
    /// The default: supervisors and assigned members; the supervisor (device 0) assigns and
    /// unassigns workers during the schedule.
    NeedToKnow,
}

/// Prints how to replay a batch when the thread panics while this is alive.
struct ReplayHint(String);

impl Drop for ReplayHint {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.0);
        }
    }
}

fn seed_from_env() -> Option<u64> {
    let text = std::env::var("EROPAF_SEED").ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.expect("EROPAF_SEED is a number (decimal or 0x hex)"))
}

fn long_mode() -> bool {
    std::env::var("EROPAF_LONG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Runs `schedules` schedules in batches, each batch from its own seed (derived from the base
/// seed), or only the batch `EROPAF_SEED` names.
fn run_property(name: &str, schedules: usize, faults: Faults, access: Access) {
    if let Some(seed) = seed_from_env() {
        let struck = run_batch(name, seed, BATCH, faults, access);
        eprintln!("{name}: the network struck {struck:?}");
        return;
    }
    let base = if long_mode() {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(DEFAULT_BASE_SEED, |d| d.as_nanos() as u64)
    } else {
        DEFAULT_BASE_SEED
    };
    eprintln!("{name}: {schedules} schedules from base seed {base:#x}");
    let mut seeds = Rng(base);
    let mut left = schedules;
    let mut struck = Struck::default();
    while left > 0 {
        let count = left.min(BATCH);
        struck += run_batch(name, seeds.next(), count, faults, access);
        left -= count;
    }
    eprintln!("{name}: the network struck {struck:?}");
    assert!(struck.pages > 0, "no page was pulled");
    assert!(struck.snapshots > 0, "no device snapshotted a case for the relay");
    if faults.duplicate {
        assert!(struck.duplicated_in_page > 0 && struck.delivered_again > 0);
        assert!(struck.pushed_twice > 0);
    }
    if faults.lose_messages {
        assert!(struck.lost > 0);
    }
}

fn run_batch(name: &str, seed: u64, schedules: usize, faults: Faults, access: Access) -> Struck {
    let _hint = ReplayHint(format!(
        "{name} failed in the batch with seed {seed:#x}; replay it with \
         EROPAF_SEED={seed:#x} cargo test -p eropaf-tests --test sync_convergence {name}"
    ));
    let mut rng = Rng(seed);
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let workers = 2 + rng.below(3);
    let mut team = match access {
        Access::SharedCaseload => {
            Team::enrol(&http, &relay.url, &relay.registration_code(), workers, fast_tempdir)
        }
        Access::NeedToKnow => Team::enrol_need_to_know(
            &http,
            &relay.url,
            &relay.registration_code(),
            workers,
            fast_tempdir,
        ),
    };
    let network = flaky(&http, faults, rng.next());
    let mut all_cases = BTreeSet::new();
    for schedule in 0..schedules {
        run_schedule(&mut team, &network, &http, &mut rng, schedule, &mut all_cases, access)
            .unwrap_or_else(|problem| panic!("schedule {schedule} of the batch: {problem}"));
    }
    let mut struck = *network.hooks.struck.borrow();
    let snapshots: i64 = eropaf_tests::relay_db(&relay.db)
        .query_row("SELECT COUNT(*) FROM envelopes WHERE kind = 'snapshot'", [], |r| r.get(0))
        .unwrap();
    struck.snapshots = snapshots as u64;
    struck
}

/// One schedule; returns what went wrong as a sentence.
fn run_schedule(
    team: &mut Team,
    network: &Flaky<'_>,
    http: &HttpTransport,
    rng: &mut Rng,
    schedule: usize,
    all_cases: &mut BTreeSet<String>,
    access: Access,
) -> std::result::Result<(), String> {
    let faults = network.hooks.faults;
    let mut devices = team.devices_mut();
    let n = devices.len();
    let mut offline_until = vec![0usize; n];
    let mut expected: Vec<ExpectedCase> = Vec::new();
    let mut reports: Vec<(usize, SyncReport)> = Vec::new();
    let steps = 15 + rng.below(26);
    let mut trace = Vec::new();

    for step in 0..steps {
        let d = rng.below(n);
        let tag = format!("s{schedule}.{step}");
        let roll = rng.below(100);
        let device = &mut *devices[d];
        match roll {
            0..=9 => {
                new_case(device, &mut expected, &tag);
                trace.push(format!("{tag}: device {d} creates a case"));
            }
            10..=39 => {
                let known = known_cases(device, &expected);
                let Some(&c) = pick(rng, &known) else {
                    new_case(device, &mut expected, &tag);
                    trace.push(format!("{tag}: device {d} creates a case"));
                    continue;
                };
                let observations: Vec<String> =
                    (0..rng.below(3)).map(|k| format!("observatie {tag}.{k}")).collect();
                let visit = NewVisit {
                    note: format!("notitie {tag}"),
                    observations: observations
                        .iter()
                        .map(|text| Observation::new(text, None, None).unwrap())
                        .collect(),
                    ..NewVisit::default()
                };
                let case_id = expected[c].id.clone();
                let id = device.record_visit(&case_id, &visit).unwrap();
                expected[c].visits.push(ExpectedVisit {
                    id,
                    note: visit.note,
                    tokens: Vec::new(),
                    observations,
                });
                trace.push(format!("{tag}: device {d} records a visit to case {c}"));
            }
            40..=69 => {
                let Some((c, v)) = pick_known_visit(device, &expected, rng) else { continue };
                let case_id = expected[c].id.clone();
                let visit_id = expected[c].visits[v].id.clone();
                if roll < 55 {
                    let token = format!("[{tag}]");
                    let note =
                        device.case(&case_id).unwrap().visit(&visit_id).unwrap().note.clone();
                    let note = if rng.chance(50) {
                        format!("{note} {token}")
                    } else {
                        format!("{token} {note}")
                    };
                    device.edit_visit_note(&case_id, &visit_id, &note).unwrap();
                    expected[c].visits[v].tokens.push(token);
                    trace.push(format!("{tag}: device {d} edits the note of visit {c}/{v}"));
                } else {
                    let text = format!("observatie {tag}");
                    let observation = Observation::new(&text, None, None).unwrap();
                    device.add_observation(&case_id, &visit_id, &observation).unwrap();
                    expected[c].visits[v].observations.push(text);
                    trace.push(format!("{tag}: device {d} adds an observation to visit {c}/{v}"));
                }
            }
            70..=92 => {
                if step < offline_until[d] {
                    continue;
                }
                match device.sync(network, &mut |_| {}) {
                    Ok(report) => {
                        trace.push(format!(
                            "{tag}: device {d} syncs: pushed {}, pulled {}, applied {}",
                            report.pushed, report.pulled, report.applied
                        ));
                        reports.push((d, report));
                    }
                    Err(Error::Network(e)) if faults.lose_messages => {
                        trace.push(format!("{tag}: device {d} syncs: {e}"));
                    }
                    Err(e) => return Err(format!("device {d}'s sync failed: {e:?}")),
                }
            }
            93..=94 => {
                // A long visit: many observations one after another, so the case's log grows
                // past the point where devices snapshot it for the relay.
                let Some((c, v)) = pick_known_visit(device, &expected, rng) else { continue };
                let case_id = expected[c].id.clone();
                let visit_id = expected[c].visits[v].id.clone();
                let count = 30 + rng.below(41);
                for k in 0..count {
                    let text = format!("observatie {tag}.{k}");
                    let observation = Observation::new(&text, None, None).unwrap();
                    device.add_observation(&case_id, &visit_id, &observation).unwrap();
                    expected[c].visits[v].observations.push(text);
                }
                trace.push(format!("{tag}: device {d} adds {count} observations to visit {c}/{v}"));
            }
            95..=97 if access == Access::NeedToKnow && n > 1 => {
                // The supervisor (device 0) assigns a worker to a case it has, or ends it.
                let known = known_cases(&*devices[0], &expected);
                let Some(&c) = pick(rng, &known) else { continue };
                let worker = 1 + rng.below(n - 1);
                let member = format!("Werker {}", worker - 1);
                let case_id = expected[c].id.clone();
                let assigned = devices[0]
                    .case_access(&case_id)
                    .unwrap()
                    .assignments
                    .iter()
                    .any(|a| a.member == member);
                if assigned {
                    devices[0].unassign(&case_id, &member).unwrap();
                    trace.push(format!("{tag}: the supervisor unassigns {member} from case {c}"));
                } else {
                    devices[0].assign(&case_id, &member, AssignmentRole::Backup, None).unwrap();
                    trace.push(format!("{tag}: the supervisor assigns {member} to case {c}"));
                }
            }
            _ => {
                if step >= offline_until[d] {
                    offline_until[d] = step + 3 + rng.below(13);
                    trace.push(format!("{tag}: device {d} goes offline until step {}", {
                        offline_until[d]
                    }));
                }
            }
        }
    }

    // Everyone back at the office, on a plain network: everyone syncs twice.
    for _ in 0..2 {
        for (d, device) in devices.iter_mut().enumerate() {
            let report = device.sync(http, &mut |_| {}).map_err(|e| {
                format!("device {d}'s final sync failed: {e:?}\n{}", trace.join("\n"))
            })?;
            reports.push((d, report));
        }
    }
    all_cases.extend(expected.iter().map(|c| c.id.clone()));
    check(&mut devices, &expected, all_cases, &reports, access)
        .map_err(|problem| format!("{problem}\nwhat happened:\n{}", trace.join("\n")))
}

fn new_case(device: &mut Eropaf, expected: &mut Vec<ExpectedCase>, tag: &str) {
    let name = format!("Bewoner {tag}");
    let id = device.new_case(&Resident::named(&name), None).unwrap();
    expected.push(ExpectedCase { id, name, visits: Vec::new() });
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.below(items.len())])
}

/// Indices into `expected` of the cases this device has, in creation order.
fn known_cases(device: &Eropaf, expected: &[ExpectedCase]) -> Vec<usize> {
    let ids: BTreeSet<String> = device.cases().unwrap().into_iter().map(|c| c.id).collect();
    (0..expected.len()).filter(|&c| ids.contains(&expected[c].id)).collect()
}

/// A visit this device has, chosen in the order the visits were recorded (not the device's
/// display order, which depends on clock ties), so a seed replays the same choices.
fn pick_known_visit(
    device: &mut Eropaf,
    expected: &[ExpectedCase],
    rng: &mut Rng,
) -> Option<(usize, usize)> {
    let mut known = Vec::new();
    for c in known_cases(device, expected) {
        let ids: BTreeSet<String> =
            device.case(&expected[c].id).unwrap().visits.into_iter().map(|v| v.id).collect();
        known.extend(
            (0..expected[c].visits.len())
                .filter(|&v| ids.contains(&expected[c].visits[v].id))
                .map(|v| (c, v)),
        );
    }
    pick(rng, &known).copied()
}

/// Every device has exactly the batch's cases, each the same everywhere, holding everything
/// that was recorded; and no sync refused or failed to read anything (checked last: what a
/// user misses is the better message).
fn check(
    devices: &mut [&mut Eropaf],
    expected: &[ExpectedCase],
    all_cases: &BTreeSet<String>,
    reports: &[(usize, SyncReport)],
    access: Access,
) -> std::result::Result<(), String> {
    for (d, device) in devices.iter().enumerate() {
        let ids: BTreeSet<String> = device.cases().unwrap().into_iter().map(|c| c.id).collect();
        // Under need-to-know, a worker has exactly the cases whose readers (as the
        // supervisor, device 0, holds them) name her member.
        let may_read: BTreeSet<String> = match access {
            Access::SharedCaseload => all_cases.clone(),
            Access::NeedToKnow if d == 0 => all_cases.clone(),
            Access::NeedToKnow => {
                let member = format!("Werker {}", d - 1);
                all_cases
                    .iter()
                    .filter(|id| devices[0].case_access(id).unwrap().readers.contains(&member))
                    .cloned()
                    .collect()
            }
        };
        if ids != may_read {
            for extra in ids.difference(&may_read) {
                eprintln!(
                    "device {d} holds {extra}: it sees {:?}; the supervisor sees {:?}",
                    device.case_access(extra),
                    devices[0].case_access(extra)
                );
            }
            let all_cases = &may_read;
            let missing: Vec<_> = all_cases.difference(&ids).collect();
            let extra: Vec<_> = ids.difference(all_cases).collect();
            return Err(format!("device {d} lacks cases {missing:?} and has extra {extra:?}"));
        }
    }
    // The case list each device shows is its sealed summaries, kept with every write and
    // sync rather than read afresh: each must equal the summary of a fresh read.
    for (d, device) in devices.iter_mut().enumerate() {
        for listed in device.cases().unwrap() {
            let fresh = device.case(&listed.id).unwrap().summary();
            // A fresh read leaves who made and who may read the case to other calls.
            let listed =
                eropaf_core::model::CaseSummary { assignments: None, created_by: None, ..listed };
            if listed != fresh {
                return Err(format!(
                    "device {d} lists {listed:#?}\nbut its case reads as {fresh:#?}"
                ));
            }
        }
    }
    for (c, want) in expected.iter().enumerate() {
        let reference = devices[0].case(&want.id).unwrap();
        for (d, device) in devices.iter_mut().enumerate().skip(1) {
            // Checked above: a device lacks only a case it may not read.
            let Ok(case) = device.case(&want.id) else { continue };
            if case != reference {
                return Err(format!(
                    "case {c} differs between device 0 and device {d}:\n{reference:#?}\n{case:#?}"
                ));
            }
        }
        if reference.resident.name != want.name {
            return Err(format!("case {c} is named {:?}", reference.resident.name));
        }
        let visit_ids: BTreeSet<&str> = reference.visits.iter().map(|v| v.id.as_str()).collect();
        let want_ids: BTreeSet<&str> = want.visits.iter().map(|v| v.id.as_str()).collect();
        if visit_ids != want_ids || reference.visits.len() != want.visits.len() {
            return Err(format!(
                "case {c} holds visits {visit_ids:?}, but {want_ids:?} were recorded"
            ));
        }
        for (v, want_visit) in want.visits.iter().enumerate() {
            let visit = reference.visit(&want_visit.id).unwrap();
            let mut texts: Vec<&str> = visit.observations.iter().map(|o| o.text.as_str()).collect();
            let mut want_texts: Vec<&str> =
                want_visit.observations.iter().map(String::as_str).collect();
            texts.sort_unstable();
            want_texts.sort_unstable();
            if texts != want_texts {
                return Err(format!(
                    "visit {c}/{v} has observations {texts:?}, but {want_texts:?} were recorded"
                ));
            }
            // Two devices that edit a recorded note for the first time at once leave it in
            // conflict: the worker sees every version and chooses. Nothing may be lost from
            // what is shown, the note and its versions together.
            let path = format!("visits/{}/note", want_visit.id);
            let versions: Vec<&str> = std::iter::once(visit.note.as_str())
                .chain(
                    reference
                        .conflicts
                        .iter()
                        .filter(|conflict| conflict.path == path)
                        .flat_map(|conflict| conflict.values.iter().map(String::as_str)),
                )
                .collect();
            for part in std::iter::once(&want_visit.note).chain(&want_visit.tokens) {
                if !versions.iter().any(|version| version.contains(part.as_str())) {
                    return Err(format!(
                        "visit {c}/{v}'s note {versions:?} lost {part:?} (edits: {:?})",
                        want_visit.tokens
                    ));
                }
            }
        }
    }
    for (d, report) in reports {
        // A need-to-know device holds, unreadable, the envelopes of cases it may not read.
        let unreadable = access == Access::SharedCaseload && report.unreadable > 0;
        if !report.refused.is_empty() || unreadable {
            return Err(format!(
                "device {d} refused {:?} and could not read {} envelope(s) of honest team \
                 members",
                report.refused, report.unreadable
            ));
        }
    }
    Ok(())
}

fn schedules(normal: usize) -> usize {
    if long_mode() {
        normal * 10
    } else {
        normal
    }
}

#[test]
fn devices_converge_despite_partitions_duplicates_small_pages_and_lost_messages() {
    let faults =
        Faults { duplicate: true, order: Order::AsSent, small_pages: true, lose_messages: true };
    run_property(
        "devices_converge_despite_partitions_duplicates_small_pages_and_lost_messages",
        schedules(200),
        faults,
        Access::SharedCaseload,
    );
}

#[test]
fn devices_that_may_read_a_case_converge_on_it_while_assignments_change() {
    let faults =
        Faults { duplicate: true, order: Order::AsSent, small_pages: true, lose_messages: true };
    run_property(
        "devices_that_may_read_a_case_converge_on_it_while_assignments_change",
        schedules(100),
        faults,
        Access::NeedToKnow,
    );
}

#[test]
fn devices_converge_when_pages_arrive_out_of_order() {
    let faults = Faults {
        duplicate: true,
        order: Order::Shuffled,
        small_pages: false,
        lose_messages: false,
    };
    run_property(
        "devices_converge_when_pages_arrive_out_of_order",
        schedules(50),
        faults,
        Access::SharedCaseload,
    );
}

/// The smallest out-of-order delivery: one worker's new case and visit, pulled back to front.
#[test]
fn a_page_delivered_back_to_front_loses_nothing() {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let case = team.workers[0].new_case(&Resident::named("Fatima Yilmaz"), None).unwrap();
    let visit = NewVisit { note: "Brief van de woningcorporatie".into(), ..NewVisit::default() };
    team.workers[0].record_visit(&case, &visit).unwrap();
    team.workers[0].sync(&http, &mut |_| {}).unwrap();

    let faults = Faults {
        duplicate: false,
        order: Order::Reversed,
        small_pages: false,
        lose_messages: false,
    };
    let reversed = flaky(&http, faults, 1);
    let first = team.supervisor.sync(&reversed, &mut |_| {}).unwrap();
    let second = team.supervisor.sync(&http, &mut |_| {}).unwrap();
    let third = team.supervisor.sync(&http, &mut |_| {}).unwrap();
    let case_seen = team.supervisor.case(&case);
    assert!(
        case_seen.as_ref().is_ok_and(|c| c.visits.len() == 1),
        "after a reversed page and two more syncs the supervisor should see the case with its \
         visit; sees {case_seen:?}\nreports: {first:?}\n{second:?}\n{third:?}"
    );
}

/// After a revocation each writer starts a new key for a case; two writers doing so while
/// offline must still read each other.
#[test]
fn concurrent_writes_after_a_revocation_reach_everyone() {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 3, fast_tempdir);
    let case = team.workers[0].new_case(&Resident::named("Johan de Graaf"), None).unwrap();
    for device in team.devices_mut() {
        device.sync(&http, &mut |_| {}).unwrap();
    }
    let lost = team.workers[2].device_id().to_hex();
    team.supervisor.revoke(&http, &lost).unwrap();
    for worker in &mut team.workers[..2] {
        worker.sync(&http, &mut |_| {}).unwrap(); // the new epoch's key
    }
    // Both offline: each records a visit, so each starts a new case key.
    let a = team.workers[0]
        .record_visit(
            &case,
            &NewVisit { note: "Eerste na intrekking".into(), ..Default::default() },
        )
        .unwrap();
    let b = team.workers[1]
        .record_visit(
            &case,
            &NewVisit { note: "Tweede na intrekking".into(), ..Default::default() },
        )
        .unwrap();
    let mut reports = Vec::new();
    for _ in 0..2 {
        for worker in &mut team.workers[..2] {
            reports.push(worker.sync(&http, &mut |_| {}).unwrap());
        }
        reports.push(team.supervisor.sync(&http, &mut |_| {}).unwrap());
    }
    for report in &reports {
        assert!(report.refused.is_empty() && report.unreadable == 0, "{report:?}");
    }
    let want: BTreeSet<String> = [a, b].into();
    for device in [&mut team.supervisor, &mut team.workers[0]] {
        let seen: BTreeSet<String> =
            device.case(&case).unwrap().visits.into_iter().map(|v| v.id).collect();
        assert_eq!(seen, want);
    }
    let seen: BTreeSet<String> =
        team.workers[1].case(&case).unwrap().visits.into_iter().map(|v| v.id).collect();
    assert_eq!(seen, want);
}
