//! One `_bulk` request per block: `{"create":{"_id":"<block id>-<n>"}}` then the record, for
//! every record. The ids make a resent block idempotent: a record already indexed answers
//! 409 (`version_conflict_engine_exception`), which counts as delivered.
//!
//! A 200 answer with `"errors": true` lists per-item failures: items rejected for load
//! (429) make the block retried; items refused for their content (e.g. 400
//! `mapper_parsing_exception`) are failures of those records, and the block is set aside
//! naming them (a redelivery resends it; the records already indexed answer 409).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

use super::ElasticsearchSettings;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock, Sink,
    read_answer, records,
};

/// How long one `_bulk` may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How much of an answer is read: a `_bulk` answer has an item per record.
const ANSWER_READ_BYTES: usize = 16 * 1024 * 1024;

pub struct ElasticsearchSink {
    clients: Clients,
    client: reqwest::Client,
    url: reqwest::Url,
    authorization: HeaderValue,
}

#[derive(Deserialize)]
struct BulkAnswer {
    #[serde(default)]
    errors: bool,
    #[serde(default)]
    items: Vec<std::collections::HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    status: u16,
    #[serde(default)]
    error: Option<BulkError>,
}

#[derive(Deserialize)]
struct BulkError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    reason: String,
}

impl ElasticsearchSink {
    pub fn new(
        clients: &Clients,
        settings: &ElasticsearchSettings,
    ) -> Result<ElasticsearchSink, String> {
        let key = settings
            .api_key
            .value()
            .ok_or("API Key: its value is not available")?;
        let mut authorization =
            HeaderValue::from_str(&format!("ApiKey {key}")).map_err(|e| format!("API Key: {e}"))?;
        authorization.set_sensitive(true);
        let url = settings.bulk_url();
        Ok(ElasticsearchSink {
            clients: clients.clone(),
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
            authorization,
        })
    }

    /// The `_bulk` NDJSON body: an action line and a document line per record.
    fn body(block: &OutgoingBlock) -> Bytes {
        let mut body = Vec::with_capacity(block.body.len() + block.records * 64);
        for (n, record) in records(block).enumerate() {
            body.extend_from_slice(
                format!("{{\"create\":{{\"_id\":\"{}-{n}\"}}}}\n", block.id).as_bytes(),
            );
            body.extend_from_slice(record);
            body.push(b'\n');
        }
        Bytes::from(body)
    }

    async fn bulk(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let mut response = self
            .client
            .post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/x-ndjson")
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(Self::body(block))
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        let bytes = read_answer(&mut response, ANSWER_READ_BYTES).await;
        if !status.is_success() {
            // {"error":{"type":…,"reason":…},"status":N}
            let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let kind = answer["error"]["type"].as_str().unwrap_or_default();
            let reason = answer["error"]["reason"].as_str().unwrap_or_default();
            let reason: String = if kind.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {kind}: {reason}")
            }
            .chars()
            .take(300)
            .collect();
            return Err(DeliveryError::for_status(status, reason));
        }
        let answer: BulkAnswer =
            serde_json::from_slice(&bytes).map_err(|e| DeliveryError::Retryable {
                reason: format!("HTTP {status}, but not a _bulk answer: {e}"),
                retry_after: None,
            })?;
        if answer.errors {
            item_failures(&answer.items)?;
        }
        Ok(Acknowledged {
            answer: format!("HTTP {status}, {} items", answer.items.len()),
        })
    }
}

/// The per-item outcome of a `_bulk` answer with `"errors": true`: 409 is an earlier
/// delivery of the same record; 429 and 5xx are retried; any other failure refuses the
/// block, naming how many records failed and the first reason.
fn item_failures(
    items: &[std::collections::HashMap<String, BulkItem>],
) -> Result<(), DeliveryError> {
    let mut retry = None;
    let mut refused = Vec::new();
    for (n, item) in items.iter().filter_map(|i| i.values().next()).enumerate() {
        let failure = || {
            let error = item.error.as_ref();
            format!(
                "record {n}: {} {}",
                error.map_or("", |e| e.kind.as_str()),
                error.map_or("", |e| e.reason.as_str())
            )
        };
        match item.status {
            200..=299 | 409 => {}
            429 | 500..=599 => {
                retry.get_or_insert_with(failure);
            }
            _ => refused.push(failure()),
        }
    }
    if let Some(first) = refused.first() {
        let reason: String = format!(
            "{} of {} records refused; {first}",
            refused.len(),
            items.len()
        )
        .chars()
        .take(300)
        .collect();
        return Err(DeliveryError::Terminal { reason });
    }
    if let Some(first) = retry {
        return Err(DeliveryError::Retryable {
            reason: format!("Elasticsearch rejected records for load; {first}"),
            retry_after: None,
        });
    }
    Ok(())
}

impl Sink for ElasticsearchSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.bulk(block))
    }
}
