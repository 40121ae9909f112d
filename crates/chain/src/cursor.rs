//! Block references: the stream's cursor and checkpoints.

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};

/// A block identified by number and hash. The log stream's cursor is the last block whose logs
/// were all delivered; comparing its hash with the chain's detects a reorg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

impl std::fmt::Display for BlockRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{} ({})", self.number, self.hash)
    }
}
