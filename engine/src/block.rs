//! Blocks: records joined by `\n`, the unit of delivery.
//!
//! A block is sealed when it reaches `max_records` or `max_age` after its first record,
//! whichever comes first. The builder does not watch the clock: its owner calls
//! [`BlockBuilder::seal_if_due`] at [`BlockBuilder::deadline`].

use std::time::{Duration, Instant};

use uuid::Uuid;

/// When a block is sealed (deployment settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLimits {
    pub max_records: usize,
    pub max_age: Duration,
}

impl Default for BlockLimits {
    fn default() -> Self {
        BlockLimits {
            max_records: 2_000,
            max_age: Duration::from_secs(60),
        }
    }
}

/// A sealed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Random (v4), fixed for the block's life: retries and S3 keys reuse it.
    pub id: Uuid,
    pub records: usize,
    /// The records separated by `\n`, without a trailing newline.
    pub body: Vec<u8>,
    pub first_record_at: Instant,
}

/// Accumulates records into the next block.
#[derive(Debug)]
pub struct BlockBuilder {
    limits: BlockLimits,
    body: Vec<u8>,
    records: usize,
    first_record_at: Option<Instant>,
    /// The size of the last sealed block: the next body is allocated once at that size.
    expected_size: usize,
}

impl BlockBuilder {
    pub fn new(limits: BlockLimits) -> BlockBuilder {
        BlockBuilder {
            limits,
            body: Vec::new(),
            records: 0,
            first_record_at: None,
            expected_size: 0,
        }
    }

    pub fn limits(&self) -> BlockLimits {
        self.limits
    }

    /// Records in the open block.
    pub fn len(&self) -> usize {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Adds `record` (one line, no newline); returns the block if this filled it.
    pub fn push(&mut self, record: &[u8], now: Instant) -> Option<Block> {
        if self.records == 0 {
            self.first_record_at = Some(now);
            if self.body.capacity() == 0 {
                self.body.reserve(self.expected_size.max(record.len() + 1));
            }
        } else {
            self.body.push(b'\n');
        }
        self.body.extend_from_slice(record);
        self.records += 1;
        (self.records >= self.limits.max_records).then(|| self.seal())
    }

    /// When the open block must be sealed; `None` when it is empty.
    pub fn deadline(&self) -> Option<Instant> {
        self.first_record_at
            .map(|first| first + self.limits.max_age)
    }

    /// Seals the open block if its deadline has passed at `now`.
    pub fn seal_if_due(&mut self, now: Instant) -> Option<Block> {
        let due = self.deadline().is_some_and(|deadline| now >= deadline);
        due.then(|| self.seal())
    }

    /// Seals the open block, whatever its size or age (e.g. on shutdown or stream change).
    pub fn flush(&mut self) -> Option<Block> {
        (!self.is_empty()).then(|| self.seal())
    }

    fn seal(&mut self) -> Block {
        let body = std::mem::take(&mut self.body);
        self.expected_size = body.len().max(self.expected_size / 2);
        let records = std::mem::take(&mut self.records);
        let first_record_at = self
            .first_record_at
            .take()
            .expect("a sealed block has a record");
        Block {
            id: Uuid::new_v4(),
            records,
            body,
            first_record_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(max_records: usize, max_age_secs: u64) -> BlockBuilder {
        BlockBuilder::new(BlockLimits {
            max_records,
            max_age: Duration::from_secs(max_age_secs),
        })
    }

    #[test]
    fn seals_at_max_records() {
        let mut blocks = builder(3, 60);
        let now = Instant::now();
        assert_eq!(blocks.push(b"{\"a\":1}", now), None);
        assert_eq!(blocks.push(b"{\"a\":2}", now), None);
        let block = blocks.push(b"{\"a\":3}", now).unwrap();
        assert_eq!(block.records, 3);
        assert_eq!(block.body, b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}");
        assert_eq!(block.first_record_at, now);
        assert!(blocks.is_empty());
        assert_eq!(blocks.deadline(), None);
        let next = blocks.push(b"x", now);
        assert_eq!(next, None);
        assert_eq!(blocks.flush().unwrap().body, b"x");
    }

    #[test]
    fn seals_max_age_after_the_first_record() {
        let mut blocks = builder(2_000, 60);
        let start = Instant::now();
        assert_eq!(blocks.seal_if_due(start), None);
        blocks.push(b"first", start);
        blocks.push(b"second", start + Duration::from_secs(50));
        let deadline = start + Duration::from_secs(60);
        assert_eq!(blocks.deadline(), Some(deadline));
        assert_eq!(
            blocks.seal_if_due(deadline - Duration::from_millis(1)),
            None
        );
        let block = blocks.seal_if_due(deadline).unwrap();
        assert_eq!(
            (block.records, block.body.as_slice()),
            (2, &b"first\nsecond"[..])
        );
        assert_eq!(blocks.seal_if_due(deadline + Duration::from_secs(60)), None);
    }

    #[test]
    fn flush_seals_what_is_open_and_ids_differ() {
        let mut blocks = builder(10, 60);
        assert_eq!(blocks.flush(), None);
        let now = Instant::now();
        blocks.push(b"a", now);
        let first = blocks.flush().unwrap();
        blocks.push(b"b", now);
        let second = blocks.flush().unwrap();
        assert_ne!(first.id, second.id);
        assert_eq!(first.id.get_version_num(), 4);
        assert_eq!(second.body, b"b");
    }

    #[test]
    fn one_record_blocks() {
        let mut blocks = builder(1, 60);
        let block = blocks.push(b"only", Instant::now()).unwrap();
        assert_eq!((block.records, block.body.as_slice()), (1, &b"only"[..]));
    }

    #[test]
    fn the_next_body_is_preallocated_from_the_last_block() {
        let mut blocks = builder(100, 60);
        let now = Instant::now();
        let record = [b'x'; 99];
        for _ in 0..99 {
            blocks.push(&record, now);
        }
        let sealed = blocks.push(&record, now).unwrap();
        assert_eq!(sealed.body.len(), 100 * 100 - 1);
        blocks.push(&record, now);
        assert!(blocks.body.capacity() >= sealed.body.len());
    }
}
