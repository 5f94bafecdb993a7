//! Block limits: a block (records joined by `\n`, the unit of delivery) is sealed when it
//! reaches `max_records`, before a record would take it past `max_bytes`, or `max_age`
//! after its first record, whichever comes first. The
//! server's spool applies them.

use std::time::Duration;

/// When a block is sealed (deployment settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLimits {
    pub max_records: usize,
    /// A block seals before a record would take it past this many bytes (newlines
    /// included); a record alone larger than this is a block of its own.
    pub max_bytes: u64,
    pub max_age: Duration,
}

impl Default for BlockLimits {
    fn default() -> Self {
        BlockLimits {
            max_records: 2_000,
            max_bytes: 10 * 1024 * 1024,
            max_age: Duration::from_secs(60),
        }
    }
}
