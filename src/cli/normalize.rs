//! `mdm-audit normalize`.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mdm_audit_transform::normalize::{RunStats, normalize_reader};
use mdm_audit_transform::output::{self, Format};
use mdm_audit_transform::{DeadLetter, Normalizer, TransformError};

use super::{CliError, MappingArgs};

/// Exit code when `--strict` finds dead letters.
pub const EXIT_DEAD_LETTERS: u8 = 3;

#[derive(Debug, Args)]
pub struct NormalizeArgs {
    /// Which feed the input is: auto recognizes each record by its shape; else a vendor's name
    /// (jamf, intune, ws1, or one that --mappings adds).
    #[arg(long, default_value = "auto")]
    source: String,
    /// Output format.
    #[arg(long, default_value = "ndjson", value_parser = clap::value_parser!(String))]
    format: String,
    /// Write events here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write dead letters (reason, source, raw bytes) here as NDJSON; created only if there are any.
    #[arg(
        long,
        default_value = "mdm-audit-dead-letters.ndjson",
        value_name = "FILE"
    )]
    dead_letters: PathBuf,
    /// Exit with status 3 if any record was dead-lettered.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    mapping: MappingArgs,
    /// Input files; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    inputs: Vec<PathBuf>,
}

/// Appends dead letters to a file created on first use.
struct DeadLetterFile {
    path: PathBuf,
    file: Option<std::io::BufWriter<File>>,
}

impl DeadLetterFile {
    fn write(&mut self, d: &DeadLetter) -> Result<(), TransformError> {
        if self.file.is_none() {
            let f = File::create(&self.path)
                .map_err(|e| TransformError::io(format!("creating {}", self.path.display()), e))?;
            self.file = Some(std::io::BufWriter::new(f));
        }
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| TransformError::Internal("dead-letter file not open".into()))?;
        serde_json::to_writer(&mut *f, d)?;
        f.write_all(b"\n")
            .map_err(|e| TransformError::io(format!("writing {}", self.path.display()), e))
    }

    fn finish(self) -> Result<(), TransformError> {
        if let Some(mut f) = self.file {
            f.flush()
                .map_err(|e| TransformError::io(format!("writing {}", self.path.display()), e))?;
        }
        Ok(())
    }
}

pub fn run(args: NormalizeArgs) -> Result<ExitCode, CliError> {
    let format: Format = args.format.parse().map_err(CliError::Usage)?;
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(
            File::create(path)
                .map_err(|e| TransformError::io(format!("creating {}", path.display()), e))?,
        ),
        None => {
            if format == Format::Parquet && std::io::stdout().is_terminal() {
                return Err(CliError::Usage(
                    "Parquet is binary: write it to a file with --output FILE".into(),
                ));
            }
            Box::new(std::io::stdout())
        }
    };
    let choice = args.mapping.source_choice(&args.source)?;
    let mut normalizer = Normalizer::from_config_for(&args.mapping.config(), choice)?;
    let mut sink = output::sink(format, out)?;
    let mut dead = DeadLetterFile {
        path: args.dead_letters.clone(),
        file: None,
    };
    let mut stats = RunStats::default();
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    for input in &inputs {
        let show = std::io::stderr().is_terminal();
        if input.as_os_str() == "-" {
            let stdin = std::io::stdin().lock();
            normalize_reader(
                &mut normalizer,
                choice,
                stdin,
                "stdin",
                sink.as_mut(),
                &mut |d| dead.write(&d),
                &mut stats,
                &mut |_| {},
            )?;
            continue;
        }
        let file = File::open(input)
            .map_err(|e| TransformError::io(format!("opening {}", input.display()), e))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = if show && len > 8 << 20 {
            let bar = ProgressBar::new(len);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message(input.display().to_string());
            Some(bar)
        } else {
            None
        };
        normalize_reader(
            &mut normalizer,
            choice,
            BufReader::with_capacity(1 << 16, file),
            &input.display().to_string(),
            sink.as_mut(),
            &mut |d| dead.write(&d),
            &mut stats,
            &mut |pos| {
                if let Some(b) = &bar {
                    b.set_position(pos);
                }
            },
        )?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    }
    sink.finish()?;
    dead.finish()?;
    let where_dead = if stats.dead_lettered() > 0 {
        format!(" (dead letters in {})", args.dead_letters.display())
    } else {
        String::new()
    };
    eprintln!("normalize: {}{where_dead}", stats.summary());
    if args.strict && stats.dead_lettered() > 0 {
        return Ok(ExitCode::from(EXIT_DEAD_LETTERS));
    }
    Ok(ExitCode::SUCCESS)
}
