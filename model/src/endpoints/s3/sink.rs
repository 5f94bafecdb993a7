//! PUTs one object per block, path-style, to any S3-compatible host.
//!
//! Object key: `<prefix>_<TIMESTAMP>_<UUID>` where TIMESTAMP is the block's sealing time in
//! UTC as `YYYYMMDDTHHMMSSZ` and UUID is the block id, so a retried block rewrites the
//! same object. Without a prefix the key is `<TIMESTAMP>_<UUID>`. The dated layout puts
//! the sealing hour's folders in between: `<prefix>/YYYY/MM/DD/HH/<TIMESTAMP>_<UUID>`.

use std::io::Write;

use aws_sdk_s3::primitives::ByteStream;

use super::{S3ContentType, S3KeyLayout, S3Settings};
use crate::endpoints::aws;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, OutgoingBlock, Sink,
};

/// Errors that a retry cannot fix: the settings (bucket, keys) must change first.
const TERMINAL_CODES: [&str; 7] = [
    "NoSuchBucket",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidBucketName",
    "AllAccessDisabled",
    "InvalidArgument",
];

pub struct S3Sink {
    clients: Clients,
    host_url: url::Url,
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    content_type: S3ContentType,
    key_layout: S3KeyLayout,
}

pub fn object_key(prefix: &str, layout: S3KeyLayout, block: &OutgoingBlock) -> String {
    let secs = block
        .sealed_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (year, month, day, hour, minute, second) = crate::delivery::utc_fields(secs);
    let name = format!(
        "{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z_{}",
        block.id
    );
    match layout {
        S3KeyLayout::Flat if prefix.is_empty() => name,
        S3KeyLayout::Flat => format!("{prefix}_{name}"),
        S3KeyLayout::Dated => {
            let folders = format!("{year:04}/{month:02}/{day:02}/{hour:02}/{name}");
            match prefix.trim_end_matches('/') {
                "" => folders,
                prefix => format!("{prefix}/{folders}"),
            }
        }
    }
}

impl S3Sink {
    pub fn new(clients: &Clients, settings: &S3Settings) -> Result<S3Sink, String> {
        let secret_key = settings
            .secret_key
            .value()
            .ok_or("Secret Key: its value is not available")?;
        let sdk = aws::sdk_config(
            clients,
            settings.host_url.as_str(),
            settings.region.as_str(),
            &settings.access_key,
            secret_key,
        );
        let s3_config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build();
        Ok(S3Sink {
            clients: clients.clone(),
            host_url: settings.host_url.url().clone(),
            client: aws_sdk_s3::Client::from_conf(s3_config),
            bucket: settings.bucket.as_str().to_string(),
            prefix: settings.prefix.clone(),
            content_type: settings.content_type,
            key_layout: settings.key_layout,
        })
    }

    async fn put(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.host_url)?;
        let body = match self.content_type {
            S3ContentType::PlainText => block.body.clone(),
            S3ContentType::Gzip => gzip(&block.body)?.into(),
        };
        let key = object_key(&self.prefix, self.key_layout, block);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(self.content_type.as_str())
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| Acknowledged {
                answer: format!("S3 stored {key}"),
            })
            .map_err(|e| aws::classify("S3", &TERMINAL_CODES, e))
    }
}

impl Sink for S3Sink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.put(block))
    }
}

pub fn gzip(body: &[u8]) -> Result<Vec<u8>, DeliveryError> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|e| DeliveryError::Terminal {
            reason: format!("gzip: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn keys_have_prefix_utc_timestamp_and_block_id() {
        let block = |secs| OutgoingBlock {
            id: uuid::Uuid::nil(),
            records: 1,
            body: "x".into(),
            sealed_at: UNIX_EPOCH + Duration::from_secs(secs),
        };
        let nil = "00000000-0000-0000-0000-000000000000";
        let sealed = block(1_795_000_000);
        assert_eq!(
            object_key("waf_logs", S3KeyLayout::Flat, &sealed),
            format!("waf_logs_20261118T110640Z_{nil}")
        );
        assert!(object_key("", S3KeyLayout::Flat, &sealed).starts_with("20261118T110640Z_"));
        assert_eq!(
            object_key("waf_logs/", S3KeyLayout::Dated, &sealed),
            format!("waf_logs/2026/11/18/11/20261118T110640Z_{nil}")
        );
        assert_eq!(
            object_key("", S3KeyLayout::Dated, &block(951_782_400)),
            format!("2000/02/29/00/20000229T000000Z_{nil}"),
            "a leap day"
        );
    }
}
