//! The written justification (onderbouwing) of an assessment: deterministic Dutch text built
//! from the framework and the answers alone, so equal facts and values read the same.

use super::flow::{Answers, ValueVerdict, Verdict};
use super::framework::{Framework, Value};

const NOT_YET: &str = "(nog niet ingevuld)";

/// The onderbouwing of an assessment, as a colleague or supervisor would read it: the
/// question, the proposed decision, the omgekeerde toets in order with the values weighed
/// inside the ethical step, whether it is maatwerk, and the framework it was weighed against.
///
/// The text depends on nothing but its inputs (no dates, no author), answers are trimmed, and
/// unanswered parts read "(nog niet ingevuld)", so an incomplete assessment can be shown too.
/// Answers for keys the framework does not have are left out.
pub fn justification(framework: &Framework, answers: &Answers) -> String {
    let mut out = Text::default();
    out.line(&format!("Onderbouwing: {}", or_not_yet(&answers.question)));
    out.blank();
    out.line("Voorgesteld besluit:");
    out.line(or_not_yet(&answers.decision));
    out.blank();
    out.line("Omgekeerde toets");

    let mut values_done = false;
    for (n, step) in framework.steps.iter().enumerate() {
        out.blank();
        out.line(&format!("{}. {}", n + 1, step.title));
        out.line(or_not_yet(answers.step(&step.key)));
        if step.weighs_values && !values_done {
            weigh_values(&mut out, framework, answers);
            values_done = true;
        }
    }
    // Only a framework built by hand can lack a weighing step; its values still count.
    if !values_done {
        weigh_values(&mut out, framework, answers);
    }

    out.blank();
    if answers.maatwerk {
        out.line("Dit besluit wijkt af van het standaardbeleid (maatwerk).");
    } else {
        out.line("Dit besluit volgt het standaardbeleid.");
    }
    if let Some(cents) = answers.budget_cents {
        out.line(&format!("Bedrag: {} uit het maatwerkbudget.", format_euro(cents)));
    }
    out.line(&format!("Gewogen met: {} (versie {}).", framework.title, framework.version));
    out.0
}

/// The values, grouped by verdict in [`Verdict::ALL`] order and in framework order within a
/// group; values without a verdict come last so the gaps stand out.
fn weigh_values(out: &mut Text, framework: &Framework, answers: &Answers) {
    if framework.values.is_empty() {
        return;
    }
    out.blank();
    out.line("Weging van de waarden:");
    let verdict_of = |value: &Value| answers.verdict(&value.key).and_then(|v| v.verdict);
    for verdict in Verdict::ALL {
        let group: Vec<&Value> =
            framework.values.iter().filter(|v| verdict_of(v) == Some(verdict)).collect();
        if group.is_empty() {
            continue;
        }
        out.line(&format!("{}:", group_heading(verdict)));
        for value in group {
            let motivation = motivation(answers.verdict(&value.key));
            match (motivation.is_empty(), verdict.needs_motivation()) {
                (false, _) => out.line(&format!("- {}: {motivation}", value.title)),
                (true, true) => {
                    out.line(&format!("- {}: (motivering nog niet ingevuld)", value.title))
                }
                (true, false) => out.line(&format!("- {}", value.title)),
            }
        }
    }
    let open: Vec<&Value> = framework.values.iter().filter(|v| verdict_of(v).is_none()).collect();
    if !open.is_empty() {
        out.line("Nog geen oordeel:");
        for value in open {
            let motivation = motivation(answers.verdict(&value.key));
            let text = if motivation.is_empty() { NOT_YET } else { motivation };
            out.line(&format!("- {}: {text}", value.title));
        }
    }
}

/// Reads as "[the decision] supports / is in tension with / conflicts with [these values]".
fn group_heading(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Supports => "Ondersteunt",
        Verdict::InTension => "Staat op gespannen voet met",
        Verdict::Conflicts => "Strijdig met",
        Verdict::NotRelevant => "Niet van toepassing",
    }
}

fn motivation(verdict: Option<&ValueVerdict>) -> &str {
    verdict.map_or("", |v| v.motivation.trim())
}

fn or_not_yet(text: &str) -> &str {
    match text.trim() {
        "" => NOT_YET,
        text => text,
    }
}

/// An amount in euro cents, written the Dutch way: `€ 1.234,50`.
pub fn format_euro(cents: u64) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::with_capacity(euros.len() + euros.len() / 3);
    for (i, digit) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("€ {grouped},{:02}", cents % 100)
}

/// Newline-terminated lines, with at most one blank line in a row.
#[derive(Default)]
struct Text(String);

impl Text {
    fn line(&mut self, line: &str) {
        self.0.push_str(line);
        self.0.push('\n');
    }

    fn blank(&mut self) {
        if !self.0.is_empty() && !self.0.ends_with("\n\n") {
            self.0.push('\n');
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::checklist::flow::progress;

    fn vv(verdict: Verdict, motivation: &str) -> ValueVerdict {
        ValueVerdict { verdict: Some(verdict), motivation: motivation.to_string() }
    }

    /// Willem's father lets him use a car to get to work. The car is registered in Willem's
    /// name, so for the bijstand it counts as his assets; the worker proposes not to count it.
    fn willem() -> Answers {
        let mut a = Answers {
            question: "  Telt de auto die Willem van zijn vader mag gebruiken mee als vermogen \
                       voor de bijstand?  "
                .to_string(),
            decision:
                "De auto wordt niet tot Willems vermogen gerekend zolang hij hem nodig heeft \
                       om naar zijn werk te gaan. Over een jaar kijken we opnieuw."
                    .to_string(),
            maatwerk: true,
            ..Answers::default()
        };
        let steps = [
            (
                "effect",
                "Willem wil zijn baan in de vroege dienst houden. Met het openbaar vervoer is hij \
                 daar niet op tijd.",
            ),
            (
                "doel_wet",
                "Ja. Werk houden maakt Willem zelfredzaam en laat hem meedoen; zonder werk is hij \
                 volledig afhankelijk van de uitkering.",
            ),
            (
                "ethische_afweging",
                "\n Op korte termijn houdt Willem zijn werk. Op lange termijn kan hij uit de \
                 bijstand komen. Zijn vader betaalt de auto; Willem kan hem niet verkopen zonder \
                 zijn vader te benadelen. \n",
            ),
            (
                "wettelijke_kaders",
                "Volgens de Participatiewet telt de auto op Willems naam als vermogen. De wet \
                 vraagt de bijstand af te stemmen op de omstandigheden van de persoon; daarop \
                 steunt de afwijking.",
            ),
        ];
        for (key, text) in steps {
            a.steps.insert(key.into(), text.into());
        }
        let verdicts = [
            (
                "rechtmatig",
                vv(
                    Verdict::InTension,
                    "Naar de letter telt de auto als vermogen; de afwijking is bewust en \
                     uitgelegd.",
                ),
            ),
            ("doelmatig", vv(Verdict::Supports, "Zonder auto verliest Willem zijn werk.")),
            ("betrokken", vv(Verdict::Supports, "We hebben Willem en zijn vader allebei gehoord.")),
            ("inlevend", vv(Verdict::Supports, "Willem schaamt zich voor de uitkering.")),
            (
                "dienstbaar",
                vv(Verdict::Supports, "Het besluit helpt Willem, niet de administratie."),
            ),
            (
                "betrouwbaar",
                vv(Verdict::InTension, "Een vergelijkbaar geval moet hetzelfde uitvallen."),
            ),
            ("vernieuwend", vv(Verdict::NotRelevant, "")),
            (
                "resultaatgericht",
                vv(Verdict::Supports, "Het resultaat is dat Willem blijft werken."),
            ),
            ("werk_boven_inkomen", vv(Verdict::Supports, "De auto is nodig om te blijven werken.")),
            (
                "in_actie",
                vv(Verdict::Conflicts, "Willems vader helpt al; wij hoeven niets te doen."),
            ),
            ("geen_dakloze_kinderen", vv(Verdict::NotRelevant, "")),
        ];
        for (key, verdict) in verdicts {
            a.verdicts.insert(key.into(), verdict);
        }
        a
    }

    fn position(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap_or_else(|| panic!("missing {needle:?} in:\n{text}"))
    }

    #[test]
    fn format_euro_writes_dutch_amounts() {
        assert_eq!(format_euro(0), "€ 0,00");
        assert_eq!(format_euro(5), "€ 0,05");
        assert_eq!(format_euro(99_999), "€ 999,99");
        assert_eq!(format_euro(123_450), "€ 1.234,50");
        assert_eq!(format_euro(100_000_000), "€ 1.000.000,00");
        assert_eq!(format_euro(u64::MAX), "€ 184.467.440.737.095.516,15");
    }

    #[test]
    fn willem_reads_as_a_decisions_motivation() {
        let f = Framework::builtin();
        let answers = willem();
        assert!(progress(&f, &answers).complete);
        let text = justification(&f, &answers);

        assert!(
            text.starts_with(
                "Onderbouwing: Telt de auto die Willem van zijn vader mag gebruiken mee als \
                 vermogen voor de bijstand?\n\nVoorgesteld besluit:\nDe auto wordt niet tot \
                 Willems vermogen gerekend"
            ),
            "{text}"
        );
        assert!(!text.contains(NOT_YET), "a complete assessment has no gaps:\n{text}");

        // The omgekeerde toets in order, the values inside the ethical weighing, the law last.
        let order = [
            "Voorgesteld besluit:",
            "1. Beoogd effect\nWillem wil zijn baan in de vroege dienst houden.",
            "2. Doel van de wet\nJa. Werk houden maakt Willem zelfredzaam",
            "3. Ethische afweging\nOp korte termijn houdt Willem zijn werk.",
            "Weging van de waarden:\nOndersteunt:\n- Doelmatig: Zonder auto verliest Willem zijn werk.\n\
             - Betrokken: We hebben Willem en zijn vader allebei gehoord.\n- Inlevend:",
            "- Werk gaat boven inkomen: De auto is nodig om te blijven werken.\n\
             Staat op gespannen voet met:\n- Rechtmatig: Naar de letter telt de auto als \
             vermogen; de afwijking is bewust en uitgelegd.\n- Betrouwbaar:",
            "Strijdig met:\n- We komen in actie als iemand het zelf echt niet kan: Willems vader \
             helpt al; wij hoeven niets te doen.\n",
            "Niet van toepassing:\n- Vernieuwend\n- In onze gemeente zijn geen kinderen dakloos\n",
            "4. Wettelijke kaders\nVolgens de Participatiewet telt de auto op Willems naam als \
             vermogen.",
            "Dit besluit wijkt af van het standaardbeleid (maatwerk).\n",
            "Gewogen met: Waardenkader wijkteam (versie 1).\n",
        ];
        let mut last = 0;
        for part in order {
            let at = position(&text, part);
            assert!(at >= last, "{part:?} is out of order in:\n{text}");
            last = at;
        }
        assert!(text.ends_with("Gewogen met: Waardenkader wijkteam (versie 1).\n"));
        assert!(!text.contains("maatwerkbudget"), "no budget was asked for");
        assert!(!text.contains("  "), "answers are trimmed");
    }

    #[test]
    fn budget_is_written_in_euros() {
        let f = Framework::builtin();
        let mut answers = willem();
        answers.budget_cents = Some(123_450);
        let text = justification(&f, &answers);
        assert!(
            text.contains(
                "Dit besluit wijkt af van het standaardbeleid (maatwerk).\n\
                 Bedrag: € 1.234,50 uit het maatwerkbudget.\n"
            ),
            "{text}"
        );
        answers.maatwerk = false;
        let text = justification(&f, &answers);
        assert!(text.contains("Dit besluit volgt het standaardbeleid.\nBedrag: € 1.234,50"));
    }

    #[test]
    fn an_incomplete_assessment_shows_its_gaps() {
        let f = Framework::builtin();
        let mut answers = Answers::default();
        answers.steps.insert("effect".into(), "Willem wil naar zijn werk.".into());
        answers.verdicts.insert("rechtmatig".into(), vv(Verdict::Conflicts, " "));
        answers.verdicts.insert(
            "doelmatig".into(),
            ValueVerdict { verdict: None, motivation: "Nog over twijfelen.".into() },
        );
        let text = justification(&f, &answers);
        assert!(text.starts_with(
            "Onderbouwing: (nog niet ingevuld)\n\nVoorgesteld besluit:\n(nog niet ingevuld)\n"
        ));
        assert!(text.contains("1. Beoogd effect\nWillem wil naar zijn werk.\n"));
        assert!(text.contains("2. Doel van de wet\n(nog niet ingevuld)\n"));
        assert!(text.contains("Strijdig met:\n- Rechtmatig: (motivering nog niet ingevuld)\n"));
        assert!(text.contains(
            "Nog geen oordeel:\n- Doelmatig: Nog over twijfelen.\n- Betrokken: (nog niet ingevuld)\n"
        ));
        assert!(text.contains("4. Wettelijke kaders\n(nog niet ingevuld)\n"));
    }

    #[test]
    fn exact_layout_for_a_small_framework() {
        let f = Framework::parse(
            r#"id = "klein"
version = 3
title = "Klein kader"
[[steps]]
key = "effect"
title = "Beoogd effect"
question = "?"
[[steps]]
key = "afweging"
title = "Afweging"
question = "?"
weighs_values = true
[[steps]]
key = "wet"
title = "Wet"
question = "?"
[[values]]
key = "a"
title = "Waarde A"
[[values]]
key = "b"
title = "Waarde B"
[[escalation]]
key = "team"
title = "Team"
"#,
        )
        .unwrap();
        let mut answers = Answers {
            question: "Vraag?".into(),
            decision: "Besluit.".into(),
            ..Answers::default()
        };
        answers.steps.insert("effect".into(), "Effect.".into());
        answers.steps.insert("afweging".into(), "Afweging.\nTweede regel.".into());
        answers.steps.insert("wet".into(), "Artikel.".into());
        answers.verdicts.insert("b".into(), vv(Verdict::Supports, "Past."));
        answers.verdicts.insert("a".into(), vv(Verdict::NotRelevant, "Geen kinderen."));
        assert_eq!(
            justification(&f, &answers),
            "Onderbouwing: Vraag?

Voorgesteld besluit:
Besluit.

Omgekeerde toets

1. Beoogd effect
Effect.

2. Afweging
Afweging.
Tweede regel.

Weging van de waarden:
Ondersteunt:
- Waarde B: Past.
Niet van toepassing:
- Waarde A: Geen kinderen.

3. Wet
Artikel.

Dit besluit volgt het standaardbeleid.
Gewogen met: Klein kader (versie 3).
"
        );
    }

    fn arbitrary_answers() -> impl Strategy<Value = Answers> {
        let f = Framework::builtin();
        let step_keys: Vec<String> = f.steps.iter().map(|s| s.key.clone()).collect();
        let value_keys: Vec<String> = f.values.iter().map(|v| v.key.clone()).collect();
        let verdict =
            prop_oneof![Just(None), proptest::sample::select(Verdict::ALL.to_vec()).prop_map(Some)];
        (
            any::<String>(),
            proptest::collection::vec(any::<String>(), step_keys.len()),
            proptest::collection::vec((verdict, any::<String>()), value_keys.len()),
            any::<String>(),
            any::<bool>(),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(
                move |(question, steps, verdicts, decision, maatwerk, budget_cents)| Answers {
                    question,
                    steps: step_keys.iter().cloned().zip(steps).collect(),
                    verdicts: value_keys
                        .iter()
                        .cloned()
                        .zip(
                            verdicts
                                .into_iter()
                                .map(|(verdict, motivation)| ValueVerdict { verdict, motivation }),
                        )
                        .collect(),
                    decision,
                    maatwerk,
                    budget_cents,
                },
            )
    }

    proptest! {
        #[test]
        fn justification_is_deterministic_and_keeps_every_answer(answers in arbitrary_answers()) {
            let f = Framework::builtin();
            let text = justification(&f, &answers);
            prop_assert_eq!(&text, &justification(&f, &answers.clone()));

            let mut texts = vec![answers.question.as_str(), answers.decision.as_str()];
            texts.extend(answers.steps.values().map(String::as_str));
            texts.extend(answers.verdicts.values().map(|v| v.motivation.as_str()));
            for answer in texts.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
                prop_assert!(text.contains(answer), "{:?} missing from:\n{}", answer, text);
            }
        }

        #[test]
        fn surrounding_whitespace_does_not_change_the_justification(
            answers in arbitrary_answers(),
            pad in "[ \t\n]{0,3}",
        ) {
            let f = Framework::builtin();
            let mut padded = answers.clone();
            padded.question = format!("{pad}{}{pad}", padded.question);
            padded.decision = format!("{pad}{}", padded.decision);
            for text in padded.steps.values_mut() {
                *text = format!("{text}{pad}");
            }
            for v in padded.verdicts.values_mut() {
                v.motivation = format!("{pad}{}", v.motivation);
            }
            prop_assert_eq!(justification(&f, &answers), justification(&f, &padded));
        }
    }
}
