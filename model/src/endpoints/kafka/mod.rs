//! Apache Kafka: one message per record, from an idempotent producer with `acks=all`;
//! TLS (the system's roots or a CA given) and SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512,
//! named as Kafka's client settings name them.

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

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
        FieldSpec {
            key: "security_protocol",
            label: "Security Protocol",
            id: "kafka-security-protocol",
            kind: FieldKind::Choice(SecurityProtocol::CHOICES),
            required: true,
            placeholder: "",
        },
        FieldSpec {
            key: "ssl_ca_pem",
            label: "CA Certificate (PEM)",
            id: "kafka-ssl-ca",
            kind: FieldKind::Multiline,
            required: false,
            placeholder: "-----BEGIN CERTIFICATE----- (blank: the system's trusted roots)",
        },
        FieldSpec {
            key: "sasl_mechanism",
            label: "SASL Mechanism",
            id: "kafka-sasl-mechanism",
            kind: FieldKind::Choice(SaslMechanism::CHOICES),
            required: true,
            placeholder: "",
        },
        FieldSpec::text(
            "sasl_username",
            "SASL Username",
            "kafka-sasl-username",
            false,
            "with SASL_PLAINTEXT or SASL_SSL",
        ),
        FieldSpec {
            key: "sasl_password",
            label: "SASL Password",
            id: "kafka-sasl-password",
            kind: FieldKind::Secret,
            required: false,
            placeholder: "",
        },
    ],
    parse: |form| KafkaSettings::parse(form).map(EndpointSettings::Kafka),
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KafkaSettings {
    pub bootstrap_servers: BootstrapServers,
    pub topic: KafkaTopic,
    #[serde(default)]
    pub security_protocol: SecurityProtocol,
    /// With TLS: the CA the brokers' certificates must chain to, instead of the system's.
    #[serde(default)]
    pub ssl_ca: Option<CaCertificate>,
    /// With SASL_PLAINTEXT and SASL_SSL.
    #[serde(default)]
    pub sasl: Option<SaslLogin>,
}

/// Kafka's `security.protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityProtocol {
    #[default]
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    /// The form's choices, the default first.
    pub const CHOICES: &'static [&'static str] =
        &["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
    const ALL: [SecurityProtocol; 4] = [
        SecurityProtocol::Plaintext,
        SecurityProtocol::Ssl,
        SecurityProtocol::SaslPlaintext,
        SecurityProtocol::SaslSsl,
    ];

    pub fn as_str(self) -> &'static str {
        Self::CHOICES[self as usize]
    }

    fn parse(text: &str) -> Option<SecurityProtocol> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

/// Kafka's `sasl.mechanism` (GSSAPI and OAUTHBEARER are not offered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaslMechanism {
    #[default]
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    pub const CHOICES: &'static [&'static str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
    const ALL: [SaslMechanism; 3] = [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ];

    pub fn as_str(self) -> &'static str {
        Self::CHOICES[self as usize]
    }

    fn parse(text: &str) -> Option<SaslMechanism> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// A SASL user; `Debug` hides the password (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SaslLogin {
    pub mechanism: SaslMechanism,
    pub username: String,
    #[serde(skip)]
    pub password: Secret,
}

/// A PEM bundle of one or more CA certificates (only certificates: a private key pasted by
/// mistake is refused, so it is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaCertificate(String);

/// A CA bundle at most, in bytes.
const MAX_CA_BYTES: usize = 64 * 1024;

impl CaCertificate {
    pub fn parse(text: &str) -> Result<CaCertificate, String> {
        let text = text.trim();
        if text.len() > MAX_CA_BYTES {
            return Err(format!("is longer than {} KiB", MAX_CA_BYTES / 1024));
        }
        if text.contains("PRIVATE KEY") {
            return Err("holds a private key: paste only the CA's certificate".into());
        }
        let begins = text.matches("-----BEGIN CERTIFICATE-----").count();
        let ends = text.matches("-----END CERTIFICATE-----").count();
        if begins == 0 || begins != ends {
            return Err(
                "must be PEM: -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----".into(),
            );
        }
        let body_ok = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----"))
            .all(|l| {
                l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            });
        if !body_ok {
            return Err("must be PEM: its lines between the markers are base64".into());
        }
        Ok(CaCertificate(format!("{text}\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaCertificate {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        CaCertificate::parse(&text)
    }
}

impl From<CaCertificate> for String {
    fn from(ca: CaCertificate) -> String {
        ca.0
    }
}

/// A SASL username at most, in characters.
const MAX_USERNAME_CHARS: usize = 256;

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
        let security_protocol = match form.text("security_protocol") {
            "" => Some(SecurityProtocol::Plaintext),
            text => SecurityProtocol::parse(text).or_else(|| {
                errors.add(
                    "endpoint.security_protocol",
                    "Security Protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
                );
                None
            }),
        };
        let uses = |check: fn(SecurityProtocol) -> bool| security_protocol.is_some_and(check);
        let ssl_ca = match form.text("ssl_ca_pem") {
            "" => None,
            _ if !uses(SecurityProtocol::uses_tls) => {
                errors.add(
                    "endpoint.ssl_ca_pem",
                    "CA Certificate is only used with SSL or SASL_SSL",
                );
                None
            }
            text => CaCertificate::parse(text)
                .map_err(|m| errors.add("endpoint.ssl_ca_pem", format!("CA Certificate {m}")))
                .ok(),
        };
        let sasl = if uses(SecurityProtocol::uses_sasl) {
            Self::parse_sasl(form, &mut errors)
        } else {
            None
        };
        match (bootstrap_servers, topic, security_protocol) {
            (Some(bootstrap_servers), Some(topic), Some(security_protocol))
                if errors.is_empty() =>
            {
                Ok(KafkaSettings {
                    bootstrap_servers,
                    topic,
                    security_protocol,
                    ssl_ca,
                    sasl,
                })
            }
            _ => Err(errors.0),
        }
    }

    fn parse_sasl(form: &EndpointForm, errors: &mut FieldErrors) -> Option<SaslLogin> {
        let mechanism = match form.text("sasl_mechanism") {
            "" => Some(SaslMechanism::Plain),
            text => SaslMechanism::parse(text).or_else(|| {
                errors.add(
                    "endpoint.sasl_mechanism",
                    "SASL Mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
                );
                None
            }),
        };
        let username = form.text("sasl_username");
        let username = if username.is_empty() {
            errors.add(
                "endpoint.sasl_username",
                "SASL Username is required with SASL_PLAINTEXT and SASL_SSL",
            );
            None
        } else if username.chars().count() > MAX_USERNAME_CHARS {
            errors.add(
                "endpoint.sasl_username",
                format!("SASL Username must be at most {MAX_USERNAME_CHARS} characters"),
            );
            None
        } else if username.chars().any(char::is_control) {
            errors.add(
                "endpoint.sasl_username",
                "SASL Username cannot contain control characters",
            );
            None
        } else {
            Some(username.to_string())
        };
        let password = errors.check(form.secret("sasl_password", "SASL Password"));
        Some(SaslLogin {
            mechanism: mechanism?,
            username: username?,
            password: password?,
        })
    }
}

impl Endpoint for KafkaSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &super::HttpUrl)> {
        None
    }

    fn host(&self) -> String {
        self.bootstrap_servers.to_string()
    }

    /// With the protocol: a stored password is not sent over a protocol it was not saved
    /// for (SASL_SSL to SASL_PLAINTEXT).
    fn destination(&self) -> String {
        format!(
            "{}://{}",
            self.security_protocol.as_str(),
            self.bootstrap_servers
        )
    }

    fn addresses(&self) -> Vec<super::DestinationAddress> {
        self.bootstrap_servers
            .host_ports()
            .map(|(host, port)| super::DestinationAddress {
                field: "endpoint.bootstrap_servers".into(),
                label: "Bootstrap Servers",
                host: host.to_string(),
                port,
            })
            .collect()
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        self.sasl
            .iter_mut()
            .map(|sasl| TYPE.secret_field("sasl_password", &mut sasl.password))
            .collect()
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("bootstrap_servers", self.bootstrap_servers.to_string());
        form.set("topic", self.topic.as_str());
        form.set("security_protocol", self.security_protocol.as_str());
        if let Some(ca) = &self.ssl_ca {
            form.set("ssl_ca_pem", ca.as_str());
        }
        if let Some(sasl) = &self.sasl {
            form.set("sasl_mechanism", sasl.mechanism.as_str());
            form.set("sasl_username", &sasl.username);
        }
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
