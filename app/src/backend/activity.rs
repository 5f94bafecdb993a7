//! Records configuration changes: who, when, through what, what changed (secrets masked),
//! into the activity history, and hands each entry to the engine as an event of the
//! Activity History data source.

use std::collections::BTreeMap;

use model::activity::MASKED;
use model::{ActivityEntry, CurrentUser, Role, Via};
use serde_json::{Value, json};
use storage::activity::NewActivity;
use storage::streams::StreamRecord;

use super::AppState;

/// Who acts, and through what: a signed-in user on the console, or an API token.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: i64,
    pub account_id: i64,
    pub email: String,
    pub role: Role,
    pub via: Via,
}

impl Actor {
    pub fn console(user: &CurrentUser) -> Actor {
        Actor {
            user_id: user.id,
            account_id: user.account_id,
            email: user.email.clone(),
            role: user.role,
            via: Via::Console,
        }
    }
}

/// An object's recorded fields, flat (`endpoint.url`), secrets never among them.
pub type Fields = BTreeMap<String, Value>;

/// A stream's fields: the form the browser gets (secrets blank), with each stored secret
/// shown as masked.
pub fn stream_fields(stream: &StreamRecord) -> Fields {
    let form = stream.for_browser();
    let mut fields = Fields::new();
    fields.insert("name".into(), json!(form.name));
    fields.insert("data_source".into(), json!(form.data_source));
    fields.insert("template".into(), json!(form.template));
    fields.insert("template_id".into(), json!(form.custom_template_id));
    if stream.config.data_source.has_hosts() {
        fields.insert("all_domains".into(), json!(form.all_domains));
        fields.insert("domain_ids".into(), json!(form.domain_ids));
        fields.insert("sampling".into(), json!(form.sampling));
    }
    fields.insert("active".into(), json!(form.active));
    fields.insert("endpoint.type".into(), json!(form.endpoint.endpoint_type));
    for (key, value) in &form.endpoint.values {
        let value = if form.endpoint.stored.contains(key) {
            json!(MASKED)
        } else {
            json!(value)
        };
        fields.insert(format!("endpoint.{key}"), value);
    }
    for (key, rows) in &form.endpoint.lists {
        let rows: Vec<Value> = rows
            .iter()
            .map(|pair| json!({ "name": pair.name, "value": MASKED }))
            .collect();
        fields.insert(format!("endpoint.{key}"), json!(rows));
    }
    fields
}

/// A text longer than this is recorded by its start and its length (a data set may be
/// 64 KiB: the history keeps what changed, not every byte).
const RECORDED_TEXT_CHARS: usize = 1000;

fn recorded(value: Option<&Value>) -> Value {
    match value {
        Some(Value::String(text)) if text.chars().count() > RECORDED_TEXT_CHARS => {
            let start: String = text.chars().take(RECORDED_TEXT_CHARS).collect();
            json!(format!("{start}… ({} bytes)", text.len()))
        }
        Some(value) => value.clone(),
        None => Value::Null,
    }
}

/// Each field whose value differs, with `from` and `to` (`null` for a side that is absent).
pub fn changes(before: Option<&Fields>, after: Option<&Fields>) -> Value {
    let empty = Fields::new();
    let (before, after) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let mut changed = serde_json::Map::new();
    for key in before.keys().chain(after.keys()) {
        let (from, to) = (before.get(key), after.get(key));
        if from != to && !changed.contains_key(key) {
            changed.insert(
                key.clone(),
                json!({ "from": recorded(from), "to": recorded(to) }),
            );
        }
    }
    Value::Object(changed)
}

/// The values of a stream's secrets, by key (to tell a rotated one; never recorded).
fn secret_values(stream: &StreamRecord) -> BTreeMap<String, model::Secret> {
    let mut endpoint = stream.config.endpoint.clone();
    endpoint
        .secrets_mut()
        .into_iter()
        .map(|field| (field.key, field.secret.clone()))
        .collect()
}

/// A stream's changes; a secret given a new value shows as masked on both sides, marked
/// changed.
pub fn stream_changes(before: Option<&StreamRecord>, after: Option<&StreamRecord>) -> Value {
    let mut changed = changes(
        before.map(stream_fields).as_ref(),
        after.map(stream_fields).as_ref(),
    );
    if let (Some(before), Some(after), Value::Object(map)) = (before, after, &mut changed) {
        let old = secret_values(before);
        for (key, value) in secret_values(after) {
            if old.get(&key).is_some_and(|v| *v != value) {
                map.insert(
                    format!("endpoint.{key}"),
                    json!({ "from": MASKED, "to": format!("{MASKED} (changed)") }),
                );
            }
        }
    }
    changed
}

/// Records a change and sends it to the account's Activity History streams. The change is
/// made already: a failure here is logged, not the user's error.
pub async fn record(state: &AppState, actor: &Actor, action: &str, target: &str, changes: Value) {
    // A save that changed nothing is not a change.
    if changes.as_object().is_some_and(|c| c.is_empty()) {
        return;
    }
    let changes = changes.to_string();
    let entry = state
        .db
        .record_activity(
            actor.account_id,
            NewActivity {
                actor: &actor.email,
                via: actor.via,
                action,
                target,
                changes: &changes,
            },
        )
        .await;
    match entry {
        Ok(entry) => {
            let event = event(actor.account_id, &entry);
            if let Err(e) = state.engine.publish_activity(actor.account_id, event).await {
                tracing::error!(account_id = actor.account_id, error = %e, "activity entry not streamed");
            }
        }
        Err(e) => {
            tracing::error!(account_id = actor.account_id, action, error = %e, "activity not recorded");
        }
    }
}

/// The entry as an Activity History event (one JSON line, the source's variables).
fn event(account_id: i64, entry: &ActivityEntry) -> Vec<u8> {
    let changes: Value = serde_json::from_str(&entry.changes).unwrap_or(Value::Null);
    json!({
        "time": model::rfc3339_utc(entry.at),
        "request_id": format!("activity-{}", entry.id),
        "client": account_id.to_string(),
        "actor": entry.actor,
        "via": entry.via.as_str(),
        "action": entry.action,
        "target": entry.target,
        "changes": changes,
    })
    .to_string()
    .into_bytes()
}
