//! S3-compatible object storage: one object per block, path-style, plain or gzip, keyed
//! flat (`<prefix>_<time>_<block id>`) or by date (`<prefix>/YYYY/MM/DD/HH/<time>_<block id>`).

#[cfg(feature = "sink")]
mod sink;
#[cfg(feature = "sink")]
pub(crate) use sink::{gzip, object_key};

use serde::{Deserialize, Serialize};

use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "s3",
    label: "Simple Storage Service (S3)",
    fields: &[
        FieldSpec::text(
            "host_url",
            "Host URL",
            "s3-host-url",
            true,
            "https://s3.us-east-1.amazonaws.com",
        ),
        FieldSpec::text("bucket", "Bucket Name", "s3-bucket", true, ""),
        FieldSpec::text("region", "Region", "s3-region", true, "us-east-1"),
        FieldSpec::text("access_key", "Access Key", "s3-access-key", true, ""),
        FieldSpec {
            key: "secret_key",
            label: "Secret Key",
            id: "s3-secret-key",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
        FieldSpec::text(
            "prefix",
            "Object Key Prefix",
            "s3-prefix",
            false,
            "waf_logs",
        ),
        FieldSpec {
            key: "content_type",
            label: "Content Type",
            id: "s3-content-type",
            kind: FieldKind::Choice(&["plain/text", "application/gzip"]),
            required: true,
            placeholder: "",
        },
        FieldSpec {
            key: "key_layout",
            label: "Object Key Layout",
            id: "s3-key-layout",
            kind: FieldKind::Choice(S3KeyLayout::CHOICES),
            required: true,
            placeholder: "",
        },
    ],
    parse: |form| S3Settings::parse(form).map(EndpointSettings::S3),
};

/// `Debug` hides the secret key (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct S3Settings {
    pub host_url: HttpUrl,
    pub bucket: BucketName,
    pub region: Region,
    /// Trimmed (rows saved before the typed configuration kept the form's spaces).
    #[serde(deserialize_with = "trimmed")]
    pub access_key: String,
    #[serde(skip)]
    pub secret_key: Secret,
    /// At most 512 characters, no control characters; may be empty; trimmed.
    #[serde(deserialize_with = "trimmed")]
    pub prefix: String,
    pub content_type: S3ContentType,
    #[serde(default)]
    pub key_layout: S3KeyLayout,
}

/// How object keys are laid out; both end in the block's sealing time and id, fixed per
/// block, so a retry rewrites the same object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum S3KeyLayout {
    /// `<prefix>_<time>_<block id>`.
    #[default]
    Flat,
    /// `<prefix>/YYYY/MM/DD/HH/<time>_<block id>` (UTC), for date-partitioned readers.
    Dated,
}

impl S3KeyLayout {
    /// The form's choices, the default first.
    pub const CHOICES: &'static [&'static str] =
        &["prefix_TIME_ID", "prefix/YYYY/MM/DD/HH/TIME_ID"];

    pub fn as_str(self) -> &'static str {
        Self::CHOICES[self as usize]
    }

    pub(crate) fn parse(text: &str) -> Option<S3KeyLayout> {
        [S3KeyLayout::Flat, S3KeyLayout::Dated]
            .into_iter()
            .find(|l| l.as_str() == text)
    }
}

fn trimmed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(String::deserialize(d)?.trim().to_string())
}

/// The object's Content-Type, which also says whether the block is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum S3ContentType {
    /// The block as it is.
    #[serde(rename = "plain/text")]
    PlainText,
    /// The block gzip-compressed.
    #[serde(rename = "application/gzip")]
    Gzip,
}

impl S3ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            S3ContentType::PlainText => "plain/text",
            S3ContentType::Gzip => "application/gzip",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<S3ContentType> {
        [S3ContentType::PlainText, S3ContentType::Gzip]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

impl S3Settings {
    pub fn parse(form: &EndpointForm) -> Result<S3Settings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let named = |field: &str, label: &str| {
            let field = format!("endpoint.{field}");
            let label = label.to_string();
            move |m: String| FieldError::new(field, format!("{label} {m}"))
        };
        let host_url = errors
            .check(HttpUrl::parse(form.text("host_url")).map_err(named("host_url", "Host URL")));
        let bucket = errors
            .check(BucketName::parse(form.text("bucket")).map_err(named("bucket", "Bucket Name")));
        let region =
            errors.check(Region::parse(form.text("region")).map_err(named("region", "Region")));
        let access_key = form.text("access_key").to_string();
        if access_key.is_empty() {
            errors.add("endpoint.access_key", "Access Key is required");
        }
        let secret_key = errors.check(form.secret("secret_key", "Secret Key"));
        let prefix = form.text("prefix").to_string();
        if prefix.len() > 512 || prefix.chars().any(char::is_control) {
            errors.add(
                "endpoint.prefix",
                "Object Key Prefix must be at most 512 characters, without control characters",
            );
        }
        let content_type = S3ContentType::parse(form.text("content_type"));
        if content_type.is_none() {
            errors.add(
                "endpoint.content_type",
                "Content Type must be plain/text or application/gzip",
            );
        }
        let key_layout = match form.text("key_layout") {
            "" => Some(S3KeyLayout::Flat),
            text => S3KeyLayout::parse(text).or_else(|| {
                errors.add(
                    "endpoint.key_layout",
                    format!(
                        "Object Key Layout must be {}",
                        S3KeyLayout::CHOICES.join(" or ")
                    ),
                );
                None
            }),
        };
        match (
            host_url,
            bucket,
            region,
            secret_key,
            content_type,
            key_layout,
        ) {
            (
                Some(host_url),
                Some(bucket),
                Some(region),
                Some(secret_key),
                Some(content_type),
                Some(key_layout),
            ) if errors.is_empty() => Ok(S3Settings {
                host_url,
                bucket,
                region,
                access_key,
                secret_key,
                prefix,
                content_type,
                key_layout,
            }),
            _ => Err(errors.0),
        }
    }
}

impl Endpoint for S3Settings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("host_url", &self.host_url))
    }

    fn destination(&self) -> String {
        format!("{} {}", self.host_url.as_str(), self.bucket.as_str())
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("secret_key", &mut self.secret_key)]
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = self.form_with_url();
        form.set("bucket", self.bucket.as_str());
        form.set("region", self.region.as_str());
        form.set("access_key", self.access_key.as_str());
        form.set("prefix", self.prefix.as_str());
        form.set("content_type", self.content_type.as_str());
        form.set("key_layout", self.key_layout.as_str());
        form
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::S3Sink::new(clients, self)?))
    }
}

/// S3 bucket naming rules (general purpose buckets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BucketName(String);

impl BucketName {
    pub fn parse(name: &str) -> Result<BucketName, String> {
        let n = name.trim();
        if n.is_empty() {
            return Err("is required".into());
        }
        if !(3..=63).contains(&n.len()) {
            return Err("must be 3 to 63 characters long".into());
        }
        if !n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return Err("may contain only lowercase letters, digits, '.' and '-'".into());
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(n.as_bytes()[0]) || !edge_ok(n.as_bytes()[n.len() - 1]) {
            return Err("must begin and end with a letter or digit".into());
        }
        if n.contains("..") {
            return Err("must not contain two adjacent periods".into());
        }
        if n.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err("must not be formatted as an IP address".into());
        }
        if n.starts_with("xn--")
            || n.starts_with("sthree-")
            || n.ends_with("-s3alias")
            || n.ends_with("--ol-s3")
        {
            return Err(
                "must not use a prefix or suffix reserved by S3 (xn--, sthree-, -s3alias, --ol-s3)"
                    .into(),
            );
        }
        Ok(BucketName(n.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A region code such as `us-east-1`: lowercase letters and digits in `-`-separated parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    pub fn parse(text: &str) -> Result<Region, String> {
        let r = text.trim();
        if r.is_empty() {
            return Err("is required".into());
        }
        let parts_ok = r.len() <= 32
            && r.split('-').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !parts_ok {
            return Err(format!("{r:?} is not a region code like us-east-1"));
        }
        Ok(Region(r.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_serde!(BucketName, Region);
