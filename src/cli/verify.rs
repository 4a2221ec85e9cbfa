//! `mdm-audit verify`: recompute every hash chain of the store and name the first broken link.
#![allow(clippy::print_stdout, reason = "the report is the command's output")]

use mdm_audit_narrative::store_tables;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mdm_audit_store::{VerifyReport, verify_store};

use super::CliError;
use super::store_args::{StoreArgs, TrustArgs, runtime};

/// Exit status when the store is not intact.
pub const EXIT_BROKEN: u8 = 2;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    trust: TrustArgs,
    /// Print the whole report as JSON (every problem, every chain head) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let location = args.store.location()?;
    let trusted = args.trust.keys()?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("verify {msg} {pos} rows rehashed ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    });
    let started = std::time::Instant::now();
    let report = runtime()?.block_on(verify_store(
        &location,
        // The pullers' checkpoints are the write path's table.
        &store_tables().with([&*mdm_audit_transform::pull::PULL_CHECKPOINTS]),
        trusted.as_ref(),
        &|table, rows| {
            if let Some(b) = &bar {
                b.set_message(table.to_owned());
                b.set_position(rows);
            }
        },
    ))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Usage(e.to_string()))?
        );
    } else {
        print_text(&report, started.elapsed().as_secs_f64());
    }
    Ok(if report.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BROKEN)
    })
}

fn print_text(report: &VerifyReport, secs: f64) {
    println!("verify: {}", report.store);
    if report.tables.is_empty() {
        println!("  no tables: nothing has been stored here yet");
    }
    for t in &report.tables {
        let chains: Vec<String> = t
            .chains
            .iter()
            .map(|c| {
                format!(
                    "{} ({} rows, {} commits, {} signed, head {})",
                    c.chain_id, c.rows, c.commits, c.signed_commits, c.head
                )
            })
            .collect();
        println!(
            "  {}: {} rows in {} files, version {}; chains: {}",
            t.table,
            t.rows,
            t.files,
            t.version.map_or("-".to_owned(), |v| v.to_string()),
            if chains.is_empty() {
                "none".to_owned()
            } else {
                chains.join(", ")
            }
        );
        if let Some(c) = t.copies.first() {
            let hidden: usize = t.copies.iter().map(|c| c.hidden.len()).sum();
            println!(
                "    duplicates: {} {} stored by more than one writer ({hidden} extra {}; each is a link of its own chain, so not a break; queries count each once)",
                t.copies.len(),
                t.key_column,
                if hidden == 1 { "row" } else { "rows" },
            );
            println!(
                "      e.g. {} {}: shown from {}#{}, also at {}",
                t.key_column,
                c.key,
                c.kept.0,
                c.kept.1,
                c.hidden
                    .iter()
                    .map(|(chain, seq)| format!("{chain}#{seq}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        match t.first_broken() {
            None => println!("    intact"),
            Some(p) => {
                println!(
                    "    BROKEN: first broken link at {}{}{}: {}",
                    p.key
                        .as_ref()
                        .map_or("an unnamed row".to_owned(), |k| format!(
                            "{} {k}",
                            t.key_column
                        )),
                    p.seq.map_or(String::new(), |s| format!(
                        " (position {s} of {}'s chain)",
                        p.chain_id.as_deref().unwrap_or("?")
                    )),
                    p.version.map_or(String::new(), |v| format!(", commit {v}")),
                    p.detail
                );
                if t.problems.len() > 1 {
                    println!(
                        "    and {} more problem(s); `mdm-audit verify --json` lists them all",
                        t.problems.len() - 1
                    );
                }
            }
        }
    }
    if report.trusted_keys.is_empty() {
        println!("  signatures: not checked (give --trusted-keys to check every signed head)");
    } else {
        let ids: Vec<&str> = report.trusted_keys.keys().map(String::as_str).collect();
        println!(
            "  signatures: every chain head checked against trusted key(s) {}",
            ids.join(", ")
        );
    }
    let problems: usize = report.tables.iter().map(|t| t.problems.len()).sum();
    println!(
        "{}: {} tables, {} rows rehashed, {problems} problem(s) in {secs:.1} s",
        if report.is_intact() {
            "Chain intact"
        } else {
            "Chain BROKEN"
        },
        report.tables.len(),
        report.rows()
    );
}
