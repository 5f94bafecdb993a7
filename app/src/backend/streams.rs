//! Data streams of an account. Every query names its account; secrets are sealed before
//! they are stored and never leave this module in a form for the browser.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, DbError, expect_row, now_millis};
use super::secrets::SecretBox;
use crate::model::{DeliveryStatus, EndpointInput, EndpointType, StreamInput, StreamSummary};

/// The secret parts of an endpoint, stored sealed. `Debug` shows no value.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointSecrets {
    pub secret_key: String,
    /// Header values by lowercase header name.
    pub header_values: HashMap<String, String>,
}

impl std::fmt::Debug for EndpointSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointSecrets")
            .field("secret_key", &"<redacted>")
            .field(
                "header_names",
                &self.header_values.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A stream as the server uses it: its form with the secrets filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRecord {
    pub account_id: i64,
    pub input: StreamInput,
    pub secrets: EndpointSecrets,
}

impl StreamRecord {
    /// The form for the browser: secrets blank, with flags saying which are stored.
    pub fn for_browser(&self) -> StreamInput {
        let mut input = self.input.clone();
        input.endpoint.secret_key = String::new();
        input.endpoint.secret_key_stored = !self.secrets.secret_key.is_empty();
        for header in &mut input.endpoint.headers {
            header.value = String::new();
            header.value_stored = self
                .secrets
                .header_values
                .contains_key(&header.name.to_ascii_lowercase());
        }
        input
    }
}

/// Splits a submitted form into what is stored in clear and the secrets, keeping stored
/// secrets where the form left them blank. A secret left blank with nothing stored under
/// its name (a renamed header, a forged `*_stored` flag) is an error naming the field.
pub fn split_secrets(
    input: &StreamInput,
    stored: Option<&EndpointSecrets>,
) -> Result<(EndpointInput, EndpointSecrets), crate::model::FieldError> {
    let mut endpoint = input.endpoint.clone();
    let mut secrets = EndpointSecrets::default();
    match endpoint.endpoint_type {
        EndpointType::S3 => {
            secrets.secret_key = if endpoint.secret_key.is_empty() {
                stored.map(|s| s.secret_key.clone()).unwrap_or_default()
            } else {
                endpoint.secret_key.clone()
            };
            if secrets.secret_key.is_empty() {
                return Err(crate::model::FieldError {
                    field: "endpoint.secret_key".into(),
                    message: "Secret Key is required".into(),
                });
            }
        }
        EndpointType::Http => {
            for (index, header) in endpoint.headers.iter().enumerate() {
                let key = header.name.trim().to_ascii_lowercase();
                if key.is_empty() {
                    continue;
                }
                let value = if header.value.is_empty() {
                    stored
                        .and_then(|s| s.header_values.get(&key).cloned())
                        .unwrap_or_default()
                } else {
                    header.value.clone()
                };
                if value.is_empty() {
                    return Err(crate::model::FieldError {
                        field: format!("endpoint.headers.{index}.value"),
                        message:
                            "Header value is required (a renamed header needs its value again)"
                                .into(),
                    });
                }
                secrets.header_values.insert(key, value);
            }
        }
        EndpointType::Kafka => {}
    }
    endpoint.secret_key = String::new();
    endpoint.secret_key_stored = false;
    endpoint.headers.retain(|h| !h.name.trim().is_empty());
    for header in &mut endpoint.headers {
        header.name = header.name.trim().to_string();
        header.value = String::new();
        header.value_stored = false;
    }
    Ok((endpoint, secrets))
}

const STREAM_COLUMNS: &str = "id, account_id, name, data_source, template, custom_template, \
     all_domains, sampling, endpoint_type, endpoint_config, endpoint_secrets, active";

impl Db {
    fn stream_from_row(
        &self,
        row: &AnyRow,
        domain_ids: Vec<i64>,
        secrets: &SecretBox,
    ) -> Result<StreamRecord, DbError> {
        let config: String = row.try_get("endpoint_config")?;
        let endpoint: EndpointInput =
            serde_json::from_str(&config).map_err(|e| DbError::Corrupt(e.to_string()))?;
        let sealed: String = row.try_get("endpoint_secrets")?;
        let secrets: EndpointSecrets = serde_json::from_str(
            &secrets
                .open(&sealed)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
        )
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
        let sampling: i64 = row.try_get("sampling")?;
        Ok(StreamRecord {
            account_id: row.try_get("account_id")?,
            input: StreamInput {
                id: Some(row.try_get("id")?),
                name: row.try_get("name")?,
                data_source: row.try_get("data_source")?,
                template: row.try_get("template")?,
                custom_template: row.try_get("custom_template")?,
                all_domains: row.try_get::<i64, _>("all_domains")? != 0,
                domain_ids,
                sampling: sampling.to_string(),
                endpoint,
                active: row.try_get::<i64, _>("active")? != 0,
            },
            secrets,
        })
    }

    async fn stream_domain_ids(
        &self,
        account_id: i64,
        stream_id: i64,
    ) -> Result<Vec<i64>, DbError> {
        let rows = sqlx::query(
            "SELECT sd.domain_id FROM stream_domains sd JOIN streams s ON s.id = sd.stream_id \
             WHERE s.account_id = $1 AND sd.stream_id = $2 ORDER BY sd.domain_id",
        )
        .bind(account_id)
        .bind(stream_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("domain_id").map_err(DbError::from))
            .collect()
    }

    pub async fn stream(
        &self,
        account_id: i64,
        id: i64,
        secrets: &SecretBox,
    ) -> Result<StreamRecord, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM streams WHERE account_id = $1 AND id = $2"
        ))
        .bind(account_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(DbError::NotFound)?;
        let domains = self.stream_domain_ids(account_id, id).await?;
        self.stream_from_row(&row, domains, secrets)
    }

    /// Every stream of the account, with secrets: for the engine.
    pub async fn streams(
        &self,
        account_id: i64,
        secrets: &SecretBox,
    ) -> Result<Vec<StreamRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM streams WHERE account_id = $1 ORDER BY name"
        ))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        let mut streams = Vec::with_capacity(rows.len());
        for row in &rows {
            let domains = self
                .stream_domain_ids(account_id, row.try_get("id")?)
                .await?;
            streams.push(self.stream_from_row(row, domains, secrets)?);
        }
        Ok(streams)
    }

    pub async fn stream_summaries(&self, account_id: i64) -> Result<Vec<StreamSummary>, DbError> {
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.data_source, s.template, s.endpoint_type, s.active, \
             st.last_success_at, st.last_error_at, st.last_error, \
             COALESCE(st.records_delivered, 0) AS records_delivered, \
             COALESCE(st.bytes_delivered, 0) AS bytes_delivered, \
             COALESCE(st.blocks_failed, 0) AS blocks_failed \
             FROM streams s LEFT JOIN stream_status st ON st.stream_id = s.id \
             WHERE s.account_id = $1 ORDER BY s.name",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let endpoint_type: String = r.try_get("endpoint_type")?;
                Ok(StreamSummary {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    data_source: r.try_get("data_source")?,
                    template: r.try_get("template")?,
                    endpoint_type: endpoint_type.parse().map_err(DbError::Corrupt)?,
                    active: r.try_get::<i64, _>("active")? != 0,
                    status: DeliveryStatus {
                        last_success_at: r.try_get("last_success_at")?,
                        last_error_at: r.try_get("last_error_at")?,
                        last_error: r.try_get("last_error")?,
                        records_delivered: r.try_get("records_delivered")?,
                        bytes_delivered: r.try_get("bytes_delivered")?,
                        blocks_failed: r.try_get("blocks_failed")?,
                    },
                })
            })
            .collect()
    }

    /// Creates (no id) or updates a validated stream; returns its id.
    pub async fn save_stream(
        &self,
        account_id: i64,
        input: &StreamInput,
        secrets: &SecretBox,
    ) -> Result<i64, DbError> {
        let stored = match input.id {
            Some(id) => Some(self.stream(account_id, id, secrets).await?.secrets),
            None => None,
        };
        let (endpoint, endpoint_secrets) =
            split_secrets(input, stored.as_ref()).map_err(DbError::MissingSecret)?;
        let config =
            serde_json::to_string(&endpoint).map_err(|e| DbError::Corrupt(e.to_string()))?;
        let sealed = secrets.seal(
            &serde_json::to_string(&endpoint_secrets)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
        );
        let sampling = i64::from(input.sampling_percent());
        let custom_template = if input.template == crate::model::CUSTOM_TEMPLATE {
            input.custom_template.as_str()
        } else {
            ""
        };
        let now = now_millis();
        let mut tx = self.pool().begin().await?;
        let id: i64 = match input.id {
            None => sqlx::query(
                "INSERT INTO streams (account_id, name, data_source, template, custom_template, \
                 all_domains, sampling, endpoint_type, endpoint_config, endpoint_secrets, active, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(account_id)
            .bind(input.name.trim())
            .bind(&input.data_source)
            .bind(&input.template)
            .bind(custom_template)
            .bind(i64::from(input.all_domains))
            .bind(sampling)
            .bind(endpoint.endpoint_type.as_str())
            .bind(&config)
            .bind(&sealed)
            .bind(i64::from(input.active))
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| DbError::on_unique(e, "a stream with this name"))?
            .try_get("id")?,
            Some(id) => {
                sqlx::query(
                    "UPDATE streams SET name = $1, data_source = $2, template = $3, \
                     custom_template = $4, all_domains = $5, sampling = $6, endpoint_type = $7, \
                     endpoint_config = $8, endpoint_secrets = $9, active = $10, updated_at = $11 \
                     WHERE account_id = $12 AND id = $13",
                )
                .bind(input.name.trim())
                .bind(&input.data_source)
                .bind(&input.template)
                .bind(custom_template)
                .bind(i64::from(input.all_domains))
                .bind(sampling)
                .bind(endpoint.endpoint_type.as_str())
                .bind(&config)
                .bind(&sealed)
                .bind(i64::from(input.active))
                .bind(now)
                .bind(account_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| DbError::on_unique(e, "a stream with this name"))
                .and_then(expect_row)?;
                sqlx::query(
                    "DELETE FROM stream_domains WHERE stream_id = $1 \
                     AND stream_id IN (SELECT id FROM streams WHERE account_id = $2)",
                )
                .bind(id)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        if !input.all_domains {
            for domain_id in &input.domain_ids {
                // The domain must be this account's: the insert selects it by both ids.
                expect_row(
                    sqlx::query(
                        "INSERT INTO stream_domains (stream_id, domain_id) \
                         SELECT $1, id FROM domains WHERE account_id = $2 AND id = $3",
                    )
                    .bind(id)
                    .bind(account_id)
                    .bind(domain_id)
                    .execute(&mut *tx)
                    .await?,
                )?;
            }
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn set_stream_active(
        &self,
        account_id: i64,
        id: i64,
        active: bool,
    ) -> Result<(), DbError> {
        expect_row(
            sqlx::query(
                "UPDATE streams SET active = $1, updated_at = $2 WHERE account_id = $3 AND id = $4",
            )
            .bind(i64::from(active))
            .bind(now_millis())
            .bind(account_id)
            .bind(id)
            .execute(self.pool())
            .await?,
        )
    }

    pub async fn delete_stream(&self, account_id: i64, id: i64) -> Result<(), DbError> {
        expect_row(
            sqlx::query("DELETE FROM streams WHERE account_id = $1 AND id = $2")
                .bind(account_id)
                .bind(id)
                .execute(self.pool())
                .await?,
        )
    }

    /// Names of the account's streams that use a domain (to refuse deleting it).
    pub async fn streams_using_domain(
        &self,
        account_id: i64,
        domain_id: i64,
    ) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query(
            "SELECT s.name FROM streams s JOIN stream_domains sd ON sd.stream_id = s.id \
             WHERE s.account_id = $1 AND sd.domain_id = $2 ORDER BY s.name",
        )
        .bind(account_id)
        .bind(domain_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("name").map_err(DbError::from))
            .collect()
    }
}
