//! What the store's benchmarks share: realistic case content (Dutch residents and case-note
//! prose that compresses like the real thing), child processes that report `key value` lines,
//! and the printed table of measurements against baselines.

// Each benchmark is its own crate and uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::error::Error as StdError;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use eropaf_core::model::{LifeDomain, NewVisit, Observation, Resident, Score};

pub type BenchResult<T> = Result<T, Box<dyn StdError>>;

/// The store key for child processes travels in the environment, not on the command line.
pub const KEY_ENV: &str = "EROPAF_BENCH_KEY";
pub const QUICK_ENV: &str = "EROPAF_BENCH_QUICK";

pub fn quick() -> bool {
    std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Runs this benchmark's own executable again as `mode` on `path` (and `extra` arguments) and
/// reads the `key value` lines it prints, plus its wall time as `wall_ms`.
pub fn run_child(
    mode: &str,
    path: &Path,
    key_hex: &str,
    extra: &[&str],
) -> BenchResult<HashMap<String, f64>> {
    let t = Instant::now();
    let out = Command::new(std::env::current_exe()?)
        .arg(mode)
        .arg(path)
        .args(extra)
        .env(KEY_ENV, key_hex)
        .output()?;
    let wall = t.elapsed();
    if !out.status.success() {
        return Err(format!(
            "child {mode} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let mut values = HashMap::new();
    for line in String::from_utf8(out.stdout)?.lines() {
        if let Some((name, value)) = line.split_once(' ') {
            values.insert(name.to_string(), value.trim().parse::<f64>()?);
        }
    }
    values.insert("wall_ms".into(), ms(wall));
    Ok(values)
}

pub struct ChildRuns(pub Vec<HashMap<String, f64>>);

impl ChildRuns {
    pub fn values(&self, key: &str) -> Vec<f64> {
        let mut v: Vec<f64> = self.0.iter().filter_map(|run| run.get(key).copied()).collect();
        v.sort_by(f64::total_cmp);
        v
    }
    pub fn median(&self, key: &str) -> f64 {
        let v = self.values(key);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }
    pub fn min(&self, key: &str) -> f64 {
        self.values(key).first().copied().unwrap_or(f64::NAN)
    }
    pub fn max(&self, key: &str) -> f64 {
        self.values(key).last().copied().unwrap_or(f64::NAN)
    }
}

/// A `kB` field of /proc/self/status (VmHWM: peak resident set).
pub fn vm_kib(field: &str) -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    Ok(line.trim().trim_end_matches("kB").trim().parse()?)
}

// ---------------------------------------------------------------------------------------------
// realistic content

pub fn resident(i: usize) -> Resident {
    const FIRST: [&str; 20] = [
        "Aïsha", "Sjoerd", "Özlem", "Zoë", "Hélène", "Mohamed", "Fatima", "Jan", "Anouk", "Daan",
        "Noëlle", "Bram", "Yusuf", "Emma", "Ingrid", "Thijs", "Saskia", "Rachid", "Lotte", "Kees",
    ];
    const LAST: [&str; 25] = [
        "de Vries",
        "Jansen",
        "van den Berg",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van Dijk",
        "Yılmaz",
        "El Idrissi",
        "Öztürk",
        "Kaya",
        "Dekker",
        "Brouwer",
        "de Wit",
        "Dijkstra",
        "Smits",
        "van Leeuwen",
    ];
    Resident::named(format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]))
}

/// A visit as a worker records it: a note of about 300 characters and two observations, each
/// text different. Words are drawn at random from Dutch case-note vocabulary, so the text
/// compresses about as well as real prose (a few notes repeated would compress far better and
/// flatter the snapshot size).
pub fn visit(i: usize) -> BenchResult<NewVisit> {
    const DOMAINS: [LifeDomain; 4] = [
        LifeDomain::Financien,
        LifeDomain::Huisvesting,
        LifeDomain::HuiselijkeRelaties,
        LifeDomain::GeestelijkeGezondheid,
    ];
    let mut words = Words::new(i);
    let note = format!("{} (bezoek {})", words.text(300), i + 1);
    let mut observation = |n: usize| -> BenchResult<Observation> {
        let score = u8::try_from((i + n) % 5 + 1)?;
        Ok(Observation::new(
            &words.text(60),
            Some(DOMAINS[(i + n) % DOMAINS.len()]),
            Some(Score::new(score)?),
        )?)
    };
    let observations = vec![observation(0)?, observation(1)?];
    Ok(NewVisit {
        at: None,
        place: Some("thuis".into()),
        present: vec!["bewoner".into(), "wijkverpleegkundige".into()],
        note,
        observations,
    })
}

/// Sentences of random words; deterministic per seed.
pub struct Words {
    state: u64,
    vocabulary: Vec<&'static str>,
}

impl Words {
    const VOCABULARY: &'static str =
        "huisbezoek samen met de het een wijkverpleegkundige mevrouw meneer maakt zich zorgen \
         over huur achterstand van twee maanden verhuurder heeft brief gestuurd wil graag hulp \
         bij aanvragen bijzondere bijstand kinderen gaan weer naar school afgesproken volgende \
         week juridisch loket dochter was erbij slaapt slecht sinds verhuizing komt weinig buiten \
         post stapelt op brieven gemeente zorgverzekeraar doorgenomen vrijwilliger die helpt \
         administratie afspraak weken eerst bellen kort voordeur tijd werkt drie dagen supermarkt \
         dat gaat goed schuld energieleverancier is geregeld betalingsregeling zoon niet stage \
         voorstel gesprek jongerenwerk huisarts medicatie buurvrouw boodschappen uitkering \
         toeslagen belastingdienst formulier ingevuld wachtlijst schuldhulp budgetcoach eenzaam \
         familie contact ziekenhuis opname thuiszorg douchen lukt alleen trap rollator aanpassing \
         woning wmo indicatie aangevraagd gebeld morgen vrijdag rustig gespannen boos verdrietig \
         opgelucht";

    pub fn new(seed: usize) -> Words {
        Words {
            state: (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            vocabulary: Self::VOCABULARY.split_whitespace().collect(),
        }
    }

    pub fn next(&mut self) -> usize {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize
    }

    /// Sentences until at least `chars` characters.
    pub fn text(&mut self, chars: usize) -> String {
        let mut out = String::new();
        while out.len() < chars {
            let words = 5 + self.next() % 9;
            for w in 0..words {
                let pick = self.next() % self.vocabulary.len();
                let word = self.vocabulary[pick];
                if w == 0 {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    let mut letters = word.chars();
                    out.extend(letters.next().map(|c| c.to_ascii_uppercase()));
                    out.push_str(letters.as_str());
                } else {
                    out.push(' ');
                    out.push_str(word);
                }
            }
            out.push('.');
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// statistics and the table

/// Nearest-rank percentile of unsorted samples.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn mb(bytes: f64) -> f64 {
    bytes / 1e6
}

pub fn kib_mb(kib: f64) -> f64 {
    kib * 1024.0 / 1e6
}

pub fn fmt_dur(d: Duration) -> String {
    let ms = ms(d);
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1e3)
    } else if ms < 100.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// 10000 → "10,000".
pub fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Default)]
pub struct Table(Vec<[String; 6]>);

impl Table {
    pub fn row(
        &mut self,
        name: &str,
        measured: String,
        baseline: String,
        ratio: Option<f64>,
        goal: String,
        met: Option<bool>,
    ) {
        let ratio = ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}x"));
        let met = match met {
            Some(true) => "ok",
            Some(false) => "MISSED",
            None => "",
        };
        self.0.push([name.into(), measured, baseline, ratio, goal, met.into()]);
    }

    pub fn print(&self) {
        let header = ["benchmark", "measured", "baseline", "ratio", "goal", ""].map(String::from);
        let mut widths = [0usize; 6];
        for row in std::iter::once(&header).chain(&self.0) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&self.0) {
            let mut line = String::new();
            for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(w - cell.chars().count() + 3));
                }
            }
            println!("{}", line.trim_end());
        }
    }
}

/// A visit of a resident followed for years: a note of about 1,500 characters and three
/// observations, as the issue on long cases measures them.
pub fn long_visit(i: usize) -> BenchResult<NewVisit> {
    let mut visit = visit(i)?;
    let mut words = Words::new(i + 7_919);
    visit.note = format!("{} (bezoek {})", words.text(1_500), i + 1);
    visit.observations.push(Observation::new(
        &words.text(60),
        Some(LifeDomain::SociaalNetwerk),
        Some(Score::new(u8::try_from(i % 5 + 1)?)?),
    )?);
    Ok(visit)
}

/// The floor every durable write is set against: a bare rusqlite insert of a blob in its own
/// transaction, with the durability pragmas the store uses.
pub struct BareInsert {
    conn: rusqlite::Connection,
    next_id: i64,
}

impl BareInsert {
    pub fn open(dir: &Path) -> BenchResult<BareInsert> {
        std::fs::create_dir_all(dir)?;
        let conn = rusqlite::Connection::open(dir.join("baseline.db"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA temp_store = MEMORY;
             PRAGMA secure_delete = ON;
             CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, bytes BLOB);",
        )?;
        Ok(BareInsert { conn, next_id: 0 })
    }

    /// Inserts `bytes` durably; returns how long that took.
    pub fn insert(&mut self, bytes: &[u8]) -> BenchResult<Duration> {
        self.next_id += 1;
        let t = Instant::now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT INTO t (id, bytes) VALUES (?1, ?2)")?
            .execute(rusqlite::params![self.next_id, std::hint::black_box(bytes)])?;
        tx.commit()?;
        Ok(t.elapsed())
    }
}

/// The text a visit carries, as bytes: what a bare insert of "the same bytes" writes.
pub fn visit_bytes(visit: &NewVisit) -> Vec<u8> {
    let mut bytes = visit.note.as_bytes().to_vec();
    for observation in &visit.observations {
        bytes.extend_from_slice(observation.text.as_bytes());
    }
    for person in &visit.present {
        bytes.extend_from_slice(person.as_bytes());
    }
    bytes.extend_from_slice(visit.place.as_deref().unwrap_or_default().as_bytes());
    bytes
}
