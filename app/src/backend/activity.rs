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

/// Each field whose value differs, with `from` and `to` (`null` for a side that is absent).
pub fn changes(before: Option<&Fields>, after: Option<&Fields>) -> Value {
    let empty = Fields::new();
    let (before, after) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let mut changed = serde_json::Map::new();
    for key in before.keys().chain(after.keys()) {
        let (from, to) = (before.get(key), after.get(key));
        if from != to && !changed.contains_key(key) {
            changed.insert(key.clone(), json!({ "from": from, "to": to }));
        }
    }
    Value::Object(changed)
}

/// Records a change and sends it to the account's Activity History streams. The change is
/// made already: a failure here is logged, not the user's error.
pub async fn record(state: &AppState, actor: &Actor, action: &str, target: &str, changes: Value) {
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
