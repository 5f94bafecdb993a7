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
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::create_domain(&state, &Actor::console(&user), &name).await
        }
        .await,
    )
}

#[server(endpoint = "rename_domain")]
pub async fn rename_domain(id: i64, name: String) -> Result<(), AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::rename_domain(&state, &Actor::console(&user), id, &name, None).await?;
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "remove_domain")]
pub async fn remove_domain(id: i64) -> Result<(), AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::delete_domain(&state, &Actor::console(&user), id).await
        }
        .await,
    )
}
