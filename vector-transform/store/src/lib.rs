//! The contract and the store of mdm-audit, shared by every side: the normalized event defined once
//! ([`event`], from which [`schema`] and [`batch`] follow), dead letters, and the tamper-evident store:
//! Delta Lake tables under one root, each row on its writer's hash chain ([`chain`]), written by
//! [`TableWriter`], checked by [`verify_store`]. Each owner declares its own tables in a
//! [`TableRegistry`]: this crate the core ones (`events`, `dead_letters`, `episodes`), the narrative
//! engine `narratives` and `reviews`.
//!
//! It depends on no VRL, HTTP-server or Grafana crate (`ARCHITECTURE.md`).

pub mod batch;
pub mod columns;
pub mod dead_letter;
pub mod event;
pub mod schema;
pub mod select;

pub mod chain;
pub mod copies;
pub mod dedupe;
pub mod episodes;
mod error;
pub mod location;
pub mod log;
mod pending;
pub mod signing;
pub mod tables;
pub mod verify;
pub mod writer;

mod audit;
#[cfg(test)]
mod tests;

pub use audit::{AppendSummary, AuditWriter, dead_letter_uid, dead_letters_to_batch};
pub use chain::ChainHead;
pub use copies::{CopiedKey, find_copies};
pub use dead_letter::DeadLetter;
pub use dedupe::{DedupeIndex, day_of};
pub use episodes::{EpisodeRecord, episodes_to_batch};
pub use error::StoreError;
pub use event::{Change, NormalizedEvent};
pub use location::{DEFAULT_STORE, StoreLocation};
pub use pending::PendingEvents;
pub use signing::{HeadSigner, TrustedKeys};
pub use tables::{
    DEAD_LETTERS, EPISODES, EVENTS, Partitioning, TableRegistry, TableSpec, core_tables,
};
pub use verify::{Problem, ProblemKind, TableReport, VerifyReport, verify_store};
pub use writer::{CommitReceipt, TableWriter, WriterOptions, default_writer_id};

use datafusion::prelude::SessionContext;

/// Registers every table of `registry` that exists in the store in `ctx` under its name, each row
/// once (a key two writers both stored shows once: [`copies`]); returns the names.
pub async fn register_tables(
    location: &StoreLocation,
    registry: &TableRegistry,
    ctx: &SessionContext,
) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for spec in registry.tables() {
        let name = spec.name;
        if let Some(table) = location.open_table(name).await? {
            table.update_datafusion_session(&ctx.state())?;
            let copies = copies::find_copies(&table, spec).await?;
            let provider = copies::without_copies(ctx, table.table_provider().await?, &copies)?;
            let _ = ctx.deregister_table(name)?;
            ctx.register_table(name, provider)?;
            names.push(name.to_owned());
        }
    }
    Ok(names)
}
