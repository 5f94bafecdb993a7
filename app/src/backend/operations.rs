//! Configuration changes, shared by the console's server functions and the automation API:
//! each checks the actor's role, applies the change, waits for the running engine to use
//! it, and records it in the activity history. Every query names the actor's account.

use model::{
    ApiToken, CreatedApiToken, CreatedToken, CustomTemplate, Domain, FieldError, Role, StreamForm,
    TemplateForm,
};
use serde_json::json;

use super::activity::{self, Actor, Fields};
use super::{AppState, DbError, apply_configuration, check_count};
use crate::error::AppError;

/// Owners and editors change the configuration; viewers only read it.
pub fn require_edit(actor: &Actor) -> Result<(), AppError> {
    if actor.role.can_edit() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Streams of the Activity History source carry the whole history: they are the owners'.
fn require_stream_role(actor: &Actor, sources: &[engine::DataSource]) -> Result<(), AppError> {
    require_edit(actor)?;
    if actor.role != Role::Owner && sources.iter().any(|s| !s.has_hosts()) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// The account's stream `id`, if the actor may change it.
async fn stream_to_change(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<storage::streams::StreamRecord, AppError> {
    require_edit(actor)?;
    let stream = state
        .db
        .stream(actor.account_id, id, &state.secrets)
        .await?;
    require_stream_role(actor, &[stream.config.data_source])?;
    Ok(stream)
}

/// Creates (`id` None) or replaces a stream from its form; `expected_revision` (the API's
/// `If-Match`) must be the stored one. A saved custom template the form edited is updated
/// as a template (its own checks and history entry), then linked; a new one gets a row.
pub async fn save_stream(
    state: &AppState,
    actor: &Actor,
    id: Option<i64>,
    form: &StreamForm,
    expected_revision: Option<i64>,
) -> Result<i64, AppError> {
    require_edit(actor)?;
    let account_id = actor.account_id;
    let mut parsed = super::parse_stream_form(state, form).await?;
    let before = match id {
        Some(id) => Some(state.db.stream(account_id, id, &state.secrets).await?),
        None => {
            let count = state.db.stream_summaries(account_id).await?.len();
            check_count(count, state.bounds.streams, "streams", "--max-streams")?;
            None
        }
    };
    let mut sources = vec![parsed.config.data_source];
    sources.extend(before.as_ref().map(|b| b.config.data_source));
    require_stream_role(actor, &sources)?;
    if let Some(data_set) = parsed.custom_data_set.take() {
        match form.custom_template_id {
            Some(template_id) => {
                let stored = state.db.template(account_id, template_id).await?;
                if stored.data_set != data_set {
                    let edited = TemplateForm {
                        name: stored.name,
                        data_source: parsed.config.data_source.as_str().to_string(),
                        data_set,
                    };
                    update_template(state, actor, template_id, &edited, Some(stored.revision))
                        .await?;
                }
            }
            None => {
                let count = state.db.templates(account_id).await?.len();
                check_count(
                    count,
                    state.bounds.templates,
                    "custom templates",
                    "--max-templates",
                )?;
                parsed.custom_data_set = Some(data_set);
            }
        }
    }
    let saved = state
        .db
        .save_stream(account_id, id, &parsed, &state.secrets, expected_revision)
        .await;
    let id = match saved {
        Ok(id) => id,
        Err(DbError::Conflict(_)) => {
            return Err(AppError::InvalidFields(vec![FieldError::new(
                "name",
                "Another stream already has this name",
            )]));
        }
        Err(DbError::InvalidField(error)) => return Err(AppError::InvalidFields(vec![error])),
        // The stream itself was found above: what is missing is a chosen domain.
        Err(DbError::NotFound) => {
            return Err(AppError::InvalidFields(vec![FieldError::new(
                "domains",
                "A chosen domain no longer exists",
            )]));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(account_id, stream_id = id, "stream saved");
    let after = state.db.stream(account_id, id, &state.secrets).await?;
    let verb = if before.is_some() { "update" } else { "create" };
    let changes = activity::stream_changes(before.as_ref(), Some(&after));
    let target = format!("stream/{id}");
    activity::record(state, actor, &format!("stream.{verb}"), &target, changes).await;
    apply_configuration(state, account_id).await?;
    Ok(id)
}

pub async fn set_stream_active(
    state: &AppState,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<(), AppError> {
    let before = stream_to_change(state, actor, id).await?;
    state
        .db
        .set_stream_active(actor.account_id, id, active)
        .await?;
    let change = if before.config.active == active {
        json!({})
    } else {
        json!({ "active": { "from": before.config.active, "to": active } })
    };
    activity::record(
        state,
        actor,
        "stream.update",
        &format!("stream/{id}"),
        change,
    )
    .await;
    apply_configuration(state, actor.account_id).await
}

/// Deletes a stream. With records still waiting for its endpoint it asks first (409, what
/// waits); `discard_waiting` confirms, and the stream's spool is removed with it.
pub async fn delete_stream(
    state: &AppState,
    actor: &Actor,
    id: i64,
    discard_waiting: bool,
) -> Result<(), AppError> {
    // The stream is the account's before anything is asked of the engine.
    let before = stream_to_change(state, actor, id).await?;
    let waiting = state.engine.spool_depth(id).await;
    if waiting.bytes > 0 && !discard_waiting {
        return Err(AppError::Conflict(format!(
            "This stream has {} bytes in {} block(s) waiting for its endpoint \
             ({} set aside): deleting it discards them. Delete it anyway?",
            waiting.bytes, waiting.blocks, waiting.failed_blocks
        )));
    }
    state.db.delete_stream(actor.account_id, id).await?;
    tracing::info!(
        account_id = actor.account_id,
        stream_id = id,
        "stream deleted"
    );
    let changes = activity::stream_changes(Some(&before), None);
    activity::record(
        state,
        actor,
        "stream.delete",
        &format!("stream/{id}"),
        changes,
    )
    .await;
    apply_configuration(state, actor.account_id).await
}

/// Queues the blocks the endpoint refused for good again (after the settings were fixed).
pub async fn redeliver_failed(state: &AppState, actor: &Actor, id: i64) -> Result<usize, AppError> {
    require_edit(actor)?;
    // 404 unless the stream is this account's.
    state
        .db
        .stream(actor.account_id, id, &state.secrets)
        .await?;
    let queued = state.engine.redeliver_failed(id);
    state.db.reset_blocks_failed(actor.account_id, id).await?;
    tracing::info!(
        account_id = actor.account_id,
        stream_id = id,
        queued,
        "failed blocks queued again"
    );
    Ok(queued)
}

fn name_fields(name: &str) -> Fields {
    Fields::from([("name".to_string(), json!(name))])
}

pub async fn create_domain(
    state: &AppState,
    actor: &Actor,
    name: &str,
) -> Result<Domain, AppError> {
    require_edit(actor)?;
    let name = crate::validation::domain_name("name", name)?;
    let count = state.db.domains(actor.account_id).await?.len();
    check_count(count, state.bounds.domains, "domains", "--max-domains")?;
    let domain = state.db.create_domain(actor.account_id, &name).await?;
    let target = format!("domain/{}", domain.id);
    let changes = activity::changes(None, Some(&name_fields(&domain.name)));
    activity::record(state, actor, "domain.create", &target, changes).await;
    apply_configuration(state, actor.account_id).await?;
    Ok(domain)
}

pub async fn domain(state: &AppState, actor: &Actor, id: i64) -> Result<Domain, AppError> {
    state
        .db
        .domains(actor.account_id)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(AppError::NotFound)
}

pub async fn rename_domain(
    state: &AppState,
    actor: &Actor,
    id: i64,
    name: &str,
    expected_revision: Option<i64>,
) -> Result<Domain, AppError> {
    require_edit(actor)?;
    let name = crate::validation::domain_name("name", name)?;
    let before = domain(state, actor, id).await?;
    state
        .db
        .rename_domain(actor.account_id, id, &name, expected_revision)
        .await?;
    let after = domain(state, actor, id).await?;
    if before.name != after.name {
        let changes = activity::changes(
            Some(&name_fields(&before.name)),
            Some(&name_fields(&after.name)),
        );
        activity::record(
            state,
            actor,
            "domain.update",
            &format!("domain/{id}"),
            changes,
        )
        .await;
    }
    apply_configuration(state, actor.account_id).await?;
    Ok(after)
}

/// Deletes a domain no stream lists.
pub async fn delete_domain(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    require_edit(actor)?;
    let before = domain(state, actor, id).await?;
    let users = state.db.streams_using_domain(actor.account_id, id).await?;
    if !users.is_empty() {
        return Err(AppError::Conflict(format!(
            "This domain is used by the stream(s) {}: remove it from them first.",
            users.join(", ")
        )));
    }
    state.db.delete_domain(actor.account_id, id).await?;
    let changes = activity::changes(Some(&name_fields(&before.name)), None);
    activity::record(
        state,
        actor,
        "domain.delete",
        &format!("domain/{id}"),
        changes,
    )
    .await;
    apply_configuration(state, actor.account_id).await?;
    Ok(())
}

pub async fn create_ingest_token(
    state: &AppState,
    actor: &Actor,
    name: &str,
) -> Result<CreatedToken, AppError> {
    require_edit(actor)?;
    let name = crate::validation::required("name", name)?;
    crate::validation::bounded("name", &name, 100)?;
    let count = state.db.ingest_tokens(actor.account_id).await?.len();
    check_count(
        count,
        state.bounds.ingest_tokens,
        "ingest tokens",
        "--max-ingest-tokens",
    )?;
    let (token, hash) = storage::tokens::new_token();
    let prefix: String = token.chars().take(10).collect();
    let listed = state
        .db
        .create_ingest_token(actor.account_id, &name, &hash, &prefix)
        .await?;
    tracing::info!(
        account_id = actor.account_id,
        token_id = listed.id,
        "ingest token created"
    );
    let changes = activity::changes(None, Some(&name_fields(&listed.name)));
    let target = format!("ingest_token/{}", listed.id);
    activity::record(state, actor, "ingest_token.create", &target, changes).await;
    apply_configuration(state, actor.account_id).await?;
    Ok(CreatedToken { token, listed })
}

pub async fn revoke_ingest_token(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    require_edit(actor)?;
    let before = state
        .db
        .ingest_tokens(actor.account_id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)?;
    state.db.revoke_ingest_token(actor.account_id, id).await?;
    tracing::info!(
        account_id = actor.account_id,
        token_id = id,
        "ingest token revoked"
    );
    let changes = activity::changes(Some(&name_fields(&before.name)), None);
    let target = format!("ingest_token/{id}");
    activity::record(state, actor, "ingest_token.revoke", &target, changes).await;
    apply_configuration(state, actor.account_id).await?;
    Ok(())
}

fn template_fields(template: &CustomTemplate) -> Fields {
    Fields::from([
        ("name".to_string(), json!(template.name)),
        ("data_source".to_string(), json!(template.data_source)),
        ("data_set".to_string(), json!(template.data_set)),
    ])
}

fn parse_template(
    state: &AppState,
    form: &TemplateForm,
) -> Result<model::ParsedTemplate, AppError> {
    state
        .bounds
        .check_data_set("data_set", &form.data_set)
        .map_err(|e| AppError::InvalidFields(vec![e]))?;
    form.parse().map_err(AppError::InvalidFields)
}

pub async fn create_template(
    state: &AppState,
    actor: &Actor,
    form: &TemplateForm,
) -> Result<CustomTemplate, AppError> {
    require_edit(actor)?;
    let parsed = parse_template(state, form)?;
    let count = state.db.templates(actor.account_id).await?.len();
    check_count(
        count,
        state.bounds.templates,
        "custom templates",
        "--max-templates",
    )?;
    let id = state.db.create_template(actor.account_id, &parsed).await?;
    let created = state.db.template(actor.account_id, id).await?;
    let changes = activity::changes(None, Some(&template_fields(&created)));
    activity::record(
        state,
        actor,
        "template.create",
        &format!("template/{id}"),
        changes,
    )
    .await;
    Ok(created)
}

/// Replaces a template; the streams using it render with the new data set at once.
pub async fn update_template(
    state: &AppState,
    actor: &Actor,
    id: i64,
    form: &TemplateForm,
    expected_revision: Option<i64>,
) -> Result<CustomTemplate, AppError> {
    require_edit(actor)?;
    let parsed = parse_template(state, form)?;
    let before = state.db.template(actor.account_id, id).await?;
    state
        .db
        .update_template(actor.account_id, id, &parsed, expected_revision)
        .await?;
    let after = state.db.template(actor.account_id, id).await?;
    let changes = activity::changes(
        Some(&template_fields(&before)),
        Some(&template_fields(&after)),
    );
    activity::record(
        state,
        actor,
        "template.update",
        &format!("template/{id}"),
        changes,
    )
    .await;
    // Its streams render with the new data set from now.
    if !before.used_by.is_empty() {
        apply_configuration(state, actor.account_id).await?;
    }
    Ok(after)
}

/// Deletes a template no stream uses (409 naming them otherwise).
pub async fn delete_template(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    require_edit(actor)?;
    let before = state.db.template(actor.account_id, id).await?;
    state.db.delete_template(actor.account_id, id).await?;
    let changes = activity::changes(Some(&template_fields(&before)), None);
    activity::record(
        state,
        actor,
        "template.delete",
        &format!("template/{id}"),
        changes,
    )
    .await;
    Ok(())
}

/// How long an API token may live, in days.
pub const API_TOKEN_MAX_DAYS: u32 = 366;

fn api_token_fields(token: &ApiToken) -> Fields {
    Fields::from([
        ("name".to_string(), json!(token.name)),
        ("role".to_string(), json!(token.role)),
        (
            "expires_at".to_string(),
            json!(model::rfc3339_utc(token.expires_at)),
        ),
    ])
}

/// A token for the actor, with a role no higher than theirs, valid `days` days.
pub async fn create_api_token(
    state: &AppState,
    actor: &Actor,
    name: &str,
    role: Role,
    days: u32,
) -> Result<CreatedApiToken, AppError> {
    let name = crate::validation::required("name", name)?;
    crate::validation::bounded("name", &name, 100)?;
    if role.capped_by(actor.role) != role {
        return Err(AppError::invalid(
            "role",
            format!(
                "A token's role cannot be higher than your own ({})",
                actor.role
            ),
        ));
    }
    if !(1..=API_TOKEN_MAX_DAYS).contains(&days) {
        return Err(AppError::invalid(
            "expires_in_days",
            format!("Expiry must be from 1 to {API_TOKEN_MAX_DAYS} days"),
        ));
    }
    let count = state.db.api_tokens(actor.account_id).await?.len();
    check_count(
        count,
        state.bounds.api_tokens,
        "API tokens",
        "--max-api-tokens",
    )?;
    let (token, hash) = storage::tokens::new_token_with_prefix(storage::tokens::API_TOKEN_PREFIX);
    let prefix: String = token.chars().take(10).collect();
    let expires_at = storage::db::now_millis() + i64::from(days) * 86_400_000;
    let listed = state
        .db
        .create_api_token(
            actor.account_id,
            actor.user_id,
            storage::api_tokens::NewApiToken {
                name: &name,
                hash: &hash,
                display_prefix: &prefix,
                role,
                expires_at,
            },
        )
        .await?;
    let changes = activity::changes(None, Some(&api_token_fields(&listed)));
    let target = format!("api_token/{}", listed.id);
    activity::record(state, actor, "api_token.create", &target, changes).await;
    Ok(CreatedApiToken { token, listed })
}

/// Revokes one of the actor's tokens (an owner: any of the account's).
pub async fn revoke_api_token(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    let before = state
        .db
        .api_tokens(actor.account_id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)?;
    let only_own = (actor.role != Role::Owner).then_some(actor.user_id);
    state
        .db
        .revoke_api_token(actor.account_id, id, only_own)
        .await?;
    let changes = activity::changes(Some(&api_token_fields(&before)), None);
    let target = format!("api_token/{id}");
    activity::record(state, actor, "api_token.revoke", &target, changes).await;
    Ok(())
}
