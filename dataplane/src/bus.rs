//! Cluster mode's bus: a Kafka topic between ingest and delivery, so that records accepted
//! by any instance survive the loss of that instance and are delivered by whichever
//! instance owns their partition.
//!
//! Ingest renders a request's records per stream and produces them (idempotent producer,
//! `acks=all`) before it answers. One message holds a run of one stream's records, at most
//! a block's worth, keyed `<account>/<stream>`. Each request's records for a stream go to
//! one of the stream's lanes, round-robin: lane `l` of stream `s` is partition
//! `(hash(s) + l) mod partitions`, so a busy stream spreads over `--bus-lanes` partitions
//! (and as many instances' cores) while its records keep their order within a lane.
//! Delivery is [`crate::pipeline`]'s consumer: every instance's consumer is a member of one
//! group; the partition's owner builds blocks and commits offsets after the endpoint's
//! acknowledgement.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord};

use model::endpoints::BlockBudget;

/// Largest message produced: runs of records are cut below it, with room for the key and
/// the batch's framing under a broker's default limit (1 MiB). In cluster mode a rendered
/// record is bounded by it too (`--max-record-bytes` above it is lowered to it).
pub const MAX_MESSAGE_BYTES: usize = 900 * 1024;
/// How long a produce may wait for the bus (a broker restarting) before ingest answers 503.
const PRODUCE_TIMEOUT: Duration = Duration::from_secs(30);

/// The bus's settings (`--bus` and the `--bus-*` flags).
#[derive(Clone, Debug)]
pub struct BusSettings {
    /// `host:port,…` of the Kafka cluster's bootstrap brokers.
    pub brokers: String,
    pub topic: String,
    /// The topic's partitions (when this instance creates it).
    pub partitions: i32,
    /// Replicas per partition when created (`-1`: the cluster's default).
    pub replication: i32,
    /// How long the topic keeps records (when created).
    pub retention: Duration,
    /// The consumer group every instance's delivery joins.
    pub group: String,
    /// A member silent this long leaves the group; its partitions go to the others.
    pub session_timeout: Duration,
    /// Partitions one stream's records spread over.
    pub lanes: u32,
    /// This instance's name: the dashboard's "delivered by".
    pub instance: String,
    pub memory: BusMemory,
}

/// What the delivery side holds in memory of the records it read.
#[derive(Clone, Copy, Debug)]
pub struct BusMemory {
    /// Per stream and partition; past it the stream's records wait in the partition.
    pub stream_memory: u64,
    /// Per partition; past it the partition's reading pauses.
    pub partition_memory: u64,
}

impl BusSettings {
    /// librdkafka's settings shared by the producer, the admin client and the consumer.
    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    /// The partition of lane `lane` of `stream_id`.
    pub fn partition(&self, stream_id: i64, lane: u32) -> i32 {
        let partitions = self.partitions.max(1) as u64;
        // Fibonacci hashing: consecutive stream ids land far apart.
        let start = (stream_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        ((start + u64::from(lane % self.lanes.max(1))) % partitions) as i32
    }
}

/// Why the bus could not be set up (at start-up).
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot create the Kafka client: {0}")]
    Client(rdkafka::error::KafkaError),
    #[error("cannot create the bus topic {topic}: {reason}")]
    Topic { topic: String, reason: String },
}

/// The producing side, shared by every ingest request.
pub struct Bus {
    pub settings: BusSettings,
    producer: FutureProducer,
    next_lane: AtomicU32,
}

impl Bus {
    /// Connects and creates the topic with the settings' partitions and retention (a topic
    /// that exists is kept as it is, and its partitions are the ones used).
    pub async fn connect(mut settings: BusSettings) -> Result<Bus, BusError> {
        let admin: AdminClient<DefaultClientContext> = settings
            .client_config()
            .create()
            .map_err(BusError::Client)?;
        let retention_ms = settings.retention.as_millis().to_string();
        // With 3 replicas, a 2xx needs 2 of them (acks=all counts the in-sync ones only).
        let min_in_sync = (settings.replication - 1).clamp(1, 2).to_string();
        let mut topic = NewTopic::new(
            &settings.topic,
            settings.partitions,
            TopicReplication::Fixed(settings.replication),
        )
        .set("retention.ms", &retention_ms);
        if settings.replication >= 2 {
            topic = topic.set("min.insync.replicas", &min_in_sync);
        }
        let created = admin
            .create_topics([&topic], &AdminOptions::new())
            .await
            .map_err(|e| BusError::Topic {
                topic: settings.topic.clone(),
                reason: e.to_string(),
            })?;
        for result in created {
            match result {
                Ok(_) => {
                    tracing::info!(topic = %settings.topic, partitions = settings.partitions, "bus topic created")
                }
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    return Err(BusError::Topic {
                        topic: settings.topic.clone(),
                        reason: code.to_string(),
                    });
                }
            }
        }
        let producer = settings
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set(
                "message.timeout.ms",
                PRODUCE_TIMEOUT.as_millis().to_string(),
            )
            .set(
                "message.max.bytes",
                (MAX_MESSAGE_BYTES + 64 * 1024).to_string(),
            )
            .create()
            .map_err(BusError::Client)?;
        let partitions = topic_partitions(&producer, &settings.topic)
            .await
            .map_err(|reason| BusError::Topic {
                topic: settings.topic.clone(),
                reason,
            })?;
        if partitions != settings.partitions {
            tracing::warn!(topic = %settings.topic, partitions, asked = settings.partitions, "the bus topic exists with other partitions: they are used");
            settings.partitions = partitions;
        }
        Ok(Bus {
            settings,
            producer,
            next_lane: AtomicU32::new(0),
        })
    }

    /// Readiness: the cluster answers a metadata request for the topic within 2 s.
    pub async fn check(&self) -> Result<(), String> {
        let (producer, topic) = (self.producer.clone(), self.settings.topic.clone());
        let metadata = tokio::task::spawn_blocking(move || {
            use rdkafka::producer::Producer as _;
            producer
                .client()
                .fetch_metadata(Some(&topic), Duration::from_secs(2))
                .map(|_| ())
        });
        match metadata.await {
            Ok(answer) => answer.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Puts one request's records for one stream on the bus, in one lane, and waits until
    /// every in-sync replica has them. `records`: each followed by `\n`.
    pub async fn produce(
        &self,
        account_id: i64,
        stream_id: i64,
        records: &[u8],
        limits: &engine::BlockLimits,
        budget: Option<BlockBudget>,
    ) -> Result<(), ProduceError> {
        let lane = self.next_lane.fetch_add(1, Ordering::Relaxed);
        let partition = self.settings.partition(stream_id, lane);
        let key = format!("{account_id}/{stream_id}");
        let mut max_bytes = limits.max_bytes.min(MAX_MESSAGE_BYTES as u64);
        if let Some(budget) = budget {
            max_bytes = max_bytes.min(budget.max_bytes);
        }
        let pieces = pieces(records, limits.max_records, max_bytes, budget);
        let sent = pieces.iter().map(|piece| {
            let record = FutureRecord::to(&self.settings.topic)
                .partition(partition)
                .key(&key)
                .payload(*piece);
            self.producer.send(record, PRODUCE_TIMEOUT)
        });
        let outcomes = futures_util::future::join_all(sent).await;
        let mut failed = None;
        let (mut on_bus_records, mut on_bus_bytes) = (0, 0);
        for (piece, outcome) in pieces.iter().zip(outcomes) {
            match outcome {
                Ok(_) => {
                    on_bus_records += memchr::memchr_iter(b'\n', piece).count();
                    on_bus_bytes += piece.len();
                }
                Err((error, _)) => failed = Some(error.to_string()),
            }
        }
        match failed {
            None => Ok(()),
            Some(reason) => Err(ProduceError {
                reason,
                on_bus_records,
                on_bus_bytes,
            }),
        }
    }
}

/// How many partitions the topic has, as the cluster says.
async fn topic_partitions(producer: &FutureProducer, topic: &str) -> Result<i32, String> {
    let (producer, topic) = (producer.clone(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        use rdkafka::producer::Producer as _;
        let metadata = producer
            .client()
            .fetch_metadata(Some(&topic), Duration::from_secs(10))
            .map_err(|e| e.to_string())?;
        let partitions = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map_or(0, |t| t.partitions().len());
        match partitions {
            0 => Err("the cluster lists no partitions for it".to_string()),
            n => Ok(n as i32),
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

/// A produce that failed, and what of it is on the bus nevertheless (other runs of the
/// same request): those records will be delivered, and count in the stream's lag.
#[derive(Debug)]
pub struct ProduceError {
    pub reason: String,
    pub on_bus_records: usize,
    pub on_bus_bytes: usize,
}

/// Cuts `records` (each followed by `\n`) into runs of at most `max_records` records and
/// `max_bytes` bytes (with the destination's per-record extra); a record larger than that
/// (only when a destination's budget is below [`MAX_MESSAGE_BYTES`]) is a run of its own. Each run is one message, and a block holds whole messages.
pub fn pieces(
    records: &[u8],
    max_records: usize,
    max_bytes: u64,
    budget: Option<BlockBudget>,
) -> Vec<&[u8]> {
    let extra = budget.map_or(0, |b| b.extra_per_record);
    let mut pieces = Vec::new();
    let (mut start, mut end, mut count) = (0, 0, 0u64);
    while end < records.len() {
        let next_end =
            memchr::memchr(b'\n', &records[end..]).map_or(records.len(), |i| end + i + 1);
        let too_big = (next_end - start) as u64 + (count + 1) * extra > max_bytes;
        if count > 0 && (count as usize >= max_records.max(1) || too_big) {
            pieces.push(&records[start..end]);
            (start, count) = (end, 0);
        }
        count += 1;
        end = next_end;
    }
    if end > start {
        pieces.push(&records[start..end]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_hold_whole_records_within_the_limits() {
        let records = b"a\nbb\nccc\ndddd\n";
        assert_eq!(
            pieces(records, 2, 100, None),
            vec![&b"a\nbb\n"[..], b"ccc\ndddd\n"]
        );
        // 5 bytes: "ccc\n" and "dddd\n" each alone, "a\nbb\n" together.
        assert_eq!(
            pieces(records, 10, 5, None),
            vec![&b"a\nbb\n"[..], b"ccc\n", b"dddd\n"]
        );
        // A record over the limit goes alone, whole.
        assert_eq!(
            pieces(b"xxxxxxxx\ny\n", 10, 3, None),
            vec![&b"xxxxxxxx\n"[..], b"y\n"]
        );
        // The destination's per-record extra counts: 2 records of 2 bytes + 2×2 > 7.
        let budget = BlockBudget {
            max_bytes: 7,
            extra_per_record: 2,
        };
        assert_eq!(
            pieces(b"a\nb\n", 10, 7, Some(budget)),
            vec![&b"a\n"[..], b"b\n"]
        );
    }

    #[test]
    fn a_streams_lanes_are_distinct_partitions() {
        let settings = BusSettings {
            brokers: String::new(),
            topic: "t".into(),
            partitions: 12,
            replication: 1,
            retention: Duration::from_secs(60),
            group: "g".into(),
            session_timeout: Duration::from_secs(6),
            lanes: 4,
            instance: "i".into(),
            memory: BusMemory {
                stream_memory: 1,
                partition_memory: 1,
            },
        };
        for stream in [1, 2, 77, 1_000_003] {
            let lanes: std::collections::HashSet<i32> =
                (0..8).map(|l| settings.partition(stream, l)).collect();
            assert_eq!(lanes.len(), 4, "stream {stream}: {lanes:?}");
            assert!(lanes.iter().all(|p| (0..12).contains(p)));
        }
    }
}
