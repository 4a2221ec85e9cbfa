//! The risk-over-time chart of a report: events per day as stacked bars by risk level (medium,
//! high, critical; routine low-risk events are left out so the risky days stand out), with each
//! finding of the narrative marked at its day by its citation number. A small self-contained SVG
//! (no script, no external file), so the report stays one file an auditor can archive; every label
//! is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::Narrative;
use super::render::escape_html;

/// Events of one day by risk level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayRisk {
    /// Medium-risk events.
    pub medium: u64,
    /// High-risk events.
    pub high: u64,
    /// Critical-risk events.
    pub critical: u64,
}

const W: f64 = 900.0;
const H: f64 = 220.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 30.0;
const TOP: f64 = 24.0;

/// The SVG of `days` with the findings of `n` marked.
pub fn risk_svg(days: &BTreeMap<NaiveDate, DayRisk>, n: &Narrative) -> String {
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" \
         role=\"img\" aria-label=\"Risky events per day, findings marked\">\n"
    );
    let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
        svg.push_str("<text x=\"10\" y=\"20\">No medium, high or critical events.</text></svg>\n");
        return svg;
    };
    let span = (*last - *first).num_days().max(0) as f64 + 1.0;
    let max = days
        .values()
        .map(|d| d.medium + d.high + d.critical)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot_w = W - LEFT - 10.0;
    let plot_h = H - BOTTOM - TOP;
    let bar = (plot_w / span).max(1.0);
    let x_of = |d: NaiveDate| LEFT + (d - *first).num_days() as f64 * bar;
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#999\"/>\
         <text x=\"4\" y=\"{t}\" font-size=\"10\">{max}</text><text x=\"4\" y=\"{y}\" font-size=\"10\">0</text>",
        y = H - BOTTOM,
        x2 = W - 10.0,
        t = TOP + 8.0,
        max = max as u64
    );
    for (d, r) in days {
        let mut y = H - BOTTOM;
        for (v, color) in [
            (r.medium, "#e0b400"),
            (r.high, "#e06c00"),
            (r.critical, "#b00020"),
        ] {
            if v == 0 {
                continue;
            }
            let h = v as f64 / max * plot_h;
            y -= h;
            let _ = writeln!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{color}\">\
                 <title>{d}: {v}</title></rect>",
                x_of(*d) + 1.0,
                (bar - 2.0).max(1.0)
            );
        }
    }
    // Day labels: about eight.
    let step = ((span / 8.0).ceil() as i64).max(1);
    let mut d = *first;
    while d <= *last {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{}</text>",
            x_of(d),
            H - 12.0,
            d.format("%m-%d")
        );
        d += chrono::Duration::days(step);
    }
    // Findings: a marker with the citation number at the finding's first day.
    for f in n
        .facts
        .iter()
        .filter(|f| f.kind == super::FactKind::Finding)
    {
        let Some(c) = n.citations.iter().find(|c| c.id == f.id) else {
            continue;
        };
        let x = x_of(f.first.date_naive()) + bar / 2.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#333\" stroke-dasharray=\"2,2\"/>\
             <a href=\"#cite-{n}\"><text x=\"{x:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">[{n}]\
             <title>{}</title></text></a>",
            H - BOTTOM,
            TOP - 6.0,
            escape_html(&f.label),
            n = c.number
        );
    }
    svg.push_str(
        "<text x=\"600\" y=\"12\" font-size=\"10\"><tspan fill=\"#e0b400\">■ medium</tspan> \
         <tspan fill=\"#e06c00\">■ high</tspan> <tspan fill=\"#b00020\">■ critical</tspan> [n] finding</text>\n</svg>\n",
    );
    svg
}
