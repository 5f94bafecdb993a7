//! Pages of the console.

pub mod account;
pub mod activity;
pub mod api_tokens;
pub mod auth;
pub mod dashboard;
pub mod domains;
pub mod edge;
pub mod fields;
pub mod home;
pub mod layout;
pub mod stream_form;
pub mod streams;
pub mod tokens;
pub mod users;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <a href="/">"Back to the console"</a>
        </section>
    }
}

/// The message of an action's last error, if it concerns `field` (or any field when `None`).
pub fn error_text(error: Option<crate::error::AppError>, field: Option<&str>) -> Option<String> {
    let error = error?;
    match field {
        Some(name) => error.for_field(name),
        None => match &error {
            crate::error::AppError::Invalid { .. } | crate::error::AppError::InvalidFields(_) => {
                None
            }
            other => Some(other.to_string()),
        },
    }
}
