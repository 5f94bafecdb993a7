//! The Kafka endpoint's settings, from a saved stream.

use app::model::EndpointInput;

#[derive(Clone, Debug)]
pub struct KafkaSinkConfig {
    /// `host1:port1,host2:port2`.
    pub bootstrap_servers: String,
    pub topic: String,
}

impl KafkaSinkConfig {
    pub fn from_stream(endpoint: &EndpointInput) -> KafkaSinkConfig {
        KafkaSinkConfig {
            bootstrap_servers: endpoint
                .bootstrap_servers
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(","),
            topic: endpoint.topic.trim().to_string(),
        }
    }
}
