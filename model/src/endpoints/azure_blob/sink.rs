//! PUTs one block blob per block (Put Blob) with the SAS in the query, named like the S3
//! object (`s3::object_key`: prefix, sealing time, block id). `If-None-Match: *` makes a
//! retried block that was already stored answer 409 BlobAlreadyExists, which counts as
//! delivered: a block never becomes two blobs, and a blob is never rewritten.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, IF_NONE_MATCH};

use super::AzureBlobSettings;
use crate::endpoints::s3::{S3ContentType, S3KeyLayout, object_key};
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock, Sink,
    read_answer,
};

/// The Blob service version the requests ask for.
const API_VERSION: &str = "2023-11-03";
/// How much of an error answer is read.
const ANSWER_READ_BYTES: usize = 4096;
/// How long one PUT may take.
const TIMEOUT: Duration = Duration::from_secs(60);

pub struct AzureBlobSink {
    clients: Clients,
    client: reqwest::Client,
    container_url: url::Url,
    sas_token: String,
    prefix: String,
    content_type: S3ContentType,
    key_layout: S3KeyLayout,
}

impl AzureBlobSink {
    pub fn new(clients: &Clients, settings: &AzureBlobSettings) -> Result<AzureBlobSink, String> {
        let sas_token = settings
            .sas_token
            .value()
            .ok_or("SAS Token: its value is not available")?;
        let container_url = settings.container_url();
        Ok(AzureBlobSink {
            clients: clients.clone(),
            client: clients.http(container_url.port_or_known_default().unwrap_or(0))?,
            container_url,
            sas_token: sas_token.to_string(),
            prefix: settings.prefix.clone(),
            content_type: settings.content_type,
            key_layout: settings.key_layout,
        })
    }

    async fn put(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.container_url)?;
        let name = object_key(&self.prefix, self.key_layout, block);
        let mut url = self.container_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(name.split('/'));
        }
        url.set_query(Some(&self.sas_token));
        let body = match self.content_type {
            S3ContentType::PlainText => block.body.clone(),
            S3ContentType::Gzip => crate::endpoints::s3::gzip(&block.body)?.into(),
        };
        let mut response = self
            .client
            .put(url)
            .header("x-ms-version", API_VERSION)
            .header("x-ms-blob-type", "BlockBlob")
            .header(CONTENT_TYPE, self.content_type.as_str())
            .header(IF_NONE_MATCH, "*")
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        let code = response
            .headers()
            .get("x-ms-error-code")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if status.is_success() {
            return Ok(Acknowledged {
                answer: format!("Azure Blob stored {name}"),
            });
        }
        if status == StatusCode::CONFLICT && code == "BlobAlreadyExists" {
            return Ok(Acknowledged {
                answer: format!("Azure Blob already had {name} (the block was sent before)"),
            });
        }
        let answer = read_answer(&mut response, ANSWER_READ_BYTES).await;
        Err(DeliveryError::for_status(
            status,
            reason(status, &code, &answer),
        ))
    }
}

impl Sink for AzureBlobSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.put(block))
    }
}

/// `Azure Blob HTTP <status>: <code>: <message's first line>` from the service's XML
/// error (`<Error><Code>…</Code><Message>…</Message></Error>`).
fn reason(status: StatusCode, code: &str, answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    let message = text
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map(|(message, _)| message.lines().next().unwrap_or_default().trim())
        .unwrap_or_default();
    let message: String = message.chars().take(200).collect();
    match (code, message.as_str()) {
        ("", "") => format!("Azure Blob HTTP {status}"),
        (code, "") => format!("Azure Blob HTTP {status}: {code}"),
        ("", message) => format!("Azure Blob HTTP {status}: {message}"),
        (code, message) => format!("Azure Blob HTTP {status}: {code}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_its_code_and_the_messages_first_line() {
        let answer = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AuthorizationFailure</Code><Message>This request is not authorized to perform this operation.\nRequestId:1\nTime:2026</Message></Error>";
        assert_eq!(
            reason(StatusCode::FORBIDDEN, "AuthorizationFailure", answer),
            "Azure Blob HTTP 403 Forbidden: AuthorizationFailure: This request is not authorized to perform this operation."
        );
        assert_eq!(
            reason(StatusCode::BAD_GATEWAY, "", b""),
            "Azure Blob HTTP 502 Bad Gateway"
        );
    }
}
