//! An `http://` or `https://` URL with a host and no credentials (HTTP endpoints, S3 hosts).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpUrl(::url::Url);

impl HttpUrl {
    /// The reason is worded to follow the field's label ("Endpoint URL is required").
    pub fn parse(text: &str) -> Result<HttpUrl, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        let url = ::url::Url::parse(text)
            .map_err(|e| format!("is not a URL ({e}): use scheme://domain/path"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "must start with http:// or https://, not {}://",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("has no host: use scheme://domain/path".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain a user name or password: use a custom header".into());
        }
        Ok(HttpUrl(url))
    }

    pub fn url(&self) -> &::url::Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `host[:port]`, without path, query or credentials.
    pub fn authority(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }
}

string_serde!(HttpUrl);
