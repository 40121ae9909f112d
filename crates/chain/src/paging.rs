//! `eth_getLogs` in pages.
//!
//! Besu rejects ranges wider than `--rpc-max-logs-range` (default 5000) with error -32005, other
//! nodes cap the number of results. The page size starts at the configured maximum, halves on a
//! range error, grows back slowly after successes, and never drops below one block, so paging
//! always makes progress or reports why it cannot (see `stream`).

/// The adaptive page size for one stream.
#[derive(Clone, Copy, Debug)]
pub struct PageSize {
    max: u64,
    current: u64,
    successes: u32,
}

impl PageSize {
    /// Starts at `max` blocks per query (at least 1).
    pub fn new(max: u64) -> Self {
        let max = max.max(1);
        Self {
            max,
            current: max,
            successes: 0,
        }
    }

    /// The current page size in blocks.
    pub fn current(&self) -> u64 {
        self.current
    }

    pub(crate) fn shrink(&mut self) -> bool {
        self.successes = 0;
        if self.current == 1 {
            return false;
        }
        self.current = (self.current / 2).max(1);
        true
    }

    pub(crate) fn success(&mut self) {
        self.successes += 1;
        // Grow back after a run of successes: the limit may have been a transient result cap.
        if self.successes >= 8 && self.current < self.max {
            self.current = (self.current * 2).min(self.max);
            self.successes = 0;
        }
    }
}

/// Whether a JSON-RPC error means "ask for a smaller range".
pub fn is_range_error(code: i64, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code == -32005
        || m.contains("range")
        || m.contains("too many")
        || m.contains("limit exceeded")
        || m.contains("response size")
        || m.contains("query returned more than")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn page_size_halves_to_one_and_grows_back() {
        let mut p = PageSize::new(5000);
        assert!(p.shrink());
        assert_eq!(p.current(), 2500);
        while p.shrink() {}
        assert_eq!(p.current(), 1);
        for _ in 0..8 {
            p.success();
        }
        assert_eq!(p.current(), 2);
    }

    #[test]
    fn besu_range_error_is_recognised() {
        assert!(is_range_error(-32005, "Exceeds max range of 5000"));
        assert!(is_range_error(-32602, "block range too large"));
        assert!(!is_range_error(-32000, "execution reverted"));
    }
}
