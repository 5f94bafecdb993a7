//! Produces each record of a block as one message and waits for every acknowledgement.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::Producer;
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::KafkaSettings;
use crate::endpoints::sink::{Acknowledged, DeliveryError, DeliveryFuture, OutgoingBlock, Sink};

/// How long librdkafka keeps trying one message before it reports a failure (the block is
/// then retried whole by the retry policy: at-least-once). Short enough that an unreachable
/// cluster shows on the stream within seconds; a block (≤ 2,000 small messages) needs far less.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct KafkaSink {
    /// Replaced after a fatal error (e.g. fenced after a broker restart): an idempotent
    /// producer cannot recover by itself.
    producer: std::sync::Mutex<FutureProducer>,
    config: KafkaSettings,
}

impl KafkaSink {
    pub fn new(config: KafkaSettings) -> Result<KafkaSink, String> {
        let producer = build_producer(&config)?;
        Ok(KafkaSink {
            producer: std::sync::Mutex::new(producer),
            config,
        })
    }

    fn producer(&self) -> FutureProducer {
        self.producer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// After a fatal producer error, or a broker that no longer knows the producer (a
    /// restart): a new producer for the next attempt.
    fn replace_producer_if_fatal(&self, producer: &FutureProducer, code: Option<RDKafkaErrorCode>) {
        let stale = matches!(
            code,
            Some(
                RDKafkaErrorCode::ProducerFenced
                    | RDKafkaErrorCode::InvalidProducerEpoch
                    | RDKafkaErrorCode::UnknownProducerId
                    | RDKafkaErrorCode::OutOfOrderSequenceNumber
            )
        );
        if stale || producer.client().fatal_error().is_some() {
            tracing::warn!(?code, "Kafka producer unusable: starting a new one");
            match build_producer(&self.config) {
                Ok(fresh) => *self.producer.lock().unwrap_or_else(|p| p.into_inner()) = fresh,
                Err(e) => tracing::error!(error = %e, "Kafka producer could not be rebuilt"),
            }
        }
    }

    async fn produce(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        let producer = self.producer();
        match self.produce_with(&producer, block).await {
            Ok(()) => Ok(Acknowledged {
                answer: format!("Kafka acknowledged {} messages", block.records),
            }),
            Err(error) => {
                self.replace_producer_if_fatal(&producer, error.rdkafka_error_code());
                Err(classify(error))
            }
        }
    }

    async fn produce_with(
        &self,
        producer: &FutureProducer,
        block: &OutgoingBlock,
    ) -> Result<(), KafkaError> {
        let block_id = block.id.to_string();
        let mut acknowledgements = Vec::with_capacity(block.records);
        for record in block.body.split(|b| *b == b'\n') {
            let mut message = FutureRecord::<(), [u8]>::to(self.config.topic.as_str())
                .payload(record)
                .headers(OwnedHeaders::new().insert(Header {
                    key: "block-id",
                    value: Some(block_id.as_bytes()),
                }));
            // Queue every message first (acknowledgements come back in parallel); a full
            // local queue waits for room.
            loop {
                match producer.send_result(message) {
                    Ok(acknowledgement) => {
                        acknowledgements.push(acknowledgement);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        message = returned;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((error, _)) => return Err(error),
                }
            }
        }
        for acknowledgement in acknowledgements {
            match acknowledgement.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => return Err(error),
                // The producer was dropped mid-block: treat as a timeout (retried).
                Err(_) => {
                    return Err(KafkaError::MessageProduction(
                        RDKafkaErrorCode::MessageTimedOut,
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Sink for KafkaSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.produce(block))
    }
}

fn classify(error: KafkaError) -> DeliveryError {
    let code = error.rdkafka_error_code();
    let reason = match code {
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            "Kafka: unknown topic".to_string()
        }
        Some(RDKafkaErrorCode::MessageTimedOut) => {
            "Kafka: cluster unreachable or not acknowledging (timed out)".to_string()
        }
        _ => format!("Kafka: {error}"),
    };
    match code {
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
            | RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidTopic,
        ) => DeliveryError::Terminal { reason },
        // An unknown topic may be created later; an unreachable cluster may come back.
        _ => DeliveryError::Retryable {
            reason,
            retry_after: None,
        },
    }
}

fn build_producer(config: &KafkaSettings) -> Result<FutureProducer, String> {
    ClientConfig::new()
        .set("bootstrap.servers", config.bootstrap_servers.to_string())
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set(
            "message.timeout.ms",
            MESSAGE_TIMEOUT.as_millis().to_string(),
        )
        .set("linger.ms", "5")
        .create()
        .map_err(|e| format!("Kafka producer: {e}"))
}
