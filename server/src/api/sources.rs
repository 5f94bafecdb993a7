//! `/api/v1/data-sources`: what events there are, the variables a template can use, and
//! the presets of each.

use axum::extract::Path;
use engine::DataSource as Source;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct DataSource {
    /// What a stream's or template's `data_source` names.
    pub id: String,
    pub label: String,
    /// Whether its streams pick domains (Activity History has no hosts).
    pub has_domains: bool,
    pub variables: Vec<Variable>,
    /// Ids of its presets.
    pub presets: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Variable {
    /// Without `$`: the event's JSON key.
    pub name: String,
    pub description: String,
}

impl From<Source> for DataSource {
    fn from(source: Source) -> DataSource {
        DataSource {
            id: source.as_str().to_string(),
            label: source.label().to_string(),
            has_domains: source.has_hosts(),
            variables: source
                .variables()
                .iter()
                .map(|v| Variable {
                    name: v.name.to_string(),
                    description: v.description.to_string(),
                })
                .collect(),
            presets: engine::presets_for(source)
                .map(|p| p.id.to_string())
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/data-sources", tag = "data sources", operation_id = "list_data_sources",
    responses((status = 200, description = "Every data source", body = Vec<DataSource>)))]
pub async fn list(_caller: Caller) -> axum::Json<Vec<DataSource>> {
    axum::Json(Source::ALL.into_iter().map(DataSource::from).collect())
}

#[utoipa::path(get, path = "/api/v1/data-sources/{id}", tag = "data sources", operation_id = "get_data_source",
    params(("id" = String, Path, description = "edge_applications, waf_events or activity_history")),
    responses((status = 200, description = "The data source and its variables", body = DataSource)))]
pub async fn get(
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<DataSource>, ApiError> {
    id.parse::<Source>()
        .map(|s| axum::Json(s.into()))
        .map_err(|_| app::error::AppError::NotFound.into())
}
