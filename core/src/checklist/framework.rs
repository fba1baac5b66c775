//! Value frameworks (waardenkaders): the TOML file a supervisor edits, read into checked,
//! ordered data. Every error in a file comes back with the line to fix.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::{Error, Result};

/// A team's value framework: the omgekeerde toets, the values to weigh, the escalation ladder.
///
/// Built only by [`Framework::parse`] (or [`Framework::builtin`]), so the keys are unique and
/// exactly one step weighs the values. Frameworks travel as their TOML source, which is
/// why this type serializes but does not deserialize: reading always goes through the checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Framework {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub description: Option<String>,
    /// The omgekeerde toets, in order.
    pub steps: Vec<Step>,
    /// In the order the team wants them weighed and shown.
    pub values: Vec<Value>,
    /// From the lowest rung (the team) up.
    pub escalation: Vec<Rung>,
}

/// One step of the omgekeerde toets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub key: String,
    pub title: String,
    pub question: String,
    pub guidance: Vec<String>,
    /// The ethical weighing: while on this step the worker gives each value a verdict.
    pub weighs_values: bool,
}

/// One value the team weighs its decisions against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Value {
    pub key: String,
    /// Only for showing related values together (e.g. "Waardendriehoek"); may be empty.
    pub group: String,
    pub title: String,
    pub description: String,
    pub questions: Vec<String>,
}

/// One rung of the escalation ladder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rung {
    pub key: String,
    pub title: String,
    pub description: String,
}

/// The framework shipped with Eropaf, for teams that have not written their own yet.
const BUILTIN: &str = include_str!("../../frameworks/wijkteam-standaard.toml");

impl Framework {
    /// Reads and checks a framework file. Errors are [`Error::InvalidFramework`] with the
    /// 1-based line a supervisor should look at.
    pub fn parse(source: &str) -> Result<Framework> {
        let raw: RawFramework = toml::from_str(source).map_err(|e| Error::InvalidFramework {
            line: e.span().map_or(1, |span| line_at(source, span.start)),
            message: e.message().trim().to_string(),
        })?;
        Checker { source }.framework(raw)
    }

    /// The shipped framework `wijkteam-standaard`.
    pub fn builtin() -> Framework {
        // The unit test `builtin_parses` proves the shipped file is valid.
        Framework::parse(BUILTIN).expect("the built-in framework is valid")
    }

    /// The TOML source of the shipped framework: the starting point for a team's own.
    pub fn builtin_source() -> &'static str {
        BUILTIN
    }

    pub fn step(&self, key: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.key == key)
    }

    pub fn value(&self, key: &str) -> Option<&Value> {
        self.values.iter().find(|v| v.key == key)
    }

    pub fn rung(&self, key: &str) -> Option<&Rung> {
        self.escalation.iter().find(|r| r.key == key)
    }

    /// The rung above `key`; `None` at the top of the ladder or for an unknown key.
    pub fn next_rung(&self, key: &str) -> Option<&Rung> {
        let at = self.escalation.iter().position(|r| r.key == key)?;
        self.escalation.get(at + 1)
    }

    /// The step during which the values are weighed.
    pub fn weighing_step(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.weighs_values)
    }

    /// 1-based position of a step, as the worker sees it ("Stap 2").
    pub fn step_number(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.key == key).map(|i| i + 1)
    }
}

// The file as written. Everything is optional and spanned so that a missing or empty field
// gets our own message and a line number, instead of serde's "missing field" without one.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    id: Option<Spanned<String>>,
    version: Option<Spanned<i64>>,
    title: Option<Spanned<String>>,
    description: Option<String>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
    #[serde(default)]
    values: Vec<Spanned<RawValue>>,
    #[serde(default)]
    escalation: Vec<Spanned<RawRung>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    key: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    question: Option<Spanned<String>>,
    #[serde(default)]
    guidance: Vec<Spanned<String>>,
    weighs_values: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValue {
    key: Option<Spanned<String>>,
    group: Option<String>,
    title: Option<Spanned<String>>,
    description: Option<String>,
    #[serde(default)]
    questions: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRung {
    key: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    description: Option<String>,
}

fn line_at(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Where a field lives, for messages: the top of the file or one `[[table]]` entry.
struct Owner<'a> {
    /// "" for the top level, else the table name ("steps").
    table: &'a str,
    /// Line of the `[[table]]` header (1 for the top level).
    line: usize,
}

impl Owner<'_> {
    fn describe(&self) -> String {
        if self.table.is_empty() {
            "the framework".to_string()
        } else {
            format!("the [[{}]] entry at line {}", self.table, self.line)
        }
    }
}

struct Checker<'a> {
    source: &'a str,
}

impl Checker<'_> {
    fn line<T>(&self, spanned: &Spanned<T>) -> usize {
        line_at(self.source, spanned.span().start)
    }

    fn error(&self, line: usize, message: impl Into<String>) -> Error {
        Error::InvalidFramework { line, message: message.into() }
    }

    fn framework(&self, raw: RawFramework) -> Result<Framework> {
        let top = Owner { table: "", line: 1 };
        let id = self.key(raw.id, "id", &top, IdKind::Framework)?;
        let version = self.version(raw.version)?;
        let title = self.text(raw.title, "title", &top)?;
        let description = raw.description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());

        let mut steps = Vec::with_capacity(raw.steps.len());
        let mut step_keys = Keys::new("step");
        let mut weighing: Option<usize> = None;
        let first_step_line = raw.steps.first().map_or(1, |entry| self.line(entry));
        for entry in raw.steps {
            let owner = Owner { table: "steps", line: self.line(&entry) };
            let s = entry.into_inner();
            let key_line = s.key.as_ref().map_or(owner.line, |k| self.line(k));
            let key = self.key(s.key, "key", &owner, IdKind::Item)?;
            step_keys.insert(self, &key, key_line)?;
            let title = self.text(s.title, "title", &owner)?;
            let question = self.text(s.question, "question", &owner)?;
            let guidance = self.lines(s.guidance, "guidance", &owner)?;
            let weighs_values = match s.weighs_values {
                Some(flag) if *flag.get_ref() => {
                    let line = self.line(&flag);
                    if let Some(first) = weighing {
                        return Err(self.error(
                            line,
                            format!(
                                "step \"{key}\" has `weighs_values = true`, but so does the step \
                                 at line {first}: exactly one step may weigh the values"
                            ),
                        ));
                    }
                    weighing = Some(line);
                    true
                }
                _ => false,
            };
            steps.push(Step { key, title, question, guidance, weighs_values });
        }

        let mut values = Vec::with_capacity(raw.values.len());
        let mut value_keys = Keys::new("value");
        for entry in raw.values {
            let owner = Owner { table: "values", line: self.line(&entry) };
            let v = entry.into_inner();
            let key_line = v.key.as_ref().map_or(owner.line, |k| self.line(k));
            let key = self.key(v.key, "key", &owner, IdKind::Item)?;
            value_keys.insert(self, &key, key_line)?;
            let title = self.text(v.title, "title", &owner)?;
            let questions = self.lines(v.questions, "questions", &owner)?;
            values.push(Value {
                key,
                group: v.group.unwrap_or_default().trim().to_string(),
                title,
                description: v.description.unwrap_or_default().trim().to_string(),
                questions,
            });
        }

        let mut escalation = Vec::with_capacity(raw.escalation.len());
        let mut rung_keys = Keys::new("escalation rung");
        for entry in raw.escalation {
            let owner = Owner { table: "escalation", line: self.line(&entry) };
            let r = entry.into_inner();
            let key_line = r.key.as_ref().map_or(owner.line, |k| self.line(k));
            let key = self.key(r.key, "key", &owner, IdKind::Item)?;
            rung_keys.insert(self, &key, key_line)?;
            let title = self.text(r.title, "title", &owner)?;
            let description = r.description.unwrap_or_default().trim().to_string();
            escalation.push(Rung { key, title, description });
        }

        // Whole-file problems have no line of their own; the last line is where a supervisor
        // would add what is missing.
        let end = line_at(self.source, self.source.trim_end().len());
        if steps.is_empty() {
            return Err(self.error(end, "no [[steps]]: the framework needs the omgekeerde toets"));
        }
        if weighing.is_none() {
            return Err(self.error(
                first_step_line,
                "no step has `weighs_values = true`: exactly one step must be the ethical \
                 weighing, during which each value gets a verdict",
            ));
        }
        if values.is_empty() {
            return Err(self.error(end, "no [[values]]: the framework needs values to weigh"));
        }
        if escalation.is_empty() {
            return Err(self.error(end, "no [[escalation]] rungs: the framework needs a ladder"));
        }

        Ok(Framework { id, version, title, description, steps, values, escalation })
    }

    fn version(&self, version: Option<Spanned<i64>>) -> Result<u32> {
        let Some(version) = version else {
            return Err(self.error(1, "missing `version` (a whole number, 1 or higher)"));
        };
        match u32::try_from(*version.get_ref()) {
            Ok(v) if v >= 1 => Ok(v),
            _ => Err(self.error(
                self.line(&version),
                format!(
                    "`version` is {}: it must be a whole number, 1 or higher",
                    version.get_ref()
                ),
            )),
        }
    }

    /// A required, non-blank text, trimmed.
    fn text(&self, field: Option<Spanned<String>>, name: &str, owner: &Owner) -> Result<String> {
        let Some(field) = field else {
            return Err(self.error(owner.line, format!("{} has no `{name}`", owner.describe())));
        };
        let text = field.get_ref().trim();
        if text.is_empty() {
            return Err(self.error(self.line(&field), format!("`{name}` is empty")));
        }
        Ok(text.to_string())
    }

    /// A required key: keys end up in stored assessments and on the command line, so they
    /// are restricted to characters that survive both unchanged. A framework id may also
    /// hold `-`, like the file name it usually matches.
    fn key(
        &self,
        field: Option<Spanned<String>>,
        name: &str,
        owner: &Owner,
        kind: IdKind,
    ) -> Result<String> {
        let Some(field) = field else {
            return Err(self.error(owner.line, format!("{} has no `{name}`", owner.describe())));
        };
        let key = field.get_ref();
        if key.is_empty() {
            return Err(self.error(self.line(&field), format!("`{name}` is empty")));
        }
        let dash = matches!(kind, IdKind::Framework);
        let allowed = |b: u8| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || (dash && b == b'-')
        };
        if !key.bytes().all(allowed) {
            let also = if dash { ", underscores and dashes" } else { " and underscores" };
            return Err(self.error(
                self.line(&field),
                format!("`{name}` \"{key}\" may only contain lowercase letters a-z, digits{also}"),
            ));
        }
        Ok(key.clone())
    }

    /// A list of guidance lines or questions; an empty entry is almost surely a slip.
    fn lines(&self, lines: Vec<Spanned<String>>, name: &str, owner: &Owner) -> Result<Vec<String>> {
        lines
            .into_iter()
            .map(|line| {
                let text = line.get_ref().trim();
                if text.is_empty() {
                    Err(self.error(
                        self.line(&line),
                        format!("empty entry in `{name}` of {}", owner.describe()),
                    ))
                } else {
                    Ok(text.to_string())
                }
            })
            .collect()
    }
}

#[derive(Clone, Copy)]
enum IdKind {
    Framework,
    Item,
}

/// Keys seen so far of one kind, with the line each was first defined on.
struct Keys {
    kind: &'static str,
    seen: Vec<(String, usize)>,
}

impl Keys {
    fn new(kind: &'static str) -> Self {
        Keys { kind, seen: Vec::new() }
    }

    fn insert(&mut self, checker: &Checker, key: &str, line: usize) -> Result<()> {
        if let Some((_, first)) = self.seen.iter().find(|(k, _)| k == key) {
            return Err(checker.error(
                line,
                format!("duplicate {} key \"{key}\" (first at line {first})", self.kind),
            ));
        }
        self.seen.push((key.to_string(), line));
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// A small valid framework; tests break it one line at a time.
    const MINIMAL: &str = r#"id = "mini"
version = 1
title = "Mini"

[[steps]]
key = "effect"
title = "Beoogd effect"
question = "Wat wil de inwoner bereiken?"

[[steps]]
key = "afweging"
title = "Afweging"
question = "Wat zijn de gevolgen?"
weighs_values = true

[[values]]
key = "rechtmatig"
title = "Rechtmatig"

[[values]]
key = "betrokken"
title = "Betrokken"

[[escalation]]
key = "team"
title = "Team"
"#;

    fn error_of(source: &str) -> (usize, String) {
        match Framework::parse(source) {
            Err(Error::InvalidFramework { line, message }) => (line, message),
            Err(other) => panic!("expected InvalidFramework, got {other:?}"),
            Ok(_) => panic!("expected an error for:\n{source}"),
        }
    }

    /// Replaces the exact `line` (1-based) of `MINIMAL` with `with` (which may hold newlines).
    fn edit(line: usize, with: &str) -> String {
        let mut lines: Vec<&str> = MINIMAL.lines().collect();
        lines[line - 1] = with;
        lines.join("\n") + "\n"
    }

    #[test]
    fn builtin_parses() {
        let f = Framework::parse(Framework::builtin_source()).unwrap();
        assert_eq!(f, Framework::builtin());
        assert_eq!(f.id, "wijkteam-standaard");
        assert_eq!(f.version, 1);
        assert_eq!(f.title, "Waardenkader wijkteam");
        assert!(f.description.is_some());
    }

    #[test]
    fn builtin_has_the_omgekeerde_toets_in_order_with_the_law_last() {
        let f = Framework::builtin();
        let keys: Vec<&str> = f.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["effect", "doel_wet", "ethische_afweging", "wettelijke_kaders"]);
        assert_eq!(f.weighing_step().map(|s| s.key.as_str()), Some("ethische_afweging"));
        assert_eq!(f.step_number("doel_wet"), Some(2));
        let purpose = f.step("doel_wet").unwrap().guidance.join(" ");
        for aim in ["zelfredzaamheid", "participatie", "menswaardig bestaan"] {
            assert!(purpose.contains(aim), "step 2 guidance should mention {aim}");
        }
        let weighing = f.step("ethische_afweging").unwrap().guidance.join(" ");
        for aspect in ["korte termijn", "lange termijn", "zelf kan", "eigen bedoeling", "gemeente"]
        {
            assert!(weighing.contains(aspect), "weighing guidance should mention {aspect}");
        }
        assert!(f.steps.iter().all(|s| !s.question.is_empty() && !s.guidance.is_empty()));
    }

    #[test]
    fn builtin_has_the_shipped_values() {
        let f = Framework::builtin();
        let keys: Vec<(&str, &str)> =
            f.values.iter().map(|v| (v.group.as_str(), v.key.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("Waardendriehoek", "rechtmatig"),
                ("Waardendriehoek", "doelmatig"),
                ("Waardendriehoek", "betrokken"),
                ("Waarden klantmanager", "inlevend"),
                ("Waarden klantmanager", "dienstbaar"),
                ("Waarden klantmanager", "betrouwbaar"),
                ("Waarden klantmanager", "vernieuwend"),
                ("Waarden klantmanager", "resultaatgericht"),
                ("Beleid", "werk_boven_inkomen"),
                ("Beleid", "in_actie"),
                ("Beleid", "geen_dakloze_kinderen"),
            ]
        );
        assert_eq!(f.value("werk_boven_inkomen").unwrap().title, "Werk gaat boven inkomen");
        assert_eq!(
            f.value("in_actie").unwrap().title,
            "We komen in actie als iemand het zelf echt niet kan"
        );
        assert_eq!(
            f.value("geen_dakloze_kinderen").unwrap().title,
            "In onze gemeente zijn geen kinderen dakloos"
        );
        for v in &f.values {
            assert!(!v.description.is_empty(), "{} has no description", v.key);
            assert!((2..=3).contains(&v.questions.len()), "{} needs 2-3 questions", v.key);
        }
    }

    #[test]
    fn builtin_escalation_ladder_climbs_one_rung_at_a_time() {
        let f = Framework::builtin();
        let keys: Vec<&str> = f.escalation.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["team", "omgekeerde_toets", "doorbraakmethode", "regionaal", "landelijk"]
        );
        assert_eq!(f.next_rung("team").unwrap().key, "omgekeerde_toets");
        assert_eq!(
            f.next_rung("regionaal").unwrap().title,
            "Landelijk maatwerkloket of escalatieteam"
        );
        assert_eq!(f.next_rung("landelijk"), None, "nothing above the top rung");
        assert_eq!(f.next_rung("nergens"), None);
        assert_eq!(f.rung("doorbraakmethode").unwrap().title, "Doorbraakmethode");
        assert!(f.rung("nergens").is_none());
        assert!(f.step("nergens").is_none() && f.value("nergens").is_none());
    }

    #[test]
    fn minimal_parses() {
        let f = Framework::parse(MINIMAL).unwrap();
        assert_eq!(f.steps.len(), 2);
        assert_eq!(f.values[1].title, "Betrokken");
        assert_eq!(f.values[1].group, "");
        assert_eq!(f.description, None);
    }

    #[test]
    fn toml_syntax_error_points_at_its_line() {
        let (line, message) = error_of(&edit(10, "[[steps]"));
        assert_eq!(line, 10);
        assert!(message.contains("expected `]`"), "{message}");

        let (line, message) = error_of(&edit(12, r#"title = "Afweging"#));
        assert_eq!(line, 12);
        assert!(message.contains("string"), "{message}");
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let (line, message) = error_of(&edit(2, r#"version = "een""#));
        assert_eq!(line, 2);
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn missing_title() {
        let (line, message) = error_of(&edit(3, ""));
        assert_eq!(line, 1);
        assert_eq!(message, "the framework has no `title`");

        // In a step, the line is the step's [[steps]] header.
        let (line, message) = error_of(&edit(12, ""));
        assert_eq!(line, 10);
        assert_eq!(message, "the [[steps]] entry at line 10 has no `title`");
    }

    #[test]
    fn empty_title_and_id() {
        let (line, message) = error_of(&edit(7, r#"title = "   ""#));
        assert_eq!((line, message.as_str()), (7, "`title` is empty"));
        let (line, message) = error_of(&edit(1, r#"id = """#));
        assert_eq!((line, message.as_str()), (1, "`id` is empty"));
        let (line, message) = error_of(&edit(1, ""));
        assert_eq!((line, message.as_str()), (1, "the framework has no `id`"));
    }

    #[test]
    fn version_zero() {
        let (line, message) = error_of(&edit(2, "version = 0"));
        assert_eq!(line, 2);
        assert!(message.contains("`version` is 0"), "{message}");
        let (_, message) = error_of(&edit(2, "version = -3"));
        assert!(message.contains("1 or higher"), "{message}");
        let (line, message) = error_of(&edit(2, ""));
        assert_eq!(line, 1);
        assert!(message.contains("missing `version`"), "{message}");
    }

    #[test]
    fn duplicate_value_key() {
        let (line, message) = error_of(&edit(21, r#"key = "rechtmatig""#));
        assert_eq!(line, 21);
        assert_eq!(message, r#"duplicate value key "rechtmatig" (first at line 17)"#);
    }

    #[test]
    fn duplicate_step_and_rung_keys() {
        let (line, message) = error_of(&edit(11, r#"key = "effect""#));
        assert_eq!(line, 11);
        assert_eq!(message, r#"duplicate step key "effect" (first at line 6)"#);

        let source = format!("{MINIMAL}\n[[escalation]]\nkey = \"team\"\ntitle = \"Nog eens\"\n");
        let (line, message) = error_of(&source);
        assert_eq!(line, 29);
        assert_eq!(message, r#"duplicate escalation rung key "team" (first at line 25)"#);
    }

    #[test]
    fn bad_key_characters() {
        for bad in ["Rechtmatig", "recht matig", "recht-matig", "rëchtmatig"] {
            let (line, message) = error_of(&edit(17, &format!("key = \"{bad}\"")));
            assert_eq!(line, 17, "{bad}");
            assert!(message.contains(&format!("\"{bad}\"")), "{message}");
            assert!(message.contains("lowercase letters a-z, digits and underscores"), "{message}");
        }
    }

    #[test]
    fn framework_id_may_hold_dashes_but_not_spaces() {
        assert_eq!(Framework::parse(&edit(1, r#"id = "wijk-team_2""#)).unwrap().id, "wijk-team_2");
        let (line, message) = error_of(&edit(1, r#"id = "Wijk team""#));
        assert_eq!(line, 1);
        assert!(message.contains("digits, underscores and dashes"), "{message}");
        let (_, message) = error_of(&edit(6, r#"key = "beoogd-effect""#));
        assert!(message.contains("\"beoogd-effect\" may only contain"), "{message}");
    }

    #[test]
    fn two_weighing_steps() {
        let (line, message) = error_of(&edit(8, "question = \"Wat?\"\nweighs_values = true"));
        // The added line shifts the rest down by one: the second flag is now on line 15.
        assert_eq!(line, 15);
        assert!(message.contains("exactly one step may weigh the values"), "{message}");
        assert!(message.contains("step at line 9"), "{message}");
    }

    #[test]
    fn no_weighing_step() {
        let (line, message) = error_of(&edit(14, "weighs_values = false"));
        assert_eq!(line, 5, "the first step");
        assert!(message.contains("no step has `weighs_values = true`"), "{message}");
    }

    #[test]
    fn unknown_field() {
        let (line, message) = error_of(&edit(13, "vraag = \"Wat zijn de gevolgen?\""));
        assert_eq!(line, 13);
        assert!(message.contains("unknown field `vraag`"), "{message}");

        let (line, message) = error_of(&edit(2, "version = 1\nauthor = \"Ans\""));
        assert_eq!(line, 3);
        assert!(message.contains("unknown field `author`"), "{message}");
    }

    #[test]
    fn empty_lists() {
        let no_rungs = MINIMAL.split("[[escalation]]").next().unwrap();
        let (line, message) = error_of(no_rungs);
        assert!(message.contains("no [[escalation]] rungs"), "{message}");
        assert_eq!(line, 22, "the last line, where a rung would go");

        let head = "id = \"x\"\nversion = 1\ntitle = \"X\"\n";
        let (line, message) = error_of(head);
        assert!(message.contains("no [[steps]]"), "{message}");
        assert_eq!(line, 3);

        let no_values = format!(
            "{head}[[steps]]\nkey = \"a\"\ntitle = \"A\"\nquestion = \"?\"\nweighs_values = true\n\
             [[escalation]]\nkey = \"team\"\ntitle = \"Team\"\n"
        );
        assert!(error_of(&no_values).1.contains("no [[values]]"));
    }

    #[test]
    fn blank_guidance_entry() {
        let (line, message) =
            error_of(&edit(8, "question = \"Wat?\"\nguidance = [\"Goed\",\n \"  \"]"));
        assert_eq!(line, 10);
        assert!(message.contains("empty entry in `guidance`"), "{message}");
    }

    #[test]
    fn texts_are_trimmed() {
        let f = Framework::parse(&edit(7, r#"title = "  Beoogd effect ""#)).unwrap();
        assert_eq!(f.steps[0].title, "Beoogd effect");
    }
}
