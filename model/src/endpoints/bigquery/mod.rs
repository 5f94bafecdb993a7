//! Google BigQuery through the streaming API, `tabledata.insertAll`: the stream signs in as
//! a service account (a JWT signed with the account's key, exchanged for an OAuth token)
//! and inserts each record as a row, with an `insertId` per record so that a block sent
//! again is de-duplicated by BigQuery.

#[cfg(feature = "sink")]
mod sink;

use serde::{Deserialize, Serialize};

use super::{
    Endpoint, EndpointForm, EndpointSettings, EndpointType, FieldKind, FieldSpec, HttpUrl,
};
use crate::field::{FieldError, FieldErrors};
use crate::secret::{Secret, SecretField};

pub static TYPE: EndpointType = EndpointType {
    id: "bigquery",
    label: "Google BigQuery",
    fields: &[
        FieldSpec::text("project_id", "Project ID", "bigquery-project", true, ""),
        FieldSpec::text("dataset_id", "Dataset ID", "bigquery-dataset", true, ""),
        FieldSpec::text("table_id", "Table ID", "bigquery-table", true, ""),
        FieldSpec {
            key: "service_account_key",
            label: "Service Account Key (JSON)",
            id: "bigquery-key",
            kind: FieldKind::Secret,
            required: true,
            placeholder: "",
        },
        FieldSpec::text("api_url", "API URL", "bigquery-api-url", false, PUBLIC_API),
    ],
    parse: |form| BigQuerySettings::parse(form).map(EndpointSettings::Bigquery),
};

/// BigQuery's API (blank API URL); a Private Service Connect endpoint replaces it.
pub const PUBLIC_API: &str = "https://bigquery.googleapis.com";
/// Where a key without `token_uri` signs in.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// `Debug` hides the key (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BigQuerySettings {
    pub project_id: ProjectId,
    pub dataset_id: DatasetId,
    pub table_id: TableId,
    #[serde(skip)]
    pub service_account_key: Secret,
    pub api_url: HttpUrl,
}

impl BigQuerySettings {
    pub fn parse(form: &EndpointForm) -> Result<BigQuerySettings, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let named = |key| TYPE.field_error(key);
        let project =
            errors.check(ProjectId::parse(form.text("project_id")).map_err(named("project_id")));
        let dataset =
            errors.check(DatasetId::parse(form.text("dataset_id")).map_err(named("dataset_id")));
        let table = errors.check(TableId::parse(form.text("table_id")).map_err(named("table_id")));
        let key = errors
            .check(form.secret("service_account_key", TYPE.label_of("service_account_key")))
            .and_then(|key| match key.value().map(ServiceAccountKey::parse) {
                Some(Err(m)) => {
                    errors.add(
                        "endpoint.service_account_key",
                        format!("Service Account Key {m}"),
                    );
                    None
                }
                _ => Some(key),
            });
        let api_url = match form.text("api_url").trim() {
            "" => HttpUrl::parse(PUBLIC_API).ok(),
            text => errors.check(HttpUrl::parse(text).map_err(named("api_url"))),
        };
        match (project, dataset, table, key, api_url) {
            (
                Some(project_id),
                Some(dataset_id),
                Some(table_id),
                Some(service_account_key),
                Some(api_url),
            ) if errors.is_empty() => Ok(BigQuerySettings {
                project_id,
                dataset_id,
                table_id,
                service_account_key,
                api_url,
            }),
            _ => Err(errors.0),
        }
    }

    /// `<API>/bigquery/v2/projects/<p>/datasets/<d>/tables/<t>/insertAll`.
    pub fn insert_all_url(&self) -> ::url::Url {
        let mut url = self.api_url.url().clone();
        url.set_query(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend([
                "bigquery",
                "v2",
                "projects",
                self.project_id.as_str(),
                "datasets",
                self.dataset_id.as_str(),
                "tables",
                self.table_id.as_str(),
                "insertAll",
            ]);
        }
        url
    }
}

/// The fields of a service account's JSON key that signing in needs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ServiceAccountKey {
    pub client_email: String,
    /// PKCS #8 PEM.
    pub private_key: String,
    #[serde(default)]
    pub private_key_id: String,
    #[serde(default)]
    pub token_uri: String,
}

impl ServiceAccountKey {
    /// The key as the Google Cloud console downloads it.
    pub fn parse(json: &str) -> Result<ServiceAccountKey, String> {
        let value: serde_json::Value = serde_json::from_str(json.trim())
            .map_err(|e| format!("is not JSON ({e}): paste the key file's whole content"))?;
        if value["type"] != "service_account" {
            return Err(
                "is not a service account key (its \"type\" is not \"service_account\")".into(),
            );
        }
        let mut key: ServiceAccountKey = serde_json::from_value(value)
            .map_err(|e| format!("lacks a field signing in needs: {e}"))?;
        if !key.private_key.contains("-----BEGIN PRIVATE KEY-----") {
            return Err("has no private_key in PEM (-----BEGIN PRIVATE KEY-----)".into());
        }
        if key.client_email.trim().is_empty() {
            return Err("has an empty client_email".into());
        }
        if key.token_uri.is_empty() {
            key.token_uri = GOOGLE_TOKEN_URI.into();
        }
        HttpUrl::parse(&key.token_uri).map_err(|m| format!("token_uri {m}"))?;
        Ok(key)
    }
}

impl Endpoint for BigQuerySettings {
    fn endpoint_type(&self) -> &'static EndpointType {
        &TYPE
    }

    fn url_field(&self) -> Option<(&'static str, &HttpUrl)> {
        Some(("api_url", &self.api_url))
    }

    /// The key is for this table: a saved key never goes to another.
    fn destination(&self) -> String {
        self.insert_all_url().to_string()
    }

    fn secrets_mut(&mut self) -> Vec<SecretField<'_>> {
        vec![TYPE.secret_field("service_account_key", &mut self.service_account_key)]
    }

    fn to_form(&self) -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("project_id", self.project_id.as_str());
        form.set("dataset_id", self.dataset_id.as_str());
        form.set("table_id", self.table_id.as_str());
        if self.api_url.as_str().trim_end_matches('/') != PUBLIC_API {
            form.set("api_url", self.api_url.as_str());
        }
        form
    }

    #[cfg(feature = "sink")]
    fn sink(
        &self,
        clients: &super::sink::Clients,
    ) -> Result<std::sync::Arc<dyn super::sink::Sink>, String> {
        Ok(std::sync::Arc::new(sink::BigQuerySink::new(clients, self)?))
    }
}

/// A project id (6–30 lowercase letters, digits and hyphens, starting with a letter),
/// optionally after a domain (`example.com:my-project`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectId(String);

impl ProjectId {
    pub fn parse(text: &str) -> Result<ProjectId, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        let (domain, id) = text.rsplit_once(':').unwrap_or(("", text));
        let domain_ok = domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let id_ok = (6..=30).contains(&id.len())
            && id.as_bytes()[0].is_ascii_lowercase()
            && !id.ends_with('-')
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !domain_ok || !id_ok {
            return Err(format!(
                "{text:?} is not a project id: 6 to 30 lowercase letters, digits and hyphens, starting with a letter"
            ));
        }
        Ok(ProjectId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A dataset id: at most 1,024 letters, digits and underscores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatasetId(String);

impl DatasetId {
    pub fn parse(text: &str) -> Result<DatasetId, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        if text.len() > 1024 || !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "{text:?} may contain only letters, digits and underscores (at most 1,024)"
            ));
        }
        Ok(DatasetId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A table id: at most 1,024 bytes of letters, digits, `_`, `-` and spaces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TableId(String);

impl TableId {
    pub fn parse(text: &str) -> Result<TableId, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        if text.len() > 1024
            || !text
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
        {
            return Err(format!(
                "{text:?} may contain only letters, digits, underscores, hyphens and spaces (at most 1,024 bytes)"
            ));
        }
        Ok(TableId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_serde!(ProjectId, DatasetId, TableId);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(private_key: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "edge-logs",
            "private_key_id": "abc",
            "private_key": private_key,
            "client_email": "streamer@edge-logs.iam.gserviceaccount.com",
        })
        .to_string()
    }

    fn form(key: &str) -> EndpointForm {
        let mut form = EndpointForm::new(&TYPE);
        form.set("project_id", "edge-logs");
        form.set("dataset_id", "edge");
        form.set("table_id", "requests 2026");
        form.set("service_account_key", key);
        form
    }

    #[test]
    fn rows_go_to_the_tables_insert_all() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n";
        let settings = BigQuerySettings::parse(&form(&key(pem))).unwrap();
        assert_eq!(
            settings.insert_all_url().as_str(),
            "https://bigquery.googleapis.com/bigquery/v2/projects/edge-logs/datasets/edge/tables/requests%202026/insertAll"
        );
        let parsed = ServiceAccountKey::parse(&key(pem)).unwrap();
        assert_eq!(parsed.token_uri, GOOGLE_TOKEN_URI, "the default sign-in");
        assert_eq!(
            settings.to_form().text("api_url"),
            "",
            "the default stays blank"
        );
    }

    #[test]
    fn a_bad_key_or_id_is_named() {
        let errors = BigQuerySettings::parse(&form(r#"{"type":"authorized_user"}"#)).unwrap_err();
        assert_eq!(errors[0].field, "endpoint.service_account_key");
        assert_eq!(
            errors[0].message,
            "Service Account Key is not a service account key (its \"type\" is not \"service_account\")"
        );
        let mut bad = form(&key("-----BEGIN PRIVATE KEY-----"));
        bad.set("project_id", "My Project");
        bad.set("dataset_id", "edge-logs");
        let fields: Vec<String> = BigQuerySettings::parse(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["endpoint.project_id", "endpoint.dataset_id"]);
    }
}
