//! The owner's users page: add, change role, remove. Owner only, checked here.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Member;

#[server(endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<Member>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let owner = auth::require_owner(&state).await?;
            let users = state.db.users(owner.account_id).await?;
            Ok(users.iter().map(|u| u.member()).collect())
        }
        .await,
    )
}

#[server(endpoint = "add_member")]
pub async fn add_member(email: String, role: String, password: String) -> Result<Member, AppError> {
    use crate::backend::activity::{self, Actor};
    use crate::backend::{auth, respond, state};
    use crate::model::Role;
    use crate::validation;
    respond(
        async {
            let state = state()?;
            let owner = auth::require_owner(&state).await?;
            let email = validation::email("email", &email)?;
            let role: Role = role
                .parse()
                .map_err(|m: String| AppError::invalid("role", m))?;
            validation::new_password("password", &password)?;
            let hash = state.passwords.hash(password).await?;
            let user = state
                .db
                .create_user(owner.account_id, &email, &hash, role)
                .await?;
            tracing::info!(account_id = owner.account_id, user_id = user.id, %role, "user added");
            let changes = serde_json::json!({
                "email": { "from": null, "to": user.email },
                "role": { "from": null, "to": role },
            });
            let target = format!("user/{}", user.id);
            activity::record(
                &state,
                &Actor::console(&owner),
                "user.create",
                &target,
                changes,
            )
            .await;
            Ok(user.member())
        }
        .await,
    )
}

#[server(endpoint = "change_role")]
pub async fn change_role(user_id: i64, role: String) -> Result<(), AppError> {
    use crate::backend::activity::{self, Actor};
    use crate::backend::{auth, respond, state};
    use crate::model::Role;
    respond(
        async {
            let state = state()?;
            let owner = auth::require_owner(&state).await?;
            let role: Role = role
                .parse()
                .map_err(|m: String| AppError::invalid("role", m))?;
            if user_id == owner.id {
                // Keeps at least one owner: the acting owner stays one.
                return Err(AppError::invalid("role", "you cannot change your own role"));
            }
            let before = state.db.user(owner.account_id, user_id).await?;
            if !state
                .db
                .set_role_as_owner(owner.account_id, owner.id, user_id, role)
                .await?
            {
                return Err(AppError::Forbidden);
            }
            // Their sessions stay: each request re-reads the role, so it applies at once.
            tracing::info!(account_id = owner.account_id, user_id, %role, "role changed");
            if before.role != role {
                let changes = serde_json::json!({ "role": { "from": before.role, "to": role } });
                let target = format!("user/{user_id}");
                activity::record(
                    &state,
                    &Actor::console(&owner),
                    "user.update",
                    &target,
                    changes,
                )
                .await;
            }
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "remove_member")]
pub async fn remove_member(user_id: i64) -> Result<(), AppError> {
    use crate::backend::activity::{self, Actor};
    use crate::backend::{auth, respond, session_store, state};
    respond(
        async {
            let state = state()?;
            let owner = auth::require_owner(&state).await?;
            if user_id == owner.id {
                return Err(AppError::invalid("user", "you cannot remove yourself"));
            }
            let before = state.db.user(owner.account_id, user_id).await?;
            if !state
                .db
                .delete_user_as_owner(owner.account_id, owner.id, user_id)
                .await?
            {
                return Err(AppError::Forbidden);
            }
            session_store::end_sessions_of(&state.db, user_id).await?;
            tracing::info!(account_id = owner.account_id, user_id, "user removed");
            let changes = serde_json::json!({
                "email": { "from": before.email, "to": null },
                "role": { "from": before.role, "to": null },
            });
            let target = format!("user/{user_id}");
            activity::record(
                &state,
                &Actor::console(&owner),
                "user.delete",
                &target,
                changes,
            )
            .await;
            Ok(())
        }
        .await,
    )
}
