//! Cluster mode's delivery: this instance's member of the bus's consumer group.
//!
//! For each partition it owns, records are grouped per stream (a lane) into blocks of whole
//! messages, sealed at the block limits (and the destination's budget) or by age, and each
//! lane delivers one block at a time, oldest first. A partition's offset is committed up to
//! its oldest record not yet acknowledged; besides, each acknowledged block writes how far
//! its stream got in the partition (`bus_progress`), so the next owner after a failover
//! skips what was delivered and re-sends only blocks in flight at the loss. A block's id is
//! derived from its partition and offsets, and its time from its last record's: a re-sent
//! block sealed at the same records keeps its id (same `X-Block-Id`, same S3 key).
//!
//! Fairness: lanes do not wait for each other. A stream whose endpoint is slow or down
//! fills its lane up to `--bus-stream-memory` bytes; then the lane keeps only the block
//! being delivered and lets go of the rest, which stays in the partition with the stream's
//! next records (the commit stays below the first of them) while the partition's reading goes
//! on for the other streams; a catch-up reader of its own fetches them once that block was
//! taken. The partition's reading pauses only when its lanes together hold
//! `--bus-partition-memory` (many streams slow at once), and ingest refuses a stream whose
//! lag passed its limit.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use model::endpoints::BlockBudget;
use model::endpoints::sink::{DeliveryError, OutgoingBlock};
use storage::bus::{BusLane, StreamProgress};

use super::Pipeline;
use super::retry::RetryPolicy;
use super::stats::StreamLabels;
use super::worker::AttemptRecorder;
use crate::bus::BusSettings;

/// Catch-up records on their way to the member: a reader waits for room (its own bound).
const CATCH_UP_QUEUE: usize = 64;
/// How long a new owner waits for this instance's own deliveries from an earlier ownership
/// of the partition (no new attempt starts after the revocation; one under way finishes and
/// writes its progress) before it reads the partition's progress.
const EARLIER_DELIVERIES_WAIT: Duration = Duration::from_secs(10);

/// The group's changes to this member's partitions, heard in the rebalance callbacks.
enum Membership {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

struct GroupEvents(mpsc::UnboundedSender<Membership>);

impl ClientContext for GroupEvents {}

impl ConsumerContext for GroupEvents {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let _ = self.0.send(Membership::Revoked(partitions(list)));
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            let _ = self.0.send(Membership::Assigned(partitions(list)));
        }
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|e| e.partition()).collect()
}

/// Joins the group and starts delivering the partitions it is given.
pub(super) fn start(pipeline: Pipeline, bus: &BusSettings) -> Result<(), String> {
    let (events, membership) = mpsc::unbounded_channel();
    let consumer: StreamConsumer<GroupEvents> = bus
        .client_config()
        .set("group.id", &bus.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set(
            "session.timeout.ms",
            bus.session_timeout.as_millis().to_string(),
        )
        .set(
            "heartbeat.interval.ms",
            (bus.session_timeout.as_millis() / 3).max(100).to_string(),
        )
        .create_with_context(GroupEvents(events))
        .map_err(|e| format!("cannot create the bus consumer: {e}"))?;
    consumer
        .subscribe(&[&bus.topic])
        .map_err(|e| format!("cannot subscribe to the bus topic {}: {e}", bus.topic))?;
    let (acks_sender, acks) = mpsc::unbounded_channel();
    let (catch_up_sender, catch_ups) = mpsc::channel(CATCH_UP_QUEUE);
    let mut catch_up_config = bus.client_config();
    catch_up_config
        .set("group.id", format!("{}-catch-up", bus.group))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        // Records past the topic's retention are gone: read on from the oldest kept.
        .set("auto.offset.reset", "earliest");
    let member = Member {
        topic: bus.topic.clone(),
        pipeline,
        partitions: HashMap::new(),
        earlier_deliveries: HashMap::new(),
        deleted: HashSet::new(),
        next_generation: 0,
        acks_sender,
        catch_up_config,
        catch_up_sender,
        next_reader: 0,
        bounds: bus.memory,
    };
    tokio::spawn(member.run(consumer, membership, acks, catch_ups));
    Ok(())
}

/// One message's records, held until the block holding them is acknowledged.
struct Held {
    offset: i64,
    records: usize,
    body: Bytes,
    timestamp_ms: i64,
}

impl Held {
    fn of(message: &impl Message) -> Held {
        let body = Bytes::copy_from_slice(message.payload().unwrap_or_default());
        Held {
            offset: message.offset(),
            records: memchr::memchr_iter(b'\n', &body).count(),
            timestamp_ms: message.timestamp().to_millis().unwrap_or(0),
            body,
        }
    }
}

/// A lane that reached its memory bound: its records from `from` on were left in the
/// partition (the main reading passed them, up to `until`, exclusive).
struct Behind {
    from: i64,
    /// Shared with the catch-up reader, which reads on until it reaches it.
    until: Arc<AtomicI64>,
    /// The catch-up reader fetching them: its id and its stop flag.
    reader: Option<(u64, Arc<AtomicBool>)>,
}

impl Behind {
    fn stop_reader(&mut self) {
        if let Some((_, stop)) = self.reader.take() {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

/// What a catch-up reader sends its member.
enum CatchUp {
    Record {
        partition: i32,
        stream_id: i64,
        reader: u64,
        held: Held,
    },
    /// Every record of the stream below `stop_at` was sent (a reader that could not start
    /// sends its `from`).
    Done {
        partition: i32,
        stream_id: i64,
        reader: u64,
        stop_at: i64,
    },
}

/// One stream's records in one partition.
#[derive(Default)]
struct Lane {
    account_id: i64,
    open: Vec<Held>,
    open_records: usize,
    open_bytes: u64,
    opened_at: Option<Instant>,
    sealed: VecDeque<Vec<Held>>,
    delivering: bool,
    held_bytes: u64,
    behind: Option<Behind>,
}

impl Lane {
    /// Lets go of every block but the one being delivered; returns their messages, oldest
    /// first.
    fn shed(&mut self) -> Vec<Held> {
        let mut shed: Vec<Held> = self.sealed.drain(..).flatten().collect();
        shed.append(&mut self.open);
        self.open_records = 0;
        self.open_bytes = 0;
        self.opened_at = None;
        let bytes: u64 = shed.iter().map(|h| h.body.len() as u64).sum();
        self.held_bytes = self.held_bytes.saturating_sub(bytes);
        shed
    }

    fn seal(&mut self) {
        if !self.open.is_empty() {
            self.sealed.push_back(std::mem::take(&mut self.open));
        }
        self.open_records = 0;
        self.open_bytes = 0;
        self.opened_at = None;
    }

    /// Adds a message, sealing before it would take the open block past a limit (a
    /// message over them is a block of its own) and once the block is full.
    fn add(&mut self, held: Held, limits: &engine::BlockLimits, budget: Option<BlockBudget>) {
        let (records, bytes) = (held.records, held.body.len() as u64);
        let over_budget = budget.is_some_and(|b| {
            self.open_bytes + bytes + (self.open_records + records) as u64 * b.extra_per_record
                > b.max_bytes
        });
        if !self.open.is_empty()
            && (self.open_records + records > limits.max_records
                || self.open_bytes + bytes > limits.max_bytes
                || over_budget)
        {
            self.seal();
        }
        self.opened_at.get_or_insert_with(Instant::now);
        self.open.push(held);
        self.open_records += records;
        self.open_bytes += bytes;
        if self.open_records >= limits.max_records {
            self.seal();
        }
    }
}

/// What this member holds of one partition it owns.
struct Partition {
    /// Acks from an earlier ownership are not this one's.
    generation: u64,
    /// Set at the revocation: this ownership's deliveries stop (the next owner re-sends
    /// what they had not finished).
    revoked: tokio::sync::watch::Sender<bool>,
    /// Per stream, how far its delivery reached (from `bus_progress`).
    progress: HashMap<i64, StreamProgress>,
    lanes: HashMap<i64, Lane>,
    /// Offsets of messages held and not yet acknowledged: the commit stays below the first.
    unacked: BTreeSet<i64>,
    /// The offset after the last message read.
    position: Option<i64>,
    committed: i64,
    held_bytes: u64,
    paused: bool,
}

/// A block's acknowledgement (or, for a deleted stream, its end).
struct Acked {
    partition: i32,
    generation: u64,
    stream_id: i64,
    offsets: Vec<i64>,
    bytes: u64,
}

struct Member {
    topic: String,
    pipeline: Pipeline,
    partitions: HashMap<i32, Partition>,
    /// Deliveries still running for partitions this member lost, by partition.
    earlier_deliveries: HashMap<i32, Vec<JoinHandle<()>>>,
    /// Streams found deleted (ids are never reused).
    deleted: HashSet<i64>,
    next_generation: u64,
    acks_sender: mpsc::UnboundedSender<Acked>,
    /// Catch-up readers: not group members, they read one partition from an offset.
    catch_up_config: ClientConfig,
    catch_up_sender: mpsc::Sender<CatchUp>,
    next_reader: u64,
    bounds: crate::bus::BusMemory,
}

impl Member {
    async fn run(
        mut self,
        consumer: StreamConsumer<GroupEvents>,
        mut membership: mpsc::UnboundedReceiver<Membership>,
        mut acks: mpsc::UnboundedReceiver<Acked>,
        mut catch_ups: mpsc::Receiver<CatchUp>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                message = consumer.recv() => {
                    // Membership changes happened inside that poll, before its message.
                    while let Ok(change) = membership.try_recv() {
                        self.apply(&consumer, change).await;
                    }
                    match message {
                        Ok(message) => self.take(&consumer, &message).await,
                        Err(e) => tracing::warn!(error = %e, "bus: read failed"),
                    }
                }
                Some(change) = membership.recv() => self.apply(&consumer, change).await,
                Some(acked) = acks.recv() => self.acknowledged(&consumer, acked),
                Some(caught) = catch_ups.recv() => self.caught_up(&consumer, caught),
                _ = tick.tick() => self.seal_by_age(),
            }
        }
    }

    async fn apply(&mut self, consumer: &StreamConsumer<GroupEvents>, change: Membership) {
        match change {
            Membership::Revoked(partitions) => {
                for partition in partitions {
                    if let Some(mut owned) = self.partitions.remove(&partition) {
                        owned.revoked.send_replace(true);
                        for behind in owned.lanes.values_mut().filter_map(|l| l.behind.as_mut()) {
                            behind.stop_reader();
                        }
                        tracing::info!(partition, "bus: partition handed back");
                    }
                }
            }
            Membership::Assigned(partitions) => {
                // One deadline for all: this member's earlier deliveries were cancelled.
                let earlier: Vec<_> = partitions
                    .iter()
                    .filter_map(|p| self.earlier_deliveries.remove(p))
                    .flatten()
                    .collect();
                let all = futures_util::future::join_all(earlier);
                let _ = tokio::time::timeout(EARLIER_DELIVERIES_WAIT, all).await;
                for partition in partitions {
                    // A pause is kept across a rebalance: this ownership starts unpaused.
                    if let Err(e) = consumer.resume(&self.one(partition, Offset::Invalid)) {
                        tracing::warn!(partition, error = %e, "bus: cannot resume a partition");
                    }
                    self.assigned(partition).await;
                }
            }
        }
    }

    async fn assigned(&mut self, partition: i32) {
        let progress = loop {
            match self
                .pipeline
                .inner
                .db
                .bus_progress(&self.topic, partition)
                .await
            {
                Ok(progress) => break progress,
                Err(e) => {
                    tracing::warn!(partition, error = %e, "bus: progress unreadable, retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        self.next_generation += 1;
        tracing::info!(partition, "bus: partition taken");
        self.partitions.insert(
            partition,
            Partition {
                generation: self.next_generation,
                revoked: tokio::sync::watch::channel(false).0,
                progress,
                lanes: HashMap::new(),
                unacked: BTreeSet::new(),
                position: None,
                committed: -1,
                held_bytes: 0,
                paused: false,
            },
        );
    }

    async fn take(
        &mut self,
        consumer: &StreamConsumer<GroupEvents>,
        message: &BorrowedMessage<'_>,
    ) {
        let (partition, offset) = (message.partition(), message.offset());
        let Some(key) = message.key().and_then(parse_key) else {
            tracing::warn!(
                partition,
                offset,
                "bus: a message without a stream key, skipped"
            );
            return self.skipped(consumer, partition, offset);
        };
        let (account_id, stream_id) = key;
        let Some(owned) = self.partitions.get(&partition) else {
            return;
        };
        let delivered_below = owned.progress.get(&stream_id).map_or(0, |p| p.next_offset);
        if offset < delivered_below {
            return self.skipped(consumer, partition, offset);
        }
        let Some(budget) = self.stream_budget(account_id, stream_id).await else {
            return self.skipped(consumer, partition, offset);
        };
        let Some(owned) = self.partitions.get_mut(&partition) else {
            return;
        };
        owned.position = Some(offset + 1);
        let lane = owned.lanes.entry(stream_id).or_default();
        lane.account_id = account_id;
        if let Some(behind) = lane.behind.as_mut() {
            // Left for the catch-up reader.
            behind.until.store(offset + 1, Ordering::Relaxed);
            return;
        }
        if lane.held_bytes >= self.bounds.stream_memory {
            self.fall_behind(consumer, partition, stream_id, offset, offset + 1);
            return;
        }
        self.hold(consumer, partition, stream_id, Held::of(message), budget);
    }

    /// The lane is full: it keeps the block being delivered and lets go of the rest, which
    /// a catch-up reader fetches again from the partition, with the stream's records from
    /// `next` (exclusive of `until`) that the main reading passes meanwhile.
    fn fall_behind(
        &mut self,
        consumer: &StreamConsumer<GroupEvents>,
        partition: i32,
        stream_id: i64,
        next: i64,
        until: i64,
    ) {
        let Some(owned) = self.partitions.get_mut(&partition) else {
            return;
        };
        let Some(lane) = owned.lanes.get_mut(&stream_id) else {
            return;
        };
        let shed = lane.shed();
        let from = shed.first().map_or(next, |h| h.offset);
        for held in &shed {
            owned.unacked.remove(&held.offset);
            owned.held_bytes = owned.held_bytes.saturating_sub(held.body.len() as u64);
        }
        match lane.behind.as_mut() {
            Some(behind) => {
                behind.stop_reader();
                behind.from = from;
            }
            None => {
                tracing::info!(
                    partition,
                    stream_id,
                    from,
                    "bus: a stream's lane is full; its records wait in the partition"
                );
                lane.behind = Some(Behind {
                    from,
                    until: Arc::new(AtomicI64::new(until)),
                    reader: None,
                });
            }
        }
        self.resume_if_room(consumer, partition);
        self.commit(consumer, partition);
    }

    /// Resumes a paused partition once its lanes hold less than half their bound.
    fn resume_if_room(&mut self, consumer: &StreamConsumer<GroupEvents>, partition: i32) {
        let Some(owned) = self.partitions.get_mut(&partition) else {
            return;
        };
        if owned.paused && owned.held_bytes < self.bounds.partition_memory / 2 {
            owned.paused = false;
            if let Err(e) = consumer.resume(&self.one(partition, Offset::Invalid)) {
                tracing::warn!(partition, error = %e, "bus: cannot resume a partition");
            }
        }
    }

    /// Takes a message into its lane: held (the commit stays below it) until its block is
    /// acknowledged.
    fn hold(
        &mut self,
        consumer: &StreamConsumer<GroupEvents>,
        partition: i32,
        stream_id: i64,
        held: Held,
        budget: Option<BlockBudget>,
    ) {
        let limits = self.pipeline.inner.settings.limits;
        let Some(owned) = self.partitions.get_mut(&partition) else {
            return;
        };
        let (bytes, offset) = (held.body.len() as u64, held.offset);
        owned.unacked.insert(offset);
        owned.held_bytes += bytes;
        let lane = owned.lanes.entry(stream_id).or_default();
        lane.held_bytes += bytes;
        lane.add(held, &limits, budget);
        // The block an earlier owner was sending ends here: the same records, the same id.
        if let Some(progress) = owned.progress.get_mut(&stream_id)
            && progress
                .sending_until
                .is_some_and(|until| offset + 1 >= until)
        {
            progress.sending_until = None;
            lane.seal();
        }
        if owned.held_bytes >= self.bounds.partition_memory && !owned.paused {
            owned.paused = true;
            if let Err(e) = consumer.pause(&self.one(partition, Offset::Invalid)) {
                tracing::warn!(partition, error = %e, "bus: cannot pause a partition");
            }
        }
        self.deliver_next(partition, stream_id);
    }

    /// Starts a catch-up reader for a lane that is behind, once it has room again.
    fn catch_up_if_room(&mut self, partition: i32, stream_id: i64) {
        let Some(owned) = self.partitions.get_mut(&partition) else {
            return;
        };
        let Some(lane) = owned.lanes.get_mut(&stream_id) else {
            return;
        };
        let room = lane.held_bytes < self.bounds.stream_memory / 2;
        let Some(behind) = lane.behind.as_mut().filter(|b| b.reader.is_none() && room) else {
            return;
        };
        self.next_reader += 1;
        let stop = Arc::new(AtomicBool::new(false));
        behind.reader = Some((self.next_reader, stop.clone()));
        let reader = CatchUpReader {
            config: self.catch_up_config.clone(),
            topic: self.topic.clone(),
            partition,
            stream_id,
            account_id: lane.account_id,
            reader: self.next_reader,
            from: behind.from,
            until: behind.until.clone(),
            stop,
            sender: self.catch_up_sender.clone(),
        };
        tokio::task::spawn_blocking(move || reader.run());
    }

    fn caught_up(&mut self, consumer: &StreamConsumer<GroupEvents>, caught: CatchUp) {
        let (partition, stream_id, reader) = match &caught {
            CatchUp::Record {
                partition,
                stream_id,
                reader,
                ..
            }
            | CatchUp::Done {
                partition,
                stream_id,
                reader,
                ..
            } => (*partition, *stream_id, *reader),
        };
        let budget = self.pipeline.bus_stream(stream_id).map(|s| s.budget);
        let Some(lane) = self
            .partitions
            .get_mut(&partition)
            .and_then(|owned| owned.lanes.get_mut(&stream_id))
        else {
            return;
        };
        let full = lane.held_bytes >= self.bounds.stream_memory;
        let Some(behind) = lane
            .behind
            .as_mut()
            .filter(|b| b.reader.as_ref().is_some_and(|(id, _)| *id == reader))
        else {
            return;
        };
        match caught {
            CatchUp::Record { held, .. } => {
                let Some(budget) = budget else {
                    // Deleted meanwhile: nothing more to fetch.
                    behind.stop_reader();
                    lane.behind = None;
                    return;
                };
                if full {
                    // Full again: the reader stops; the next acknowledgement starts another.
                    let until = behind.until.load(Ordering::Relaxed);
                    self.fall_behind(consumer, partition, stream_id, held.offset, until);
                    return;
                }
                behind.from = held.offset + 1;
                self.hold(consumer, partition, stream_id, held, budget);
            }
            CatchUp::Done { stop_at, .. } => {
                behind.reader = None;
                behind.from = behind.from.max(stop_at);
                if behind.from >= behind.until.load(Ordering::Relaxed) {
                    tracing::info!(partition, stream_id, "bus: a stream's lane caught up");
                    lane.behind = None;
                    self.commit(consumer, partition);
                } else {
                    self.catch_up_if_room(partition, stream_id);
                }
            }
        }
    }

    /// The stream's destination budget; `None` when the stream was deleted. A stream this
    /// instance does not know yet (saved elsewhere a moment ago) is loaded first.
    async fn stream_budget(
        &mut self,
        account_id: i64,
        stream_id: i64,
    ) -> Option<Option<BlockBudget>> {
        if self.deleted.contains(&stream_id) {
            return None;
        }
        if let Some(known) = self.pipeline.bus_stream(stream_id) {
            return Some(known.budget);
        }
        // Only a stream absent from a configuration that loaded is deleted: until the
        // database answers, this partition waits.
        while let Err(e) = self.pipeline.reload(account_id).await {
            tracing::warn!(account_id, error = %e, "bus: cannot load a stream's account, retrying in 1 s");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        match self.pipeline.bus_stream(stream_id) {
            Some(known) => Some(known.budget),
            None => {
                self.deleted.insert(stream_id);
                None
            }
        }
    }

    /// A message not for delivery: the commit may pass it.
    fn skipped(&mut self, consumer: &StreamConsumer<GroupEvents>, partition: i32, offset: i64) {
        if let Some(owned) = self.partitions.get_mut(&partition) {
            owned.position = Some(offset + 1);
        }
        self.commit(consumer, partition);
    }

    fn one(&self, partition: i32, offset: Offset) -> TopicPartitionList {
        let mut list = TopicPartitionList::new();
        let _ = list.add_partition_offset(&self.topic, partition, offset);
        list
    }

    /// Commits the partition up to its oldest record not yet acknowledged.
    fn commit(&mut self, consumer: &StreamConsumer<GroupEvents>, partition: i32) {
        let Some(owned) = self.partitions.get_mut(&partition) else {
            return;
        };
        // Below the first record held, and below those a lane left for its catch-up.
        let behind = owned
            .lanes
            .values()
            .filter_map(|l| l.behind.as_ref().map(|b| b.from))
            .min();
        let held = owned.unacked.first().copied();
        let Some(upto) = [held, behind, owned.position].into_iter().flatten().min() else {
            return;
        };
        if upto <= owned.committed {
            return;
        }
        owned.committed = upto;
        let list = self.one(partition, Offset::Offset(upto));
        if let Err(e) = consumer.commit(&list, CommitMode::Async) {
            tracing::warn!(partition, error = %e, "bus: commit failed (the next commit covers it)");
        }
    }

    fn seal_by_age(&mut self) {
        let max_age = self.pipeline.inner.settings.limits.max_age;
        let mut due = Vec::new();
        for (partition, owned) in &mut self.partitions {
            for (stream_id, lane) in &mut owned.lanes {
                if lane.opened_at.is_some_and(|at| at.elapsed() >= max_age) {
                    lane.seal();
                    due.push((*partition, *stream_id));
                }
            }
        }
        for (partition, stream_id) in due {
            self.deliver_next(partition, stream_id);
        }
    }

    fn acknowledged(&mut self, consumer: &StreamConsumer<GroupEvents>, acked: Acked) {
        let Some(owned) = self
            .partitions
            .get_mut(&acked.partition)
            .filter(|p| p.generation == acked.generation)
        else {
            return;
        };
        for offset in &acked.offsets {
            owned.unacked.remove(offset);
        }
        owned.held_bytes = owned.held_bytes.saturating_sub(acked.bytes);
        if let Some(lane) = owned.lanes.get_mut(&acked.stream_id) {
            lane.delivering = false;
            lane.held_bytes = lane.held_bytes.saturating_sub(acked.bytes);
            if lane.open.is_empty() && lane.sealed.is_empty() && lane.behind.is_none() {
                owned.lanes.remove(&acked.stream_id);
            }
        }
        self.resume_if_room(consumer, acked.partition);
        self.commit(consumer, acked.partition);
        self.deliver_next(acked.partition, acked.stream_id);
        self.catch_up_if_room(acked.partition, acked.stream_id);
    }

    /// Starts the lane's oldest sealed block unless one is being delivered.
    fn deliver_next(&mut self, partition: i32, stream_id: i64) {
        let Some(owned) = self.partitions.get_mut(&partition) else {
            return;
        };
        let generation = owned.generation;
        let Some(lane) = owned.lanes.get_mut(&stream_id) else {
            return;
        };
        if lane.delivering {
            return;
        }
        let Some(held) = lane.sealed.pop_front() else {
            return;
        };
        lane.delivering = true;
        let block = block_of(&self.topic, partition, &held);
        let next_offset = held.last().map_or(0, |h| h.offset + 1);
        let acked = Acked {
            partition,
            generation,
            stream_id,
            offsets: held.iter().map(|h| h.offset).collect(),
            bytes: held.iter().map(|h| h.body.len() as u64).sum(),
        };
        let labels = StreamLabels {
            account_id: lane.account_id,
            stream_id,
        };
        let delivery = tokio::spawn(deliver(
            self.pipeline.clone(),
            labels,
            block,
            next_offset,
            acked,
            self.acks_sender.clone(),
            owned.revoked.subscribe(),
        ));
        let running = self.earlier_deliveries.entry(partition).or_default();
        running.retain(|d| !d.is_finished());
        running.push(delivery);
    }
}

/// A catch-up reader's client: reaching the partition's end is how it stops, not an error.
struct CatchUpContext;

impl ClientContext for CatchUpContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF) {
            tracing::warn!(%error, reason, "bus: catch-up reader's client error");
        }
    }
}

impl ConsumerContext for CatchUpContext {}

/// Reads one partition from `from` for one stream's records, until it reaches `until`
/// (which the member raises while the main reading passes the stream's records), handing
/// them to the member one at a time (blocking while its queue is full).
struct CatchUpReader {
    config: ClientConfig,
    topic: String,
    partition: i32,
    stream_id: i64,
    account_id: i64,
    reader: u64,
    from: i64,
    until: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
    sender: mpsc::Sender<CatchUp>,
}

impl CatchUpReader {
    fn run(self) {
        let stop_at = match self.read() {
            Ok(stop_at) => stop_at,
            Err(e) => {
                tracing::warn!(partition = self.partition, error = %e, "bus: catch-up reader failed, retrying");
                // Not at once: the member starts another on this answer.
                std::thread::sleep(Duration::from_secs(1));
                self.from
            }
        };
        if !self.stop.load(Ordering::Relaxed) {
            let _ = self.sender.blocking_send(CatchUp::Done {
                partition: self.partition,
                stream_id: self.stream_id,
                reader: self.reader,
                stop_at,
            });
        }
    }

    /// Reads until the first message at or past `until`; returns that offset (every record
    /// of the stream below it was sent).
    fn read(&self) -> Result<i64, KafkaError> {
        let consumer: BaseConsumer<CatchUpContext> =
            self.config.create_with_context(CatchUpContext)?;
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(&self.topic, self.partition, Offset::Offset(self.from))?;
        consumer.assign(&list)?;
        let key = format!("{}/{}", self.account_id, self.stream_id);
        while !self.stop.load(Ordering::Relaxed) {
            match consumer.poll(Duration::from_millis(200)) {
                None => continue,
                // The end of the log: everything below the reader's position was read.
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    let position = consumer.position()?;
                    let at = position
                        .find_partition(&self.topic, self.partition)
                        .and_then(|e| match e.offset() {
                            Offset::Offset(at) => Some(at),
                            _ => None,
                        });
                    if let Some(at) = at {
                        return Ok(at);
                    }
                }
                Some(Err(e)) => tracing::warn!(error = %e, "bus: catch-up read failed"),
                Some(Ok(message)) => {
                    let until = self.until.load(Ordering::Relaxed);
                    if message.offset() >= until {
                        return Ok(message.offset());
                    }
                    if message.key() != Some(key.as_bytes()) {
                        continue;
                    }
                    let record = CatchUp::Record {
                        partition: self.partition,
                        stream_id: self.stream_id,
                        reader: self.reader,
                        held: Held::of(&message),
                    };
                    if self.sender.blocking_send(record).is_err() {
                        break;
                    }
                }
            }
        }
        // Stopped: the member ignores what it would say.
        Ok(self.from)
    }
}

/// `<account>/<stream>`.
fn parse_key(key: &[u8]) -> Option<(i64, i64)> {
    let (account, stream) = std::str::from_utf8(key).ok()?.split_once('/')?;
    Some((account.parse().ok()?, stream.parse().ok()?))
}

/// The block of these messages: its id from the partition and offsets, its time from the
/// last record's, so that the same records make the same block on any instance.
fn block_of(topic: &str, partition: i32, held: &[Held]) -> OutgoingBlock {
    let (first, last) = (
        held.first().map_or(0, |h| h.offset),
        held.last().map_or(0, |h| h.offset),
    );
    let name = format!("data-streaming/bus/{topic}/{partition}/{first}-{last}");
    let mut body = BytesMut::with_capacity(held.iter().map(|h| h.body.len()).sum());
    for h in held {
        body.extend_from_slice(&h.body);
    }
    if body.last() == Some(&b'\n') {
        body.truncate(body.len() - 1);
    }
    let timestamp_ms = held.last().map_or(0, |h| h.timestamp_ms.max(0) as u64);
    OutgoingBlock {
        id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()),
        records: held.iter().map(|h| h.records).sum(),
        body: body.freeze(),
        sealed_at: UNIX_EPOCH + Duration::from_millis(timestamp_ms),
    }
}

/// Delivers one block through the stream's endpoint in force, retrying until it is taken
/// (a refusal for good too, every retry policy maximum: a partition cannot set a block
/// aside and move on without losing it); then writes the progress and tells the member.
/// Once the partition is revoked no new attempt starts (the next owner re-sends the block);
/// an attempt under way finishes and writes its progress, so it is not sent twice.
async fn deliver(
    pipeline: Pipeline,
    labels: StreamLabels,
    block: OutgoingBlock,
    next_offset: i64,
    acked: Acked,
    acks: mpsc::UnboundedSender<Acked>,
    revoked: tokio::sync::watch::Receiver<bool>,
) {
    if deliver_until_taken(&pipeline, labels, &block, next_offset, &acked, revoked).await {
        let _ = acks.send(acked);
    }
}

/// `false` when the partition was revoked first.
async fn deliver_until_taken(
    pipeline: &Pipeline,
    labels: StreamLabels,
    block: &OutgoingBlock,
    next_offset: i64,
    acked: &Acked,
    mut revoked: tokio::sync::watch::Receiver<bool>,
) -> bool {
    let policy = RetryPolicy::default();
    let inner = &pipeline.inner;
    let (topic, instance) = pipeline
        .bus_settings()
        .map_or(("", ""), |b| (b.topic.as_str(), b.instance.as_str()));
    let lane = BusLane {
        account_id: labels.account_id,
        stream_id: labels.stream_id,
        topic,
        partition: acked.partition,
        instance,
    };
    // Where this block ends, for a next owner to re-form it the same (best effort: without
    // it a re-sent block may be cut elsewhere and get another id).
    if let Err(e) = inner.db.record_bus_sending(&lane, next_offset).await {
        tracing::warn!(stream_id = labels.stream_id, error = %e, "bus: the block being sent not recorded");
    }
    let mut recorder = AttemptRecorder::new(inner.db.clone(), inner.stats.clone(), labels);
    let mut attempt = 0;
    // A stream deleted meanwhile has nothing more to deliver.
    while let Some(stream) = pipeline.bus_stream(labels.stream_id) {
        if *revoked.borrow() {
            return false;
        }
        let wait = match stream.sink {
            // Settings that cannot make an endpoint (shown on the stream): wait for a fix.
            None => Duration::from_secs(1),
            Some(sink) => {
                attempt += 1;
                let started = Instant::now();
                let outcome = sink.deliver(block).await;
                recorder.heard(block, attempt, &outcome, started.elapsed());
                match outcome {
                    Ok(_) => {
                        let (records, bytes) = (block.records as i64, acked.bytes as i64);
                        let progress = inner
                            .db
                            .record_bus_progress(&lane, next_offset, records, bytes)
                            .await;
                        if let Err(e) = progress {
                            tracing::warn!(stream_id = labels.stream_id, error = %e, "bus: progress not written (a failover re-sends this block)");
                        }
                        recorder.delivered(block);
                        return true;
                    }
                    Err(DeliveryError::Retryable { retry_after, .. }) => {
                        policy.delay(attempt, retry_after)
                    }
                    Err(DeliveryError::Terminal { .. }) => policy.max,
                }
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = revoked.wait_for(|revoked| *revoked) => return false,
        }
    }
    true
}
