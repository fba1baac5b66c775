//! Inline SVG charts for the reports page: drawn on the server from the report's numbers,
//! so the console needs no script and no chart library.

use std::fmt::Write;

use eropaf_core::checklist::format_euro;
use eropaf_core::inzage::escape;
use eropaf_core::reports::{BudgetUse, ReviewTally, ValueTally};

const SUPPORTS: &str = "#2e8b57";
const TENSION: &str = "#e0a100";
const CONFLICTS: &str = "#c0392b";
const NOT_RELEVANT: &str = "#c5cbd3";

/// Per value a horizontal bar split in supports / in tension / conflicts / not relevant.
pub fn value_bars(values: &[ValueTally]) -> String {
    let row = 26;
    let label_width = 330;
    let bar_width = 560;
    let height = 40 + row * values.len();
    let max = values
        .iter()
        .map(|v| v.supports + v.in_tension + v.conflicts + v.not_relevant)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = format!(
        "<div class=\"chart\"><svg viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"Oordelen per waarde\" \
         font-family=\"system-ui,sans-serif\" font-size=\"13\">",
        w = label_width + bar_width + 60
    );
    // Legend entries placed by the length of their labels.
    for (offset, label, color) in [
        (0, "ondersteunt", SUPPORTS),
        (120, "op gespannen voet", TENSION),
        (280, "strijdig", CONFLICTS),
        (370, "niet van toepassing", NOT_RELEVANT),
    ] {
        let x = label_width + offset;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{}\" y=\"16\">{label}</text>",
            x + 16
        );
    }
    for (i, v) in values.iter().enumerate() {
        let y = 30 + i * row;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_width - 8,
            y + 15,
            escape(&shorten(&v.title, 44))
        );
        let mut x = label_width as f64;
        for (count, color) in [
            (v.supports, SUPPORTS),
            (v.in_tension, TENSION),
            (v.conflicts, CONFLICTS),
            (v.not_relevant, NOT_RELEVANT),
        ] {
            if count == 0 {
                continue;
            }
            let width = f64::from(count) / f64::from(max) * bar_width as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{width:.1}\" height=\"18\" fill=\"{color}\"><title>{count}</title></rect>"
            );
            if width >= 18.0 {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#fff\" font-size=\"11\">{count}</text>",
                    x + width / 2.0,
                    y + 13
                );
            }
            x += width;
        }
    }
    svg.push_str("</svg></div>");
    svg
}

/// Counts of review outcomes as vertical bars.
pub fn review_bars(reviews: &ReviewTally) -> String {
    let bars = [
        ("wacht", reviews.waiting, "#e0a100"),
        ("goedgekeurd", reviews.approved, SUPPORTS),
        ("aanpassing", reviews.changes_requested, "#4a63c9"),
        ("geëscaleerd", reviews.escalated, "#d26a00"),
        ("conflict", reviews.in_conflict, CONFLICTS),
    ];
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let (width, height, base) = (500, 220, 180);
    let mut svg = format!(
        "<div class=\"chart\"><svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Beoordelingen\" \
         font-family=\"system-ui,sans-serif\" font-size=\"13\"><line x1=\"20\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#9aa7b6\"/>",
        width - 20
    );
    for (i, (label, count, color)) in bars.iter().enumerate() {
        let x = 40 + i * 92;
        let h = f64::from(*count) / f64::from(max) * 140.0;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"50\" height=\"{h:.1}\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"600\">{count}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{label}</text>",
            f64::from(base) - h,
            x + 25,
            f64::from(base) - h - 6.0,
            x + 25,
            base + 20
        );
    }
    svg.push_str("</svg></div>");
    svg
}

/// Spent and pending maatwerkbudget against the team's budget.
pub fn budget_bar(budget: &BudgetUse) -> String {
    let (width, bar) = (460.0, 420.0);
    let total = budget.budget_cents.max(budget.spent_cents + budget.pending_cents).max(1) as f64;
    let spent = budget.spent_cents as f64 / total * bar;
    let pending = budget.pending_cents as f64 / total * bar;
    let left = budget.budget_cents.saturating_sub(budget.spent_cents);
    format!(
        "<div class=\"chart\"><svg viewBox=\"0 0 {width} 150\" role=\"img\" aria-label=\"Maatwerkbudget\" \
         font-family=\"system-ui,sans-serif\" font-size=\"13\">\
         <rect x=\"20\" y=\"30\" width=\"{bar}\" height=\"34\" fill=\"#e6e8eb\"/>\
         <rect x=\"20\" y=\"30\" width=\"{spent:.1}\" height=\"34\" fill=\"{SUPPORTS}\"/>\
         <rect x=\"{:.1}\" y=\"30\" width=\"{pending:.1}\" height=\"34\" fill=\"{TENSION}\"/>\
         <rect x=\"20\" y=\"90\" width=\"12\" height=\"12\" fill=\"{SUPPORTS}\"/><text x=\"38\" y=\"100\">besteed {}</text>\
         <rect x=\"20\" y=\"112\" width=\"12\" height=\"12\" fill=\"{TENSION}\"/><text x=\"38\" y=\"122\">aangevraagd, nog niet besloten {}</text>\
         <text x=\"20\" y=\"20\">budget {} — nog vrij {}</text></svg></div>",
        20.0 + spent,
        escape(&format_euro(budget.spent_cents)),
        escape(&format_euro(budget.pending_cents)),
        escape(&format_euro(budget.budget_cents)),
        escape(&format_euro(left)),
    )
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
