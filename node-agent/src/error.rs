//! The agent's error type (its modules are library-shaped; `main` and `cmd/` use anyhow).

use std::path::PathBuf;

/// A `Result` with the agent's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the agent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file is invalid; `key` names the offending key (empty: the whole file).
    #[error("{}: {}{message}", path.display(), if key.is_empty() { String::new() } else { format!("key `{key}`: ") })]
    Config {
        /// The config file.
        path: PathBuf,
        /// The dotted key.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The journal database failed.
    #[error("journal {}: {source}", path.display())]
    Journal {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// A plan file is invalid.
    #[error("plan {origin}: {message}")]
    Plan {
        /// Where it came from (uri or path), with the step when known.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A plan could not be fetched.
    #[error("fetching plan {uri}: {message}")]
    PlanFetch {
        /// The plan uri.
        uri: String,
        /// Why.
        message: String,
    },
    /// A step process could not be started or its log written.
    #[error("step `{step}`: {message}")]
    Exec {
        /// The step's name.
        step: String,
        /// Why.
        message: String,
    },
    /// Chain access failed.
    #[error(transparent)]
    Chain(#[from] sankofa_chain::Error),
    /// Signer or signing guard failed.
    #[error(transparent)]
    Keys(#[from] sankofa_keys::Error),
    /// A contract call reverted or returned garbage.
    #[error("contract call {call}: {message}")]
    Contract {
        /// The call.
        call: &'static str,
        /// The decoded error.
        message: String,
    },
    /// A filesystem operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Shutdown was requested.
    #[error("shutting down")]
    Shutdown,
}

impl Error {
    /// Whether trying again later can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Chain(e) => e.is_retryable(),
            Self::Keys(e) => e.is_retryable(),
            Self::PlanFetch { .. } | Self::Contract { .. } => true,
            _ => false,
        }
    }
}
