//! `mdm-audit review`: a human decision on a recorded narrative (approve, edit, reject), written to
//! the store's hash-chained `reviews` table.
#![allow(
    clippy::print_stdout,
    reason = "the recorded review is the command's output"
)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mdm_audit_narrative::review::{Decision, ReviewRequest, record_review};
use mdm_audit_store::{WriterOptions, default_writer_id};

use super::CliError;
use super::store_args::{SigningArgs, StoreArgs, runtime};

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The narrative (as `mdm-audit narrate` prints it: nar-...).
    #[arg(long, value_name = "ID")]
    narrative: String,
    /// approve, edit or reject.
    #[arg(long, value_parser = |s: &str| s.parse::<Decision>())]
    decision: Decision,
    /// Who decides (default: $USER).
    #[arg(long, value_name = "NAME")]
    reviewer: Option<String>,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    comment: Option<String>,
    /// The new text of an edit (Markdown file; `-` reads stdin).
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    #[command(flatten)]
    signing: SigningArgs,
}

pub fn run(args: ReviewArgs) -> Result<ExitCode, CliError> {
    let location = args.store.location()?;
    let edited = match &args.text {
        None => None,
        Some(p) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| CliError::Usage(format!("reading the edit from stdin: {e}")))?;
            Some(s)
        }
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| CliError::Usage(format!("reading {}: {e}", p.display())))?,
        ),
    };
    let req = ReviewRequest {
        narrative_id: args.narrative.clone(),
        reviewer: args
            .reviewer
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "cli".to_owned()),
        reviewer_name: None,
        reviewer_email: None,
        org: None,
        decision: args.decision,
        comment: args.comment.clone(),
        edited_output: edited,
    };
    let writer = WriterOptions::new(format!("{}-reviews", default_writer_id()))
        .with_signer(args.signing.signer()?);
    let rec = runtime()?
        .block_on(record_review(&location, writer, &req))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    println!(
        "{}",
        serde_json::to_string(&rec).map_err(|e| CliError::Usage(e.to_string()))?
    );
    Ok(ExitCode::SUCCESS)
}
