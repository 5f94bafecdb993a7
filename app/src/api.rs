//! Server functions: the console's API. Bodies run on the server only.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the service reports about itself to a signed-in console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub version: String,
    /// `SQLite` or `PostgreSQL`.
    pub database: String,
}

#[server]
pub async fn service_status() -> Result<ServiceInfo, ServerFnError> {
    use crate::backend::AppState;
    let state = expect_context::<AppState>();
    state.db.ping().await.map_err(|e| {
        tracing::error!(error = %e, "database ping failed");
        ServerFnError::new("the database is not reachable")
    })?;
    Ok(ServiceInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: state.db.backend().to_string(),
    })
}
