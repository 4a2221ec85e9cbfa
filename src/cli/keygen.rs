//! `mdm-audit keygen`: a new Ed25519 key for a writer: the private key (PKCS#8 PEM, readable by its
//! owner only) and beside it the public key (`<file>.pub`, SPKI PEM) to list in `--trusted-keys`.
#![allow(clippy::print_stdout, reason = "the key id is the command's output")]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mdm_audit_store::HeadSigner;
use mdm_audit_transform::TransformError;

use super::CliError;

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key; the public key goes to the same path plus `.pub`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

/// Writes `text` to `path`, creating it with `mode` (unix permissions) and refusing to replace an
/// existing file unless `force`.
fn write_new(path: &PathBuf, text: &str, mode: u32, force: bool) -> Result<(), CliError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(mode);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut f = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::Usage(format!(
                "{} exists: a writer's key is not replaced by accident (give --force to replace it)",
                path.display()
            ))
        } else {
            TransformError::io(format!("creating {}", path.display()), e).into()
        }
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| TransformError::io(format!("writing {}", path.display()), e).into())
}

pub fn run(args: KeygenArgs) -> Result<ExitCode, CliError> {
    let signer = HeadSigner::generate();
    let public = args.out.with_file_name(format!(
        "{}.pub",
        args.out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "writer.pem".into())
    ));
    write_new(&args.out, &signer.private_pem()?, 0o600, args.force)?;
    write_new(&public, &signer.public_pem()?, 0o644, args.force)?;
    println!("key id {}", signer.key_id());
    println!(
        "private key: {} (give it to the writer: --signing-key)",
        args.out.display()
    );
    println!(
        "public key:  {} (list it in the file given to verify --trusted-keys)",
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}
