//! Server-only code: storage and the state shared by server functions.

pub mod db;

use leptos::config::LeptosOptions;

pub use db::{Db, DbBackend, DbError};

/// Shared by every request handler and server function (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
