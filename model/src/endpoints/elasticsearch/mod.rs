//! Elasticsearch: each block is one `_bulk` request to the index (or data stream) named in
//! the URL, every record a `create` with an id derived from the block, with
//! `Authorization: ApiKey <key>`.

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "elasticsearch",
    label: "Elasticsearch",
    fields: &[
        FieldSpec::text(
            "url",
            "Elasticsearch URL",
            "elasticsearch-url",
            true,
            "https://es.example.com:9200/logs-edge",
        ),
        FieldSpec {
            key: "api_key",
            label: "API Key",
            id: "elasticsearch-api-key",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
    ],
    parse: |form| ElasticsearchSettings::parse(form).map(EndpointSettings::Elasticsearch),
};

/// `Debug` hides the API key (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElasticsearchSettings {
    /// The cluster's address with the index as its last path segment.
    pub url: HttpUrl,
    #[serde(skip)]
    pub api_key: Secret,
}

impl ElasticsearchSettings {
    pub fn parse(form: &EndpointForm) -> Result<ElasticsearchSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let url = errors.check(
            HttpUrl::parse(form.text("url"))
                .and_then(|url| {
                    index_of(&url)?;
                    if url.url().query().is_some() {
                        return Err(
                            "must not have a query: the index is the URL's last part".into()
                        );
                    }
                    Ok(url)
                })
                .map_err(|m| FieldError::new("endpoint.url", format!("Elasticsearch URL {m}"))),
        );
        let api_key = errors.check(form.secret("api_key", "API Key"));
        match (url, api_key) {
            (Some(url), Some(api_key)) if errors.is_empty() => {
                Ok(ElasticsearchSettings { url, api_key })
            }
            _ => Err(errors.0),
        }
    }

    /// The index (or data stream) the records go to.
    pub fn index(&self) -> String {
        index_of(&self.url).unwrap_or_default()
    }

    /// `…/<index>/_bulk`.
    pub fn bulk_url(&self) -> ::url::Url {
        let mut url = self.url.url().clone();
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{path}/_bulk"));
        url
    }
}

/// The URL's last path segment, checked against Elasticsearch's index name rules
/// (lowercase, no `\ / * ? " < > | , #` or space, not starting with `-`, `_` or `+`).
fn index_of(url: &HttpUrl) -> Result<String, String> {
    let index = url
        .url()
        .path_segments()
        .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
        .unwrap_or_default();
    if index.is_empty() {
        return Err("must name the index: https://host:9200/<index>".into());
    }
    let index = percent_decode(index);
    let bad = |c: char| c.is_ascii_uppercase() || "\\/*?\"<>|,# :".contains(c);
    if index.chars().any(bad) || index.starts_with(['-', '_', '+']) || index.len() > 255 {
        return Err(format!(
            "names the index {index:?}, which Elasticsearch refuses: lowercase, no \\ / * ? \" < > | , # : or space, not starting with - _ +"
        ));
    }
    Ok(index)
}

fn percent_decode(text: &str) -> String {
    ::url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

impl Endpoint for ElasticsearchSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("url", &self.url))
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("api_key", &mut self.api_key)]
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::ElasticsearchSink::new(
            clients, self,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<ElasticsearchSettings, Vec<FieldError>> {
        let mut form = EndpointForm::new(&TYPE);
        form.set("url", url);
        form.set("api_key", "key");
        ElasticsearchSettings::parse(&form)
    }

    #[test]
    fn the_url_names_a_valid_index() {
        let settings = parse("https://es.example.com:9200/logs-edge/").unwrap();
        assert_eq!(settings.index(), "logs-edge");
        assert_eq!(
            settings.bulk_url().as_str(),
            "https://es.example.com:9200/logs-edge/_bulk"
        );
        for (url, problem) in [
            ("https://es.example.com:9200", "must name the index"),
            (
                "https://es.example.com:9200/Logs",
                "which Elasticsearch refuses",
            ),
            (
                "https://es.example.com:9200/_logs",
                "which Elasticsearch refuses",
            ),
            (
                "https://es.example.com:9200/logs?pipeline=x",
                "must not have a query",
            ),
        ] {
            let errors = parse(url).unwrap_err();
            assert_eq!(errors[0].field, "endpoint.url");
            assert!(
                errors[0].message.contains(problem),
                "{url}: {}",
                errors[0].message
            );
        }
    }
}
