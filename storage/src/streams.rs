//! Data streams of an account and their custom templates. Every query names its account;
//! secrets are sealed apart from the settings and never leave this module for the browser.

use std::collections::BTreeMap;

use engine::{DataSource, Preset, Template};
use model::stream::ParsedStream;
use model::{
    CUSTOM_TEMPLATE, DeliveryStatus, Domains, EndpointSettings, FieldError, SamplingPercent,
    Secret, StreamConfig, StreamForm, StreamName, StreamSummary, TemplateChoice,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, DbError, expect_row, now_millis};
use crate::secrets::SecretBox;

/// A stream as the server uses it: its configuration with the secrets filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRecord {
    pub id: i64,
    pub account_id: i64,
    pub config: StreamConfig,
    /// The data set of its custom template (`None` with a preset).
    pub custom_data_set: Option<String>,
    /// Bumped on every change (the API's ETag).
    pub revision: i64,
}

impl StreamRecord {
    /// The template it renders with.
    pub fn template(&self) -> Result<Template, String> {
        let text = match (&self.config.template, &self.custom_data_set) {
            (TemplateChoice::Preset(preset), _) => preset.template_text(),
            (TemplateChoice::Custom(_), Some(data_set)) => data_set.clone(),
            (TemplateChoice::Custom(id), None) => {
                return Err(format!("custom template {id} is missing"));
            }
        };
        Template::compile(&text, self.config.data_source).map_err(|e| e.to_string())
    }

    /// The form for the browser: secrets blank, with flags saying which are stored.
    pub fn for_browser(&self) -> StreamForm {
        StreamForm::from_config(self.id, &self.config, self.custom_data_set.as_deref())
    }
}

/// Fills the secrets a form left blank ([`Secret::Stored`]) from the saved stream — only
/// while the destination is the one they were saved for. A blank secret with nothing to
/// fill it is an error naming its field.
pub fn fill_stored_secrets(
    endpoint: &mut EndpointSettings,
    saved: Option<&EndpointSettings>,
) -> Result<(), FieldError> {
    let same_destination = saved.is_some_and(|saved| {
        saved.endpoint_type() == endpoint.endpoint_type()
            && saved.endpoint().destination() == endpoint.endpoint().destination()
    });
    let stored = match saved {
        Some(saved) if same_destination => sealed_values(&mut saved.clone()),
        _ => BTreeMap::new(),
    };
    for field in endpoint.secrets_mut() {
        if *field.secret != Secret::Stored {
            continue;
        }
        match stored.get(&field.key) {
            Some(value) => *field.secret = Secret::Given(value.clone()),
            None if saved.is_some() && !same_destination => {
                return Err(FieldError::new(
                    field.field,
                    format!("{} is required again: the destination changed", field.label),
                ));
            }
            None => {
                return Err(FieldError::new(
                    field.field,
                    format!(
                        "{} is required (a renamed header needs its value again)",
                        field.label
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The secret values by key, for sealing.
fn sealed_values(endpoint: &mut EndpointSettings) -> BTreeMap<String, String> {
    endpoint
        .secrets_mut()
        .into_iter()
        .filter_map(|field| Some((field.key, field.secret.value()?.to_string())))
        .collect()
}

/// Opens a stream's sealed secrets into its settings. Rows sealed before the typed
/// configuration hold `{"secret_key": …, "header_values": {name: value}}`: read as the
/// keys `secret_key` and `headers.<name>`.
fn open_secrets(
    endpoint: &mut EndpointSettings,
    sealed: &str,
    secrets: &SecretBox,
) -> Result<(), DbError> {
    let corrupt = |e: String| DbError::Corrupt(format!("stream secrets: {e}"));
    let opened = secrets.open(sealed).map_err(|e| corrupt(e.to_string()))?;
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&opened).map_err(|e| corrupt(e.to_string()))?;
    let mut values = BTreeMap::new();
    for (key, value) in json {
        match value {
            serde_json::Value::String(text) if !text.is_empty() => {
                values.insert(key, text);
            }
            serde_json::Value::Object(headers) if key == "header_values" => {
                for (name, value) in headers {
                    if let Some(text) = value.as_str() {
                        values.insert(format!("headers.{name}"), text.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    for field in endpoint.secrets_mut() {
        if let Some(value) = values.remove(&field.key) {
            *field.secret = Secret::Given(value);
        }
    }
    Ok(())
}

const STREAM_COLUMNS: &str = "s.id, s.account_id, s.name, s.data_source, s.template, \
     s.template_id, t.data_set, s.all_domains, s.sampling, s.endpoint_type, s.endpoint_config, \
     s.endpoint_secrets, s.active, s.revision";
const STREAM_TABLES: &str =
    "streams s LEFT JOIN templates t ON t.id = s.template_id AND t.account_id = s.account_id";

/// The stored template columns: a preset's id, or `custom` and the template's row.
fn template_choice(row: &AnyRow) -> Result<TemplateChoice, DbError> {
    let template: String = row.try_get("template")?;
    if template == CUSTOM_TEMPLATE {
        let id: Option<i64> = row.try_get("template_id")?;
        return id
            .map(TemplateChoice::Custom)
            .ok_or_else(|| DbError::Corrupt("custom template without its row".into()));
    }
    Preset::find(&template)
        .map(TemplateChoice::Preset)
        .ok_or_else(|| DbError::Corrupt(format!("unknown preset {template:?}")))
}

fn endpoint_settings(row: &AnyRow) -> Result<EndpointSettings, DbError> {
    let endpoint_type: String = row.try_get("endpoint_type")?;
    let config: String = row.try_get("endpoint_config")?;
    EndpointSettings::from_stored(&endpoint_type, &config).map_err(DbError::Corrupt)
}

fn data_source(row: &AnyRow) -> Result<DataSource, DbError> {
    let source: String = row.try_get("data_source")?;
    source
        .parse()
        .map_err(|e: engine::UnknownDataSource| DbError::Corrupt(e.to_string()))
}

impl Db {
    fn stream_from_row(
        &self,
        row: &AnyRow,
        domain_ids: Vec<i64>,
        secrets: &SecretBox,
    ) -> Result<StreamRecord, DbError> {
        let mut endpoint = endpoint_settings(row)?;
        let sealed: String = row.try_get("endpoint_secrets")?;
        open_secrets(&mut endpoint, &sealed, secrets)?;
        let domains = if row.try_get::<i64, _>("all_domains")? != 0 {
            let sampling = u8::try_from(row.try_get::<i64, _>("sampling")?)
                .map_err(|e| e.to_string())
                .and_then(SamplingPercent::try_from)
                .map_err(DbError::Corrupt)?;
            Domains::All { sampling }
        } else {
            Domains::List(domain_ids)
        };
        let name: String = row.try_get("name")?;
        let data_source = data_source(row)?;
        Ok(StreamRecord {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            config: StreamConfig {
                name: StreamName::parse(&name).map_err(DbError::Corrupt)?,
                data_source,
                template: template_choice(row)?,
                domains: data_source.has_hosts().then_some(domains),
                endpoint,
                active: row.try_get::<i64, _>("active")? != 0,
            },
            custom_data_set: row.try_get("data_set")?,
            revision: row.try_get("revision")?,
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
            "SELECT {STREAM_COLUMNS} FROM {STREAM_TABLES} WHERE s.account_id = $1 AND s.id = $2"
        ))
        .bind(account_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(DbError::NotFound)?;
        let domains = self.stream_domain_ids(account_id, id).await?;
        self.stream_from_row(&row, domains, secrets)
    }

    /// Every stream of the account, with secrets: for the engine. A row that cannot be
    /// read is that stream's error (its id and why), not the account's.
    pub async fn streams(
        &self,
        account_id: i64,
        secrets: &SecretBox,
    ) -> Result<Vec<Result<StreamRecord, (i64, DbError)>>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM {STREAM_TABLES} WHERE s.account_id = $1 ORDER BY s.name"
        ))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        let mut streams = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let domains = self.stream_domain_ids(account_id, id).await?;
            streams.push(
                self.stream_from_row(row, domains, secrets)
                    .map_err(|e| (id, e)),
            );
        }
        Ok(streams)
    }

    pub async fn stream_summaries(&self, account_id: i64) -> Result<Vec<StreamSummary>, DbError> {
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.data_source, s.template, s.template_id, s.endpoint_type, \
             s.endpoint_config, s.active, st.last_success_at, st.last_error_at, st.last_error, \
             st.engine_error, \
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
                // Unreadable settings still list the stream (the engine error says why).
                let (endpoint_label, endpoint_host) = match endpoint_settings(r) {
                    Ok(endpoint) => (
                        endpoint.endpoint_type().label.to_string(),
                        endpoint.endpoint().host(),
                    ),
                    Err(_) => (r.try_get("endpoint_type")?, String::new()),
                };
                Ok(StreamSummary {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    data_source: data_source(r)?,
                    template: template_choice(r)?,
                    endpoint_label,
                    endpoint_host,
                    active: r.try_get::<i64, _>("active")? != 0,
                    status: DeliveryStatus {
                        last_success_at: r.try_get("last_success_at")?,
                        last_error_at: r.try_get("last_error_at")?,
                        last_error: r.try_get("last_error")?,
                        records_delivered: r.try_get("records_delivered")?,
                        bytes_delivered: r.try_get("bytes_delivered")?,
                        blocks_failed: r.try_get("blocks_failed")?,
                        engine_error: r.try_get("engine_error")?,
                    },
                })
            })
            .collect()
    }

    /// Creates (`id` None) or updates a parsed stream; returns its id. Secrets left blank
    /// are the saved ones (same destination only); a new custom template (id 0) gets its own
    /// row from the data set, a saved one is linked as it is. An update changes only the
    /// revision it read (`expected_revision`, when given, must be it): else `Stale`.
    pub async fn save_stream(
        &self,
        account_id: i64,
        id: Option<i64>,
        parsed: &ParsedStream,
        secrets: &SecretBox,
        expected_revision: Option<i64>,
    ) -> Result<i64, DbError> {
        let saved = match id {
            Some(id) => Some(self.stream(account_id, id, secrets).await?),
            None => None,
        };
        if let (Some(expected), Some(saved)) = (expected_revision, &saved)
            && expected != saved.revision
        {
            return Err(DbError::Stale);
        }
        let mut config = parsed.config.clone();
        fill_stored_secrets(
            &mut config.endpoint,
            saved.as_ref().map(|s| &s.config.endpoint),
        )
        .map_err(DbError::InvalidField)?;
        let (endpoint_type, endpoint_config) = config.endpoint.to_stored();
        let sealed = secrets.seal(
            &serde_json::to_string(&sealed_values(&mut config.endpoint))
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
        );
        let (template, sampling, all_domains, domain_ids) = (
            match config.template {
                TemplateChoice::Preset(preset) => preset.id,
                TemplateChoice::Custom(_) => CUSTOM_TEMPLATE,
            },
            match &config.domains {
                Some(Domains::All { sampling }) => sampling.get(),
                _ => SamplingPercent::ALL.get(),
            },
            matches!(config.domains, Some(Domains::All { .. })),
            match &config.domains {
                Some(Domains::List(ids)) => ids.as_slice(),
                _ => &[],
            },
        );
        let now = now_millis();
        let mut tx = self.pool().begin().await?;
        // A saved template is linked as it is (its data set changes as a template's, through
        // `update_template`); a new one (id 0) is inserted with the data set.
        let template_id: Option<i64> = match (&config.template, &parsed.custom_data_set) {
            (TemplateChoice::Custom(template_id), _) if *template_id != 0 => {
                let found = sqlx::query(
                    "SELECT data_source FROM templates WHERE account_id = $1 AND id = $2",
                )
                .bind(account_id)
                .bind(template_id)
                .fetch_optional(&mut *tx)
                .await?;
                let source: Option<String> = found.map(|r| r.try_get("data_source")).transpose()?;
                match source {
                    Some(source) if source == config.data_source.as_str() => Some(*template_id),
                    Some(_) => {
                        return Err(DbError::InvalidField(FieldError::new(
                            "template_id",
                            format!("This template is not for {}", config.data_source.label()),
                        )));
                    }
                    None => {
                        return Err(DbError::InvalidField(FieldError::new(
                            "template_id",
                            "No template of the account has this id",
                        )));
                    }
                }
            }
            (TemplateChoice::Custom(_), Some(data_set)) => Some(
                sqlx::query(
                    "INSERT INTO templates (account_id, name, data_source, data_set, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(account_id)
                .bind(config.name.as_str())
                .bind(config.data_source.as_str())
                .bind(data_set)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?,
            ),
            (TemplateChoice::Custom(_), None) => {
                return Err(DbError::InvalidField(FieldError::new(
                    "custom_template",
                    "The Data Set is required for a Custom Template",
                )));
            }
            (TemplateChoice::Preset(_), _) => None,
        };
        let id: i64 = match id {
            None => sqlx::query(
                "INSERT INTO streams (account_id, name, data_source, template, template_id, \
                 all_domains, sampling, endpoint_type, endpoint_config, endpoint_secrets, active, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(account_id)
            .bind(config.name.as_str())
            .bind(config.data_source.as_str())
            .bind(template)
            .bind(template_id)
            .bind(i64::from(all_domains))
            .bind(i64::from(sampling))
            .bind(endpoint_type)
            .bind(&endpoint_config)
            .bind(&sealed)
            .bind(i64::from(config.active))
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| DbError::on_unique(e, "a stream with this name"))?
            .try_get("id")?,
            Some(id) => {
                sqlx::query(
                    "UPDATE streams SET name = $1, data_source = $2, template = $3, \
                     template_id = $4, all_domains = $5, sampling = $6, endpoint_type = $7, \
                     endpoint_config = $8, endpoint_secrets = $9, active = $10, updated_at = $11, \
                     revision = revision + 1 \
                     WHERE account_id = $12 AND id = $13 AND revision = $14",
                )
                .bind(config.name.as_str())
                .bind(config.data_source.as_str())
                .bind(template)
                .bind(template_id)
                .bind(i64::from(all_domains))
                .bind(i64::from(sampling))
                .bind(endpoint_type)
                .bind(&endpoint_config)
                .bind(&sealed)
                .bind(i64::from(config.active))
                .bind(now)
                .bind(account_id)
                .bind(id)
                .bind(saved.as_ref().map_or(0, |s| s.revision))
                .execute(&mut *tx)
                .await
                .map_err(|e| DbError::on_unique(e, "a stream with this name"))
                .and_then(|done| expect_row(done).map_err(|_| DbError::Stale))?;
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
        for domain_id in domain_ids {
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
                "UPDATE streams SET active = $1, updated_at = $2, revision = revision + 1 \
                 WHERE account_id = $3 AND id = $4",
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
