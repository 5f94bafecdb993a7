//! The S3 endpoint's settings, from a saved stream.

use app::backend::streams::EndpointSecrets;
use app::model::EndpointInput;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S3Compression {
    /// `plain/text`: the block as it is.
    None,
    /// `application/gzip`: the block gzip-compressed.
    Gzip,
}

/// `Debug` hides the secret key.
#[derive(Clone)]
pub struct S3SinkConfig {
    pub host_url: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub prefix: String,
    pub content_type: String,
    pub compression: S3Compression,
}

impl std::fmt::Debug for S3SinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3SinkConfig")
            .field("host_url", &self.host_url)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl S3SinkConfig {
    pub fn from_stream(endpoint: &EndpointInput, secrets: &EndpointSecrets) -> S3SinkConfig {
        let compression = if endpoint.content_type == "application/gzip" {
            S3Compression::Gzip
        } else {
            S3Compression::None
        };
        S3SinkConfig {
            host_url: endpoint.host_url.trim().to_string(),
            bucket: endpoint.bucket.trim().to_string(),
            region: endpoint.region.trim().to_string(),
            access_key: endpoint.access_key.trim().to_string(),
            secret_key: secrets.secret_key.clone(),
            prefix: endpoint.prefix.trim().to_string(),
            content_type: endpoint.content_type.clone(),
            compression,
        }
    }
}
