//! Splunk HTTP Event Collector (HEC): each record becomes one event envelope (`time`,
//! `host`, `source`, `sourcetype`, `index`, `event`) POSTed to
//! `/services/collector/event` with `Authorization: Splunk <HEC token>`.

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "splunk",
    label: "Splunk (HTTP Event Collector)",
    fields: &[
        FieldSpec::text(
            "url",
            "HEC URL",
            "splunk-url",
            true,
            "https://splunk.example.com:8088?index=web",
        ),
        FieldSpec {
            key: "hec_token",
            label: "HEC Token",
            id: "splunk-hec-token",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
    ],
    parse: |form| SplunkSettings::parse(form).map(EndpointSettings::Splunk),
};

/// The collector path HEC documents for JSON event envelopes.
pub const EVENT_PATH: &str = "/services/collector/event";

/// `Debug` hides the token (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplunkSettings {
    /// As given: the collector's address (or its full event path, or a proxy prefix) and an
    /// optional `?index=`.
    pub url: HttpUrl,
    #[serde(skip)]
    pub hec_token: Secret,
}

impl SplunkSettings {
    pub fn parse(form: &EndpointForm) -> Result<SplunkSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let url = errors.check(
            HttpUrl::parse(form.text("url"))
                .and_then(|url| {
                    let unknown = url.url().query_pairs().find(|(k, _)| k != "index");
                    if let Some((key, _)) = unknown {
                        return Err(format!("takes only ?index=, not ?{key}="));
                    }
                    Ok(url)
                })
                .map_err(|m| FieldError::new("endpoint.url", format!("HEC URL {m}"))),
        );
        let hec_token = errors.check(form.secret("hec_token", "HEC Token"));
        match (url, hec_token) {
            (Some(url), Some(hec_token)) if errors.is_empty() => {
                Ok(SplunkSettings { url, hec_token })
            }
            _ => Err(errors.0),
        }
    }

    /// The URL the events are POSTed to, without the query: the given URL when it ends in
    /// the event path, else the event path below it (the collector's address, or a proxy's
    /// prefix).
    pub fn event_url(&self) -> ::url::Url {
        let mut url = self.url.url().clone();
        let path = url.path().trim_end_matches('/').to_string();
        if !path.ends_with(EVENT_PATH) {
            url.set_path(&format!("{path}{EVENT_PATH}"));
        }
        url.set_query(None);
        url
    }

    /// The `?index=` given, if any.
    pub fn index(&self) -> Option<String> {
        self.url
            .url()
            .query_pairs()
            .find(|(key, _)| key == "index")
            .map(|(_, value)| value.into_owned())
            .filter(|index| !index.is_empty())
    }
}

impl Endpoint for SplunkSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("url", &self.url))
    }

    fn destination(&self) -> String {
        self.event_url().to_string()
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("hec_token", &mut self.hec_token)]
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::SplunkSink::new(clients, self)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(url: &str, token: &str) -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("url", url);
        form.set("hec_token", token);
        form
    }

    #[test]
    fn the_url_names_the_collector_and_at_most_an_index() {
        let settings =
            SplunkSettings::parse(&form("https://hec.example.com:8088?index=web", "t")).unwrap();
        assert_eq!(
            settings.event_url().as_str(),
            "https://hec.example.com:8088/services/collector/event"
        );
        assert_eq!(settings.index().as_deref(), Some("web"));
        let full = SplunkSettings::parse(&form(
            "https://hec.example.com/services/collector/event",
            "t",
        ))
        .unwrap();
        assert_eq!(full.index(), None);
        assert_eq!(
            full.event_url().as_str(),
            "https://hec.example.com/services/collector/event"
        );
        let proxied =
            SplunkSettings::parse(&form("https://proxy.example.com/splunk/", "t")).unwrap();
        assert_eq!(
            proxied.event_url().as_str(),
            "https://proxy.example.com/splunk/services/collector/event"
        );
        let errors =
            SplunkSettings::parse(&form("https://hec.example.com?channel=1", "")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["endpoint.url", "endpoint.hec_token"]);
        assert_eq!(
            errors[0].message,
            "HEC URL takes only ?index=, not ?channel="
        );
        assert_eq!(errors[1].message, "HEC Token is required");
    }
}
