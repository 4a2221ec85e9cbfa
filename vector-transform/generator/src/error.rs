//! The generator's errors: a bad option (the message says what to change), I/O on the output, and
//! the ground-truth file's JSON.

/// What can go wrong while generating an estate.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// An option is out of range or the options contradict each other.
    #[error("{0}")]
    InvalidOption(String),
    /// Reading or writing a file.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The ground-truth file's JSON.
    #[error("ground truth JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A bug in the generator.
    #[error("internal error (a bug in mdm-audit, please report it): {0}")]
    Internal(String),
}

impl GenerateError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// A generator event (Vector's `internal_events` habit): an estate was generated.
#[derive(Debug)]
pub struct EstateGenerated {
    /// Records written.
    pub records: u64,
    /// Scenarios planted.
    pub scenarios: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl EstateGenerated {
    /// Logs at info level.
    pub fn emit(self) {
        tracing::info!(
            records = self.records,
            scenarios = self.scenarios,
            seconds = self.seconds,
            "Estate generated."
        );
    }
}
