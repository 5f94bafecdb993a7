//! Produces each record of a block as one message and waits for every acknowledgement.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::Producer as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, ClientContext};

use super::KafkaSettings;
use crate::endpoints::destination::DestinationError;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, OutgoingBlock, Sink,
};

/// How long librdkafka keeps trying one message before it reports a failure (the block is
/// then retried whole by the retry policy: at-least-once). Short enough that an unreachable
/// cluster shows on the stream within seconds; a block (≤ 2,000 small messages) needs far less.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The destination check for Kafka. The rdkafka crate offers no hook into librdkafka's
/// own connections, so before each block (and each endpoint test) the sink resolves and
/// checks the bootstrap servers, builds the producer only once they passed, then reads
/// the cluster's metadata and checks every broker address it advertises before producing;
/// a refused broker drops the producer and its connections.
pub struct KafkaSink {
    clients: Clients,
    /// Built once the bootstrap servers passed the check; replaced after a fatal error
    /// (e.g. fenced after a broker restart): an idempotent producer cannot recover by
    /// itself.
    producer: std::sync::Mutex<Option<KafkaProducer>>,
    config: KafkaSettings,
    /// Shared with the producer it builds.
    errors_seen: ErrorsSeen,
}

type KafkaProducer = FutureProducer<ErrorsSeen>;

/// Keeps librdkafka's last failed TLS handshake or SASL login: they show only as client-wide
/// errors (requests just time out), so a delivery error can name them. Cleared by a
/// delivery that succeeds and by a new producer.
#[derive(Clone, Default)]
pub struct ErrorsSeen {
    last: std::sync::Arc<std::sync::Mutex<Option<SeenError>>>,
}

/// A client error's code and librdkafka's words for it.
type SeenError = (Option<RDKafkaErrorCode>, String);

impl ClientContext for ErrorsSeen {
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, reason, "Kafka client error");
        let code = error.rdkafka_error_code();
        // Only the causes a timeout hides: transport and "all brokers down" errors follow
        // them and would overwrite them.
        if matches!(
            code,
            Some(
                RDKafkaErrorCode::SSL
                    | RDKafkaErrorCode::Authentication
                    | RDKafkaErrorCode::SaslAuthenticationFailed
            )
        ) {
            *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((code, reason.to_string()));
        }
    }
}

impl ErrorsSeen {
    fn last(&self) -> Option<SeenError> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn clear(&self) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl KafkaSink {
    pub fn new(clients: &Clients, config: KafkaSettings) -> KafkaSink {
        KafkaSink {
            clients: clients.clone(),
            producer: std::sync::Mutex::new(None),
            config,
            errors_seen: ErrorsSeen::default(),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<KafkaProducer>> {
        self.producer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The producer, built on first use (after the bootstrap servers passed the check).
    fn producer(&self) -> Result<KafkaProducer, DeliveryError> {
        let mut slot = self.slot();
        if let Some(producer) = slot.as_ref() {
            return Ok(producer.clone());
        }
        self.errors_seen.clear();
        let producer = build_producer(&self.config, self.errors_seen.clone())
            .map_err(|reason| DeliveryError::Terminal { reason })?;
        *slot = Some(producer.clone());
        Ok(producer)
    }

    /// After a fatal producer error, or a broker that no longer knows the producer (a
    /// restart): a new producer for the next attempt.
    fn replace_producer_if_fatal(&self, producer: &KafkaProducer, code: Option<RDKafkaErrorCode>) {
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
            *self.slot() = None;
        }
    }

    async fn check_addresses<'a>(
        &self,
        addresses: impl Iterator<Item = (&'a str, u16)>,
    ) -> Result<(), DeliveryError> {
        for (host, port) in addresses {
            // A name that does not resolve is librdkafka's to retry (other servers may
            // answer); a refused address is never connected to.
            if let Err(refused @ DestinationError::Refused(_)) =
                self.clients.destinations.resolve(host, port).await
            {
                return Err(DeliveryError::from(&refused));
            }
        }
        Ok(())
    }

    /// The brokers the cluster advertises, checked like the bootstrap servers.
    async fn check_advertised_brokers(
        &self,
        producer: &KafkaProducer,
    ) -> Result<(), DeliveryError> {
        let metadata = tokio::task::spawn_blocking({
            let producer = producer.clone();
            let topic = self.config.topic.as_str().to_string();
            move || {
                producer
                    .client()
                    .fetch_metadata(Some(&topic), MESSAGE_TIMEOUT)
                    .map(|m| {
                        m.brokers()
                            .iter()
                            .map(|b| (b.host().to_string(), b.port()))
                            .collect::<Vec<_>>()
                    })
            }
        })
        .await
        .map_err(|e| DeliveryError::Retryable {
            reason: format!("Kafka metadata: {e}"),
            retry_after: None,
        })?
        .map_err(|e| classify(e, &self.errors_seen))?;
        let brokers = metadata
            .iter()
            .map(|(host, port)| (host.as_str(), u16::try_from(*port).unwrap_or(0)));
        if let Err(refused) = self.check_addresses(brokers).await {
            // Its connections close with it.
            *self.slot() = None;
            return Err(DeliveryError::Terminal {
                reason: format!("a broker the cluster advertises: {refused}"),
            });
        }
        Ok(())
    }

    async fn produce(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.check_addresses(self.config.bootstrap_servers.host_ports())
            .await?;
        let producer = self.producer()?;
        self.check_advertised_brokers(&producer).await?;
        match self.produce_with(&producer, block).await {
            Ok(()) => {
                self.errors_seen.clear();
                Ok(Acknowledged {
                    answer: format!("Kafka acknowledged {} messages", block.records),
                })
            }
            Err(error) => {
                self.replace_producer_if_fatal(&producer, error.rdkafka_error_code());
                Err(classify(error, &self.errors_seen))
            }
        }
    }

    async fn produce_with(
        &self,
        producer: &KafkaProducer,
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

fn classify(error: KafkaError, seen: &ErrorsSeen) -> DeliveryError {
    let code = error.rdkafka_error_code();
    let unreachable = matches!(
        code,
        Some(
            RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
        )
    );
    // Timed out because the login or the TLS handshake failed: say which.
    if unreachable && let Some((seen_code, reason)) = seen.last() {
        match seen_code {
            Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed) => {
                return DeliveryError::Terminal {
                    reason: format!("Kafka: SASL authentication failed: {reason}"),
                };
            }
            Some(RDKafkaErrorCode::SSL) => {
                return DeliveryError::Retryable {
                    reason: format!("Kafka: TLS: {reason}"),
                    retry_after: None,
                };
            }
            _ => {}
        }
    }
    let reason = match code {
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            "Kafka: unknown topic".to_string()
        }
        Some(
            RDKafkaErrorCode::MessageTimedOut
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown,
        ) => "Kafka: cluster unreachable or not acknowledging (timed out)".to_string(),
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

fn build_producer(
    config: &KafkaSettings,
    errors_seen: ErrorsSeen,
) -> Result<KafkaProducer, String> {
    let mut client = ClientConfig::new();
    client.set("security.protocol", config.security_protocol.as_str());
    if config.security_protocol.uses_tls() {
        match &config.ssl_ca {
            Some(ca) => client.set("ssl.ca.pem", ca.as_str()),
            // OpenSSL's usual places for the system's trusted roots.
            None => client.set("ssl.ca.location", "probe"),
        };
    }
    if let Some(sasl) = &config.sasl {
        let password = sasl
            .password
            .value()
            .ok_or("SASL Password: its value is not available")?;
        client
            .set("sasl.mechanism", sasl.mechanism.as_str())
            .set("sasl.username", &sasl.username)
            .set("sasl.password", password);
    }
    client
        .set("bootstrap.servers", config.bootstrap_servers.to_string())
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set(
            "message.timeout.ms",
            MESSAGE_TIMEOUT.as_millis().to_string(),
        )
        .set("linger.ms", "5")
        .create_with_context(errors_seen)
        .map_err(|e| format!("Kafka producer: {e}"))
}
