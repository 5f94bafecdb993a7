//! Amazon Data Firehose (formerly Kinesis Data Firehose): each record is one Firehose
//! record, sent with `PutRecordBatch` to a Direct PUT Firehose stream, which buffers and
//! delivers them to its own destination (S3, Redshift, OpenSearch, Splunk, …).

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::s3::Region;
use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "firehose",
    label: "Amazon Data Firehose (Kinesis)",
    fields: &[
        FieldSpec::text(
            "stream_name",
            "Firehose Stream Name",
            "firehose-stream",
            true,
            "edge-logs",
        ),
        FieldSpec::text("region", "Region", "firehose-region", true, "us-east-1"),
        FieldSpec::text("access_key", "Access Key", "firehose-access-key", true, ""),
        FieldSpec {
            key: "secret_key",
            label: "Secret Key",
            id: "firehose-secret-key",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
        FieldSpec::text(
            "endpoint_url",
            "Endpoint URL",
            "firehose-endpoint",
            false,
            "https://firehose.<region>.amazonaws.com",
        ),
    ],
    parse: |form| FirehoseSettings::parse(form).map(EndpointSettings::Firehose),
};

/// `Debug` hides the secret key (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirehoseSettings {
    pub stream_name: FirehoseStreamName,
    pub region: Region,
    pub access_key: String,
    #[serde(skip)]
    pub secret_key: Secret,
    /// The region's endpoint unless given (a VPC endpoint's, a FIPS one's).
    pub endpoint_url: HttpUrl,
}

impl FirehoseSettings {
    pub fn parse(form: &EndpointForm) -> Result<FirehoseSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let named = |key| TYPE.field_error(key);
        let stream_name = errors.check(
            FirehoseStreamName::parse(form.text("stream_name")).map_err(named("stream_name")),
        );
        let region = errors.check(Region::parse(form.text("region")).map_err(named("region")));
        let access_key = form.text("access_key").trim().to_string();
        if access_key.is_empty() {
            errors.add("endpoint.access_key", "Access Key is required");
        }
        let secret_key = errors.check(form.secret("secret_key", "Secret Key"));
        let endpoint_url = match (form.text("endpoint_url").trim(), &region) {
            ("", Some(region)) => HttpUrl::parse(&default_endpoint(region)).ok(),
            ("", None) => None,
            (text, _) => errors.check(HttpUrl::parse(text).map_err(named("endpoint_url"))),
        };
        match (stream_name, region, secret_key, endpoint_url) {
            (Some(stream_name), Some(region), Some(secret_key), Some(endpoint_url))
                if errors.is_empty() =>
            {
                Ok(FirehoseSettings {
                    stream_name,
                    region,
                    access_key,
                    secret_key,
                    endpoint_url,
                })
            }
            _ => Err(errors.0),
        }
    }
}

/// The region's public Firehose endpoint.
fn default_endpoint(region: &Region) -> String {
    format!("https://firehose.{}.amazonaws.com/", region.as_str())
}

impl Endpoint for FirehoseSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("endpoint_url", &self.endpoint_url))
    }

    /// The keys are for this stream in this region.
    fn destination(&self) -> String {
        format!(
            "{} {} {}",
            self.endpoint_url.as_str(),
            self.region.as_str(),
            self.stream_name.as_str()
        )
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("secret_key", &mut self.secret_key)]
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("stream_name", self.stream_name.as_str());
        form.set("region", self.region.as_str());
        form.set("access_key", self.access_key.as_str());
        if self.endpoint_url.as_str() != default_endpoint(&self.region) {
            form.set("endpoint_url", self.endpoint_url.as_str());
        }
        form
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::FirehoseSink::new(clients, self)?))
    }
}

/// A Firehose stream name: 1 to 64 letters, digits, `_`, `.` and `-`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FirehoseStreamName(String);

impl FirehoseStreamName {
    pub fn parse(text: &str) -> Result<FirehoseStreamName, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        if text.len() > 64
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(format!(
                "{text:?} may contain only letters, digits, _, . and - (at most 64)"
            ));
        }
        Ok(FirehoseStreamName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_serde!(FirehoseStreamName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regions_endpoint_unless_another_is_given() {
        let mut form = EndpointForm::new(&TYPE);
        form.set("stream_name", "edge-logs");
        form.set("region", "eu-west-1");
        form.set("access_key", "AKIA");
        form.set("secret_key", "s");
        let settings = FirehoseSettings::parse(&form).unwrap();
        assert_eq!(
            settings.endpoint_url.as_str(),
            "https://firehose.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            settings.to_form().text("endpoint_url"),
            "",
            "the default stays blank"
        );
        form.set("stream_name", "edge logs");
        form.set("endpoint_url", "s3://x");
        let fields: Vec<String> = FirehoseSettings::parse(&form)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["endpoint.stream_name", "endpoint.endpoint_url"]);
    }
}
