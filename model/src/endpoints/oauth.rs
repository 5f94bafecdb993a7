//! Bearer tokens for the destinations that sign in before they send (Azure Monitor's
//! client credentials, BigQuery's service-account JWT): a form POSTed to a token endpoint
//! answers `{access_token, expires_in}` (RFC 6749 §5.1) or `{error, error_description}`
//! (§5.2); the token is kept until shortly before it expires.

use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use super::sink::{Clients, DeliveryError, HOP_HEADER, read_answer};

/// How much of a token endpoint's answer is read.
const ANSWER_READ_BYTES: usize = 16 * 1024;
/// How long one token request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A token is renewed this long before it expires (at most half its lifetime).
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// A token endpoint and the form that asks it for a token.
pub struct TokenEndpoint {
    client: reqwest::Client,
    url: url::Url,
    /// Whose sign-in failed, in errors ("Azure sign-in", "Google sign-in").
    what: &'static str,
    cached: tokio::sync::Mutex<Option<(HeaderValue, Instant)>>,
}

impl TokenEndpoint {
    pub fn new(clients: &Clients, url: url::Url, what: &'static str) -> Result<Self, String> {
        Ok(TokenEndpoint {
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
            what,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// `Bearer <token>`: the kept one while it is fresh, else a new one asked for with the
    /// form `make_form` returns (one request at a time: the lock is held while it runs).
    pub async fn bearer(
        &self,
        clients: &Clients,
        make_form: impl FnOnce() -> Result<Vec<(&'static str, String)>, DeliveryError>,
    ) -> Result<HeaderValue, DeliveryError> {
        let mut cached = self.cached.lock().await;
        if let Some((bearer, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(bearer.clone());
        }
        clients.check_literal(&self.url)?;
        let mut response = self
            .client
            .post(self.url.clone())
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .form(&make_form()?)
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        let answer: serde_json::Value =
            serde_json::from_slice(&read_answer(&mut response, ANSWER_READ_BYTES).await)
                .unwrap_or_default();
        let what = self.what;
        if !status.is_success() {
            let error = answer["error"].as_str().unwrap_or_default();
            let description = answer["error_description"].as_str().unwrap_or_default();
            let detail: String = match (error, description) {
                ("", "") => String::new(),
                (error, "") => format!(": {error}"),
                ("", description) => format!(": {description}"),
                (error, description) => format!(": {error}: {description}"),
            };
            let detail: String = detail.chars().take(300).collect();
            return Err(DeliveryError::for_status(
                status,
                format!("{what}: HTTP {status}{detail}"),
            ));
        }
        let token = answer["access_token"].as_str().unwrap_or_default();
        let mut bearer = HeaderValue::from_str(&format!("Bearer {token}"))
            .ok()
            .filter(|_| !token.is_empty())
            .ok_or_else(|| DeliveryError::Retryable {
                reason: format!("{what}: the token endpoint answered no access_token"),
                retry_after: None,
            })?;
        bearer.set_sensitive(true);
        let lifetime = Duration::from_secs(
            answer["expires_in"]
                .as_u64()
                .or_else(|| answer["expires_in"].as_str()?.parse().ok())
                .unwrap_or(3600),
        );
        let renew_at = Instant::now() + lifetime - RENEW_BEFORE.min(lifetime / 2);
        *cached = Some((bearer.clone(), renew_at));
        Ok(bearer)
    }

    /// Drops the kept token (the destination answered 401: it expired or was revoked).
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}
