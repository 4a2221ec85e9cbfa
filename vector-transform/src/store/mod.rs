//! The tamper-evident store: Delta Lake tables (`events`, `dead_letters`, `episodes`, and the
//! narrative engine's `narratives` and `reviews`) under one root, each row on its writer's hash chain.

pub mod chain;
pub mod dedupe;
pub mod episodes;
mod error;
pub mod location;
pub mod log;
pub mod tables;
pub mod verify;
pub mod writer;

mod audit;
#[cfg(test)]
mod tests;

pub use audit::{AppendSummary, AuditWriter, dead_letter_uid, dead_letters_to_batch};
pub use chain::ChainHead;
pub use dedupe::{DedupeIndex, day_of};
pub use episodes::{EpisodeRecord, episodes_to_batch};
pub use error::StoreError;
pub use location::{DEFAULT_STORE, StoreLocation};
pub use tables::{DEAD_LETTERS, EPISODES, EVENTS, NARRATIVES, Partitioning, REVIEWS, TableSpec};
pub use verify::{Problem, ProblemKind, TableReport, VerifyReport, verify_store};
pub use writer::{CommitReceipt, TableWriter, WriterOptions, default_writer_id};

use datafusion::prelude::SessionContext;

/// Registers every table of the store that exists in `ctx` under its name; returns the names.
pub async fn register_tables(
    location: &StoreLocation,
    ctx: &SessionContext,
) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for name in verify::KNOWN_TABLES {
        if let Some(table) = location.open_table(name).await? {
            table.update_datafusion_session(&ctx.state())?;
            let _ = ctx.deregister_table(name)?;
            ctx.register_table(name, table.table_provider().await?)?;
            names.push(name.to_owned());
        }
    }
    Ok(names)
}
