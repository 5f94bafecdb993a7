//! Apache Kafka: one message per record, from an idempotent producer with `acks=all`.

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldSpec};
use crate::field::{FieldError, FieldErrors};
use crate::secret::SecretField;

pub static TYPE: EndpointType = EndpointType {
    id: "kafka",
    label: "Apache Kafka",
    fields: &[
        FieldSpec::text(
            "bootstrap_servers",
            "Bootstrap Servers",
            "kafka-servers",
            true,
            "host1:port1,host2:port2",
        ),
        FieldSpec::text("topic", "Kafka Topic", "kafka-topic", true, ""),
    ],
    parse: |form| KafkaSettings::parse(form).map(EndpointSettings::Kafka),
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KafkaSettings {
    pub bootstrap_servers: BootstrapServers,
    pub topic: KafkaTopic,
}

impl KafkaSettings {
    pub fn parse(form: &EndpointForm) -> Result<KafkaSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let bootstrap_servers = errors.check(
            BootstrapServers::parse(form.text("bootstrap_servers")).map_err(|m| {
                FieldError::new(
                    "endpoint.bootstrap_servers",
                    format!("Bootstrap Servers {m}"),
                )
            }),
        );
        let topic = errors.check(
            KafkaTopic::parse(form.text("topic"))
                .map_err(|m| FieldError::new("endpoint.topic", format!("Kafka Topic {m}"))),
        );
        match (bootstrap_servers, topic) {
            (Some(bootstrap_servers), Some(topic)) => Ok(KafkaSettings {
                bootstrap_servers,
                topic,
            }),
            _ => Err(errors.0),
        }
    }
}

impl Endpoint for KafkaSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn host(&self) -> String {
        self.bootstrap_servers.to_string()
    }

    fn destination(&self) -> String {
        self.bootstrap_servers.to_string()
    }

    fn addresses(&self) -> Vec<super::DestinationAddress> {
        self.bootstrap_servers
            .host_ports()
            .map(|(host, port)| super::DestinationAddress {
                field: "endpoint.bootstrap_servers",
                label: "Bootstrap Servers",
                host: host.to_string(),
                port,
            })
            .collect()
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        Vec::new()
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("bootstrap_servers", self.bootstrap_servers.to_string());
        form.set("topic", self.topic.as_str());
        form
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::KafkaSink::new(
            clients,
            self.clone(),
        )))
    }
}

/// `host1:port1,host2:port2`: hostnames, IPv4 or [IPv6] addresses, ports 1–65535.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BootstrapServers(Vec<String>);

impl BootstrapServers {
    pub fn parse(text: &str) -> Result<BootstrapServers, String> {
        let list: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if list.is_empty() {
            return Err("is required: host1:port1,host2:port2".into());
        }
        for server in &list {
            let Some((host, port)) = server.rsplit_once(':') else {
                return Err(format!("{server:?} has no port: use host:port"));
            };
            match port.parse::<u32>() {
                Ok(1..=65535) => {}
                _ => {
                    return Err(format!(
                        "{server:?}: the port must be a number from 1 to 65535"
                    ));
                }
            }
            let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
            {
                v6.parse::<std::net::Ipv6Addr>().is_ok()
            } else {
                !host.is_empty()
                    && host.len() <= 253
                    && host.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && !l.starts_with('-')
                            && !l.ends_with('-')
                            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
            };
            if !host_ok {
                return Err(format!("{server:?}: {host:?} is not a valid host"));
            }
        }
        Ok(BootstrapServers(
            list.into_iter().map(String::from).collect(),
        ))
    }

    pub fn servers(&self) -> &[String] {
        &self.0
    }

    /// Each server's host (IPv6 without brackets) and port, as parsing checked them.
    pub fn host_ports(&self) -> impl Iterator<Item = (&str, u16)> {
        self.0.iter().filter_map(|server| {
            let (host, port) = server.rsplit_once(':')?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            Some((host, port.parse().ok()?))
        })
    }
}

impl std::fmt::Display for BootstrapServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// Kafka topic names: 1–249 of `a-z A-Z 0-9 . _ -`, not `.` or `..`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KafkaTopic(String);

impl KafkaTopic {
    pub fn parse(text: &str) -> Result<KafkaTopic, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("is required".into());
        }
        if t.len() > 249 {
            return Err("must be at most 249 characters".into());
        }
        if t == "." || t == ".." {
            return Err("cannot be '.' or '..'".into());
        }
        if let Some(bad) = t
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "contains {bad:?}: use letters, digits, '.', '_' and '-'"
            ));
        }
        Ok(KafkaTopic(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BootstrapServers {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        BootstrapServers::parse(&text)
    }
}

impl From<BootstrapServers> for String {
    fn from(servers: BootstrapServers) -> String {
        servers.to_string()
    }
}

string_serde!(KafkaTopic);
