//! Standard HTTP/HTTPS POST: each block is the body of one POST to the endpoint URL, with
//! the stream's custom headers (their values are secrets), in the payload format, separator
//! and compression chosen (`payload`).

pub mod payload;
#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::form::secret_value;
use super::{
    BlockBudget, Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec,
    HttpUrl, Pair,
};
use crate::field::FieldErrors;
use crate::secret::{Secret, SecretField};
use payload::{Compression, PayloadFormat, PayloadSize, Separator};

pub static TYPE: EndpointType = EndpointType {
    id: "http",
    label: "Standard HTTP/HTTPS POST",
    fields: &[
        FieldSpec::text(
            "url",
            "Endpoint URL",
            "endpoint-url",
            true,
            "https://siem.example.com/ingest",
        ),
        FieldSpec {
            key: "headers",
            label: "Custom Headers",
            id: "custom-headers",
            kind: FieldKind::SecretPairs { item: "Header" },
            required: false,
            placeholder: "",
        },
        FieldSpec::text(
            "payload_format",
            "Payload Format",
            "payload-format",
            false,
            "$dataset",
        ),
        FieldSpec::text(
            "log_line_separator",
            "Log Line Separator",
            "log-line-separator",
            false,
            "\\n",
        ),
        FieldSpec::text(
            "max_payload_size",
            "Max Payload Size (bytes)",
            "max-payload-size",
            false,
            "10485760",
        ),
        FieldSpec {
            key: "compression",
            label: "Compression",
            id: "compression",
            kind: FieldKind::Choice(Compression::CHOICES),
            required: true,
            placeholder: "",
        },
    ],
    parse: |form| HttpSettings::parse(form).map(EndpointSettings::Http),
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpSettings {
    pub url: HttpUrl,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub payload_format: PayloadFormat,
    #[serde(default)]
    pub log_line_separator: Separator,
    /// A block seals before its payload would pass this (also at `--block-max-bytes`).
    #[serde(default)]
    pub max_payload_size: Option<PayloadSize>,
    #[serde(default)]
    pub compression: Compression,
}

/// A custom header; its value is a secret (API keys travel in headers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub name: HeaderName,
    #[serde(skip)]
    pub value: Secret,
}

impl HttpSettings {
    pub fn parse(form: &EndpointForm) -> Result<HttpSettings, Vec<crate::FieldError>> {
        let mut errors = FieldErrors::default();
        let url = HttpUrl::parse(form.text("url"))
            .map_err(|m| errors.add("endpoint.url", format!("Endpoint URL {m}")))
            .ok();
        let mut headers: Vec<Header> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for (i, row) in form.rows("headers").iter().enumerate() {
            let name = row.name.trim();
            let secret_key = format!("headers.{}", name.to_ascii_lowercase());
            let stored = !name.is_empty() && form.is_stored(&secret_key);
            if name.is_empty() && row.value.is_empty() {
                continue; // an empty row is ignored
            }
            let parsed_name = match HeaderName::parse(name) {
                Err(m) => {
                    errors.add(
                        format!("endpoint.headers.{i}.name"),
                        format!("Header name {m}"),
                    );
                    None
                }
                Ok(_) if seen.contains(&name.to_ascii_lowercase()) => {
                    errors.add(
                        format!("endpoint.headers.{i}.name"),
                        format!("Header {name} is given twice"),
                    );
                    None
                }
                Ok(n) => {
                    seen.push(name.to_ascii_lowercase());
                    Some(n)
                }
            };
            let value = match secret_value(&row.value, stored) {
                None => {
                    errors.add(
                        format!("endpoint.headers.{i}.value"),
                        "Header value is required",
                    );
                    None
                }
                Some(_) if row.value.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) => {
                    errors.add(
                        format!("endpoint.headers.{i}.value"),
                        "Header value cannot contain line breaks",
                    );
                    None
                }
                value => value,
            };
            if let (Some(name), Some(value)) = (parsed_name, value) {
                headers.push(Header { name, value });
            }
        }
        let payload_format = PayloadFormat::parse(form.text("payload_format"))
            .map_err(|m| errors.add("endpoint.payload_format", format!("Payload Format {m}")))
            .ok();
        // Not trimmed: a space may be the separator.
        let typed_separator = form
            .values
            .get("log_line_separator")
            .map_or("", |v| v.as_str());
        let log_line_separator = Separator::parse(typed_separator)
            .map_err(|m| {
                errors.add(
                    "endpoint.log_line_separator",
                    format!("Log Line Separator {m}"),
                )
            })
            .ok();
        let size_text = form.text("max_payload_size");
        let max_payload_size = if size_text.is_empty() {
            None
        } else {
            PayloadSize::parse(size_text)
                .map_err(|m| {
                    errors.add("endpoint.max_payload_size", format!("Max Payload Size {m}"))
                })
                .ok()
        };
        let compression_text = match form.text("compression") {
            "" => Compression::None.as_str(),
            text => text,
        };
        let compression = Compression::parse(compression_text).or_else(|| {
            errors.add(
                "endpoint.compression",
                "Compression must be none, gzip or zstd",
            );
            None
        });
        match (url, payload_format, log_line_separator, compression) {
            (Some(url), Some(payload_format), Some(log_line_separator), Some(compression))
                if errors.is_empty() =>
            {
                Ok(HttpSettings {
                    url,
                    headers,
                    payload_format,
                    log_line_separator,
                    max_payload_size,
                    compression,
                })
            }
            _ => Err(errors.0),
        }
    }
}

impl Endpoint for HttpSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("url", &self.url))
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        self.headers
            .iter_mut()
            .enumerate()
            .map(|(i, header)| SecretField {
                key: format!("headers.{}", header.name.as_str().to_ascii_lowercase()),
                field: format!("endpoint.headers.{i}.value"),
                label: format!("Header {} value", header.name.as_str()),
                secret: &mut header.value,
            })
            .collect()
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = self.form_with_url();
        *form.rows_mut("headers") = self
            .headers
            .iter()
            .map(|h| Pair {
                name: h.name.as_str().to_string(),
                value: String::new(),
            })
            .collect();
        form.set("payload_format", String::from(self.payload_format.clone()));
        form.set("log_line_separator", self.log_line_separator.typed());
        if let Some(size) = self.max_payload_size {
            form.set("max_payload_size", size.get().to_string());
        }
        form.set("compression", self.compression.as_str());
        form
    }

    fn block_budget(&self) -> Option<BlockBudget> {
        self.max_payload_size
            .map(|size| payload::budget(size, &self.payload_format, &self.log_line_separator))
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::HttpSink::new(clients, self)?))
    }
}

/// An HTTP field name (RFC 9110 token) that is not hop-by-hop, Host or Content-Length.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HeaderName(String);

/// Headers the service sets itself or that only make sense hop by hop.
const RESERVED_HEADERS: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

impl HeaderName {
    pub fn parse(name: &str) -> Result<HeaderName, String> {
        if name.is_empty() {
            return Err("is required".into());
        }
        let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if let Some(bad) = name.chars().find(|c| !is_tchar(*c)) {
            return Err(format!(
                "{name:?} contains {bad:?}: use letters, digits and !#$%&'*+-.^_`|~"
            ));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "{name} is set by the service and cannot be a custom header"
            ));
        }
        Ok(HeaderName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_serde!(HeaderName);
