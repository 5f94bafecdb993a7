//! One stream's worker: gathers rendered records into blocks (sealed at the record limit
//! or the age limit) and delivers them in order, retrying until the endpoint takes them.

use std::sync::Arc;

use engine::{BlockBuilder, BlockLimits};
use tokio::sync::{mpsc, watch};

use super::{BLOCKS_PER_STREAM, RECORD_CHUNKS_PER_STREAM, StreamWorker};
use crate::sinks::retry::{RetryPolicy, deliver_with_retries};
use crate::sinks::{OutgoingBlock, Sink};

/// Records rendered for one stream by one ingest request, each followed by `\n`.
#[derive(Debug, Default)]
pub struct RecordChunk {
    pub body: Vec<u8>,
    pub records: usize,
}

impl RecordChunk {
    pub fn push_record(&mut self, render: impl FnOnce(&mut Vec<u8>)) {
        render(&mut self.body);
        self.body.push(b'\n');
        self.records += 1;
    }
}

/// Whose blocks a worker delivers, and where it records the outcome.
#[derive(Clone)]
pub(super) struct Target {
    pub db: app::backend::Db,
    pub account_id: i64,
    pub stream_id: i64,
}

pub(super) fn spawn(target: Target, sink: Arc<dyn Sink>, limits: BlockLimits) -> StreamWorker {
    let (sender, records) = mpsc::channel(RECORD_CHUNKS_PER_STREAM);
    let (sink_sender, sink_receiver) = watch::channel(sink);
    tokio::spawn(batch(target, records, sink_receiver, limits));
    StreamWorker {
        sender,
        sink: sink_sender,
    }
}

/// Runs until every sender is gone (the stream stopped), then seals and delivers the rest.
async fn batch(
    target: Target,
    mut records: mpsc::Receiver<RecordChunk>,
    sink: watch::Receiver<Arc<dyn Sink>>,
    limits: BlockLimits,
) {
    let (blocks, sealed) = mpsc::channel::<OutgoingBlock>(BLOCKS_PER_STREAM);
    let stream_id = target.stream_id;
    let delivery = tokio::spawn(deliver(target, sealed, sink));
    let mut builder = BlockBuilder::new(limits);
    loop {
        let deadline = builder.deadline().map(tokio::time::Instant::from_std);
        tokio::select! {
            chunk = records.recv() => {
                let Some(chunk) = chunk else { break };
                let now = std::time::Instant::now();
                for record in chunk.body.split(|b| *b == b'\n').filter(|r| !r.is_empty()) {
                    if let Some(block) = builder.push(record, now)
                        && blocks.send(block.into()).await.is_err()
                    {
                        return;
                    }
                }
            }
            () = sleep_until(deadline) => {
                if let Some(block) = builder.seal_if_due(std::time::Instant::now())
                    && blocks.send(block.into()).await.is_err()
                {
                    return;
                }
            }
        }
    }
    if let Some(block) = builder.flush() {
        let _ = blocks.send(block.into()).await;
    }
    drop(blocks);
    let _ = delivery.await;
    tracing::info!(stream_id, "stream worker stopped");
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn deliver(
    target: Target,
    mut sealed: mpsc::Receiver<OutgoingBlock>,
    sink: watch::Receiver<Arc<dyn Sink>>,
) {
    let Target {
        db,
        account_id,
        stream_id,
    } = target;
    let policy = RetryPolicy::default();
    while let Some(block) = sealed.recv().await {
        // The endpoint in force when the block is sent (a save may have changed it).
        let current = sink.borrow().clone();
        let mut failures = Vec::new();
        let outcome = deliver_with_retries(current.as_ref(), &block, &policy, |error, attempt| {
            tracing::warn!(stream_id, block_id = %block.id, attempt, %error, "delivery attempt failed");
            failures.push(error.to_string());
        })
        .await;
        // Status writes are best effort: a stream deleted meanwhile has no status row.
        if let Some(reason) = failures.last() {
            let gave_up = outcome.is_err();
            let _ = db
                .record_delivery_error(account_id, stream_id, reason, gave_up)
                .await;
        }
        match outcome {
            Ok(attempts) => {
                let _ = db
                    .record_delivery(
                        account_id,
                        stream_id,
                        block.records as i64,
                        block.body.len() as i64,
                    )
                    .await;
                tracing::debug!(stream_id, block_id = %block.id, records = block.records, attempts, "block delivered");
            }
            Err(error) => tracing::error!(
                stream_id,
                block_id = %block.id,
                records = block.records,
                %error,
                "block not delivered: the endpoint refused it"
            ),
        }
    }
}
