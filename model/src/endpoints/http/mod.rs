//! Standard HTTP/HTTPS POST: each block is the body of one POST to the endpoint URL, with
//! the stream's custom headers (their values are secrets).

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::form::secret_value;
use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl, Pair,
};
use crate::field::FieldErrors;
use crate::secret::{Secret, SecretField};

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
    ],
    parse: |form| HttpSettings::parse(form).map(EndpointSettings::Http),
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpSettings {
    pub url: HttpUrl,
    #[serde(default)]
    pub headers: Vec<Header>,
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
        match url {
            Some(url) if errors.is_empty() => Ok(HttpSettings { url, headers }),
            _ => Err(errors.0),
        }
    }
}

impl Endpoint for HttpSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn host(&self) -> String {
        self.url.authority()
    }

    fn destination(&self) -> String {
        self.url.as_str().to_string()
    }

    fn addresses(&self) -> Vec<super::DestinationAddress> {
        vec![super::DestinationAddress::of_url(
            "endpoint.url",
            "Endpoint URL",
            &self.url,
        )]
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
        let mut form = EndpointForm::new(&TYPE);
        form.set("url", self.url.as_str());
        *form.rows_mut("headers") = self
            .headers
            .iter()
            .map(|h| Pair {
                name: h.name.as_str().to_string(),
                value: String::new(),
            })
            .collect();
        form
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
