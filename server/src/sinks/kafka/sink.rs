//! Produces each record of a block as one message and waits for every acknowledgement.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::config::KafkaSinkConfig;
use crate::sinks::{DeliveryError, DeliveryFuture, OutgoingBlock, Sink};

/// How long librdkafka keeps trying one message before it reports a failure (the block is
/// then retried whole by the retry policy: at-least-once).
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct KafkaSink {
    producer: FutureProducer,
    config: KafkaSinkConfig,
}

impl KafkaSink {
    pub fn new(config: KafkaSinkConfig) -> Result<KafkaSink, String> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &config.bootstrap_servers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set(
                "message.timeout.ms",
                MESSAGE_TIMEOUT.as_millis().to_string(),
            )
            .set("linger.ms", "5")
            .create()
            .map_err(|e| format!("Kafka producer: {e}"))?;
        Ok(KafkaSink { producer, config })
    }

    async fn produce(&self, block: &OutgoingBlock) -> Result<(), DeliveryError> {
        let block_id = block.id.to_string();
        let mut acknowledgements = Vec::with_capacity(block.records);
        for record in block.body.split(|b| *b == b'\n') {
            let mut message = FutureRecord::<(), [u8]>::to(&self.config.topic)
                .payload(record)
                .headers(OwnedHeaders::new().insert(Header {
                    key: "block-id",
                    value: Some(block_id.as_bytes()),
                }));
            // Queue every message first (acknowledgements come back in parallel); a full
            // local queue waits for room.
            loop {
                match self.producer.send_result(message) {
                    Ok(acknowledgement) => {
                        acknowledgements.push(acknowledgement);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        message = returned;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((error, _)) => return Err(classify(error)),
                }
            }
        }
        for acknowledgement in acknowledgements {
            match acknowledgement.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => return Err(classify(error)),
                Err(_) => {
                    return Err(DeliveryError::Retryable {
                        reason: "Kafka: the producer went away".into(),
                        retry_after: None,
                    });
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
