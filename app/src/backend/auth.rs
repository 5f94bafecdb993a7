//! Passwords, sessions and permission checks for server functions.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tower_sessions::Session;

use super::{AppState, Db, DbError};
use crate::error::AppError;
use crate::model::{CurrentUser, Role};

/// Session keys. The session holds ids only; the user is re-read on every request so a
/// role change or removal takes effect at once.
pub(super) const SESSION_USER_ID: &str = "user_id";
const SESSION_ACCOUNT_ID: &str = "account_id";
/// When the session signed in (ms since the epoch): it ends `session_lifetime` later,
/// however active it was.
const SESSION_SIGNED_IN_AT: &str = "signed_in_at";

/// The password hasher: argon2id under a concurrency bound, with a count of the hashes it
/// computed (`/metrics`: the cost anonymous callers can make the server pay, which the
/// limiter and the length bounds keep small).
pub struct Passwords {
    /// At most this many argon2 computations at once (each takes ~19 MiB and a core for
    /// tens of milliseconds): a flood of sign-ins queues here instead of taking every core.
    permits: tokio::sync::Semaphore,
    checks: AtomicU64,
}

impl Default for Passwords {
    fn default() -> Self {
        Passwords {
            permits: tokio::sync::Semaphore::new(2),
            checks: AtomicU64::new(0),
        }
    }
}

impl Passwords {
    /// Hashes computed or verified since start.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// Runs one argon2 computation under the bound, off the async executor.
    async fn bounded<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| internal("password hashing bound", e))?;
        self.checks.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| internal(what, e))
    }

    /// Hashes with argon2id (PHC string).
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.bounded("password hashing task", move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| internal("password hashing", e))
    }

    /// Verifies; `None` (unknown user) verifies against the dummy hash, so an unknown
    /// email costs the same time as a wrong password.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        self.bounded("password verification task", move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
            let ok = PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            known && ok
        })
        .await
    }
}

/// A hash nobody's password matches: verified against when the email is unknown.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no user has this password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Logs the cause and answers a generic error: details stay on the server.
pub fn internal(what: &str, e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "{what} failed");
    AppError::Internal
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::NotFound,
            DbError::Conflict(what) => AppError::Conflict(format!("{what} already exists")),
            DbError::Stale => AppError::Stale,
            DbError::InUse { what, by } => AppError::Conflict(format!(
                "{} is used by the stream(s) {}: change them first.",
                capitalized(what),
                by.join(", ")
            )),
            other => internal("database", other),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        internal("session store", e)
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The request's session (server functions run inside the axum request).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| internal("session extraction", e))
}

pub async fn start_session(
    session: &Session,
    user_id: i64,
    account_id: i64,
) -> Result<(), AppError> {
    // A fresh id at sign-in defeats session fixation.
    session.cycle_id().await?;
    session.insert(SESSION_USER_ID, user_id).await?;
    session.insert(SESSION_ACCOUNT_ID, account_id).await?;
    session
        .insert(SESSION_SIGNED_IN_AT, storage::db::now_millis())
        .await?;
    Ok(())
}

/// After a password change: every session of the user ends, and the current one goes on
/// under a new id.
pub async fn end_other_sessions(
    state: &AppState,
    session: &Session,
    user_id: i64,
) -> Result<(), AppError> {
    super::session_store::end_sessions_of(&state.db, user_id).await?;
    session.cycle_id().await?;
    Ok(())
}

/// Whether the session carries a signed-in user (not checked against the database).
pub async fn is_signed_in(session: &Session) -> Result<bool, tower_sessions::session::Error> {
    Ok(session.get::<i64>(SESSION_USER_ID).await?.is_some())
}

/// The signed-in user, or `None` without a (valid) session.
pub async fn current_user(
    state: &AppState,
    session: &Session,
) -> Result<Option<CurrentUser>, AppError> {
    let user_id: Option<i64> = session.get(SESSION_USER_ID).await?;
    let account_id: Option<i64> = session.get(SESSION_ACCOUNT_ID).await?;
    let (Some(user_id), Some(account_id)) = (user_id, account_id) else {
        return Ok(None);
    };
    let signed_in_at: i64 = session.get(SESSION_SIGNED_IN_AT).await?.unwrap_or(0);
    let age = storage::db::now_millis().saturating_sub(signed_in_at);
    if age > state.session_lifetime.as_millis() as i64 {
        session.flush().await?;
        return Ok(None);
    }
    match state.db.user(account_id, user_id).await {
        Ok(user) => {
            let account = state.db.account(account_id).await?;
            Ok(Some(CurrentUser {
                id: user.id,
                account_id: user.account_id,
                email: user.email,
                role: user.role,
                account_name: account.name,
            }))
        }
        // Removed since signing in: the session is void.
        Err(DbError::NotFound) => {
            session.flush().await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The signed-in user or 401.
pub async fn require_user(state: &AppState) -> Result<CurrentUser, AppError> {
    current_user(state, &session().await?)
        .await?
        .ok_or(AppError::Unauthorized)
}

/// A user who may change the account's configuration (owner, editor), or 401/403.
pub async fn require_editor(state: &AppState) -> Result<CurrentUser, AppError> {
    let user = require_user(state).await?;
    if !user.role.can_edit() {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

pub async fn require_owner(state: &AppState) -> Result<CurrentUser, AppError> {
    let user = require_user(state).await?;
    if user.role != Role::Owner {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

/// Limits sign-in attempts within a window, per email *and client address* and per client
/// address. An attempt is taken before the password is checked (parallel guesses cannot
/// pass the limit) and given back when it succeeds. There is no per-email lock across
/// addresses: a flood of wrong passwords from elsewhere never locks the real user out of
/// their own address; guessing one email from many addresses stays bounded by the
/// addresses and by the hashing bound (SECURITY.md). The counts are in the database
/// (`storage::limits`), shared by every instance on it.
pub struct SignInLimiter;

impl SignInLimiter {
    pub const WINDOW: Duration = Duration::from_secs(300);
    pub const MAX_PER_EMAIL_AND_ADDRESS: u32 = 5;
    pub const MAX_PER_ADDRESS: u32 = 20;

    fn keys(email: &str, address: Option<IpAddr>) -> [(String, u32); 2] {
        let address = address.map(|a| a.to_string()).unwrap_or_default();
        [
            (
                format!("pair:{address}|{email}"),
                Self::MAX_PER_EMAIL_AND_ADDRESS,
            ),
            (format!("addr:{address}"), Self::MAX_PER_ADDRESS),
        ]
    }

    /// Takes one attempt, or `Err(RateLimited)` while either key has used up its attempts
    /// in the window (nothing taken then).
    pub async fn take_attempt(
        db: &Db,
        email: &str,
        address: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let window = Self::WINDOW.as_millis() as i64;
        let keys = Self::keys(email, address);
        match db
            .take_sign_in_attempt(&keys, storage::db::now_millis(), window)
            .await?
        {
            None => Ok(()),
            Some(left_ms) => Err(AppError::RateLimited {
                retry_after_secs: (left_ms as u64).div_ceil(1000).max(1),
            }),
        }
    }

    /// The attempt was right: this email and address start afresh.
    pub async fn succeeded(db: &Db, email: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        let [(pair, _), _] = Self::keys(email, address);
        Ok(db.forget_sign_in_attempts(&pair).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip_and_unknown_user() {
        let passwords = Passwords::default();
        let hash = passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            passwords
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("wrong".into(), Some(hash)).await.unwrap());
        assert!(
            !passwords
                .verify("no user has this password".into(), None)
                .await
                .unwrap()
        );
        assert_eq!(passwords.checks(), 4);
    }
}
