//! `/api/v1/streams`: data streams, their status, delivery log and dashboard figures, and
//! the redeliver action. Secrets are write-only: every answer shows a stored one as
//! `********`, and a `********` (or blank) secret written back keeps the stored value —
//! while the destination is unchanged, as on the console.

use std::collections::{BTreeMap, BTreeSet};

use app::backend::activity::Actor;
use app::backend::{AppState, DbError, operations};
use app::error::AppError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use model::activity::MASKED;
use model::{CUSTOM_TEMPLATE, EndpointForm, StreamForm};
use serde::{Deserialize, Serialize};
use storage::streams::StreamRecord;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, Body, Id, Params};
use super::{PageInfo, PageParams, etag, if_match, merge_patch};

/// Where a stream delivers: an endpoint type and its fields, keyed as on the console's
/// form (`GET /api/v1/data-sources` lists sources; the console's form lists the fields).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// `http`, `s3`, `kafka`, `splunk`, `elasticsearch`, `datadog`, `qradar`,
    /// `azure_monitor`, `azure_blob`, `bigquery`, `firehose`.
    #[serde(rename = "type")]
    pub endpoint_type: String,
    /// Text, secret and choice fields by key (e.g. `url`, `secret_key`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Row fields by key (e.g. `headers`); header values are secrets.
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<Row>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub name: String,
    pub value: String,
}

/// A stream as written (create, replace; a patch is merged onto it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamInput {
    pub name: String,
    /// `edge_applications`, `waf_events` or `activity_history`.
    pub data_source: String,
    /// A preset's id; or null with `template_id`.
    #[serde(default)]
    pub template: Option<String>,
    /// A custom template's id (`/api/v1/templates`); or null with `template`.
    #[serde(default)]
    pub template_id: Option<i64>,
    /// Every domain of the account, also those added later (sampled by `sampling`).
    #[serde(default)]
    pub all_domains: bool,
    /// The domains, when not `all_domains`.
    #[serde(default)]
    pub domain_ids: Vec<i64>,
    /// Percent of events kept (1–100), only with `all_domains`.
    #[serde(default = "all_of_them")]
    pub sampling: i64,
    pub endpoint: Endpoint,
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn all_of_them() -> i64 {
    100
}

fn active_by_default() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stream {
    pub id: i64,
    pub name: String,
    pub data_source: String,
    pub template: Option<String>,
    pub template_id: Option<i64>,
    pub all_domains: bool,
    pub domain_ids: Vec<i64>,
    pub sampling: i64,
    pub endpoint: Endpoint,
    pub active: bool,
    /// Bumped on every change; the `ETag`.
    pub revision: i64,
}

impl Stream {
    fn from_record(record: &StreamRecord) -> Stream {
        let input = input_of(record);
        Stream {
            id: record.id,
            name: input.name,
            data_source: input.data_source,
            template: input.template,
            template_id: input.template_id,
            all_domains: input.all_domains,
            domain_ids: input.domain_ids,
            sampling: input.sampling,
            endpoint: input.endpoint,
            active: input.active,
            revision: record.revision,
        }
    }
}

/// The stored stream as written, its stored secrets masked.
fn input_of(record: &StreamRecord) -> StreamInput {
    let form = record.for_browser();
    let stored = &form.endpoint.stored;
    let fields = form
        .endpoint
        .values
        .iter()
        .map(|(key, value)| {
            let shown = if stored.contains(key) { MASKED } else { value };
            (key.clone(), shown.to_string())
        })
        .collect();
    let lists = form
        .endpoint
        .lists
        .iter()
        .map(|(key, rows)| {
            let rows = rows
                .iter()
                .map(|pair| Row {
                    name: pair.name.clone(),
                    value: MASKED.to_string(),
                })
                .collect();
            (key.clone(), rows)
        })
        .collect();
    let custom = form.template == CUSTOM_TEMPLATE;
    StreamInput {
        name: form.name,
        data_source: form.data_source,
        template: (!custom).then_some(form.template),
        template_id: form.custom_template_id.filter(|_| custom),
        all_domains: form.all_domains,
        domain_ids: form.domain_ids,
        sampling: form.sampling.parse().unwrap_or(100),
        endpoint: Endpoint {
            endpoint_type: form.endpoint.endpoint_type,
            fields,
            lists,
        },
        active: form.active,
    }
}

/// The console's form for a written stream: a masked or blank secret keeps the stored
/// one (`stored`, the saved stream's), a custom template is the account's row.
async fn form_of(
    state: &AppState,
    actor: &Actor,
    id: Option<i64>,
    input: StreamInput,
    stored: BTreeSet<String>,
) -> Result<StreamForm, ApiError> {
    // `********` keeps a stored secret (blank, as on the console's form); anywhere else it
    // would be taken for the value itself, so it is refused.
    let mut masked_without_secret = Vec::new();
    let mut unmask = |key: String, field: String, value: String| {
        if value != MASKED {
            return value;
        }
        if !stored.contains(&key) {
            masked_without_secret.push(field);
        }
        String::new()
    };
    let values: BTreeMap<String, String> = input
        .endpoint
        .fields
        .into_iter()
        .map(|(k, v)| {
            let field = format!("endpoint.{k}");
            (k.clone(), unmask(k, field, v))
        })
        .collect();
    let lists: BTreeMap<String, Vec<model::endpoints::Pair>> = input
        .endpoint
        .lists
        .into_iter()
        .map(|(k, rows)| {
            let rows = rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let key = format!("{k}.{}", row.name.trim().to_ascii_lowercase());
                    let field = format!("endpoint.{k}.{i}.value");
                    model::endpoints::Pair {
                        value: unmask(key, field, row.value),
                        name: row.name,
                    }
                })
                .collect();
            (k, rows)
        })
        .collect();
    if !masked_without_secret.is_empty() {
        let message = "******** keeps a stored secret, and none is stored here: give the value";
        let errors = masked_without_secret
            .into_iter()
            .map(|field| model::FieldError::new(field, message))
            .collect();
        return Err(AppError::InvalidFields(errors).into());
    }
    let (template, custom_template_id, custom_template) = match (input.template, input.template_id)
    {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "template_id",
                "Give template (a preset) or template_id (a custom template), not both",
            ));
        }
        (Some(preset), None) => (preset, None, String::new()),
        (None, Some(template_id)) => match state.db.template(actor.account_id, template_id).await {
            Ok(template) => (
                CUSTOM_TEMPLATE.to_string(),
                Some(template_id),
                template.data_set,
            ),
            Err(DbError::NotFound) => {
                return Err(ApiError::field(
                    "template_id",
                    "No template of the account has this id",
                ));
            }
            Err(e) => return Err(e.into()),
        },
        (None, None) => {
            return Err(ApiError::field(
                "template",
                "Give template (a preset id) or template_id (a custom template)",
            ));
        }
    };
    Ok(StreamForm {
        id,
        name: input.name,
        data_source: input.data_source,
        template,
        custom_template_id,
        custom_template,
        all_domains: input.all_domains,
        domain_ids: input.domain_ids,
        sampling: input.sampling.to_string(),
        endpoint: EndpointForm {
            endpoint_type: input.endpoint.endpoint_type,
            values,
            lists,
            stored,
        },
        active: input.active,
    })
}

async fn record(state: &AppState, actor: &Actor, id: i64) -> Result<StreamRecord, ApiError> {
    Ok(state
        .db
        .stream(actor.account_id, id, &state.secrets)
        .await?)
}

fn answer(record: &StreamRecord) -> impl IntoResponse + use<> {
    (
        etag(record.revision),
        axum::Json(Stream::from_record(record)),
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreamPage {
    pub items: Vec<Stream>,
    pub page: PageInfo,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamFilter {
    /// Only streams whose name contains this (case-insensitive).
    pub name: Option<String>,
    /// Only active (true) or inactive (false) streams.
    pub active: Option<bool>,
    /// Only streams of this data source.
    pub data_source: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/streams", tag = "streams", operation_id = "list_streams",
    params(StreamFilter, PageParams),
    responses((status = 200, description = "The account's streams, by name", body = StreamPage)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(filter): Params<StreamFilter>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<StreamPage>, ApiError> {
    let named = super::name_filter(filter.name);
    let streams: Vec<Stream> = state
        .db
        .streams(actor.account_id, &state.secrets)
        .await?
        .into_iter()
        // A row that cannot be read is on the console's list with its error.
        .filter_map(Result::ok)
        .filter(|s| named(s.config.name.as_str()))
        .filter(|s| filter.active.is_none_or(|a| s.config.active == a))
        .filter(|s| {
            filter
                .data_source
                .as_ref()
                .is_none_or(|d| s.config.data_source.as_str() == d)
        })
        .map(|s| Stream::from_record(&s))
        .collect();
    let (items, page) = page.page(streams)?;
    Ok(axum::Json(StreamPage { items, page }))
}

#[utoipa::path(post, path = "/api/v1/streams", tag = "streams", operation_id = "create_stream",
    request_body = StreamInput,
    responses(
        (status = 201, description = "Created; the running engine uses it", body = Stream, headers(("ETag" = String))),
        (status = 409, description = "The account has as many streams as it may", body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Body(input): Body<StreamInput>,
) -> Result<impl IntoResponse, ApiError> {
    let form = form_of(&state, &actor, None, input, BTreeSet::new()).await?;
    let id = operations::save_stream(&state, &actor, None, &form, None).await?;
    Ok((
        StatusCode::CREATED,
        answer(&record(&state, &actor, id).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/streams/{id}", tag = "streams", operation_id = "get_stream",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The stream (secrets masked)", body = Stream, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    Ok(answer(&record(&state, &actor, id).await?))
}

async fn write(
    state: &AppState,
    actor: &Actor,
    current: &StreamRecord,
    input: StreamInput,
    expected_revision: Option<i64>,
) -> Result<impl IntoResponse + use<>, ApiError> {
    let stored = current.for_browser().endpoint.stored;
    let form = form_of(state, actor, Some(current.id), input, stored).await?;
    operations::save_stream(state, actor, Some(current.id), &form, expected_revision).await?;
    Ok(answer(&record(state, actor, current.id).await?))
}

#[utoipa::path(put, path = "/api/v1/streams/{id}", tag = "streams", operation_id = "replace_stream",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The ETag read: refused with 412 if it changed since")),
    request_body = StreamInput,
    responses(
        (status = 200, description = "Replaced; the running engine uses it", body = Stream, headers(("ETag" = String))),
        (status = 412, description = "Changed since the ETag in If-Match", body = super::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    headers: HeaderMap,
    Body(input): Body<StreamInput>,
) -> Result<impl IntoResponse, ApiError> {
    let current = record(&state, &actor, id).await?;
    write(&state, &actor, &current, input, if_match(&headers)).await
}

#[utoipa::path(patch, path = "/api/v1/streams/{id}", tag = "streams", operation_id = "patch_stream",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The ETag read: refused with 412 if it changed since")),
    request_body(content = serde_json::Value, content_type = "application/merge-patch+json",
        description = "A JSON Merge Patch of the stream's fields, e.g. {\"active\": false}"),
    responses(
        (status = 200, description = "Changed; the running engine uses it", body = Stream, headers(("ETag" = String))),
        (status = 412, description = "Changed since the ETag in If-Match", body = super::ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    headers: HeaderMap,
    Body(patch): Body<serde_json::Value>,
) -> Result<impl IntoResponse, ApiError> {
    let current = record(&state, &actor, id).await?;
    let input: StreamInput = merge_patch(&input_of(&current), &patch)?;
    // Without If-Match, still only onto the revision the patch was merged with.
    let expected = if_match(&headers).or(Some(current.revision));
    write(&state, &actor, &current, input, expected).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Delete even with records waiting for the endpoint (they are discarded).
    pub discard_waiting: Option<bool>,
}

#[utoipa::path(delete, path = "/api/v1/streams/{id}", tag = "streams", operation_id = "delete_stream",
    params(("id" = i64, Path), DeleteParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Records wait for its endpoint: repeat with discard_waiting=true", body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    Params(params): Params<DeleteParams>,
) -> Result<StatusCode, ApiError> {
    let discard = params.discard_waiting.unwrap_or(false);
    operations::delete_stream(&state, &actor, id, discard).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the engine last did for a stream, and what waits in its spool.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamStatus {
    pub id: i64,
    pub active: bool,
    /// RFC 3339, UTC.
    pub last_success_at: Option<String>,
    pub last_error_at: Option<String>,
    /// A status code or a short reason.
    pub last_error: Option<String>,
    pub records_delivered: i64,
    pub bytes_delivered: i64,
    /// Blocks the endpoint refused for good (see redeliver).
    pub blocks_failed: i64,
    /// Why the engine could not start the stream.
    pub engine_error: Option<String>,
    pub waiting: Waiting,
    /// Cluster mode only: the stream's records on the bus and who delivers them.
    pub bus: Option<BusStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BusStatus {
    /// Accepted by any instance, not yet delivered.
    pub lag_records: u64,
    pub lag_bytes: u64,
    /// The instances that delivered the stream's blocks in the last 5 minutes, latest first.
    pub delivered_by: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Waiting {
    pub blocks: u64,
    pub bytes: u64,
    /// Blocks refused for good, waiting for a redelivery.
    pub failed_blocks: u64,
}

fn status_of(id: i64, dashboard: &model::StreamDashboard) -> StreamStatus {
    let status = &dashboard.status;
    StreamStatus {
        id,
        active: dashboard.active,
        last_success_at: status.last_success_at.map(model::rfc3339_utc),
        last_error_at: status.last_error_at.map(model::rfc3339_utc),
        last_error: status.last_error.clone(),
        records_delivered: status.records_delivered,
        bytes_delivered: status.bytes_delivered,
        blocks_failed: status.blocks_failed,
        engine_error: status.engine_error.clone(),
        waiting: Waiting {
            blocks: dashboard.spool.blocks,
            bytes: dashboard.spool.bytes,
            failed_blocks: dashboard.spool.failed_blocks,
        },
        bus: dashboard.bus.as_ref().map(|bus| BusStatus {
            lag_records: bus.lag_records,
            lag_bytes: bus.lag_bytes,
            delivered_by: bus.delivered_by.clone(),
        }),
    }
}

#[utoipa::path(get, path = "/api/v1/streams/{id}/status", tag = "streams", operation_id = "get_stream_status",
    params(("id" = i64, Path)),
    responses((status = 200, description = "Delivery status", body = StreamStatus)))]
pub async fn status(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<axum::Json<StreamStatus>, ApiError> {
    let dashboard = app::backend::stream_dashboard(&state, actor.account_id, id).await?;
    Ok(axum::Json(status_of(id, &dashboard)))
}

/// One interval's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct Figures {
    /// Start of the interval, RFC 3339 UTC.
    pub at: String,
    /// Events for the stream's domains (before sampling).
    pub received: i64,
    pub sampled_out: i64,
    pub delivered: i64,
    /// Failed delivery attempts.
    pub failed: i64,
    pub bytes: i64,
    /// Mean time from a block's sealing to its acknowledgement.
    pub latency_ms: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub status: StreamStatus,
    /// Per minute, the last hour (oldest first).
    pub last_hour: Vec<Figures>,
    /// Per 30 minutes, the last day (oldest first).
    pub last_day: Vec<Figures>,
}

fn figures(points: &[model::MetricPoint]) -> Vec<Figures> {
    points
        .iter()
        .map(|p| Figures {
            at: model::rfc3339_utc(p.at),
            received: p.received,
            sampled_out: p.sampled_out,
            delivered: p.delivered,
            failed: p.failed,
            bytes: p.bytes,
            latency_ms: p.latency_ms,
        })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/streams/{id}/dashboard", tag = "streams", operation_id = "get_stream_dashboard",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The dashboard's figures", body = Dashboard)))]
pub async fn dashboard(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<axum::Json<Dashboard>, ApiError> {
    let dashboard = app::backend::stream_dashboard(&state, actor.account_id, id).await?;
    Ok(axum::Json(Dashboard {
        status: status_of(id, &dashboard),
        last_hour: figures(&dashboard.last_hour),
        last_day: figures(&dashboard.last_day),
    }))
}

/// One delivery attempt of a block.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// RFC 3339, UTC.
    pub at: String,
    pub block_id: String,
    pub records: i64,
    /// `delivered`, `failed` (retried) or `refused` (set aside).
    pub outcome: String,
    /// The endpoint's answer: status code, or the error.
    pub answer: String,
    pub duration_ms: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only attempts with this outcome: delivered, failed or refused.
    pub outcome: Option<String>,
    /// At most this many, newest first (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/streams/{id}/deliveries", tag = "streams", operation_id = "list_stream_deliveries",
    params(("id" = i64, Path), DeliveryParams),
    responses((status = 200, description = "The delivery log, newest first", body = Vec<Delivery>)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    Params(params): Params<DeliveryParams>,
) -> Result<axum::Json<Vec<Delivery>>, ApiError> {
    let outcome = match params.outcome.as_deref() {
        None => None,
        Some(text) => Some(model::AttemptOutcome::parse(text).ok_or_else(|| {
            ApiError::query("outcome", "Outcome must be delivered, failed or refused")
        })?),
    };
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::query("limit", "limit must be from 1 to 200"));
    }
    record(&state, &actor, id).await?;
    let attempts = state
        .db
        .delivery_attempts(actor.account_id, id, outcome, i64::from(limit))
        .await?;
    Ok(axum::Json(
        attempts
            .into_iter()
            .map(|a| Delivery {
                at: model::rfc3339_utc(a.at),
                block_id: a.block_id,
                records: a.records,
                outcome: a.outcome.as_str().to_string(),
                answer: a.answer,
                duration_ms: a.duration_ms,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Redelivered {
    /// Blocks queued again.
    pub queued: usize,
}

#[utoipa::path(post, path = "/api/v1/streams/{id}/redeliver", tag = "streams", operation_id = "redeliver_stream",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The blocks the endpoint refused for good are queued again", body = Redelivered)))]
pub async fn redeliver(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<axum::Json<Redelivered>, ApiError> {
    let queued = operations::redeliver_failed(&state, &actor, id).await?;
    Ok(axum::Json(Redelivered { queued }))
}
