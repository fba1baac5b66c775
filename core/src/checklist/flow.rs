//! The decision flow of one assessment: the order in which a worker answers the checklist,
//! what is still missing, and whether an item may be answered yet.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::framework::Framework;
use crate::{Error, Result};

/// A worker's verdict on one value, for the decision under consideration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supports,
    InTension,
    Conflicts,
    NotRelevant,
}

impl Verdict {
    /// In the order they are shown and grouped in a justification.
    pub const ALL: [Verdict; 4] =
        [Verdict::Supports, Verdict::InTension, Verdict::Conflicts, Verdict::NotRelevant];

    /// The stable key, as serialized and stored.
    pub fn key(&self) -> &'static str {
        match self {
            Verdict::Supports => "supports",
            Verdict::InTension => "in_tension",
            Verdict::Conflicts => "conflicts",
            Verdict::NotRelevant => "not_relevant",
        }
    }

    /// A short Dutch label for a picker.
    pub fn label_nl(&self) -> &'static str {
        match self {
            Verdict::Supports => "Ondersteunt",
            Verdict::InTension => "Op gespannen voet",
            Verdict::Conflicts => "Strijdig",
            Verdict::NotRelevant => "Niet van toepassing",
        }
    }

    /// Reads a key or its Dutch name, ignoring case and surrounding spaces.
    pub fn parse(s: &str) -> Result<Verdict> {
        let wanted = s.trim().to_lowercase();
        let found = match wanted.as_str() {
            "supports" | "ondersteunt" => Some(Verdict::Supports),
            "in_tension" | "spanning" | "op gespannen voet" => Some(Verdict::InTension),
            "conflicts" | "strijdig" => Some(Verdict::Conflicts),
            "not_relevant" | "nvt" | "n.v.t." | "niet van toepassing" => Some(Verdict::NotRelevant),
            _ => None,
        };
        found.ok_or_else(|| {
            Error::invalid(
                "verdict",
                format!(
                    "onbekend oordeel \"{}\"; kies uit ondersteunt, spanning, strijdig of nvt \
                     (supports, in_tension, conflicts, not_relevant)",
                    s.trim()
                ),
            )
        })
    }

    /// Saying a value does not apply needs no explanation; every other verdict does, or a
    /// reader of the justification cannot follow the reasoning.
    pub fn needs_motivation(&self) -> bool {
        !matches!(self, Verdict::NotRelevant)
    }
}

impl FromStr for Verdict {
    type Err = Error;

    fn from_str(s: &str) -> Result<Verdict> {
        Verdict::parse(s)
    }
}

/// What a worker recorded for one value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueVerdict {
    pub verdict: Option<Verdict>,
    pub motivation: String,
}

impl ValueVerdict {
    pub fn is_answered(&self) -> bool {
        match self.verdict {
            None => false,
            Some(v) => !v.needs_motivation() || !self.motivation.trim().is_empty(),
        }
    }
}

/// What a worker recorded for one assessment. Plain data: storage lives elsewhere. Keys not
/// in the framework (say, of a value a newer framework version dropped) are kept but ignored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Answers {
    /// The decision under consideration.
    pub question: String,
    /// Step key -> answer text ("" = unanswered).
    pub steps: BTreeMap<String, String>,
    /// Value key -> verdict and motivation.
    pub verdicts: BTreeMap<String, ValueVerdict>,
    /// The proposed decision ("" = not yet).
    pub decision: String,
    /// The decision departs from standard policy.
    pub maatwerk: bool,
    /// An amount from the team's maatwerkbudget, in euro cents.
    pub budget_cents: Option<u64>,
}

impl Answers {
    /// The trimmed answer to a step, "" when there is none.
    pub fn step(&self, key: &str) -> &str {
        self.steps.get(key).map_or("", |s| s.trim())
    }

    pub fn verdict(&self, key: &str) -> Option<&ValueVerdict> {
        self.verdicts.get(key)
    }

    /// Whether `item` has an answer that counts: non-blank text, or a verdict with a
    /// motivation where the verdict needs one.
    pub fn is_answered(&self, item: &Item) -> bool {
        match item {
            Item::Step(key) => !self.step(key).is_empty(),
            Item::Value(key) => self.verdicts.get(key).is_some_and(ValueVerdict::is_answered),
            Item::Decision => !self.decision.trim().is_empty(),
        }
    }
}

/// One thing to answer in the flow.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "key", rename_all = "snake_case")]
pub enum Item {
    Step(String),
    Value(String),
    Decision,
}

impl Item {
    pub fn step(key: impl Into<String>) -> Item {
        Item::Step(key.into())
    }

    pub fn value(key: impl Into<String>) -> Item {
        Item::Value(key.into())
    }

    /// The input field an error about this item names: "step", "value" or "decision".
    pub fn field(&self) -> &'static str {
        match self {
            Item::Step(_) => "step",
            Item::Value(_) => "value",
            Item::Decision => "decision",
        }
    }
}

/// An unanswered item and, in Dutch, what is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub item: Item,
    pub reason: String,
}

/// Where an assessment stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The first unanswered item in flow order: what the app offers next.
    pub next: Option<Item>,
    /// Every unanswered item, in flow order.
    pub missing: Vec<Missing>,
    pub complete: bool,
    pub answered: usize,
    pub total: usize,
}

/// Every item in the order a worker answers them: the steps up to and including the ethical
/// weighing, then each value, then the remaining steps (the law last), then the decision.
/// (A framework built by hand without a weighing step gets its values after all steps.)
pub fn flow(framework: &Framework) -> Vec<Item> {
    staged(framework).into_iter().map(|(item, _)| item).collect()
}

/// The flow with a stage number per item. Values share one stage because they may be
/// weighed in any order; everything else is its own stage.
fn staged(framework: &Framework) -> Vec<(Item, usize)> {
    let split = framework
        .steps
        .iter()
        .position(|s| s.weighs_values)
        .map_or(framework.steps.len(), |i| i + 1);
    let (before, after) = framework.steps.split_at(split);
    let mut items = Vec::with_capacity(framework.steps.len() + framework.values.len() + 1);
    for step in before {
        items.push((Item::Step(step.key.clone()), items.len()));
    }
    let values_stage = items.len();
    for value in &framework.values {
        items.push((Item::Value(value.key.clone()), values_stage));
    }
    let mut stage = values_stage + usize::from(!framework.values.is_empty());
    for step in after {
        items.push((Item::Step(step.key.clone()), stage));
        stage += 1;
    }
    items.push((Item::Decision, stage));
    items
}

/// The Dutch name of an item, as a worker sees it: "Stap 2 (Doel van de wet)".
pub(crate) fn label(framework: &Framework, item: &Item) -> String {
    match item {
        Item::Step(key) => match (framework.step_number(key), framework.step(key)) {
            (Some(n), Some(step)) => format!("Stap {n} ({})", step.title),
            _ => format!("Stap \"{key}\""),
        },
        Item::Value(key) => {
            let title = framework.value(key).map_or(key.as_str(), |v| v.title.as_str());
            format!("Waarde \"{title}\"")
        }
        Item::Decision => "Het voorgestelde besluit".to_string(),
    }
}

/// Why `item` does not count as answered yet, in Dutch.
fn missing_reason(framework: &Framework, answers: &Answers, item: &Item) -> String {
    let label = label(framework, item);
    match item {
        Item::Step(_) => format!("{label} is nog niet beantwoord"),
        Item::Value(key) if answers.verdict(key).is_some_and(|v| v.verdict.is_some()) => {
            format!("Bij {} ontbreekt nog de motivering", lowercase_first(&label))
        }
        Item::Value(_) => format!("{label} heeft nog geen oordeel"),
        Item::Decision => format!("{label} is nog niet ingevuld"),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Where an assessment stands: what comes next, what is missing, whether it is complete.
/// The maatwerk flag and the budget are optional and never missing.
pub fn progress(framework: &Framework, answers: &Answers) -> Progress {
    let items = flow(framework);
    let total = items.len();
    let missing: Vec<Missing> = items
        .into_iter()
        .filter(|item| !answers.is_answered(item))
        .map(|item| Missing { reason: missing_reason(framework, answers, &item), item })
        .collect();
    Progress {
        next: missing.first().map(|m| m.item.clone()),
        complete: missing.is_empty(),
        answered: total - missing.len(),
        total,
        missing,
    }
}

/// Refuses to answer `item` while an item before it in the flow is unanswered, so that the
/// law is never weighed before the resident's goal. Changing an answer that already counts is
/// always allowed, as is answering the values in any order once the weighing step is done.
pub fn check_can_answer(framework: &Framework, answers: &Answers, item: &Item) -> Result<()> {
    let stages = staged(framework);
    let Some(&(_, stage)) = stages.iter().find(|(it, _)| it == item) else {
        let (kind, key) = match item {
            Item::Step(key) => ("stap", key.as_str()),
            Item::Value(key) => ("waarde", key.as_str()),
            Item::Decision => ("onderdeel", "decision"),
        };
        return Err(Error::invalid(
            item.field(),
            format!("onbekende {kind} \"{key}\" in waardenkader \"{}\"", framework.id),
        ));
    };
    if answers.is_answered(item) {
        return Ok(());
    }
    let blocker = stages
        .iter()
        .take_while(|(_, s)| *s < stage)
        .find(|(earlier, _)| !answers.is_answered(earlier));
    match blocker {
        None => Ok(()),
        Some((earlier, _)) => Err(Error::invalid(
            item.field(),
            format!(
                "{} kan nog niet: {}",
                label(framework, item),
                lowercase_first(&missing_reason(framework, answers, earlier))
            ),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn answer(answers: &mut Answers, item: &Item, text: &str) {
        match item {
            Item::Step(key) => {
                answers.steps.insert(key.clone(), text.to_string());
            }
            Item::Value(key) => {
                let verdict =
                    ValueVerdict { verdict: Some(Verdict::Supports), motivation: text.into() };
                answers.verdicts.insert(key.clone(), verdict);
            }
            Item::Decision => answers.decision = text.to_string(),
        }
    }

    fn refusal(framework: &Framework, answers: &Answers, item: &Item) -> (String, String) {
        match check_can_answer(framework, answers, item) {
            Err(Error::InvalidInput { field, reason }) => (field, reason),
            other => panic!("expected a refusal for {item:?}, got {other:?}"),
        }
    }

    fn builtin_value_keys() -> Vec<String> {
        Framework::builtin().values.iter().map(|v| v.key.clone()).collect()
    }

    #[test]
    fn verdict_keys_labels_and_parsing() {
        let keys: Vec<&str> = Verdict::ALL.iter().map(Verdict::key).collect();
        assert_eq!(keys, ["supports", "in_tension", "conflicts", "not_relevant"]);
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.key()).unwrap(), v);
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{}\"", v.key()));
            assert!(!v.label_nl().is_empty());
        }
        assert_eq!(Verdict::parse(" Ondersteunt ").unwrap(), Verdict::Supports);
        assert_eq!(Verdict::parse("spanning").unwrap(), Verdict::InTension);
        assert_eq!(Verdict::parse("STRIJDIG").unwrap(), Verdict::Conflicts);
        assert_eq!("nvt".parse::<Verdict>().unwrap(), Verdict::NotRelevant);
        match Verdict::parse("misschien") {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "verdict");
                assert!(reason.contains("\"misschien\""), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn item_serializes_with_kind_and_key() {
        let json = serde_json::to_string(&Item::step("effect")).unwrap();
        assert_eq!(json, r#"{"kind":"step","key":"effect"}"#);
        assert_eq!(serde_json::to_string(&Item::Decision).unwrap(), r#"{"kind":"decision"}"#);
    }

    #[test]
    fn answering_in_order_walks_the_omgekeerde_toets_with_the_law_last() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        let mut seen = Vec::new();
        while let Some(next) = progress(&f, &answers).next {
            check_can_answer(&f, &answers, &next).unwrap();
            answer(&mut answers, &next, "antwoord");
            seen.push(next);
        }
        let mut expected =
            vec![Item::step("effect"), Item::step("doel_wet"), Item::step("ethische_afweging")];
        expected.extend(builtin_value_keys().into_iter().map(Item::Value));
        expected.extend([Item::step("wettelijke_kaders"), Item::Decision]);
        assert_eq!(seen, expected);
        assert_eq!(flow(&f), expected);

        let done = progress(&f, &answers);
        assert!(done.complete);
        assert!(done.missing.is_empty());
        assert_eq!((done.answered, done.total), (16, 16));
    }

    #[test]
    fn answering_out_of_order_is_refused_naming_what_comes_first() {
        let f = Framework::builtin();
        let mut answers = Answers::default();

        let (field, reason) = refusal(&f, &answers, &Item::step("doel_wet"));
        assert_eq!(field, "step");
        assert_eq!(
            reason,
            "Stap 2 (Doel van de wet) kan nog niet: stap 1 (Beoogd effect) is nog niet beantwoord"
        );

        // The law may not be looked at first.
        let (_, reason) = refusal(&f, &answers, &Item::step("wettelijke_kaders"));
        assert!(reason.starts_with("Stap 4 (Wettelijke kaders) kan nog niet: stap 1"), "{reason}");

        answer(&mut answers, &Item::step("effect"), "Willem wil naar zijn werk kunnen.");
        answer(&mut answers, &Item::step("doel_wet"), "Ja: werk en zelfredzaamheid.");
        let (field, reason) = refusal(&f, &answers, &Item::value("rechtmatig"));
        assert_eq!(field, "value");
        assert_eq!(
            reason,
            "Waarde \"Rechtmatig\" kan nog niet: stap 3 (Ethische afweging) is nog niet beantwoord"
        );

        answer(&mut answers, &Item::step("ethische_afweging"), "Op korte termijn ...");
        answer(&mut answers, &Item::value("rechtmatig"), "Afwijking is uit te leggen.");
        let (_, reason) = refusal(&f, &answers, &Item::step("wettelijke_kaders"));
        assert_eq!(
            reason,
            "Stap 4 (Wettelijke kaders) kan nog niet: waarde \"Doelmatig\" heeft nog geen oordeel"
        );
        let (field, reason) = refusal(&f, &answers, &Item::Decision);
        assert_eq!(field, "decision");
        assert!(reason.starts_with("Het voorgestelde besluit kan nog niet: waarde \"Doelmatig\""));
    }

    #[test]
    fn a_blank_answer_does_not_count() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        answer(&mut answers, &Item::step("effect"), "  \n\t ");
        assert_eq!(progress(&f, &answers).next, Some(Item::step("effect")));
        assert!(check_can_answer(&f, &answers, &Item::step("doel_wet")).is_err());
    }

    #[test]
    fn values_may_be_weighed_in_any_order_after_the_weighing_step() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        for key in ["effect", "doel_wet", "ethische_afweging"] {
            answer(&mut answers, &Item::step(key), "tekst");
        }
        for key in builtin_value_keys().into_iter().rev() {
            let item = Item::Value(key);
            check_can_answer(&f, &answers, &item).unwrap();
            answer(&mut answers, &item, "motivering");
        }
        assert_eq!(progress(&f, &answers).next, Some(Item::step("wettelijke_kaders")));
    }

    #[test]
    fn not_relevant_needs_no_motivation_other_verdicts_do() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        for key in ["effect", "doel_wet", "ethische_afweging"] {
            answer(&mut answers, &Item::step(key), "tekst");
        }
        answers.verdicts.insert(
            "rechtmatig".into(),
            ValueVerdict { verdict: Some(Verdict::NotRelevant), motivation: String::new() },
        );
        answers.verdicts.insert(
            "doelmatig".into(),
            ValueVerdict { verdict: Some(Verdict::Conflicts), motivation: "  ".into() },
        );
        let p = progress(&f, &answers);
        assert!(answers.is_answered(&Item::value("rechtmatig")));
        assert_eq!(p.next, Some(Item::value("doelmatig")));
        assert_eq!(p.missing[0].reason, "Bij waarde \"Doelmatig\" ontbreekt nog de motivering");
        assert_eq!(p.missing[1].reason, "Waarde \"Betrokken\" heeft nog geen oordeel");
        assert_eq!(p.answered, 4);
    }

    #[test]
    fn progress_lists_everything_missing_in_order() {
        let f = Framework::builtin();
        let p = progress(&f, &Answers::default());
        assert_eq!(p.next, Some(Item::step("effect")));
        assert!(!p.complete);
        assert_eq!((p.answered, p.total), (0, 16));
        assert_eq!(p.missing.len(), 16);
        assert_eq!(p.missing[0].reason, "Stap 1 (Beoogd effect) is nog niet beantwoord");
        assert_eq!(p.missing[1].reason, "Stap 2 (Doel van de wet) is nog niet beantwoord");
        assert_eq!(p.missing[14].reason, "Stap 4 (Wettelijke kaders) is nog niet beantwoord");
        assert_eq!(p.missing[15].reason, "Het voorgestelde besluit is nog niet ingevuld");
    }

    #[test]
    fn maatwerk_and_budget_are_never_missing() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        for item in flow(&f) {
            answer(&mut answers, &item, "x");
        }
        assert!(progress(&f, &answers).complete);
        // A budget without the maatwerk flag is allowed.
        answers.budget_cents = Some(5_000);
        assert!(progress(&f, &answers).complete);
        answers.maatwerk = true;
        answers.budget_cents = None;
        assert!(progress(&f, &answers).complete);
    }

    #[test]
    fn changing_an_earlier_answer_is_always_allowed() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        for item in flow(&f) {
            answer(&mut answers, &item, "x");
        }
        for item in flow(&f) {
            check_can_answer(&f, &answers, &item).unwrap();
        }
        // Someone cleared step 1 later: what was answered may still be changed, step 1 may be
        // filled in again, and progress points back at it.
        answers.steps.insert("effect".into(), String::new());
        check_can_answer(&f, &answers, &Item::step("effect")).unwrap();
        check_can_answer(&f, &answers, &Item::step("wettelijke_kaders")).unwrap();
        check_can_answer(&f, &answers, &Item::Decision).unwrap();
        let p = progress(&f, &answers);
        assert_eq!(p.next, Some(Item::step("effect")));
        assert!(!p.complete);
        // But a cleared later item cannot be refilled while step 1 is empty.
        answers.decision.clear();
        let (_, reason) = refusal(&f, &answers, &Item::Decision);
        assert!(reason.ends_with("stap 1 (Beoogd effect) is nog niet beantwoord"), "{reason}");
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let f = Framework::builtin();
        let answers = Answers::default();
        let (field, reason) = refusal(&f, &answers, &Item::step("voorwaarden"));
        assert_eq!(field, "step");
        assert!(reason.contains("\"voorwaarden\""), "{reason}");
        let (field, reason) = refusal(&f, &answers, &Item::value("gelijkheid"));
        assert_eq!(field, "value");
        assert!(reason.contains("\"gelijkheid\""), "{reason}");
    }

    #[test]
    fn answers_outside_the_framework_are_ignored() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        answers.steps.insert("oude_stap".into(), "iets".into());
        answer(&mut answers, &Item::value("oude_waarde"), "iets");
        let p = progress(&f, &answers);
        assert_eq!((p.answered, p.total), (0, 16));
    }

    #[test]
    fn answers_round_trip_through_json_and_tolerate_missing_fields() {
        let mut answers = Answers { question: "Auto als vermogen?".into(), ..Answers::default() };
        answers.verdicts.insert(
            "betrokken".into(),
            ValueVerdict { verdict: Some(Verdict::InTension), motivation: "m".into() },
        );
        answers.budget_cents = Some(12);
        let json = serde_json::to_string(&answers).unwrap();
        assert!(json.contains(r#""verdict":"in_tension""#), "{json}");
        assert_eq!(serde_json::from_str::<Answers>(&json).unwrap(), answers);
        let sparse: Answers = serde_json::from_str(r#"{"question":"q"}"#).unwrap();
        assert_eq!(sparse.question, "q");
    }
}
