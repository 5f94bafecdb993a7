//! One stream's worker: seals the spool's open block when it reaches its age limit, and
//! delivers sealed blocks oldest first, retrying until the endpoint takes each one. A block
//! the endpoint refuses for good is set aside in the spool (visible, redeliverable).
//! Spool file I/O runs on the blocking pool, except reading the block being delivered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::spool::{SealedBlock, Spool};
use super::stats::{Stats, StreamLabels};
use model::endpoints::sink::{Acknowledged, DeliveryError, OutgoingBlock, Sink};

/// How often a failing delivery updates the stream's status.
const STATUS_EVERY: Duration = Duration::from_secs(30);
use super::retry::{RetryPolicy, deliver_with_retries};

/// Whose blocks a worker delivers, and where it records the outcome.
#[derive(Clone)]
pub(super) struct Target {
    pub db: storage::Db,
    pub account_id: i64,
    pub stream_id: i64,
    pub stats: Arc<Stats>,
}

/// A running worker. `stopping`: the stream is no longer active; the worker seals what is
/// open, delivers what is spooled, then ends.
pub(super) struct StreamWorker {
    pub account_id: i64,
    pub spool: Arc<Spool>,
    pub sink: watch::Sender<Arc<dyn Sink>>,
    pub stopping: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl StreamWorker {
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Ends the worker where it is (its stream was deleted; what it held is discarded).
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Aborts a task when dropped: the sealer ends with its worker, also when that is aborted.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs spool file I/O on the blocking pool.
async fn on_disk<T: Send + 'static>(
    spool: &Arc<Spool>,
    io: impl FnOnce(&Spool) -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let spool = spool.clone();
    tokio::task::spawn_blocking(move || io(&spool))
        .await
        .map_err(std::io::Error::other)?
}

pub(super) fn spawn(target: Target, spool: Arc<Spool>, sink: Arc<dyn Sink>) -> StreamWorker {
    let (sink_sender, sink_receiver) = watch::channel(sink);
    let stopping = Arc::new(AtomicBool::new(false));
    let account_id = target.account_id;
    let task = tokio::spawn(run(target, spool.clone(), sink_receiver, stopping.clone()));
    StreamWorker {
        account_id,
        spool,
        sink: sink_sender,
        stopping,
        task,
    }
}

async fn run(
    target: Target,
    spool: Arc<Spool>,
    sink: watch::Receiver<Arc<dyn Sink>>,
    stopping: Arc<AtomicBool>,
) {
    let _sealer = AbortOnDrop(tokio::spawn(seal_by_age(spool.clone(), stopping.clone())));
    deliver(&target, &spool, &sink, &stopping).await;
    tracing::info!(stream_id = target.stream_id, "stream worker stopped");
}

async fn seal_by_age(spool: Arc<Spool>, stopping: Arc<AtomicBool>) {
    loop {
        match spool.deadline() {
            Some(at) => tokio::time::sleep_until(at.into()).await,
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
        let sealed = if stopping.load(Ordering::Relaxed) {
            on_disk(&spool, |s| s.seal_now()).await
        } else {
            let now = std::time::Instant::now();
            on_disk(&spool, move |s| s.seal_if_due(now)).await
        };
        if let Err(e) = sealed {
            tracing::error!(error = %e, "spool: sealing a block failed");
        }
    }
}

async fn deliver(
    target: &Target,
    spool: &Arc<Spool>,
    sink: &watch::Receiver<Arc<dyn Sink>>,
    stopping: &AtomicBool,
) {
    let policy = RetryPolicy::default();
    loop {
        let pending = match on_disk(spool, |s| s.pending()).await {
            Ok(pending) => pending,
            Err(e) => {
                tracing::error!(stream_id = target.stream_id, error = %e, "spool: cannot list blocks");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if pending.is_empty() {
            if stopping.load(Ordering::Relaxed)
                && on_disk(spool, |s| Ok(s.is_drained()))
                    .await
                    .unwrap_or(false)
            {
                return;
            }
            tokio::select! {
                () = spool.sealed.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        }
        for sealed in pending {
            deliver_block(target, spool, sink, &policy, &sealed).await;
        }
    }
}

async fn deliver_block(
    target: &Target,
    spool: &Arc<Spool>,
    sink: &watch::Receiver<Arc<dyn Sink>>,
    policy: &RetryPolicy,
    sealed: &SealedBlock,
) {
    let Target {
        db,
        account_id,
        stream_id,
        stats,
    } = target;
    let labels = StreamLabels {
        account_id: *account_id,
        stream_id: *stream_id,
    };
    // Read in place: a block was written moments ago and is read from the page cache;
    // moving this read to the blocking pool cost a third of the end-to-end throughput
    // (BENCHMARKS.md, issue 13). Listing, sealing, removing and setting aside go there.
    let block = match spool.load(sealed) {
        Ok(block) => block,
        Err(e) => {
            tracing::error!(stream_id, error = %e, "spool: cannot read a block");
            tokio::time::sleep(Duration::from_secs(1)).await;
            return;
        }
    };
    let mut recorder = AttemptRecorder::new(db.clone(), stats.clone(), labels);
    // Each attempt uses the endpoint in force (a save may have fixed the settings).
    let outcome = deliver_with_retries(
        || sink.borrow().clone(),
        &block,
        policy,
        |attempt, outcome, duration| recorder.heard(&block, attempt, outcome, duration),
    )
    .await;
    match outcome {
        Ok(_) => {
            let sealed = sealed.clone();
            if let Err(e) = on_disk(spool, move |s| s.remove(&sealed)).await {
                tracing::error!(stream_id, error = %e, "spool: cannot remove a delivered block");
            }
            recorder.delivered(&block);
        }
        Err(error) => {
            tracing::error!(stream_id, block_id = %block.id, %error, "block refused: set aside until redelivered");
            let sealed = sealed.clone();
            if let Err(e) = on_disk(spool, move |s| s.set_aside(&sealed)).await {
                tracing::error!(stream_id, error = %e, "spool: cannot set a block aside");
            }
        }
    }
}

/// Hears a block's delivery attempts: the delivery log and stats, and the stream's status.
/// Failures show on the stream while retries go on: the first at once, then every
/// STATUS_EVERY (and always a refusal for good).
pub(super) struct AttemptRecorder {
    db: storage::Db,
    stats: Arc<Stats>,
    labels: StreamLabels,
    recorded_at: Option<std::time::Instant>,
}

impl AttemptRecorder {
    pub fn new(db: storage::Db, stats: Arc<Stats>, labels: StreamLabels) -> Self {
        AttemptRecorder {
            db,
            stats,
            labels,
            recorded_at: None,
        }
    }

    pub fn heard(
        &mut self,
        block: &OutgoingBlock,
        attempt: u32,
        outcome: &Result<Acknowledged, DeliveryError>,
        duration: Duration,
    ) {
        let StreamLabels {
            account_id,
            stream_id,
        } = self.labels;
        self.stats.attempt(&self.labels, block, outcome, duration);
        let Err(error) = outcome else { return };
        tracing::warn!(stream_id, block_id = %block.id, attempt, %error, "delivery attempt failed");
        let gave_up = matches!(error, DeliveryError::Terminal { .. });
        if gave_up
            || self
                .recorded_at
                .is_none_or(|at| at.elapsed() >= STATUS_EVERY)
        {
            self.recorded_at = Some(std::time::Instant::now());
            let (db, reason) = (self.db.clone(), error.to_string());
            // Best effort: a stream deleted meanwhile has no status row.
            tokio::spawn(async move {
                let _ = db
                    .record_delivery_error(account_id, stream_id, &reason, gave_up)
                    .await;
            });
        }
    }

    /// The block was acknowledged: the stream's last success and totals. Off the delivery
    /// path: the next block need not wait for the status write.
    pub fn delivered(&self, block: &OutgoingBlock) {
        let (db, labels) = (self.db.clone(), self.labels);
        let (records, bytes) = (block.records as i64, block.body.len() as i64);
        tokio::spawn(async move {
            let _ = db
                .record_delivery(labels.account_id, labels.stream_id, records, bytes)
                .await;
        });
    }
}
