//! Users, roles, domains and ingest tokens, as the console shows them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role in their account (see the product spec's Concepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including managing users.
    Owner,
    /// Manages domains, templates and streams.
    Editor,
    /// Read only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// Owners and editors change the account's configuration; viewers only read it.
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Owner | Role::Editor)
    }

    pub fn can_manage_users(self) -> bool {
        self == Role::Owner
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "unknown role {other:?}: use owner, editor or viewer"
            )),
        }
    }
}

/// The signed-in user, as the console sees them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub role: Role,
    pub account_name: String,
}

/// A member of the account, on the users page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

/// A hostname the account serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    pub id: i64,
    pub name: String,
    /// Bumped on every change (the API's ETag).
    #[serde(default)]
    pub revision: i64,
}

/// An ingest token as listed on the console (the token itself is shown once, at creation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IngestToken {
    pub id: i64,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A token just created: the only time its secret value is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: String,
    pub listed: IngestToken,
}

/// An API token as listed on the console: it acts as its user, with the lower of its own
/// role and the user's current one (a role change caps it at once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    /// Whose it is.
    pub user_email: String,
    /// What it may do now: its role, capped by its user's.
    pub role: Role,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub created_at: i64,
}

/// An API token just created: the only time its secret value is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub token: String,
    pub listed: ApiToken,
}

impl Role {
    /// The lower of two roles (viewer < editor < owner).
    pub fn capped_by(self, other: Role) -> Role {
        let rank = |role: Role| match role {
            Role::Viewer => 0,
            Role::Editor => 1,
            Role::Owner => 2,
        };
        if rank(self) <= rank(other) {
            self
        } else {
            other
        }
    }
}
