//! `mdm-audit query`: the plugin's query engine from the command line. The user's read-only SQL, or
//! the timeline with the plugin's filters (the same DataFusion plan the Grafana `timeline` query type
//! runs), printed as a table, CSV, JSON or NDJSON.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the result is the command's output; notes about it go to stderr"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mdm_audit_datasource::engine::{Capped, Engine, EngineError, Range};
use mdm_audit_datasource::plugin::queries::timeline_capped;
use mdm_audit_datasource::query::{Filters, RiskLevel};

use super::CliError;
use super::narrate::range_of;
use super::store_args::{StoreArgs, runtime};

/// How the result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned text table.
    Table,
    /// CSV with a header row (lists and structs as their text form).
    Csv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// A `risk_level` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// No risk.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl From<Level> for RiskLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::None => Self::None,
            Level::Low => Self::Low,
            Level::Medium => Self::Medium,
            Level::High => Self::High,
            Level::Critical => Self::Critical,
        }
    }
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A read-only SQL query over the store's tables (`events`, `dead_letters`, `narratives`, ...);
    /// every scan of `events` is limited to --from/--to. Without --sql or --sql-file: the timeline.
    #[arg(long, value_name = "SQL", conflicts_with = "sql_file")]
    sql: Option<String>,
    /// The SQL query from a file (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    sql_file: Option<PathBuf>,
    /// Start of the range: RFC 3339 (2026-03-04T00:00:00Z) or a UTC date (2026-03-04). Default: 7 days before --to.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// End of the range, as --from; a date means the end of that day. Default: now.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Timeline filter: this vendor (repeat for any of several).
    #[arg(long = "vendor", value_name = "VENDOR")]
    vendors: Vec<String>,
    /// Timeline filter: this actor's UPN, name or id (repeatable).
    #[arg(long = "actor", value_name = "ACTOR")]
    actors: Vec<String>,
    /// Timeline filter: this device's id, serial or name (repeatable).
    #[arg(long = "device", value_name = "DEVICE")]
    devices: Vec<String>,
    /// Timeline filter: this normalized action, e.g. wipe (repeatable).
    #[arg(long = "action", value_name = "ACTION")]
    actions: Vec<String>,
    /// Timeline filter: this risk level (repeatable).
    #[arg(long = "risk-level", value_enum, value_name = "LEVEL")]
    risk_levels: Vec<Level>,
    /// Timeline filter: events carrying this risk tag (repeatable).
    #[arg(long = "risk-tag", value_name = "TAG")]
    risk_tags: Vec<String>,
    /// Timeline filter: a case-insensitive substring of the message, actor, target or device names.
    #[arg(long, value_name = "TEXT")]
    text: Option<String>,
    /// The most rows printed (at most 10,000, the plugin's cap); a note on stderr says when more exist.
    #[arg(long, default_value_t = 100, value_name = "N")]
    limit: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

impl QueryArgs {
    fn filters(&self) -> Filters {
        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Filters {
            vendors: some(&self.vendors),
            actors: some(&self.actors),
            devices: some(&self.devices),
            actions: some(&self.actions),
            risk_levels: (!self.risk_levels.is_empty())
                .then(|| self.risk_levels.iter().map(|l| (*l).into()).collect()),
            risk_tags: some(&self.risk_tags),
            text: self.text.clone(),
            event_uids: None,
        }
    }

    fn sql_text(&self) -> Result<Option<String>, CliError> {
        if let Some(s) = &self.sql {
            return Ok(Some(s.clone()));
        }
        let Some(path) = &self.sql_file else {
            return Ok(None);
        };
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(path)
        };
        text.map(Some).map_err(|e| {
            CliError::Usage(format!("cannot read the SQL from {}: {e}", path.display()))
        })
    }
}

pub fn run(args: QueryArgs) -> Result<ExitCode, CliError> {
    let (from, to) = range_of(args.from.as_deref(), args.to.as_deref())?;
    let range = Range { from, to };
    let sql = args.sql_text()?;
    let filters = args.filters();
    if sql.is_some() && filters != Filters::default() {
        return Err(CliError::Usage(
            "the filters (--vendor, --actor, --device, --action, --risk-level, --risk-tag, --text) \
             apply to the timeline; with --sql, write them in the query's WHERE clause"
                .into(),
        ));
    }
    let location = args.store.location()?;
    let (capped, span) = runtime()?
        .block_on(async {
            let engine = Engine::open(location).await?;
            let capped = match &sql {
                Some(text) => {
                    let df = engine.user_sql(text, &range).await?;
                    engine.run_capped(df, args.limit).await?
                }
                None => {
                    engine.require("events").await?;
                    timeline_capped(&engine, &range, &filters, args.limit).await?
                }
            };
            // An empty timeline: say what the store holds, so a wrong range is seen at once.
            let empty = capped.batches.iter().all(|b| b.num_rows() == 0);
            let span = if empty && sql.is_none() {
                Some(store_span(&engine).await?)
            } else {
                None
            };
            Ok::<_, EngineError>((capped, span))
        })
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let rows: usize = capped.batches.iter().map(RecordBatch::num_rows).sum();
    print_result(&capped, args.format)?;
    if capped.truncated {
        eprintln!(
            "query: showing the first {rows} rows; more match: raise --limit (at most {}), narrow --from/--to or add filters",
            mdm_audit_datasource::engine::MAX_ROWS
        );
    }
    if let Some(span) = span {
        eprintln!("query: no events match between {from} and {to}; {span}");
    }
    Ok(ExitCode::SUCCESS)
}

/// How many events the store holds, and from when to when.
async fn store_span(engine: &Engine) -> Result<String, EngineError> {
    let batches = engine
        .run("SELECT count(*) AS n, CAST(min(time) AS VARCHAR) AS first, CAST(max(time) AS VARCHAR) AS last FROM events")
        .await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok("the store holds no events".into());
    };
    let options = FormatOptions::default();
    let cell = |i: usize| {
        ArrayFormatter::try_new(b.column(i).as_ref(), &options)
            .map(|f| f.value(0).to_string())
            .unwrap_or_default()
    };
    Ok(match cell(0).as_str() {
        "0" => "the store holds no events".into(),
        n => format!(
            "the store holds {n} events from {} to {} (set --from and --to)",
            cell(1),
            cell(2)
        ),
    })
}

fn print_result(c: &Capped, format: Format) -> Result<(), CliError> {
    let out = std::io::stdout();
    let mut out = out.lock();
    let io = |e: std::io::Error| CliError::Usage(format!("writing the result failed: {e}"));
    let arrow = |e: datafusion::arrow::error::ArrowError| {
        CliError::Usage(format!("formatting the result failed: {e}"))
    };
    let empty = c.batches.iter().all(|b| b.num_rows() == 0);
    match format {
        Format::Table => {
            let table = datafusion::arrow::util::pretty::pretty_format_batches(&c.batches)
                .map_err(arrow)?;
            if empty {
                let names: Vec<&str> = c
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                writeln!(out, "(no rows; columns: {})", names.join(", ")).map_err(io)?;
            } else {
                writeln!(out, "{table}").map_err(io)?;
            }
        }
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            if empty {
                w.write(&RecordBatch::new_empty(flat_schema(&c.schema)))
                    .map_err(arrow)?;
            }
            for b in c.batches.iter().filter(|b| b.num_rows() > 0) {
                w.write(&flattened(b).map_err(arrow)?).map_err(arrow)?;
            }
        }
        Format::Json => {
            // `[]` when there are no rows.
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut out);
            let refs: Vec<&RecordBatch> = c.batches.iter().collect();
            w.write_batches(&refs).map_err(arrow)?;
            w.finish().map_err(arrow)?;
            drop(w);
            writeln!(out).map_err(io)?;
        }
        Format::Ndjson => {
            let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
            let refs: Vec<&RecordBatch> = c.batches.iter().collect();
            w.write_batches(&refs).map_err(arrow)?;
            w.finish().map_err(arrow)?;
        }
    }
    out.flush().map_err(io)
}

/// CSV has no nested values: lists, structs and maps become their text form (`[a, b]`).
fn nested(t: &DataType) -> bool {
    t.is_nested()
}

fn flat_schema(s: &Schema) -> Arc<Schema> {
    Arc::new(Schema::new(
        s.fields()
            .iter()
            .map(|f| {
                if nested(f.data_type()) {
                    Field::new(f.name(), DataType::Utf8, true)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect::<Vec<_>>(),
    ))
}

fn flattened(b: &RecordBatch) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    if !b.schema().fields().iter().any(|f| nested(f.data_type())) {
        return Ok(b.clone());
    }
    let options = FormatOptions::default().with_null("");
    let columns = b
        .columns()
        .iter()
        .map(
            |a| -> Result<ArrayRef, datafusion::arrow::error::ArrowError> {
                if !nested(a.data_type()) {
                    return Ok(Arc::clone(a));
                }
                let f = ArrayFormatter::try_new(a.as_ref(), &options)?;
                let text: StringArray = (0..a.len())
                    .map(|i| (!a.is_null(i)).then(|| f.value(i).to_string()))
                    .collect();
                Ok(Arc::new(text))
            },
        )
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(flat_schema(&b.schema()), columns)
}
