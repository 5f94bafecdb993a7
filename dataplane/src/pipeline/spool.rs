//! A stream's spool: records are written to disk when ingest accepts them, grouped into
//! block files, and a block file is removed only after its endpoint acknowledged it.
//!
//! Layout (`<data-dir>/spool/<stream-id>/`): `open.ndjson` holds the block being filled;
//! sealing renames it to `<seq>_<sealed-ms>_<records>_<block-id>.ndjson`, so a retried block
//! keeps its id and sealing time (same S3 key, same `X-Block-Id`). Blocks the endpoint
//! refused for good move to `failed/` until redelivered. After a crash or restart an
//! `open.ndjson` left behind is sealed at once and every block is delivered, oldest first.
//!
//! Files go through the page cache without `fsync`: accepted records survive a crash of
//! the process (SIGKILL, OOM kill), not a crash of the machine. Recovery only cuts a torn
//! last line (a write the crash interrupted, never answered); every record appended ends
//! with its newline, so no accepted record is cut.
//!
//! One request's records for several streams go in with [`append_all`]: all of them, or
//! (an I/O error on one) none, each spool rolled back to where it was. Blocks sealed within
//! it are listed only once it ends, so no worker delivers what is rolled back.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use engine::BlockLimits;
use tokio::sync::Notify;

use model::endpoints::BlockBudget;
use model::endpoints::sink::OutgoingBlock;

const OPEN_BLOCK: &str = "open.ndjson";
const FAILED: &str = "failed";

/// A sealed block file waiting for delivery (or in `failed/`).
#[derive(Clone, Debug)]
pub struct SealedBlock {
    pub path: PathBuf,
    pub seq: u64,
    pub sealed_ms: u64,
    pub records: usize,
    pub id: uuid::Uuid,
}

struct OpenBlock {
    file: Option<BufWriter<File>>,
    records: usize,
    bytes: u64,
    first_record_at: Option<Instant>,
    next_seq: u64,
    /// The destination's own bound on blocks, besides the limits.
    budget: Option<BlockBudget>,
}

impl OpenBlock {
    /// Whether `bytes` more in `records` more records would take it past its budget.
    fn over_budget(&self, bytes: u64, records: usize) -> bool {
        self.budget.is_some_and(|budget| {
            let records = (self.records + records) as u64;
            self.bytes + bytes + records * budget.extra_per_record > budget.max_bytes
        })
    }
}

pub struct Spool {
    dir: PathBuf,
    limits: BlockLimits,
    max_bytes: u64,
    open: Mutex<OpenBlock>,
    /// Bytes on disk, open block included (the size limit applies to this).
    bytes: AtomicU64,
    /// Blocks with a lower sequence number are listed for delivery; those sealed within an
    /// [`append_all`] still going on are not, until it succeeds (or rolls them back).
    listed_below: AtomicU64,
    /// Woken when a block is sealed.
    pub sealed: Notify,
}

impl Spool {
    /// Opens (or creates) the stream's spool; a block left open by a crash is sealed.
    pub fn open(dir: PathBuf, limits: BlockLimits, max_bytes: u64) -> io::Result<Spool> {
        fs::create_dir_all(dir.join(FAILED))?;
        let mut next_seq = 0;
        let mut bytes = 0;
        // Set-aside blocks count toward the size limit, as they did before the restart.
        for block in list(&dir)?.into_iter().chain(list(&dir.join(FAILED))?) {
            next_seq = next_seq.max(block.seq + 1);
            bytes += fs::metadata(&block.path).map(|m| m.len()).unwrap_or(0);
        }
        let spool = Spool {
            dir,
            limits,
            max_bytes,
            open: Mutex::new(OpenBlock {
                file: None,
                records: 0,
                bytes: 0,
                first_record_at: None,
                next_seq,
                budget: None,
            }),
            bytes: AtomicU64::new(bytes),
            listed_below: AtomicU64::new(next_seq),
            sealed: Notify::new(),
        };
        let left_open = spool.dir.join(OPEN_BLOCK);
        if let Ok(contents) = fs::read(&left_open) {
            // Keep only whole records: a torn last line is what the crash interrupted.
            let whole = contents
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let records = contents[..whole].iter().filter(|b| **b == b'\n').count();
            let mut open = spool.lock();
            if records > 0 {
                // Cut in place, only past the last whole record: never rewritten.
                if whole < contents.len() {
                    OpenOptions::new()
                        .write(true)
                        .open(&left_open)?
                        .set_len(whole as u64)?;
                }
                open.records = records;
                open.bytes = whole as u64;
                spool.bytes.fetch_add(whole as u64, Ordering::Relaxed);
                spool.seal(&mut open)?;
                spool.publish(&open);
            } else {
                fs::remove_file(&left_open)?;
            }
        }
        Ok(spool)
    }

    /// Whether a spool folder holds records waiting for delivery (open or sealed; blocks
    /// set aside wait for a redelivery instead).
    pub fn has_waiting(dir: &Path) -> bool {
        let open = fs::metadata(dir.join(OPEN_BLOCK)).is_ok_and(|m| m.is_file() && m.len() > 0);
        open || list(dir).is_ok_and(|blocks| !blocks.is_empty())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenBlock> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_full(&self) -> bool {
        self.bytes.load(Ordering::Relaxed) >= self.max_bytes
    }

    /// Appends records (each followed by `\n`), sealing blocks at the record limit and
    /// before a record would take a block past the byte limit. Writes whole runs of records
    /// at once: per record only a newline search (memchr).
    pub fn append(&self, records: &[u8]) -> io::Result<()> {
        append_all(&[(self, records)])
    }

    /// [`Spool::append`] with the open block locked; counts the bytes it wrote in `added`,
    /// also when it fails part way (for the rollback).
    fn append_locked(
        &self,
        open: &mut OpenBlock,
        records: &[u8],
        added: &mut u64,
    ) -> io::Result<()> {
        let now = Instant::now();
        let mut rest = records;
        while !rest.is_empty() {
            if open.file.is_none() {
                open.file = Some(open_for_append(&self.dir.join(OPEN_BLOCK))?);
                open.first_record_at = Some(now);
            }
            // The records that fit in the open block (a last record without its newline
            // counts too).
            let room = self.limits.max_records.saturating_sub(open.records).max(1);
            let byte_room = self.limits.max_bytes.saturating_sub(open.bytes);
            let (mut count, mut end, mut block_full) = (0, 0, false);
            while count < room && end < rest.len() {
                let next_end =
                    memchr::memchr(b'\n', &rest[end..]).map_or(rest.len(), |i| end + i + 1);
                let too_big =
                    next_end as u64 > byte_room || open.over_budget(next_end as u64, count + 1);
                if too_big && open.records + count > 0 {
                    block_full = true;
                    break;
                }
                count += 1;
                end = next_end;
            }
            let run = &rest[..end];
            // A last record without its newline gets one: recovery keeps whole lines.
            let newline: &[u8] = if run.is_empty() || run.ends_with(b"\n") {
                b""
            } else {
                b"\n"
            };
            if let Some(file) = open.file.as_mut() {
                file.write_all(run)?;
                file.write_all(newline)?;
            }
            let written = (run.len() + newline.len()) as u64;
            open.records += count;
            open.bytes += written;
            *added += written;
            self.bytes.fetch_add(written, Ordering::Relaxed);
            if block_full || open.records >= self.limits.max_records {
                self.seal(open)?;
            }
            rest = &rest[run.len()..];
        }
        if let Some(file) = open.file.as_mut() {
            // Into the page cache before ingest answers: survives a process crash.
            file.flush()?;
        }
        Ok(())
    }

    /// Puts the spool back where `mark` was taken (an append of the same request failed):
    /// blocks sealed since are removed, the block that was open is open again, cut to its
    /// old length.
    fn roll_back(&self, open: &mut OpenBlock, mark: &Mark, added: u64) -> io::Result<()> {
        open.file = None;
        let open_path = self.dir.join(OPEN_BLOCK);
        for block in list(&self.dir)? {
            if block.seq < mark.next_seq {
                continue;
            }
            if block.seq == mark.next_seq && mark.records > 0 {
                // The block that was open when the request came: open again.
                let _ = fs::remove_file(&open_path);
                fs::rename(&block.path, &open_path)?;
            } else {
                fs::remove_file(&block.path)?;
            }
        }
        if mark.records > 0 {
            OpenOptions::new()
                .write(true)
                .open(&open_path)?
                .set_len(mark.bytes)?;
            open.file = Some(open_for_append(&open_path)?);
        } else if open_path.exists() {
            fs::remove_file(&open_path)?;
        }
        open.records = mark.records;
        open.bytes = mark.bytes;
        open.first_record_at = mark.first_record_at;
        open.next_seq = mark.next_seq;
        self.bytes.fetch_sub(
            added.min(self.bytes.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        Ok(())
    }

    /// Sets the destination's own bound on blocks (at the start, and when the stream's
    /// settings change); a block already open past it is sealed now.
    pub fn set_budget(&self, budget: Option<BlockBudget>) -> io::Result<()> {
        let mut open = self.lock();
        open.budget = budget;
        if open.records > 1 && open.over_budget(0, 0) {
            self.seal(&mut open)?;
            self.publish(&open);
        }
        Ok(())
    }

    /// Bytes on disk, open block included.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// When the open block must be sealed (its age limit), if one is open.
    pub fn deadline(&self) -> Option<Instant> {
        self.lock()
            .first_record_at
            .map(|at| at + self.limits.max_age)
    }

    pub fn seal_if_due(&self, now: Instant) -> io::Result<()> {
        let mut open = self.lock();
        if open
            .first_record_at
            .is_some_and(|at| now >= at + self.limits.max_age)
        {
            self.seal(&mut open)?;
            self.publish(&open);
        }
        Ok(())
    }

    /// Seals whatever is open (a stream stopping).
    pub fn seal_now(&self) -> io::Result<()> {
        let mut open = self.lock();
        self.seal(&mut open)?;
        self.publish(&open);
        Ok(())
    }

    /// Lists every block sealed so far for delivery, and wakes the worker.
    fn publish(&self, open: &OpenBlock) {
        if self.listed_below.swap(open.next_seq, Ordering::Release) != open.next_seq {
            self.sealed.notify_one();
        }
    }

    fn seal(&self, open: &mut OpenBlock) -> io::Result<()> {
        if let Some(mut file) = open.file.take() {
            file.flush()?;
        }
        if open.records == 0 {
            return Ok(());
        }
        let sealed_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let name = format!(
            "{:012}_{sealed_ms}_{}_{}.ndjson",
            open.next_seq,
            open.records,
            uuid::Uuid::new_v4()
        );
        fs::rename(self.dir.join(OPEN_BLOCK), self.dir.join(name))?;
        open.next_seq += 1;
        open.records = 0;
        open.bytes = 0;
        open.first_record_at = None;
        Ok(())
    }

    /// Sealed blocks waiting for delivery, oldest first; blocks sealed by an [`append_all`]
    /// still going on are not among them until it succeeds.
    pub fn pending(&self) -> io::Result<Vec<SealedBlock>> {
        let below = self.listed_below.load(Ordering::Acquire);
        let mut blocks = list(&self.dir)?;
        blocks.retain(|b| b.seq < below);
        Ok(blocks)
    }

    pub fn failed(&self) -> io::Result<Vec<SealedBlock>> {
        list(&self.dir.join(FAILED))
    }

    /// What waits: sealed blocks, bytes on disk (open block included), refused blocks.
    pub fn depth(&self) -> model::SpoolDepth {
        model::SpoolDepth {
            blocks: self.pending().map_or(0, |p| p.len() as u64),
            bytes: self.bytes.load(Ordering::Relaxed),
            failed_blocks: self.failed().map_or(0, |f| f.len() as u64),
        }
    }

    /// Nothing open and nothing waiting.
    pub fn is_drained(&self) -> bool {
        let open = self.lock();
        open.records == 0 && list(&self.dir).map(|p| p.is_empty()).unwrap_or(false)
    }

    pub fn load(&self, block: &SealedBlock) -> io::Result<OutgoingBlock> {
        let mut body = fs::read(&block.path)?;
        if body.last() == Some(&b'\n') {
            body.pop();
        }
        let body = Bytes::from(body);
        Ok(OutgoingBlock {
            id: block.id,
            records: block.records,
            body,
            sealed_at: UNIX_EPOCH + std::time::Duration::from_millis(block.sealed_ms),
        })
    }

    /// The endpoint acknowledged the block: it leaves the spool.
    pub fn remove(&self, block: &SealedBlock) -> io::Result<()> {
        let size = fs::metadata(&block.path).map(|m| m.len()).unwrap_or(0);
        fs::remove_file(&block.path)?;
        self.bytes.fetch_sub(
            size.min(self.bytes.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        Ok(())
    }

    /// The endpoint refused the block for good: kept in `failed/` until redelivered.
    pub fn set_aside(&self, block: &SealedBlock) -> io::Result<()> {
        let name = block.path.file_name().unwrap_or_default();
        fs::rename(&block.path, self.dir.join(FAILED).join(name))
    }

    /// Moves every failed block back to the queue (after the settings were fixed).
    pub fn redeliver_failed(&self) -> io::Result<usize> {
        let failed = self.failed()?;
        for block in &failed {
            let name = block.path.file_name().unwrap_or_default();
            fs::rename(&block.path, self.dir.join(name))?;
        }
        if !failed.is_empty() {
            self.sealed.notify_one();
        }
        Ok(failed.len())
    }
}

/// Where a spool's open block was before an append: what a rollback restores.
struct Mark {
    records: usize,
    bytes: u64,
    first_record_at: Option<Instant>,
    next_seq: u64,
}

impl Mark {
    fn of(open: &OpenBlock) -> Mark {
        Mark {
            records: open.records,
            bytes: open.bytes,
            first_record_at: open.first_record_at,
            next_seq: open.next_seq,
        }
    }
}

/// Appends each spool's records: all of them, or none. The spools are locked in the order
/// given (callers sort by stream, so two requests cannot deadlock); if one append fails,
/// every spool of the batch is rolled back and the error returned.
pub fn append_all(batch: &[(&Spool, &[u8])]) -> io::Result<()> {
    let mut locked: Vec<_> = batch
        .iter()
        .map(|(spool, records)| {
            let open = spool.lock();
            let mark = Mark::of(&open);
            (*spool, open, mark, *records, 0u64)
        })
        .collect();
    let mut failure = None;
    for (spool, open, _, records, added) in &mut locked {
        if let Err(e) = spool.append_locked(open, records, added) {
            failure = Some(e);
            break;
        }
    }
    let Some(error) = failure else {
        for (spool, open, ..) in &locked {
            spool.publish(open);
        }
        return Ok(());
    };
    for (spool, open, mark, _, added) in &mut locked {
        if let Err(e) = spool.roll_back(open, mark, *added) {
            tracing::error!(dir = %spool.dir.display(), error = %e, "spool: rollback failed");
        }
    }
    Err(error)
}

fn open_for_append(path: &Path) -> io::Result<BufWriter<File>> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(BufWriter::with_capacity(256 * 1024, file))
}

fn list(dir: &Path) -> io::Result<Vec<SealedBlock>> {
    let mut blocks = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if let Some(block) = parse_name(&path) {
            blocks.push(block);
        }
    }
    blocks.sort_by_key(|b| b.seq);
    Ok(blocks)
}

fn parse_name(path: &Path) -> Option<SealedBlock> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".ndjson")?;
    let mut parts = stem.splitn(4, '_');
    Some(SealedBlock {
        seq: parts.next()?.parse().ok()?,
        sealed_ms: parts.next()?.parse().ok()?,
        records: parts.next()?.parse().ok()?,
        id: parts.next()?.parse().ok()?,
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(max_records: usize) -> BlockLimits {
        BlockLimits {
            max_records,
            max_bytes: u64::MAX,
            max_age: Duration::from_secs(60),
        }
    }

    #[test]
    fn seals_before_a_record_would_pass_the_byte_limit() {
        let dir = tempfile::tempdir().unwrap();
        let limits = BlockLimits {
            max_bytes: 20,
            ..limits(1000)
        };
        let spool = Spool::open(dir.path().to_path_buf(), limits, u64::MAX).unwrap();
        // 8 bytes each: two fit in 20 bytes, a third would not.
        spool
            .append(b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n{\"a\":5}\n")
            .unwrap();
        // A record larger than the limit is a block of its own.
        spool
            .append(b"{\"big\":\"0123456789abcdef\"}\n{\"a\":6}\n")
            .unwrap();
        spool.seal_now().unwrap();
        let bodies: Vec<String> = spool
            .pending()
            .unwrap()
            .iter()
            .map(|b| String::from_utf8(spool.load(b).unwrap().body.to_vec()).unwrap())
            .collect();
        assert_eq!(
            bodies,
            [
                "{\"a\":1}\n{\"a\":2}",
                "{\"a\":3}\n{\"a\":4}",
                "{\"a\":5}",
                "{\"big\":\"0123456789abcdef\"}",
                "{\"a\":6}"
            ]
        );
        for block in spool.pending().unwrap() {
            assert!(fs::metadata(&block.path).unwrap().len() <= 20 || block.records == 1);
        }
    }

    #[test]
    fn seals_before_a_record_would_pass_the_destinations_budget() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(1000), u64::MAX).unwrap();
        // Records of 4 bytes with their newline, each costing 2 more: 6 a record.
        spool
            .set_budget(Some(BlockBudget {
                max_bytes: 20,
                extra_per_record: 2,
            }))
            .unwrap();
        spool.append(b"aaa\nbbb\nccc\nddd\neee\n").unwrap();
        spool.seal_now().unwrap();
        let records: Vec<usize> = spool.pending().unwrap().iter().map(|b| b.records).collect();
        assert_eq!(records, [3, 2]);
        // A smaller budget seals what is open past it.
        spool.append(b"fff\nggg\n").unwrap();
        spool
            .set_budget(Some(BlockBudget {
                max_bytes: 6,
                extra_per_record: 2,
            }))
            .unwrap();
        assert_eq!(spool.pending().unwrap().len(), 3);
    }

    #[test]
    fn seals_at_the_record_limit_and_recovers_an_open_block() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(3), u64::MAX).unwrap();
        spool
            .append(b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n")
            .unwrap();
        let pending = spool.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].records, 3);
        let block = spool.load(&pending[0]).unwrap();
        assert_eq!(&block.body[..], b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}");
        drop(spool);

        // A crash leaves record 4 open, plus a torn line: reopening seals the whole record.
        let mut open = fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(OPEN_BLOCK))
            .unwrap();
        open.write_all(b"{\"a\":").unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(3), u64::MAX).unwrap();
        let pending = spool.pending().unwrap();
        assert_eq!(pending.len(), 2);
        let recovered = spool.load(&pending[1]).unwrap();
        assert_eq!(&recovered.body[..], b"{\"a\":4}");
        assert_eq!(recovered.id, pending[1].id, "the id stays with the file");
        assert!(pending[1].seq > pending[0].seq);

        spool.set_aside(&pending[0]).unwrap();
        assert_eq!(spool.failed().unwrap().len(), 1);
        assert_eq!(spool.redeliver_failed().unwrap(), 1);
        assert_eq!(spool.pending().unwrap().len(), 2);
        for block in spool.pending().unwrap() {
            spool.remove(&block).unwrap();
        }
        assert!(spool.is_drained());
    }

    #[test]
    fn one_append_fills_several_blocks_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(3), u64::MAX).unwrap();
        let records: Vec<String> = (1..=9).map(|i| format!("{{\"a\":{i}}}\n")).collect();
        spool.append(records[..7].concat().as_bytes()).unwrap();
        assert_eq!(
            spool.pending().unwrap().len(),
            2,
            "7 records: two full blocks, one open"
        );
        spool.append(records[7..].concat().as_bytes()).unwrap();
        let bodies: Vec<String> = spool
            .pending()
            .unwrap()
            .iter()
            .map(|b| {
                assert_eq!(b.records, 3);
                String::from_utf8(spool.load(b).unwrap().body.to_vec()).unwrap()
            })
            .collect();
        let expected: Vec<String> = records
            .chunks(3)
            .map(|c| c.concat().trim_end().to_string())
            .collect();
        assert_eq!(bodies, expected);
    }

    #[test]
    fn a_last_record_without_its_newline_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(2), u64::MAX).unwrap();
        spool.append(b"{\"a\":1}\n{\"a\":2}").unwrap();
        let pending = spool.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].records, 2);
    }

    #[test]
    fn recovery_keeps_a_last_record_appended_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(10), u64::MAX).unwrap();
        spool.append(b"{\"a\":1}\n{\"a\":2}").unwrap();
        drop(spool);
        let spool = Spool::open(dir.path().to_path_buf(), limits(10), u64::MAX).unwrap();
        let pending = spool.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].records, 2, "both accepted records are recovered");
        assert_eq!(
            &spool.load(&pending[0]).unwrap().body[..],
            b"{\"a\":1}\n{\"a\":2}"
        );
    }

    #[test]
    fn set_aside_blocks_count_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(1), u64::MAX).unwrap();
        spool.append(b"{\"a\":1}\n").unwrap();
        let bytes = spool.bytes();
        spool.set_aside(&spool.pending().unwrap()[0]).unwrap();
        assert_eq!(spool.bytes(), bytes);
        drop(spool);
        let spool = Spool::open(dir.path().to_path_buf(), limits(1), u64::MAX).unwrap();
        assert_eq!(spool.bytes(), bytes);
    }

    #[test]
    fn a_failed_append_rolls_every_spool_of_the_batch_back() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = Spool::open(one.path().to_path_buf(), limits(3), u64::MAX).unwrap();
        let second = Spool::open(two.path().to_path_buf(), limits(3), u64::MAX).unwrap();
        first.append(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        let before = (first.bytes(), first.pending().unwrap().len());
        // The second spool cannot create its open block.
        fs::create_dir(two.path().join(OPEN_BLOCK)).unwrap();
        // Four records: the first spool's open block seals (3) and a new one opens.
        let records: &[u8] = b"{\"a\":3}\n{\"a\":4}\n{\"a\":5}\n{\"a\":6}\n";
        assert!(append_all(&[(&first, records), (&second, records)]).is_err());
        assert_eq!((first.bytes(), first.pending().unwrap().len()), before);
        first.seal_now().unwrap();
        let pending = first.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            &first.load(&pending[0]).unwrap().body[..],
            b"{\"a\":1}\n{\"a\":2}",
            "only what was there before"
        );
        // And the spool goes on: the next append lands after the old records.
        fs::remove_dir(two.path().join(OPEN_BLOCK)).unwrap();
        append_all(&[(&first, records), (&second, records)]).unwrap();
        first.seal_now().unwrap();
        assert_eq!(
            first
                .pending()
                .unwrap()
                .iter()
                .map(|b| b.records)
                .sum::<usize>(),
            6
        );
    }

    #[test]
    fn full_at_the_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_path_buf(), limits(1000), 10).unwrap();
        assert!(!spool.is_full());
        spool.append(b"{\"a\":\"0123456789\"}\n").unwrap();
        assert!(spool.is_full());
    }
}
