//! Custom templates: everyone signed in reads; owners and editors change. A template in
//! use cannot be deleted (409 naming its streams).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::{CustomTemplate, TemplateForm};

#[server(endpoint = "list_templates")]
pub async fn list_templates() -> Result<Vec<CustomTemplate>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            Ok(state.db.templates(user.account_id).await?)
        }
        .await,
    )
}

/// Creates (`id` None) or replaces a template.
#[server(endpoint = "save_template", input = Json)]
pub async fn save_template(
    id: Option<i64>,
    template: TemplateForm,
) -> Result<CustomTemplate, AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            let actor = Actor::console(&user);
            match id {
                Some(id) => operations::update_template(&state, &actor, id, &template, None).await,
                None => operations::create_template(&state, &actor, &template).await,
            }
        }
        .await,
    )
}

#[server(endpoint = "delete_template")]
pub async fn delete_template(id: i64) -> Result<(), AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::delete_template(&state, &Actor::console(&user), id).await
        }
        .await,
    )
}
