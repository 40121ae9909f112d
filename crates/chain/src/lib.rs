//! Chain access for Sankofa: providers with failover, the log stream, transaction sending.
//!
//! - [`endpoint`]: an ordered list of RPC endpoints with failover and failback.
//! - [`stream`]: [`LogStream`], a service delivering the logs matching a filter exactly in chain
//!   order, with backfill, live subscription or polling, paging, de-duplication, confirmation
//!   depth and reorg detection from block hashes. It emits [`StreamEvent`]s on a bounded channel.
//! - [`tx`]: [`TxSender`], which signs and sends transactions with nonce management that survives
//!   failed sends, outside transactions and dropped transactions, and waits for receipts with
//!   timeouts.
//!
//! The crate is generic over `alloy::rpc::types::{Filter, Log}`: it knows nothing of the Sankofa
//! contracts. Feature `test-utils` adds [`testing::TcpProxy`] for fault-injection tests.

pub mod cursor;
pub mod endpoint;
pub mod error;
pub mod paging;
pub mod stream;
#[cfg(feature = "test-utils")]
pub mod testing;
pub mod tx;

pub use cursor::BlockRef;
pub use endpoint::{Connected, Endpoint, Endpoints};
pub use error::{Error, Result};
pub use stream::{LogStream, Start, StreamConfig, StreamEvent, StreamMode};
pub use tx::{FeeMode, SignedTx, TxConfig, TxJournal, TxSender};
