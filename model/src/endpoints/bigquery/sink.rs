//! Signs in as the service account (an RS256 JWT, RFC 7523, exchanged at the key's
//! `token_uri` for a token kept until shortly before it expires), then inserts the block's
//! records with `tabledata.insertAll`, at most [`MAX_ROWS`] rows and [`MAX_REQUEST_BYTES`]
//! per request. Each row's `insertId` is the block id and the record's place in it, so a
//! block sent again (after a lost answer, a retry, a redelivery) is de-duplicated by
//! BigQuery. Invalid rows are not skipped: the request fails whole and names its first
//! invalid row.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use super::{BigQuerySettings, ServiceAccountKey};
use crate::endpoints::oauth::TokenEndpoint;
use crate::endpoints::sink::{
    Acknowledged, BatchAnswer, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock,
    Sink, batches, read_answer, records, send_splitting,
};

/// Rows per request at most (the documented recommendation; the hard limit is 50,000).
pub const MAX_ROWS: usize = 500;
/// Bytes per request at most: the 10 MB request limit, with room for the envelope.
pub const MAX_REQUEST_BYTES: usize = 9_000_000;
/// What a row adds to its record: `{"insertId":"<36>-<index>","json":}` and a comma.
const ROW_OVERHEAD: usize = 64;
/// The scope of the token: inserting rows, nothing else.
const SCOPE: &str = "https://www.googleapis.com/auth/bigquery.insertdata";
/// How much of an answer is read (insertErrors for 500 rows fit).
const ANSWER_READ_BYTES: usize = 512 * 1024;
/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Row error reasons that a later attempt may not meet.
const TRANSIENT_REASONS: [&str; 4] = [
    "backendError",
    "internalError",
    "timeout",
    "rateLimitExceeded",
];

pub struct BigQuerySink {
    clients: Clients,
    client: reqwest::Client,
    url: reqwest::Url,
    token: TokenEndpoint,
    key: ServiceAccountKey,
    signing_key: jsonwebtoken::EncodingKey,
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl BigQuerySink {
    pub fn new(clients: &Clients, settings: &BigQuerySettings) -> Result<BigQuerySink, String> {
        let json = settings
            .service_account_key
            .value()
            .ok_or("Service Account Key: its value is not available")?;
        let key = ServiceAccountKey::parse(json).map_err(|m| format!("Service Account Key {m}"))?;
        let signing_key = jsonwebtoken::EncodingKey::from_rsa_pem(key.private_key.as_bytes())
            .map_err(|e| format!("Service Account Key: private_key is not an RSA key: {e}"))?;
        let token_uri = url::Url::parse(&key.token_uri).map_err(|e| format!("token_uri: {e}"))?;
        let url = settings.insert_all_url();
        Ok(BigQuerySink {
            clients: clients.clone(),
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
            token: TokenEndpoint::new(clients, token_uri, "Google sign-in")?,
            key,
            signing_key,
        })
    }

    /// The signed JWT that asks for a token (valid for the hour Google allows).
    fn assertion(&self) -> Result<String, DeliveryError> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        if !self.key.private_key_id.is_empty() {
            header.kid = Some(self.key.private_key_id.clone());
        }
        let claims = Claims {
            iss: &self.key.client_email,
            scope: SCOPE,
            aud: self.token.url().as_str(),
            iat,
            exp: iat + 3600,
        };
        jsonwebtoken::encode(&header, &claims, &self.signing_key).map_err(|e| {
            DeliveryError::Terminal {
                reason: format!("Google sign-in: cannot sign the JWT: {e}"),
            }
        })
    }

    /// The insertAll body: one row per record, the record as the row's `json`.
    fn body(block: &OutgoingBlock, first: usize, records: &[&[u8]]) -> Vec<u8> {
        let size: usize = records.iter().map(|r| r.len() + ROW_OVERHEAD).sum();
        let mut body = Vec::with_capacity(size + 128);
        body.extend_from_slice(
            br#"{"kind":"bigquery#tableDataInsertAllRequest","skipInvalidRows":false,"ignoreUnknownValues":false,"rows":["#,
        );
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(
                format!(r#"{{"insertId":"{}-{}","json":"#, block.id, first + i).as_bytes(),
            );
            body.extend_from_slice(record);
            body.push(b'}');
        }
        body.extend_from_slice(b"]}");
        body
    }

    async fn insert(
        &self,
        block: &OutgoingBlock,
        first: usize,
        records: &[&[u8]],
    ) -> Result<BatchAnswer, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let bearer = self
            .token
            .bearer(&self.clients, || {
                Ok(vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".to_string(),
                    ),
                    ("assertion", self.assertion()?),
                ])
            })
            .await?;
        let mut response = self
            .client
            .post(self.url.clone())
            .header(AUTHORIZATION, bearer)
            .header(CONTENT_TYPE, "application/json")
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(Self::body(block, first, records))
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Ok(BatchAnswer::TooLarge);
        }
        let answer: serde_json::Value =
            serde_json::from_slice(&read_answer(&mut response, ANSWER_READ_BYTES).await)
                .unwrap_or_default();
        if status.is_success() {
            return match row_error(&answer, first) {
                None => Ok(BatchAnswer::Accepted(status)),
                Some(error) => Err(error),
            };
        }
        let reason = reason(status, &answer);
        let error_reason = answer["error"]["errors"][0]["reason"].as_str();
        match status {
            StatusCode::UNAUTHORIZED => {
                self.token.forget().await;
                Err(DeliveryError::Retryable {
                    reason: format!("{reason} (the next attempt signs in again)"),
                    retry_after: None,
                })
            }
            StatusCode::FORBIDDEN
                if matches!(error_reason, Some("rateLimitExceeded" | "quotaExceeded")) =>
            {
                Err(DeliveryError::Retryable {
                    reason,
                    retry_after: None,
                })
            }
            _ => Err(DeliveryError::for_status(status, reason)),
        }
    }

    async fn deliver_block(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        let records: Vec<&[u8]> = records(block).collect();
        let sizes: Vec<usize> = records.iter().map(|r| r.len() + ROW_OVERHEAD).collect();
        let batches = batches(&sizes, MAX_ROWS, MAX_REQUEST_BYTES);
        let (status, requests) = send_splitting(batches, |range| {
            self.insert(block, range.start, &records[range])
        })
        .await?;
        Ok(Acknowledged::after_requests(
            status,
            requests,
            "insertAll request",
        ))
    }
}

impl Sink for BigQuerySink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_block(block))
    }
}

/// The first row error of an insertAll answer, if any: rows only `stopped` by another
/// row's error are not the cause. A transient reason is retried, any other refuses the
/// block (`first`: the block's index of the request's first row, to name the record).
fn row_error(answer: &serde_json::Value, first: usize) -> Option<DeliveryError> {
    let rows = answer["insertErrors"].as_array()?;
    let mut errors = rows.iter().flat_map(|row| {
        let index = row["index"].as_u64().unwrap_or(0) as usize;
        row["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(move |error| (index, error))
    });
    let (index, error) = errors
        .clone()
        .find(|(_, e)| e["reason"] != "stopped")
        .or_else(|| errors.next())?;
    let code = error["reason"].as_str().unwrap_or("unknown");
    let message: String = error["message"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let reason = format!(
        "BigQuery refused record {} of the block: {code}: {message}",
        first + index + 1
    );
    Some(if TRANSIENT_REASONS.contains(&code) {
        DeliveryError::Retryable {
            reason,
            retry_after: None,
        }
    } else {
        DeliveryError::Terminal { reason }
    })
}

/// `HTTP <status>: <message>` from Google's `{"error":{"code","message","errors"}}`.
fn reason(status: StatusCode, answer: &serde_json::Value) -> String {
    match answer["error"]["message"].as_str() {
        Some(message) if !message.is_empty() => format!(
            "HTTP {status}: {}",
            message.chars().take(200).collect::<String>()
        ),
        _ => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_invalid_row_is_named_not_the_stopped_ones() {
        let answer = json!({"insertErrors": [
            {"index": 0, "errors": [{"reason": "stopped", "message": ""}]},
            {"index": 1, "errors": [{"reason": "invalid", "location": "colour", "message": "no such field: colour."}]},
        ]});
        assert_eq!(
            row_error(&answer, 500),
            Some(DeliveryError::Terminal {
                reason: "BigQuery refused record 502 of the block: invalid: no such field: colour."
                    .into()
            })
        );
        let transient = json!({"insertErrors": [{"index": 3, "errors": [{"reason": "backendError", "message": "try again"}]}]});
        assert!(matches!(
            row_error(&transient, 0),
            Some(DeliveryError::Retryable { .. })
        ));
        assert_eq!(
            row_error(&json!({"kind": "bigquery#tableDataInsertAllResponse"}), 0),
            None
        );
    }

    #[test]
    fn each_row_carries_the_block_id_and_its_place() {
        let block = OutgoingBlock {
            id: uuid::Uuid::nil(),
            records: 2,
            body: "{\"a\":1}\n{\"a\":2}".into(),
            sealed_at: UNIX_EPOCH,
        };
        let records: Vec<&[u8]> = records(&block).collect();
        let body: serde_json::Value =
            serde_json::from_slice(&BigQuerySink::body(&block, 500, &records)).unwrap();
        let nil = uuid::Uuid::nil();
        assert_eq!(
            body["rows"][1],
            json!({"insertId": format!("{nil}-501"), "json": {"a": 2}})
        );
        assert_eq!(body["skipInvalidRows"], false);
    }
}
