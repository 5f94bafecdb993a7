//! IBM QRadar through its HTTP Receiver protocol: each record is one event, the body of one
//! POST to the log source's listener URL.

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldSpec, HttpUrl};
use crate::field::{FieldError, FieldErrors};
use crate::secret::SecretField;

pub static TYPE: EndpointType = EndpointType {
    id: "qradar",
    label: "IBM QRadar",
    fields: &[FieldSpec::text(
        "url",
        "URL",
        "qradar-url",
        true,
        "https://qradar.example.com:12469",
    )],
    parse: |form| QradarSettings::parse(form).map(EndpointSettings::Qradar),
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QradarSettings {
    /// The HTTP Receiver log source's listener (its "Listen Port").
    pub url: HttpUrl,
}

impl QradarSettings {
    pub fn parse(form: &EndpointForm) -> Result<QradarSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let url = errors.check(
            HttpUrl::parse(form.text("url"))
                .map_err(|m| FieldError::new("endpoint.url", format!("URL {m}"))),
        );
        match url {
            Some(url) if errors.is_empty() => Ok(QradarSettings { url }),
            _ => Err(errors.0),
        }
    }
}

impl Endpoint for QradarSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("url", &self.url))
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        Vec::new()
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::QradarSink::new(clients, self)?))
    }
}
