//! Rendering: Markdown with numbered citations, and HTML. Every piece of text that can come from a
//! log (names, targets, values, and the LLM's words about them) is escaped, so a log field carrying
//! Markdown, HTML or script shows as text and never becomes markup or a link.

use std::fmt::Write as _;

use super::Narrative;
use super::template::fmt_time;

/// Escapes `s` for Markdown: ASCII punctuation that Markdown or HTML could act on is
/// backslash-escaped, `<`, `>` and `&` become entities, line breaks become spaces.
pub fn escape_md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' | '/' | '=' | '^' | '$' | '"' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes `s` for HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// The number of citation `id` (1-based, in order of first citation).
fn number(n: &Narrative, id: &str) -> usize {
    n.cited.iter().position(|c| c == id).map_or(0, |p| p + 1)
}

/// The narrative as Markdown: title, sections of bullet sentences with numbered citations, the
/// verification result, and the numbered citation list with the event uids.
pub fn markdown(n: &Narrative) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## {}\n", escape_md(&n.title));
    if n.sections.is_empty() {
        md.push_str("No events in this scope.\n\n");
    }
    for s in &n.sections {
        let _ = writeln!(md, "### {}\n", escape_md(&s.title));
        for t in &s.sentences {
            let refs: String = t
                .citations
                .iter()
                .map(|c| format!("[{}]", number(n, c)))
                .collect();
            let _ = writeln!(md, "- {} {refs}", escape_md(&t.text));
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "**Verification:** {} sentences kept, {} dropped.",
        n.sentence_count(),
        n.dropped.len()
    );
    for d in &n.dropped {
        let _ = writeln!(md, "- dropped: {}", escape_md(&d.reason));
    }
    let narrator = match (&n.narrator.model, &n.narrator.fallback_reason) {
        (_, Some(r)) => format!("template (LLM not used: {r})"),
        (Some(m), None) => format!("llm ({m}), prompt {}", n.narrator.prompt_version),
        (None, None) => "template".to_owned(),
    };
    let _ = writeln!(
        md,
        "\n**Narrator:** {}. Evidence: {} events, hash {}{}.\n",
        escape_md(&narrator),
        n.evidence_events,
        &n.evidence_hash[..16.min(n.evidence_hash.len())],
        if n.truncated { " (capped)" } else { "" }
    );
    md.push_str(&integrity_md(n));
    if !n.citations.is_empty() {
        md.push_str(
            "\n**Citations** (each stands for the events listed in full in the JSON output)\n\n",
        );
        for c in &n.citations {
            let shown: Vec<&str> = c.event_uids.iter().take(3).map(String::as_str).collect();
            let _ = writeln!(
                md,
                "{}\\. {} · {} · {} event{}: {}{}",
                c.number,
                escape_md(&c.id),
                escape_md(&c.label),
                c.count,
                if c.count == 1 { "" } else { "s" },
                escape_md(&shown.join(", ")),
                if c.count > shown.len() { ", ..." } else { "" }
            );
        }
    }
    md
}

/// What the store says of its integrity, as plain lines (not narrative sentences: they state no
/// event).
pub fn integrity_lines(n: &Narrative) -> Vec<String> {
    let c = &n.coverage;
    let mut out = Vec::new();
    out.push(match c.verified {
        Some(true) => "Hash chains verified intact by mdm-audit verify.".to_owned(),
        Some(false) => "HASH CHAINS BROKEN: mdm-audit verify found a broken link.".to_owned(),
        None => "Hash chains not verified for this narrative (run mdm-audit verify).".to_owned(),
    });
    for h in &c.chains {
        out.push(format!(
            "Chain {} of events: head at position {}, hash {}.",
            h.chain_id, h.seq, h.hash
        ));
    }
    if let Some(d) = c.dead_letters {
        out.push(format!("Dead letters in the store: {d}."));
    }
    out
}

fn integrity_md(n: &Narrative) -> String {
    let mut md = String::from("**Integrity:**\n\n");
    for l in integrity_lines(n) {
        let _ = writeln!(md, "- {}", escape_md(&l));
    }
    md
}

/// The narrative as an HTML fragment (everything escaped).
pub fn html(n: &Narrative) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<section class=\"narrative\"><h2>{}</h2>",
        escape_html(&n.title)
    );
    for s in &n.sections {
        let _ = writeln!(h, "<h3>{}</h3><ul>", escape_html(&s.title));
        for t in &s.sentences {
            let refs: String = t
                .citations
                .iter()
                .map(|c| format!("<a href=\"#cite-{0}\">[{0}]</a>", number(n, c)))
                .collect();
            let _ = writeln!(h, "<li>{} {refs}</li>", escape_html(&t.text));
        }
        h.push_str("</ul>\n");
    }
    let _ = writeln!(
        h,
        "<p><strong>Verification:</strong> {} sentences kept, {} dropped.</p>",
        n.sentence_count(),
        n.dropped.len()
    );
    h.push_str("<ul class=\"integrity\">");
    for l in integrity_lines(n) {
        let _ = write!(h, "<li>{}</li>", escape_html(&l));
    }
    h.push_str("</ul>\n<ol class=\"citations\">\n");
    // The rows of the events findings and changes cite are shown below; their uids link there.
    let shown: std::collections::HashSet<&str> = n
        .citations
        .iter()
        .filter(|c| {
            matches!(c.kind, "finding" | "change" | "event") && c.count <= MAX_ROWS_PER_CITATION
        })
        .flat_map(|c| c.event_uids.iter().map(String::as_str))
        .collect();
    for c in &n.citations {
        let links: String = c
            .event_uids
            .iter()
            .map(|u| {
                let e = escape_html(u);
                if shown.contains(u.as_str()) {
                    format!("<a href=\"#ev-{e}\">{e}</a> ")
                } else {
                    format!("{e} ")
                }
            })
            .collect();
        let _ = writeln!(
            h,
            "<li id=\"cite-{}\">{} · {} · <details><summary>{} event{}</summary>{links}</details></li>",
            c.number,
            escape_html(&c.id),
            escape_html(&c.label),
            c.count,
            if c.count == 1 { "" } else { "s" },
        );
    }
    h.push_str("</ol>\n");
    h.push_str(&event_rows_html(n, &shown));
    h.push_str("</section>\n");
    h
}

/// Citations of findings and changes with at most this many events show their rows.
pub const MAX_ROWS_PER_CITATION: usize = 500;

/// The rows of the cited events in `shown`, each with an anchor `ev-<uid>`.
fn event_rows_html(n: &Narrative, shown: &std::collections::HashSet<&str>) -> String {
    let mut h = String::from(
        "<h3>Cited events of findings and changes</h3><table class=\"cited-events\"><tr><th>time (UTC)</th>\
         <th>actor</th><th>action</th><th>target</th><th>device</th><th>outcome</th><th>risk</th>\
         <th>chain position</th><th>hash</th><th>event uid</th></tr>\n",
    );
    for e in n
        .events
        .iter()
        .filter(|e| shown.contains(e.event_uid.as_str()))
    {
        let cell = |v: Option<&str>| escape_html(v.unwrap_or("-"));
        let _ = writeln!(
            h,
            "<tr id=\"ev-{uid}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{} {}</td><td>{} #{}</td><td><code>{}</code></td><td><code>{uid}</code></td></tr>",
            fmt_time(e.time),
            cell(e.actor()),
            escape_html(&e.action),
            cell(e.target_name.as_deref().or(e.target_id.as_deref())),
            cell(e.device()),
            escape_html(&e.outcome),
            escape_html(&e.risk_level),
            e.risk_score,
            cell(e.chain_id.as_deref()),
            e.chain_seq.unwrap_or(-1),
            cell(e.hash.as_deref()),
            uid = escape_html(&e.event_uid),
        );
    }
    h.push_str("</table>\n");
    h
}

/// A one-line label of a cited id.
pub fn label_event(e: &super::EvidenceEvent) -> String {
    format!(
        "{} {} {} {}",
        fmt_time(e.time),
        e.actor().unwrap_or("-"),
        e.action,
        e.target_name.as_deref().or(e.device()).unwrap_or("-")
    )
}
