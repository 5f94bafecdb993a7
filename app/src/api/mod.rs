//! Server functions: the console's API. Bodies run on the server only; each one checks
//! the session and the role itself, and names the account in every query.

pub mod activity;
pub mod auth;
pub mod dashboard;
pub mod domains;
pub mod edge;
pub mod streams;
pub mod templates;
pub mod tokens;
pub mod users;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the service reports about itself to a signed-in console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub version: String,
    /// `SQLite` or `PostgreSQL`.
    pub database: String,
}

#[server(endpoint = "service_status")]
pub async fn service_status() -> Result<ServiceInfo, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            auth::require_user(&state).await?;
            state.db.ping().await?;
            Ok(ServiceInfo {
                version: env!("CARGO_PKG_VERSION").to_string(),
                database: state.db.backend().to_string(),
            })
        }
        .await,
    )
}
