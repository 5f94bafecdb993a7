//! Datadog Logs through the HTTP intake, API v2: each record becomes one log object in a
//! JSON array POSTed to `/api/v2/logs` with `DD-API-KEY`, gzip-compressed.

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "datadog",
    label: "Datadog",
    fields: &[
        FieldSpec::text(
            "site_url",
            "Site URL",
            "datadog-site-url",
            true,
            "https://datadoghq.eu?service=edge&ddtags=env:prod",
        ),
        FieldSpec {
            key: "api_key",
            label: "API Key",
            id: "datadog-api-key",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
    ],
    parse: |form| DatadogSettings::parse(form).map(EndpointSettings::Datadog),
};

/// The intake path for log arrays.
pub const LOGS_PATH: &str = "/api/v2/logs";
/// Datadog's sites, by the name in their app URL (`app.datadoghq.com`, `us3.datadoghq.com`).
const SITES: [&str; 7] = [
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
];
/// What the site URL's query may set on every log.
const ATTRIBUTES: [&str; 3] = ["service", "ddsource", "ddtags"];

/// `Debug` hides the key (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatadogSettings {
    /// As given, made a URL: a site (`https://datadoghq.eu`), its app or intake address, or
    /// a proxy's; an optional `?service=&ddsource=&ddtags=`.
    pub site_url: HttpUrl,
    #[serde(skip)]
    pub api_key: Secret,
}

impl DatadogSettings {
    pub fn parse(form: &EndpointForm) -> Result<DatadogSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let text = form.text("site_url");
        // A bare site name (`datadoghq.eu`), as Datadog's docs write it, is its https URL.
        let text = if !text.is_empty() && !text.contains("://") {
            format!("https://{text}")
        } else {
            text.to_string()
        };
        let site_url = errors.check(
            HttpUrl::parse(&text)
                .and_then(|url| {
                    let unknown = url
                        .url()
                        .query_pairs()
                        .find(|(k, _)| !ATTRIBUTES.contains(&k.as_ref()));
                    if let Some((key, _)) = unknown {
                        return Err(format!(
                            "takes only ?service=, ?ddsource= and ?ddtags=, not ?{key}="
                        ));
                    }
                    Ok(url)
                })
                .map_err(|m| FieldError::new("endpoint.site_url", format!("Site URL {m}"))),
        );
        let api_key = errors.check(form.secret("api_key", "API Key"));
        match (site_url, api_key) {
            (Some(site_url), Some(api_key)) if errors.is_empty() => {
                Ok(DatadogSettings { site_url, api_key })
            }
            _ => Err(errors.0),
        }
    }

    /// Where logs are POSTed, without the query: a Datadog site (or its app address) becomes
    /// its intake `https://http-intake.logs.<site>/api/v2/logs`; any other address gets the
    /// logs path below it unless it ends in it.
    pub fn intake_url(&self) -> ::url::Url {
        let mut url = self.site_url.url().clone();
        url.set_query(None);
        let host = url.host_str().unwrap_or_default();
        let site = host.strip_prefix("app.").unwrap_or(host);
        if SITES.contains(&site) {
            let intake = format!("https://http-intake.logs.{site}{LOGS_PATH}");
            return ::url::Url::parse(&intake).unwrap_or(url);
        }
        let path = url.path().trim_end_matches('/').to_string();
        if !path.ends_with(LOGS_PATH) {
            url.set_path(&format!("{path}{LOGS_PATH}"));
        }
        url
    }

    /// The `service`, `ddsource` and `ddtags` given in the query, in that order.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        ATTRIBUTES
            .iter()
            .filter_map(|name| {
                self.site_url
                    .url()
                    .query_pairs()
                    .find(|(key, value)| key == name && !value.is_empty())
                    .map(|(_, value)| (*name, value.into_owned()))
            })
            .collect()
    }
}

impl Endpoint for DatadogSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("site_url", &self.site_url))
    }

    fn host(&self) -> String {
        self.intake_url().host_str().unwrap_or_default().to_string()
    }

    fn destination(&self) -> String {
        self.intake_url().to_string()
    }

    fn addresses(&self) -> Vec<super::DestinationAddress> {
        let intake = self.intake_url();
        vec![super::DestinationAddress {
            field: "endpoint.site_url".into(),
            label: TYPE.label_of("site_url"),
            host: intake.host_str().unwrap_or_default().to_string(),
            port: intake.port_or_known_default().unwrap_or(0),
        }]
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("api_key", &mut self.api_key)]
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::DatadogSink::new(clients, self)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(site_url: &str) -> Result<DatadogSettings, Vec<FieldError>> {
        let mut form = EndpointForm::new(&TYPE);
        form.set("site_url", site_url);
        form.set("api_key", "k");
        DatadogSettings::parse(&form)
    }

    #[test]
    fn a_site_or_its_app_address_is_its_logs_intake() {
        for given in [
            "datadoghq.eu",
            "https://datadoghq.eu",
            "https://app.datadoghq.eu/",
        ] {
            assert_eq!(
                settings(given).unwrap().intake_url().as_str(),
                "https://http-intake.logs.datadoghq.eu/api/v2/logs",
                "{given}"
            );
        }
        let us3 = settings("https://us3.datadoghq.com?service=edge&ddtags=env:prod").unwrap();
        assert_eq!(
            us3.intake_url().as_str(),
            "https://http-intake.logs.us3.datadoghq.com/api/v2/logs"
        );
        assert_eq!(
            us3.attributes(),
            [
                ("service", "edge".to_string()),
                ("ddtags", "env:prod".into())
            ]
        );
        assert_eq!(
            settings("http://127.0.0.1:8080/dd")
                .unwrap()
                .intake_url()
                .as_str(),
            "http://127.0.0.1:8080/dd/api/v2/logs",
            "a proxy keeps its address"
        );
        let errors = settings("https://datadoghq.com?env=prod").unwrap_err();
        assert_eq!(errors[0].field, "endpoint.site_url");
        assert_eq!(
            errors[0].message,
            "Site URL takes only ?service=, ?ddsource= and ?ddtags=, not ?env="
        );
    }
}
