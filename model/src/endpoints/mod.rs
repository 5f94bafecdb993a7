//! The endpoint types. Each folder owns everything about its type: settings (serde),
//! parsing with field-named errors, secret and destination fields, its form fields as
//! data, the list's label and host, and behind the `sink` feature its I/O.
//!
//! This file is the registry, the only place that lists the types: adding one is a folder,
//! its `pub mod`, and one line each in [`TYPES`], [`EndpointSettings`] (tagged with the
//! type's id), [`EndpointSettings::endpoint`] and `endpoint_mut`.

#[cfg(feature = "sink")]
mod aws;
pub mod azure_blob;
pub mod azure_monitor;
pub mod bigquery;
pub mod datadog;
#[cfg(feature = "sink")]
pub mod destination;
pub mod elasticsearch;
pub mod firehose;
pub mod form;
pub mod http;
pub mod kafka;
#[cfg(feature = "sink")]
pub mod oauth;
pub mod qradar;
pub mod s3;
#[cfg(feature = "sink")]
pub mod sink;
pub mod splunk;
mod url;

use serde::{Deserialize, Serialize};

pub use form::{EndpointForm, FieldKind, FieldSpec, Pair};
pub use url::HttpUrl;

use crate::field::FieldError;
use crate::secret::SecretField;

/// Every endpoint type, in the order the form offers them.
pub static TYPES: [&EndpointType; 11] = [
    &http::TYPE,
    &s3::TYPE,
    &kafka::TYPE,
    &splunk::TYPE,
    &elasticsearch::TYPE,
    &datadog::TYPE,
    &qradar::TYPE,
    &firehose::TYPE,
    &azure_blob::TYPE,
    &azure_monitor::TYPE,
    &bigquery::TYPE,
];

/// A stream's endpoint settings, one variant per type, tagged with its `TYPE.id` (the
/// registry test checks they agree).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EndpointSettings {
    #[serde(rename = "http")]
    Http(http::HttpSettings),
    #[serde(rename = "s3")]
    S3(s3::S3Settings),
    #[serde(rename = "kafka")]
    Kafka(kafka::KafkaSettings),
    #[serde(rename = "splunk")]
    Splunk(splunk::SplunkSettings),
    #[serde(rename = "elasticsearch")]
    Elasticsearch(elasticsearch::ElasticsearchSettings),
    #[serde(rename = "datadog")]
    Datadog(datadog::DatadogSettings),
    #[serde(rename = "qradar")]
    Qradar(qradar::QradarSettings),
    #[serde(rename = "firehose")]
    Firehose(firehose::FirehoseSettings),
    #[serde(rename = "azure_blob")]
    AzureBlob(azure_blob::AzureBlobSettings),
    #[serde(rename = "azure_monitor")]
    AzureMonitor(azure_monitor::AzureMonitorSettings),
    #[serde(rename = "bigquery")]
    Bigquery(bigquery::BigQuerySettings),
}

impl EndpointSettings {
    /// The settings behind the one trait every type answers.
    pub fn endpoint(&self) -> &dyn Endpoint {
        match self {
            EndpointSettings::Http(settings) => settings,
            EndpointSettings::S3(settings) => settings,
            EndpointSettings::Kafka(settings) => settings,
            EndpointSettings::Splunk(settings) => settings,
            EndpointSettings::Elasticsearch(settings) => settings,
            EndpointSettings::Datadog(settings) => settings,
            EndpointSettings::Qradar(settings) => settings,
            EndpointSettings::Firehose(settings) => settings,
            EndpointSettings::AzureBlob(settings) => settings,
            EndpointSettings::AzureMonitor(settings) => settings,
            EndpointSettings::Bigquery(settings) => settings,
        }
    }

    fn endpoint_mut(&mut self) -> &mut dyn Endpoint {
        match self {
            EndpointSettings::Http(settings) => settings,
            EndpointSettings::S3(settings) => settings,
            EndpointSettings::Kafka(settings) => settings,
            EndpointSettings::Splunk(settings) => settings,
            EndpointSettings::Elasticsearch(settings) => settings,
            EndpointSettings::Datadog(settings) => settings,
            EndpointSettings::Qradar(settings) => settings,
            EndpointSettings::Firehose(settings) => settings,
            EndpointSettings::AzureBlob(settings) => settings,
            EndpointSettings::AzureMonitor(settings) => settings,
            EndpointSettings::Bigquery(settings) => settings,
        }
    }

    /// Parses the endpoint part of the form with the chosen type's rules.
    pub fn parse(form: &EndpointForm) -> Result<EndpointSettings, Vec<FieldError>> {
        match EndpointType::find(&form.endpoint_type) {
            Some(kind) => (kind.parse)(form),
            None => Err(vec![FieldError::new(
                "endpoint.endpoint_type",
                "Choose an endpoint type",
            )]),
        }
    }

    pub fn endpoint_type(&self) -> &'static EndpointType {
        self.endpoint().endpoint_type()
    }

    /// The secret fields, to seal, fill in or check (see [`crate::secret`]).
    pub fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        self.endpoint_mut().secrets_mut()
    }

    /// The form for the browser: every secret field blank, `stored` naming those saved.
    pub fn form_for_browser(&self) -> EndpointForm {
        let mut form = self.endpoint().to_form();
        for spec in self.endpoint_type().fields {
            match spec.kind {
                FieldKind::Secret => {
                    form.values.insert(spec.key.to_string(), String::new());
                }
                FieldKind::SecretPairs { .. } => {
                    for pair in form.lists.entry(spec.key.to_string()).or_default() {
                        pair.value.clear();
                    }
                }
                FieldKind::Text | FieldKind::Multiline | FieldKind::Choice(_) => {}
            }
        }
        let mut settings = self.clone();
        form.stored = settings
            .secrets_mut()
            .into_iter()
            .filter(|field| field.secret.value().is_some())
            .map(|field| field.key)
            .collect();
        form
    }

    /// The settings as stored: JSON without the type (a column of its own) and without
    /// secrets (sealed apart).
    pub fn to_stored(&self) -> (&'static str, String) {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.remove("type");
        }
        (self.endpoint_type().id, value.to_string())
    }

    /// Settings read back from storage (secrets still [`crate::Secret::Stored`]).
    pub fn from_stored(type_id: &str, config: &str) -> Result<EndpointSettings, String> {
        let mut value: serde_json::Value =
            serde_json::from_str(config).map_err(|e| format!("endpoint settings: {e}"))?;
        value
            .as_object_mut()
            .ok_or("endpoint settings: not an object")?
            .insert("type".into(), type_id.into());
        serde_json::from_value(value).map_err(|e| format!("{type_id} endpoint settings: {e}"))
    }
}

/// What every endpoint type's settings answer.
pub trait Endpoint: Send + Sync {
    fn endpoint_type(&self) -> &'static EndpointType;
    /// The key of the one URL field it sends to, and its value. Most types have one; the
    /// defaults below are built on it, and a type without one (Kafka) answers them itself.
    fn url_field(&self) -> Option<(&'static str, &HttpUrl)>;
    /// Where the endpoint is (host and port, or the brokers), without path, query or
    /// credentials: for the list and the logs.
    fn host(&self) -> String {
        self.url_field()
            .map(|(_, url)| url.authority())
            .unwrap_or_default()
    }
    /// The fields that name where data goes. Stored secrets only go where they were
    /// saved for: when this changes, they must be entered again.
    fn destination(&self) -> String {
        self.url_field()
            .map(|(_, url)| url.as_str().to_string())
            .unwrap_or_default()
    }
    /// The hosts it connects to, each with the field that names it: the destination check
    /// runs on these when the stream is saved or tested (and on every connection).
    fn addresses(&self) -> Vec<DestinationAddress> {
        self.url_field()
            .map(|(key, url)| DestinationAddress::of_url(self.endpoint_type(), key, url))
            .into_iter()
            .collect()
    }
    /// Its secret fields.
    fn secrets_mut(&mut self) -> Vec<SecretField<'_>>;
    /// Its part of the form, secrets left out.
    fn to_form(&self) -> EndpointForm {
        self.form_with_url()
    }
    /// The form with only the URL field filled in: where a type's own `to_form` starts.
    fn form_with_url(&self) -> EndpointForm {
        let mut form = EndpointForm::new(self.endpoint_type());
        if let Some((key, url)) = self.url_field() {
            form.set(key, url.as_str());
        }
        form
    }
    /// Its own bound on a block's size, if it has one (the HTTP max payload size).
    fn block_budget(&self) -> Option<BlockBudget> {
        None
    }
    /// Its sink: the one place its I/O is built (with its outbound client).
    #[cfg(feature = "sink")]
    fn sink(&self, clients: &sink::Clients) -> Result<std::sync::Arc<dyn sink::Sink>, String>;
}

/// A destination's bound on a block: the spool seals a block before `bytes + records ×
/// extra_per_record` would pass `max_bytes`, `bytes` being its records with their newlines
/// (a record alone past it is a block of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockBudget {
    pub max_bytes: u64,
    pub extra_per_record: u64,
}

/// A host an endpoint connects to, and the form field that names it.
#[derive(Clone, Debug, PartialEq)]
pub struct DestinationAddress {
    /// The form field (`endpoint.url`), for a field error.
    pub field: String,
    /// Its label ("Endpoint URL"), to start the message with.
    pub label: &'static str,
    /// A name or an address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl DestinationAddress {
    /// The host and port of the `http(s)://` URL in field `key` of `kind`'s form.
    pub fn of_url(kind: &EndpointType, key: &'static str, url: &HttpUrl) -> DestinationAddress {
        let url = url.url();
        DestinationAddress {
            field: format!("endpoint.{key}"),
            label: kind.label_of(key),
            host: url
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: url.port_or_known_default().unwrap_or(0),
        }
    }
}

/// An endpoint type: what the form shows for it and how its fields are parsed.
pub struct EndpointType {
    /// Stable: in storage and in the form (`http`, `s3`, `kafka`).
    pub id: &'static str,
    /// The name the console shows.
    pub label: &'static str,
    pub fields: &'static [FieldSpec],
    pub parse: fn(&EndpointForm) -> Result<EndpointSettings, Vec<FieldError>>,
}

impl EndpointType {
    pub fn find(id: &str) -> Option<&'static EndpointType> {
        TYPES.iter().copied().find(|kind| kind.id == id)
    }

    /// Makes a reason (worded to follow the label: "is required") the error of field `key`.
    pub fn field_error(&'static self, key: &'static str) -> impl Fn(String) -> FieldError {
        let label = self.label_of(key);
        move |reason| FieldError::new(format!("endpoint.{key}"), format!("{label} {reason}"))
    }

    /// Its secret field `key`, held in `secret`: stored under the key, entered in
    /// `endpoint.<key>`, named by the field's label.
    pub fn secret_field<'a>(
        &'static self,
        key: &'static str,
        secret: &'a mut crate::secret::Secret,
    ) -> SecretField<'a> {
        SecretField {
            key: key.into(),
            field: format!("endpoint.{key}"),
            label: self.label_of(key).into(),
            secret,
        }
    }

    /// The label of its field `key` (the key itself if it has no such field).
    pub fn label_of(&self, key: &'static str) -> &'static str {
        self.fields
            .iter()
            .find(|spec| spec.key == key)
            .map_or(key, |spec| spec.label)
    }
}

impl std::fmt::Debug for EndpointType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl PartialEq for EndpointType {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    /// A valid form of every type: its text fields filled with a value its rules take, its
    /// secrets given, each choice its last option (the default is the first).
    fn filled(kind: &EndpointType) -> EndpointForm {
        let mut form = EndpointForm::new(kind);
        let sample = |key: &str| match key {
            "url" | "host_url" | "site_url" => "https://dest.example.com/in",
            "bucket" => "logs-bucket",
            "region" => "us-east-1",
            "bootstrap_servers" => "k1.example.com:9092",
            "payload_format" => "[$dataset]",
            "log_line_separator" => ",",
            "max_payload_size" => "1048576",
            "data_collection_endpoint" | "authority_url" | "api_url" | "service_url" => {
                "https://dest.example.com"
            }
            "account" => "edgelogs",
            "container" => "waf-logs",
            "sas_token" => "sv=2022-11-02&sp=cw&sig=abc",
            "dcr_immutable_id" => "dcr-0123456789abcdef0123456789abcdef",
            // Azure Monitor's rule stream; a valid Firehose stream name too.
            "stream_name" => "Custom-Edge_CL",
            "endpoint_url" => "https://dest.example.com",
            "tenant_id" | "client_id" => "00000000-1111-2222-3333-444444444444",
            "project_id" => "edge-logs",
            "dataset_id" | "table_id" => "edge",
            "service_account_key" => {
                r#"{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n"}"#
            }
            _ => "value",
        };
        for spec in kind.fields {
            match spec.kind {
                FieldKind::Text | FieldKind::Secret => form.set(spec.key, sample(spec.key)),
                // Blank: the system's roots.
                FieldKind::Multiline => {}
                FieldKind::SecretPairs { .. } => form.rows_mut(spec.key).push(Pair {
                    name: "X-Key".into(),
                    value: "secret".into(),
                }),
                FieldKind::Choice(options) => form.set(spec.key, options[options.len() - 1]),
            }
        }
        form
    }

    #[test]
    fn every_type_stores_under_its_id_and_reads_back_without_its_secrets() {
        for kind in TYPES {
            let settings = EndpointSettings::parse(&filled(kind))
                .unwrap_or_else(|e| panic!("{}: {e:?}", kind.id));
            assert_eq!(settings.endpoint_type(), kind);
            let (type_id, config) = settings.to_stored();
            assert_eq!(type_id, kind.id);
            assert!(!config.contains("secret"), "{}: {config}", kind.id);
            let mut read = EndpointSettings::from_stored(type_id, &config).unwrap();
            for field in read.secrets_mut() {
                assert_eq!(*field.secret, Secret::Stored, "{}", kind.id);
            }
            let endpoint = settings.endpoint();
            assert!(!endpoint.host().is_empty(), "{}", kind.id);
            assert!(!endpoint.destination().is_empty(), "{}", kind.id);
            let addresses = endpoint.addresses();
            assert!(!addresses.is_empty(), "{}", kind.id);
            for address in addresses {
                let key = address.field.strip_prefix("endpoint.").unwrap();
                let spec = kind.fields.iter().find(|f| f.key == key).unwrap();
                assert_eq!(address.label, spec.label, "{}", kind.id);
            }
            let browser = settings.form_for_browser();
            for spec in kind
                .fields
                .iter()
                .filter(|f| matches!(f.kind, FieldKind::Secret))
            {
                assert_eq!(browser.text(spec.key), "", "{}: {}", kind.id, spec.key);
                assert!(browser.is_stored(spec.key), "{}: {}", kind.id, spec.key);
            }
            for rows in browser.lists.values() {
                assert!(rows.iter().all(|r| r.value.is_empty()), "{}", kind.id);
            }
        }
    }
}
