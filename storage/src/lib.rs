//! Storage: one code path for SQLite (the embedded default) and PostgreSQL, used by the
//! console and the data plane alike.
//!
//! Layout: [`db`] connects and migrates (`migrations/{sqlite,postgres}`); then one file
//! per object, each query naming its account: [`users`], [`api_tokens`] (a user's, with
//! a role capped by the user's), [`domains`], [`tokens`] (ingest tokens, stored as
//! SHA-256), [`templates`] (custom templates, shared by streams), [`streams`] (typed
//! configurations, secrets sealed with [`secrets`]), [`activity`] (the history of
//! configuration changes); and what the data plane writes back: [`status`] (last
//! delivery, totals, engine errors) and [`telemetry`] (minute counts, delivery log);
//! [`notify`] tells the other instances on one PostgreSQL that a configuration changed,
//! [`limits`] keeps the sign-in limiter's counts where they all see them, and [`bus`] each
//! stream's delivery progress and lag, and each account's edge counts, in cluster mode.

pub mod activity;
pub mod api_tokens;
pub mod bus;
pub mod db;
pub mod domains;
pub mod limits;
pub mod notify;
pub mod secrets;
pub mod status;
pub mod streams;
pub mod telemetry;
pub mod templates;
pub mod tokens;
pub mod users;

pub use db::{Db, DbBackend, DbError};
