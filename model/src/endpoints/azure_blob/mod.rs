//! Azure Blob Storage: one block blob per block, written with a SAS token (create and write
//! permissions), named like the S3 object (prefix, sealing time, block id).

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::s3::{S3ContentType, S3KeyLayout};
use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "azure_blob",
    label: "Azure Blob Storage",
    fields: &[
        FieldSpec::text(
            "account",
            "Storage Account",
            "azure-blob-account",
            true,
            "edgelogs",
        ),
        FieldSpec::text(
            "container",
            "Container",
            "azure-blob-container",
            true,
            "waf-logs",
        ),
        FieldSpec {
            key: "sas_token",
            label: "SAS Token",
            id: "azure-blob-sas",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
        FieldSpec::text(
            "prefix",
            "Blob Name Prefix",
            "azure-blob-prefix",
            false,
            "waf_logs",
        ),
        FieldSpec {
            key: "content_type",
            label: "Content Type",
            id: "azure-blob-content-type",
            kind: FieldKind::Choice(&["plain/text", "application/gzip"]),
            required: true,
            placeholder: "",
        },
        FieldSpec {
            key: "key_layout",
            label: "Blob Name Layout",
            id: "azure-blob-key-layout",
            kind: FieldKind::Choice(S3KeyLayout::CHOICES),
            required: true,
            placeholder: "",
        },
        FieldSpec::text(
            "service_url",
            "Blob Service URL",
            "azure-blob-service-url",
            false,
            "https://<account>.blob.core.windows.net",
        ),
    ],
    parse: |form| AzureBlobSettings::parse(form).map(EndpointSettings::AzureBlob),
};

/// `Debug` hides the SAS token (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AzureBlobSettings {
    pub account: StorageAccount,
    pub container: ContainerName,
    /// The SAS query (`sv=…&sig=…`), without a leading `?`.
    #[serde(skip)]
    pub sas_token: Secret,
    pub prefix: String,
    pub content_type: S3ContentType,
    pub key_layout: S3KeyLayout,
    /// The account's blob endpoint: `https://<account>.blob.core.windows.net` unless given
    /// (a sovereign cloud's, a private endpoint's, an emulator's).
    pub service_url: HttpUrl,
}

impl AzureBlobSettings {
    pub fn parse(form: &EndpointForm) -> Result<AzureBlobSettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let named = |key| TYPE.field_error(key);
        let account =
            errors.check(StorageAccount::parse(form.text("account")).map_err(named("account")));
        let container =
            errors.check(ContainerName::parse(form.text("container")).map_err(named("container")));
        let sas_token = errors
            .check(form.secret("sas_token", "SAS Token"))
            .map(|sas| match sas {
                Secret::Given(text) => Secret::Given(text.trim().trim_start_matches('?').into()),
                stored => stored,
            })
            .filter(|sas| match sas.value() {
                Some(query) if !is_sas(query) => {
                    errors.add(
                        "endpoint.sas_token",
                        "SAS Token is not a shared access signature: it is the query with sv=, sp= and sig= (e.g. sv=2022-11-02&ss=b&srt=o&sp=cw&se=…&sig=…)",
                    );
                    false
                }
                _ => true,
            });
        let prefix = form.text("prefix").trim().to_string();
        if prefix.len() > 512 || prefix.chars().any(char::is_control) || prefix.contains('\\') {
            errors.add(
                "endpoint.prefix",
                "Blob Name Prefix must be at most 512 characters, without control characters or \\",
            );
        }
        let content_type = match form.text("content_type") {
            "" => Some(S3ContentType::PlainText),
            text => S3ContentType::parse(text).or_else(|| {
                errors.add(
                    "endpoint.content_type",
                    "Content Type must be plain/text or application/gzip",
                );
                None
            }),
        };
        let key_layout = match form.text("key_layout") {
            "" => Some(S3KeyLayout::Flat),
            text => S3KeyLayout::parse(text).or_else(|| {
                errors.add(
                    "endpoint.key_layout",
                    format!(
                        "Blob Name Layout must be {}",
                        S3KeyLayout::CHOICES.join(" or ")
                    ),
                );
                None
            }),
        };
        let service_url = match (form.text("service_url").trim(), &account) {
            ("", Some(account)) => {
                HttpUrl::parse(&format!("https://{}.blob.core.windows.net", account.0)).ok()
            }
            ("", None) => None,
            (text, _) => errors.check(HttpUrl::parse(text).map_err(named("service_url"))),
        };
        match (
            account,
            container,
            sas_token,
            content_type,
            key_layout,
            service_url,
        ) {
            (
                Some(account),
                Some(container),
                Some(sas_token),
                Some(content_type),
                Some(key_layout),
                Some(service_url),
            ) if errors.is_empty() => Ok(AzureBlobSettings {
                account,
                container,
                sas_token,
                prefix,
                content_type,
                key_layout,
                service_url,
            }),
            _ => Err(errors.0),
        }
    }

    /// The container's URL: `<service URL>/<container>`.
    pub fn container_url(&self) -> ::url::Url {
        let mut url = self.service_url.url().clone();
        url.set_query(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(self.container.as_str());
        }
        url
    }

    fn default_service_url(&self) -> String {
        format!("https://{}.blob.core.windows.net/", self.account.as_str())
    }
}

/// A SAS is a query with at least a version, permissions and a signature.
fn is_sas(query: &str) -> bool {
    let keys: Vec<String> = ::url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, _)| key.into_owned())
        .collect();
    ["sv", "sp", "sig"]
        .iter()
        .all(|key| keys.iter().any(|k| k == key))
}

impl Endpoint for AzureBlobSettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("service_url", &self.service_url))
    }

    /// The SAS is the account's, for this container.
    fn destination(&self) -> String {
        format!("{} {}", self.account.as_str(), self.container_url())
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("sas_token", &mut self.sas_token)]
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("account", self.account.as_str());
        form.set("container", self.container.as_str());
        form.set("prefix", self.prefix.as_str());
        form.set("content_type", self.content_type.as_str());
        form.set("key_layout", self.key_layout.as_str());
        if self.service_url.as_str() != self.default_service_url() {
            form.set("service_url", self.service_url.as_str());
        }
        form
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::AzureBlobSink::new(
            clients, self,
        )?))
    }
}

/// A storage account name: 3 to 24 lowercase letters and digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StorageAccount(String);

impl StorageAccount {
    pub fn parse(text: &str) -> Result<StorageAccount, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        if !(3..=24).contains(&text.len())
            || !text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(format!(
                "{text:?} must be 3 to 24 lowercase letters and digits"
            ));
        }
        Ok(StorageAccount(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A container name: 3 to 63 lowercase letters, digits and single hyphens, starting and
/// ending with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerName(String);

impl ContainerName {
    pub fn parse(text: &str) -> Result<ContainerName, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        let edge_ok =
            |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let ok = (3..=63).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && edge_ok(text.as_bytes().first())
            && edge_ok(text.as_bytes().last())
            && !text.contains("--");
        if !ok {
            return Err(format!(
                "{text:?} must be 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
            ));
        }
        Ok(ContainerName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_serde!(StorageAccount, ContainerName);

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("account", "edgelogs");
        form.set("container", "waf-logs");
        form.set(
            "sas_token",
            "?sv=2022-11-02&ss=b&srt=o&sp=cw&se=2027-01-01T00:00:00Z&sig=abc%3D",
        );
        form
    }

    #[test]
    fn blobs_go_to_the_accounts_endpoint_unless_another_is_given() {
        let settings = AzureBlobSettings::parse(&form()).unwrap();
        assert_eq!(
            settings.container_url().as_str(),
            "https://edgelogs.blob.core.windows.net/waf-logs"
        );
        assert_eq!(
            settings.sas_token.value(),
            Some("sv=2022-11-02&ss=b&srt=o&sp=cw&se=2027-01-01T00:00:00Z&sig=abc%3D"),
            "without its ?"
        );
        assert_eq!(
            settings.to_form().text("service_url"),
            "",
            "the default stays blank"
        );
        let mut emulator = form();
        emulator.set("service_url", "http://127.0.0.1:10000/devstoreaccount1");
        let emulator = AzureBlobSettings::parse(&emulator).unwrap();
        assert_eq!(
            emulator.container_url().as_str(),
            "http://127.0.0.1:10000/devstoreaccount1/waf-logs"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = form();
        bad.set("account", "Edge_Logs");
        bad.set("container", "-logs");
        bad.set("sas_token", "my-account-key");
        let fields: Vec<String> = AzureBlobSettings::parse(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "endpoint.account",
                "endpoint.container",
                "endpoint.sas_token"
            ]
        );
    }
}
