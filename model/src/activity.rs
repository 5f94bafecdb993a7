//! The activity history: one entry per configuration change, as the console and the API
//! list it and as the Activity History data source sends it.

use serde::{Deserialize, Serialize};

/// Where a change was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Console,
    Api,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Console => "console",
            Via::Api => "api",
        }
    }
}

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    /// The email of who made it.
    pub actor: String,
    pub via: Via,
    /// `<kind>.<verb>`, e.g. `stream.update`.
    pub action: String,
    /// `<kind>/<id>`, e.g. `stream/12`.
    pub target: String,
    /// A JSON object: each changed field with `from` and `to` (secrets masked).
    pub changes: String,
}

/// What a masked secret shows in the history.
pub const MASKED: &str = "********";
