//! The chain crate's error type.

use alloy::primitives::{Address, B256};
use alloy::transports::TransportError;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to the chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An RPC call failed on one endpoint (transport failure or a JSON-RPC error response).
    #[error("rpc {method} on endpoint {endpoint}: {source}")]
    Rpc {
        /// The endpoint's configured name.
        endpoint: String,
        /// The JSON-RPC method that failed.
        method: &'static str,
        /// The underlying error.
        #[source]
        source: TransportError,
    },
    /// Every configured endpoint failed in one round.
    #[error(
        "all {count} rpc endpoints failed; last error: {last}; check the `[[rpc]]` urls and that the nodes are up"
    )]
    AllEndpointsFailed {
        /// How many endpoints were tried.
        count: usize,
        /// The last error seen.
        last: String,
    },
    /// No endpoint was configured.
    #[error("no rpc endpoint configured; add at least one `[[rpc]]` entry with an `http` url")]
    NoEndpoints,
    /// An endpoint url could not be parsed.
    #[error("rpc endpoint {name}: invalid url {url:?}: {reason}")]
    InvalidUrl {
        /// The endpoint's configured name.
        name: String,
        /// The offending url.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The node serves another chain than the configured one. Fatal.
    #[error(
        "chain id mismatch: endpoint {endpoint} serves chain {actual}, the config expects {expected}; point `chain_id` or the rpc urls at the right network"
    )]
    ChainIdMismatch {
        /// The endpoint's configured name.
        endpoint: String,
        /// The configured chain id.
        expected: u64,
        /// The chain id the node reported.
        actual: u64,
    },
    /// A block the stream needs is not known to the endpoint (it lags behind the cursor).
    #[error("endpoint {endpoint} does not have block {number} yet")]
    MissingBlock {
        /// The endpoint's configured name.
        endpoint: String,
        /// The block number asked for.
        number: u64,
    },
    /// `eth_getLogs` failed even for a single block, so paging cannot make progress.
    #[error("eth_getLogs for the single block {block} failed on {endpoint}: {message}")]
    LogRangeStuck {
        /// The endpoint's configured name.
        endpoint: String,
        /// The block that could not be queried.
        block: u64,
        /// The node's message.
        message: String,
    },
    /// The chain stopped producing heads on the live subscription.
    #[error(
        "no new head from endpoint {endpoint} for {secs}s while the chain advanced; resubscribing"
    )]
    Stale {
        /// The endpoint's configured name.
        endpoint: String,
        /// Seconds since the last head.
        secs: u64,
    },
    /// The live subscription ended (the connection closed).
    #[error("live subscription on {endpoint} ended")]
    SubscriptionEnded {
        /// The endpoint's configured name.
        endpoint: String,
    },
    /// The consumer of the log stream went away.
    #[error("the log stream's receiver was dropped")]
    ChannelClosed,
    /// The node rejected a transaction outright (not a transport problem).
    #[error("node rejected transaction from {from} with nonce {nonce}: {message}")]
    TxRejected {
        /// The sender.
        from: Address,
        /// The nonce used.
        nonce: u64,
        /// The node's message.
        message: String,
    },
    /// A mined transaction reverted.
    #[error("transaction {tx_hash} reverted in block {block}")]
    Reverted {
        /// The transaction hash.
        tx_hash: B256,
        /// The block it was mined in.
        block: u64,
    },
    /// A transaction was not mined after every wait and re-broadcast.
    #[error("transaction {tx_hash} (nonce {nonce}) not mined after {waited_secs}s; will re-check")]
    ReceiptTimeout {
        /// The transaction hash.
        tx_hash: B256,
        /// Its nonce.
        nonce: u64,
        /// Total seconds waited.
        waited_secs: u64,
    },
    /// Signing a transaction failed.
    #[error("signing transaction with nonce {nonce} failed: {message}")]
    Signing {
        /// The nonce the transaction had.
        nonce: u64,
        /// The signer's message.
        message: String,
    },
    /// A caller-supplied hook (e.g. the journal recording a signed tx) failed.
    #[error("recording the signed transaction failed: {0}")]
    Hook(String),
    /// Shutdown was requested while waiting.
    #[error("shutdown requested")]
    Shutdown,
}

impl Error {
    /// Whether retrying later (possibly on another endpoint) can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rpc { .. }
            | Self::AllEndpointsFailed { .. }
            | Self::MissingBlock { .. }
            | Self::LogRangeStuck { .. }
            | Self::Stale { .. }
            | Self::SubscriptionEnded { .. }
            | Self::ReceiptTimeout { .. }
            // An HSM that is briefly unavailable, or an account the operator has yet to fund:
            // retrying later (with backoff, logged) is what an operator wants.
            | Self::Signing { .. }
            | Self::TxRejected { .. } => true,
            Self::NoEndpoints
            | Self::InvalidUrl { .. }
            | Self::ChainIdMismatch { .. }
            | Self::ChannelClosed
            | Self::Reverted { .. }
            | Self::Hook(_)
            | Self::Shutdown => false,
        }
    }

    /// Whether this is a transport-level failure of an endpoint (as opposed to the node
    /// answering with a JSON-RPC error), i.e. a reason to fail over.
    pub fn is_endpoint_failure(&self) -> bool {
        match self {
            Self::Rpc { source, .. } => is_transport_failure(source),
            Self::Stale { .. } | Self::SubscriptionEnded { .. } | Self::MissingBlock { .. } => true,
            _ => false,
        }
    }
}

/// True for failures of the connection itself (refused, reset, timeout, HTTP 5xx, backend
/// gone); false when the node answered with a JSON-RPC error.
pub fn is_transport_failure(err: &TransportError) -> bool {
    err.as_error_resp().is_none()
}

/// The JSON-RPC error message and code, if the node answered with an error.
pub fn rpc_error_message(err: &TransportError) -> Option<(i64, String)> {
    err.as_error_resp().map(|p| (p.code, p.message.to_string()))
}
