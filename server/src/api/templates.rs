//! `/api/v1/templates`: the account's custom templates, which streams share; and
//! `/api/v1/presets`, the read-only ones.

use app::backend::activity::Actor;
use app::backend::{AppState, operations};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use model::TemplateForm;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, Body, Id, Params};
use super::{PageInfo, PageParams, etag, if_match, merge_patch};

#[derive(Debug, Serialize, ToSchema)]
pub struct Template {
    pub id: i64,
    pub name: String,
    /// `edge_applications`, `waf_events` or `activity_history`.
    pub data_source: String,
    /// A JSON object whose values use the data source's `$variables`.
    pub data_set: String,
    /// Bumped on every change; the `ETag`.
    pub revision: i64,
    /// The streams that render with it: it cannot be deleted while any do.
    pub used_by: Vec<StreamRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreamRef {
    pub id: i64,
    pub name: String,
}

impl From<model::CustomTemplate> for Template {
    fn from(t: model::CustomTemplate) -> Template {
        Template {
            id: t.id,
            name: t.name,
            data_source: t.data_source.as_str().to_string(),
            data_set: t.data_set,
            revision: t.revision,
            used_by: t
                .used_by
                .into_iter()
                .map(|(id, name)| StreamRef { id, name })
                .collect(),
        }
    }
}

/// A template as written.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub name: String,
    /// `edge_applications`, `waf_events` or `activity_history`.
    pub data_source: String,
    /// A JSON object whose values use the data source's `$variables`.
    pub data_set: String,
}

impl TemplateInput {
    fn form(self) -> TemplateForm {
        TemplateForm {
            name: self.name,
            data_source: self.data_source,
            data_set: self.data_set,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatePage {
    pub items: Vec<Template>,
    pub page: PageInfo,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateFilter {
    /// Only templates whose name contains this (case-insensitive).
    pub name: Option<String>,
    /// Only templates of this data source.
    pub data_source: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", operation_id = "list_templates",
    params(TemplateFilter, PageParams),
    responses((status = 200, description = "The account's custom templates, by name", body = TemplatePage)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(filter): Params<TemplateFilter>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<TemplatePage>, ApiError> {
    let named = super::name_filter(filter.name);
    let templates: Vec<Template> = state
        .db
        .templates(actor.account_id)
        .await?
        .into_iter()
        .filter(|t| named(&t.name))
        .filter(|t| {
            filter
                .data_source
                .as_ref()
                .is_none_or(|s| t.data_source.as_str() == s)
        })
        .map(Template::from)
        .collect();
    let (items, page) = page.page(templates)?;
    Ok(axum::Json(TemplatePage { items, page }))
}

#[utoipa::path(post, path = "/api/v1/templates", tag = "templates", operation_id = "create_template",
    request_body = TemplateInput,
    responses(
        (status = 201, description = "Created", body = Template, headers(("ETag" = String))),
        (status = 409, description = "The account has as many templates as it may", body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Body(input): Body<TemplateInput>,
) -> Result<impl IntoResponse, ApiError> {
    let template = operations::create_template(&state, &actor, &input.form()).await?;
    Ok((
        StatusCode::CREATED,
        etag(template.revision),
        axum::Json(Template::from(template)),
    ))
}

#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "templates", operation_id = "get_template",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The template", body = Template, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    let template = state.db.template(actor.account_id, id).await?;
    Ok((
        etag(template.revision),
        axum::Json(Template::from(template)),
    ))
}

async fn write(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: TemplateInput,
    expected_revision: Option<i64>,
) -> Result<impl IntoResponse + use<>, ApiError> {
    let template =
        operations::update_template(state, actor, id, &input.form(), expected_revision).await?;
    Ok((
        etag(template.revision),
        axum::Json(Template::from(template)),
    ))
}

#[utoipa::path(put, path = "/api/v1/templates/{id}", tag = "templates", operation_id = "replace_template",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The ETag read: refused with 412 if it changed since")),
    request_body = TemplateInput,
    responses(
        (status = 200, description = "Replaced; its streams render with it at once", body = Template, headers(("ETag" = String))),
        (status = 409, description = "A new data source while streams use it", body = super::ErrorBody),
        (status = 412, description = "Changed since the ETag in If-Match", body = super::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    headers: HeaderMap,
    Body(input): Body<TemplateInput>,
) -> Result<impl IntoResponse, ApiError> {
    write(&state, &actor, id, input, if_match(&headers)).await
}

#[utoipa::path(patch, path = "/api/v1/templates/{id}", tag = "templates", operation_id = "patch_template",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The ETag read: refused with 412 if it changed since")),
    request_body(content = serde_json::Value, content_type = "application/merge-patch+json",
        description = "A JSON Merge Patch of the template's fields (name, data_source, data_set)"),
    responses(
        (status = 200, description = "Changed", body = Template, headers(("ETag" = String))),
        (status = 409, description = "A new data source while streams use it", body = super::ErrorBody),
        (status = 412, description = "Changed since the ETag in If-Match", body = super::ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    headers: HeaderMap,
    Body(patch): Body<serde_json::Value>,
) -> Result<impl IntoResponse, ApiError> {
    let current = state.db.template(actor.account_id, id).await?;
    // Without If-Match, still only onto the revision the patch was merged with.
    let expected = if_match(&headers).or(Some(current.revision));
    let current = TemplateInput {
        name: current.name,
        data_source: current.data_source.as_str().to_string(),
        data_set: current.data_set,
    };
    let input: TemplateInput = merge_patch(&current, &patch)?;
    write(&state, &actor, id, input, expected).await
}

#[utoipa::path(delete, path = "/api/v1/templates/{id}", tag = "templates", operation_id = "delete_template",
    params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Streams use it (named in the message)", body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    operations::delete_template(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A read-only template.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preset {
    /// What a stream's `template` names.
    pub id: String,
    pub name: String,
    pub data_source: String,
    pub data_set: String,
}

impl From<&engine::Preset> for Preset {
    fn from(p: &engine::Preset) -> Preset {
        Preset {
            id: p.id.to_string(),
            name: p.name.to_string(),
            data_source: p.data_source.as_str().to_string(),
            data_set: p.template_text(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/presets", tag = "templates", operation_id = "list_presets",
    responses((status = 200, description = "Every preset", body = Vec<Preset>)))]
pub async fn list_presets(_caller: Caller) -> axum::Json<Vec<Preset>> {
    axum::Json(engine::PRESETS.iter().map(Preset::from).collect())
}

#[utoipa::path(get, path = "/api/v1/presets/{id}", tag = "templates", operation_id = "get_preset",
    params(("id" = String, Path, description = "e.g. edge-applications-event-collector")),
    responses((status = 200, description = "The preset", body = Preset)))]
pub async fn get_preset(
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Preset>, ApiError> {
    engine::Preset::find(&id)
        .map(|p| axum::Json(Preset::from(p)))
        .ok_or_else(|| app::error::AppError::NotFound.into())
}
