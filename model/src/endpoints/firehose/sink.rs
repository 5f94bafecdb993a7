//! Sends a block with `PutRecordBatch`: each record (with its newline, so the records stay
//! apart in what Firehose writes) is one Firehose record, at most [`MAX_RECORDS`] and
//! [`MAX_CALL_BYTES`] per call. A call can succeed in part (`FailedPutCount`): only the
//! records that failed are sent again, a few times at once with a short backoff; if some
//! still fail, the block's progress is kept (by block id) so the data plane's retry of the
//! block sends only those.

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;

use super::FirehoseSettings;
use crate::endpoints::aws;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, OutgoingBlock, Sink, batches, records,
};

/// Records per call at most (the API's limit).
pub const MAX_RECORDS: usize = 500;
/// Bytes per call at most (the API's 4 MiB).
pub const MAX_CALL_BYTES: usize = 4 * 1024 * 1024;
/// Calls for the records a call failed, before the block is left to the data plane.
const PARTIAL_ATTEMPTS: u32 = 3;
/// Errors that a retry cannot fix: the settings (stream, keys, permissions) must change.
const TERMINAL_CODES: [&str; 8] = [
    "ResourceNotFoundException",
    "InvalidArgumentException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "InvalidKMSResourceException",
];

pub struct FirehoseSink {
    clients: Clients,
    endpoint_url: url::Url,
    client: aws_sdk_firehose::Client,
    stream_name: String,
    /// The block whose records were in part delivered, and which.
    progress: Mutex<Option<(uuid::Uuid, Vec<bool>)>>,
}

impl FirehoseSink {
    pub fn new(clients: &Clients, settings: &FirehoseSettings) -> Result<FirehoseSink, String> {
        let secret_key = settings
            .secret_key
            .value()
            .ok_or("Secret Key: its value is not available")?;
        let sdk = aws::sdk_config(
            clients,
            settings.endpoint_url.as_str(),
            settings.region.as_str(),
            &settings.access_key,
            secret_key,
        );
        Ok(FirehoseSink {
            clients: clients.clone(),
            endpoint_url: settings.endpoint_url.url().clone(),
            client: aws_sdk_firehose::Client::new(&sdk),
            stream_name: settings.stream_name.as_str().to_string(),
            progress: Mutex::new(None),
        })
    }

    /// Sends the records at `pending` (indexes into `records`); answers those that failed,
    /// with the first failure's reason.
    async fn put(
        &self,
        records: &[&[u8]],
        pending: &[usize],
        delivered: &mut [bool],
    ) -> Result<Vec<(usize, String)>, DeliveryError> {
        let sizes: Vec<usize> = pending.iter().map(|&i| records[i].len() + 1).collect();
        let mut failed = Vec::new();
        for batch in batches(&sizes, MAX_RECORDS, MAX_CALL_BYTES) {
            let indexes = &pending[batch];
            let entries = indexes
                .iter()
                .map(|&i| {
                    let mut data = Vec::with_capacity(records[i].len() + 1);
                    data.extend_from_slice(records[i]);
                    data.push(b'\n');
                    Record::builder().data(Blob::new(data)).build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DeliveryError::Terminal {
                    reason: format!("Firehose record: {e}"),
                })?;
            let output = self
                .client
                .put_record_batch()
                .delivery_stream_name(&self.stream_name)
                .set_records(Some(entries))
                .send()
                .await
                .map_err(|e| aws::classify("Firehose", &TERMINAL_CODES, e))?;
            let answers = output.request_responses();
            for (place, &index) in indexes.iter().enumerate() {
                match answers.get(place).and_then(|a| a.error_code()) {
                    None if place < answers.len() => delivered[index] = true,
                    code => {
                        let message = answers.get(place).and_then(|a| a.error_message());
                        failed.push((
                            index,
                            format!(
                                "{}: {}",
                                code.unwrap_or("no answer for the record"),
                                message.unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
        }
        Ok(failed)
    }

    async fn deliver_block(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.endpoint_url)?;
        let records: Vec<&[u8]> = records(block).collect();
        let mut delivered = match self.progress.lock().unwrap().take() {
            Some((id, delivered)) if id == block.id && delivered.len() == records.len() => {
                delivered
            }
            _ => vec![false; records.len()],
        };
        let mut pending: Vec<usize> = (0..records.len()).filter(|&i| !delivered[i]).collect();
        let resent = records.len() - pending.len();
        let mut calls_failed = 0;
        let outcome = loop {
            let failed = match self.put(&records, &pending, &mut delivered).await {
                Ok(failed) => failed,
                Err(error) => break Err(error),
            };
            let Some((_, reason)) = failed.first() else {
                break Ok(());
            };
            calls_failed += 1;
            if calls_failed == PARTIAL_ATTEMPTS {
                break Err(DeliveryError::Retryable {
                    reason: format!(
                        "Firehose failed {} of {} records: {reason}",
                        failed.len(),
                        records.len()
                    ),
                    retry_after: None,
                });
            }
            pending = failed.into_iter().map(|(index, _)| index).collect();
            tokio::time::sleep(Duration::from_millis(100 << calls_failed)).await;
        };
        match outcome {
            Ok(()) => Ok(Acknowledged {
                answer: format!(
                    "Firehose took {} records{}",
                    records.len() - resent,
                    if resent > 0 {
                        format!(" ({resent} delivered before)")
                    } else {
                        String::new()
                    }
                ),
            }),
            Err(error) => {
                if delivered.iter().any(|d| *d) {
                    *self.progress.lock().unwrap() = Some((block.id, delivered));
                }
                Err(error)
            }
        }
    }
}

impl Sink for FirehoseSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_block(block))
    }
}
