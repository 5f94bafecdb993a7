//! Apache Kafka: one message per record; a block counts as delivered when the cluster
//! acknowledged every one of its messages (acks from all in-sync replicas, idempotent
//! producer).

mod config;
mod sink;

pub use config::KafkaSinkConfig;
pub use sink::KafkaSink;
