//! The account's domains: everyone signed in reads; owners and editors change.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Domain;

#[server(endpoint = "list_domains")]
pub async fn list_domains() -> Result<Vec<Domain>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            Ok(state.db.domains(user.account_id).await?)
        }
        .await,
    )
}

#[server(endpoint = "add_domain")]
pub async fn add_domain(name: String) -> Result<Domain, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            let name = crate::validation::domain_name("name", &name)?;
            let count = state.db.domains(user.account_id).await?.len();
            crate::backend::check_count(count, state.bounds.domains, "domains", "--max-domains")?;
            let domain = state.db.create_domain(user.account_id, &name).await?;
            crate::backend::apply_configuration(&state, user.account_id).await?;
            Ok(domain)
        }
        .await,
    )
}

#[server(endpoint = "rename_domain")]
pub async fn rename_domain(id: i64, name: String) -> Result<(), AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            let name = crate::validation::domain_name("name", &name)?;
            state.db.rename_domain(user.account_id, id, &name).await?;
            crate::backend::apply_configuration(&state, user.account_id).await?;
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "remove_domain")]
pub async fn remove_domain(id: i64) -> Result<(), AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            let users = state.db.streams_using_domain(user.account_id, id).await?;
            if !users.is_empty() {
                return Err(AppError::Conflict(format!(
                    "This domain is used by the stream(s) {}: remove it from them first.",
                    users.join(", ")
                )));
            }
            state.db.delete_domain(user.account_id, id).await?;
            crate::backend::apply_configuration(&state, user.account_id).await?;
            Ok(())
        }
        .await,
    )
}
