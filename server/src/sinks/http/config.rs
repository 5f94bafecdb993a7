//! The HTTP endpoint's settings, from a saved stream.

use std::time::Duration;

use app::backend::streams::EndpointSecrets;
use app::model::EndpointInput;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

#[derive(Clone, Debug)]
pub struct HttpSinkConfig {
    pub url: reqwest::Url,
    /// Custom headers, values from the stream's (decrypted) secrets.
    pub headers: HeaderMap,
    pub timeout: Duration,
}

impl HttpSinkConfig {
    pub const TIMEOUT: Duration = Duration::from_secs(30);

    pub fn from_stream(
        endpoint: &EndpointInput,
        secrets: &EndpointSecrets,
    ) -> Result<Self, String> {
        let url =
            reqwest::Url::parse(endpoint.url.trim()).map_err(|e| format!("Endpoint URL: {e}"))?;
        let mut headers = HeaderMap::new();
        for header in &endpoint.headers {
            let name = HeaderName::from_bytes(header.name.trim().as_bytes())
                .map_err(|e| format!("header name {:?}: {e}", header.name))?;
            let value = secrets
                .header_values
                .get(&name.as_str().to_ascii_lowercase())
                .cloned()
                .unwrap_or_default();
            let mut value =
                HeaderValue::from_str(&value).map_err(|e| format!("header {name}: {e}"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(HttpSinkConfig {
            url,
            headers,
            timeout: Self::TIMEOUT,
        })
    }
}
