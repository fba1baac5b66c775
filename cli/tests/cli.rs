//! End-to-end tests of the `eropaf` binary as a user or script drives it: init, cases, visits,
//! bad input and a wrong passphrase (nothing changes), the value checklist through to its
//! justification, `framework check` on a broken file, and `demo --no-serve`.
// Tests: an unwrap that fails is a failing test, with the panic message as the report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PASSPHRASE: &str = "correct paard batterij nietje";

/// Runs `eropaf --home HOME ARGS…` with the given passphrase, never prompting.
fn eropaf_with(home: &Path, passphrase: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eropaf"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("EROPAF_HOME")
        .env("EROPAF_PASSPHRASE", passphrase)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn eropaf(home: &Path, args: &[&str]) -> Output {
    eropaf_with(home, PASSPHRASE, args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed; returns its stdout.
#[track_caller]
fn ok(home: &Path, args: &[&str]) -> String {
    let out = eropaf(home, args);
    assert!(
        out.status.success(),
        "eropaf {args:?} failed ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a command with `--json` that must succeed; returns the parsed output.
#[track_caller]
fn ok_json(home: &Path, args: &[&str]) -> Value {
    let stdout = ok(home, args);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("eropaf {args:?} printed no JSON ({e}):\n{stdout}"))
}

/// Checks a finished command was refused: non-zero exit, nothing on stdout, a reason on
/// stderr. Returns stderr.
#[track_caller]
fn refused(args: &[&str], out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "eropaf {args:?} should have failed; stderr:\n{stderr}");
    assert!(
        out.stdout.is_empty(),
        "eropaf {args:?} failed but printed to stdout:\n{}",
        text(&out.stdout)
    );
    assert!(!stderr.trim().is_empty(), "eropaf {args:?} failed without saying why");
    stderr
}

#[track_caller]
fn fails(home: &Path, args: &[&str]) -> String {
    refused(args, &eropaf(home, args))
}

#[track_caller]
fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value:#}"))
}

#[track_caller]
fn array_at<'a>(value: &'a Value, pointer: &str) -> &'a Vec<Value> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no array at {pointer} in {value:#}"))
}

fn is_null_or_absent(value: &Value, key: &str) -> bool {
    value.get(key).is_none_or(Value::is_null)
}

#[test]
fn init_cases_and_visits_and_bad_input_that_changes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("home");
    let home = home.as_path();

    // 1. This device's identity.
    let device = ok_json(home, &["init", "--name", "Sanne", "--json"]);
    let device_id = str_at(&device, "/device_id").to_string();
    assert_eq!(device_id.len(), 32, "device id: {device_id}");
    assert!(device_id.chars().all(|c| c.is_ascii_hexdigit()), "device id: {device_id}");
    assert_eq!(str_at(&device, "/member"), "Sanne");
    assert_eq!(device["revoked"], Value::Bool(false));

    // A second init is refused and overwrites nothing (checked below: the first device id
    // still signs the visit).
    let stderr = fails(home, &["init", "--name", "Indringer", "--json"]);
    assert!(stderr.contains("al een opslag"), "stderr: {stderr}");

    // 2. Cases, listing and searching.
    let aisha = ok_json(home, &["case", "new", "--resident", "Aïsha El Amrani", "--json"]);
    let aisha = str_at(&aisha, "/id").to_string();
    let willem = ok_json(home, &["case", "new", "--resident", "Willem Bakker", "--json"]);
    let willem = str_at(&willem, "/id").to_string();
    assert_ne!(aisha, willem);

    let list = ok_json(home, &["case", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:#?}");
    for (id, name) in [(&aisha, "Aïsha El Amrani"), (&willem, "Willem Bakker")] {
        let case = list.iter().find(|c| c["id"] == id.as_str()).unwrap();
        assert_eq!(str_at(case, "/resident/name"), name);
        assert_eq!(str_at(case, "/status"), "open");
    }

    let found = ok_json(home, &["case", "list", "--search", "aisha", "--json"]);
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "search 'aisha': {found:#?}");
    assert_eq!(str_at(&found[0], "/id"), aisha);
    assert_eq!(str_at(&found[0], "/resident/name"), "Aïsha El Amrani");

    // 3. A visit with a tagged and an untagged observation.
    ok(
        home,
        &[
            "visit",
            "add",
            &aisha,
            "--note",
            "Eerste bezoek, thuis.",
            "--at",
            "2026-11-02T10:00:00Z",
            "--observation",
            "financien:2:Huurachterstand",
            "--observation",
            "::Kijkt weer vooruit",
        ],
    );

    // 4. Bad input: each is refused, names the problem, and records nothing.
    let visit_with = |extra: &[&str]| {
        let mut args = vec!["visit", "add", aisha.as_str(), "--note", "Mag niet bewaard worden"];
        args.extend_from_slice(extra);
        fails(home, &args)
    };
    let stderr = visit_with(&["--observation", "geld:3:x"]);
    assert!(stderr.contains("\"geld\""), "unknown domain: {stderr}");
    assert!(stderr.contains("financien"), "should list the known domains: {stderr}");
    let stderr = visit_with(&["--observation", "financien:7:x"]);
    assert!(stderr.contains("score") && stderr.contains('7'), "score 7: {stderr}");
    let stderr = visit_with(&["--at", "not-a-time"]);
    assert!(stderr.contains("not-a-time"), "bad time: {stderr}");
    let stderr = fails(home, &["visit", "add", "onbekend", "--note", "Mag niet bewaard worden"]);
    assert!(stderr.contains("onbekend") && stderr.contains("bestaat niet"), "{stderr}");

    // 5. A wrong passphrase: refused in Dutch, nothing written.
    let args = ["visit", "add", aisha.as_str(), "--note", "Mag niet bewaard worden"];
    let stderr = refused(&args, &eropaf_with(home, "verkeerd wachtwoord", &args));
    assert!(stderr.contains("wachtwoord"), "wrong passphrase: {stderr}");

    // The case by its short id: exactly the one good visit, as it was entered.
    let case = ok_json(home, &["case", "show", &aisha[..8], "--json"]);
    assert_eq!(str_at(&case, "/id"), aisha);
    assert_eq!(str_at(&case, "/resident/name"), "Aïsha El Amrani");
    assert_eq!(str_at(&case, "/status"), "open");
    let visits = array_at(&case, "/visits");
    assert_eq!(visits.len(), 1, "only the good visit is recorded: {visits:#?}");
    let visit = &visits[0];
    assert_eq!(str_at(visit, "/id").len(), 32);
    let at = chrono::DateTime::parse_from_rfc3339(str_at(visit, "/at")).unwrap();
    assert_eq!(at, chrono::DateTime::parse_from_rfc3339("2026-11-02T10:00:00Z").unwrap());
    assert_eq!(str_at(visit, "/author_device"), device_id);
    assert_eq!(str_at(visit, "/note"), "Eerste bezoek, thuis.");
    let observations = array_at(visit, "/observations");
    assert_eq!(observations.len(), 2, "{observations:#?}");
    assert_eq!(str_at(&observations[0], "/domain"), "financien");
    assert_eq!(observations[0]["score"], 2);
    assert_eq!(str_at(&observations[0], "/text"), "Huurachterstand");
    assert!(is_null_or_absent(&observations[1], "domain"), "{:#}", observations[1]);
    assert!(is_null_or_absent(&observations[1], "score"), "{:#}", observations[1]);
    assert_eq!(str_at(&observations[1], "/text"), "Kijkt weer vooruit");
    assert!(array_at(&case, "/assessments").is_empty());
}

#[test]
fn a_letter_is_attached_listed_and_written_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let home = &dir.path().join("home");
    ok(home, &["init", "--name", "Sanne"]);
    let case = ok_json(home, &["case", "new", "--resident", "Aïsha Bouali", "--json"]);
    let case = str_at(&case, "/id").to_string();
    let letter = dir.path().join("Brief Woonbron.pdf");
    let content: Vec<u8> = b"%PDF huurachterstand ".iter().copied().cycle().take(400_000).collect();
    std::fs::write(&letter, &content).unwrap();
    let letter_arg = letter.to_str().unwrap();
    let attached = ok_json(
        home,
        &["attach", "add", &case, letter_arg, "--caption", "Brief van Woonbron", "--json"],
    );
    assert_eq!(str_at(&attached, "/name"), "Brief Woonbron.pdf");
    assert_eq!(str_at(&attached, "/media_type"), "application/pdf", "from the extension");
    let id = str_at(&attached, "/id").to_string();
    let listed = ok_json(home, &["attach", "list", &case, "--json"]);
    assert_eq!(array_at(&listed, "").len(), 1);
    assert_eq!(str_at(&listed, "/0/caption"), "Brief van Woonbron");
    let human = ok(home, &["attach", "list", &case]);
    assert!(human.contains("Brief Woonbron.pdf") && human.contains("391 kB"), "{human}");

    let out = dir.path().join("terug.pdf");
    ok(home, &["attach", "get", &case, &id[..8], "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), content);
    // Never over an existing file; an unknown attachment or a missing file is refused.
    let stderr = fails(home, &["attach", "get", &case, &id, "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("bestaat al"), "{stderr}");
    let other = dir.path().join("ander.pdf");
    let stderr =
        fails(home, &["attach", "get", &case, "ffffffff", "--out", other.to_str().unwrap()]);
    assert!(stderr.contains("geen bijlage"), "{stderr}");
    let missing = dir.path().join("bestaat-niet.jpg");
    fails(home, &["attach", "add", &case, missing.to_str().unwrap()]);
    let listed = ok_json(home, &["attach", "list", &case, "--json"]);
    assert_eq!(array_at(&listed, "").len(), 1, "nothing added by what was refused");

    // The resident's inzage carries the letter itself, beside the HTML and linked from it.
    let inzage = dir.path().join("inzage-aisha.html");
    let said = ok(home, &["case", "inzage", &case, "--out", inzage.to_str().unwrap()]);
    assert!(said.contains("1 bijlagen in"), "{said}");
    let copy = dir.path().join("inzage-aisha-bijlagen").join("01-Brief-Woonbron.pdf");
    assert_eq!(std::fs::read(&copy).unwrap(), content, "the letter's bytes, in the export");
    let html = std::fs::read_to_string(&inzage).unwrap();
    assert!(html.contains("<a href=\"inzage-aisha-bijlagen/01-Brief-Woonbron.pdf\">"), "{html}");
}

#[test]
fn value_checklist_leads_to_a_repeatable_justification() {
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path();
    ok(home, &["init", "--name", "Sanne"]);
    let case = ok_json(home, &["case", "new", "--resident", "Willem Bakker", "--json"]);
    let case = str_at(&case, "/id").to_string();
    let case = case.as_str();

    let framework = ok_json(home, &["framework", "show", "wijkteam-standaard", "--json"]);
    let steps: Vec<&str> =
        array_at(&framework, "/steps").iter().map(|s| str_at(s, "/key")).collect();
    let values: Vec<&str> =
        array_at(&framework, "/values").iter().map(|v| str_at(v, "/key")).collect();
    assert_eq!(steps, ["effect", "doel_wet", "ethische_afweging", "wettelijke_kaders"]);
    assert!(values.len() >= 3, "values: {values:?}");
    let first_step_title = str_at(&framework, "/steps/0/title");

    let question = "Telt de auto op Willems naam mee als vermogen?";
    let started = ok_json(home, &["assess", "start", case, "--question", question, "--json"]);
    let assessment = str_at(&started, "/assessment/id").to_string();
    let short = &assessment[..8];
    assert_eq!(str_at(&started, "/assessment/question"), question);
    assert_eq!(started.pointer("/progress/complete"), Some(&Value::Bool(false)));
    assert_eq!(str_at(&started, "/progress/next/kind"), "step");
    assert_eq!(str_at(&started, "/progress/next/key"), "effect");
    // Every step, every value and the decision itself.
    let total = steps.len() + values.len() + 1;
    assert_eq!(started.pointer("/progress/total"), Some(&Value::from(total)));

    // The law comes last: answering it first is refused, saying what comes first.
    let refused_text = "Eerst de wet: artikel 34.";
    let stderr = fails(home, &["assess", "answer", case, short, "wettelijke_kaders", refused_text]);
    assert!(stderr.contains(first_step_title), "should name step 1: {stderr}");

    let answers = [
        ("effect", "Willem wil zijn baan bij de bakkerij houden."),
        ("doel_wet", "De bijstand helpt mensen naar werk; Willem werkt al."),
        ("ethische_afweging", "Zonder auto verliest hij zijn baan; dat kost meer."),
    ];
    for (step, answer) in answers {
        ok(home, &["assess", "answer", case, short, step, answer]);
    }
    for value in &values {
        let motivation = format!("Motivatie bij {value}.");
        ok(home, &["assess", "value", case, short, value, "supports", "--motivation", &motivation]);
    }
    let law = "Artikel 18 lid 1 Participatiewet: afstemming op de persoon.";
    ok(home, &["assess", "answer", case, short, "wettelijke_kaders", law]);
    let decision = "De auto telt niet mee zolang Willem hem voor zijn werk nodig heeft.";
    ok(home, &["assess", "answer", case, short, "decision", decision]);
    ok(home, &["assess", "maatwerk", case, short, "--budget", "750"]);

    let shown = ok_json(home, &["assess", "show", case, short, "--json"]);
    assert_eq!(shown.pointer("/progress/complete"), Some(&Value::Bool(true)), "{shown:#}");
    assert!(array_at(&shown, "/progress/missing").is_empty());
    assert_eq!(shown.pointer("/assessment/maatwerk"), Some(&Value::Bool(true)));
    let justification = str_at(&shown, "/justification");
    for (_, answer) in answers {
        assert!(justification.contains(answer), "missing {answer:?} in:\n{justification}");
    }
    for expected in [question, law, decision, "Motivatie bij rechtmatig.", "€ 750,00"] {
        assert!(justification.contains(expected), "missing {expected:?} in:\n{justification}");
    }
    assert!(!justification.contains(refused_text), "a refused answer was kept:\n{justification}");

    // Same facts, same text.
    let again = ok_json(home, &["assess", "show", case, short, "--json"]);
    assert_eq!(str_at(&again, "/justification"), justification);
}

#[test]
fn framework_check_names_the_broken_line() {
    let temp = tempfile::tempdir().unwrap();
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/frameworks/wijkteam-standaard.toml");
    let shipped_path = shipped.to_str().unwrap();
    let stdout = ok(temp.path(), &["framework", "check", shipped_path]);
    assert!(stdout.contains("In orde"), "{stdout}");

    // A TOML syntax error on line 5.
    let broken = temp.path().join("kapot.toml");
    std::fs::write(&broken, "id = \"x\"\nversion = 1\ntitle = \"T\"\n\n[[steps]\nkey = \"a\"\n")
        .unwrap();
    let stderr = fails(temp.path(), &["framework", "check", broken.to_str().unwrap()]);
    assert!(stderr.contains("regel 5"), "{stderr}");

    // Valid TOML, but a step key used twice: the second one's line is named.
    let source = std::fs::read_to_string(&shipped).unwrap();
    let (index, _) =
        source.lines().enumerate().find(|(_, l)| l.trim() == "key = \"doel_wet\"").unwrap();
    let duplicated = source.replacen("key = \"doel_wet\"", "key = \"effect\"", 1);
    let duplicate = temp.path().join("dubbel.toml");
    std::fs::write(&duplicate, duplicated).unwrap();
    let stderr = fails(temp.path(), &["framework", "check", duplicate.to_str().unwrap()]);
    assert!(stderr.contains(&format!("regel {}", index + 1)), "{stderr}");
}

#[test]
fn demo_tells_the_story_and_leaves_nothing_readable() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_eropaf"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&dir)
        .env_remove("EROPAF_HOME")
        .env_remove("EROPAF_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{}", text(&out.stderr));

    // The merged case: all three visits, from both replicas, and the same on both.
    assert!(stdout.contains("Bezoeken (3):"), "{stdout}");
    for visit in ["Dorpsstraat", "Bij de bakkerij", "Telefonisch overleg"] {
        assert!(stdout.contains(visit), "missing visit {visit:?}:\n{stdout}");
    }
    // Both concurrent edits of the first note survive the merge.
    assert!(stdout.contains("ongeveer 4.000 euro"), "{stdout}");
    assert!(stdout.contains("Zonder auto verliest hij zijn baan"), "{stdout}");
    assert!(stdout.contains("precies hetzelfde dossier"), "{stdout}");
    // The letter from the woningcorporatie, kept with Aïsha's first visit, sealed.
    assert!(stdout.contains("brief-woonbron.pdf") && stdout.contains("geen woord ervan leesbaar"));

    // A complete assessment with its justification.
    let progress = stdout
        .lines()
        .find_map(|l| l.split_once(" beantwoord)").and_then(|(head, _)| head.rsplit_once('(')))
        .map(|(_, counts)| counts.to_string())
        .unwrap_or_else(|| panic!("no progress line:\n{stdout}"));
    let (answered, total) = progress.split_once(" van ").unwrap();
    assert_eq!(answered, total, "progress {progress}:\n{stdout}");
    assert!(stdout.contains("Compleet."), "{stdout}");
    assert!(stdout.contains("Onderbouwing: Telt de auto"), "{stdout}");
    assert!(stdout.contains("Voorgesteld besluit:\nDe auto wordt niet meegeteld"), "{stdout}");

    // Both stores are on disk and none of their files holds readable case text.
    for replica in ["telefoon", "laptop"] {
        let files: Vec<_> =
            std::fs::read_dir(dir.join(replica)).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(!files.is_empty(), "no store in {replica}");
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            for marker in ["Willem", "bakkerij", "vermogen"] {
                let found = bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
                assert!(!found, "{} holds {marker:?} in readable form", file.display());
            }
        }
    }
}
