//! Passwords, sessions and permission checks for server functions.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tower_sessions::Session;

use super::{AppState, DbError};
use crate::error::AppError;
use crate::model::{CurrentUser, Role};

/// Session keys. The session holds ids only; the user is re-read on every request so a
/// role change or removal takes effect at once.
const SESSION_USER_ID: &str = "user_id";
const SESSION_ACCOUNT_ID: &str = "account_id";

/// Hashes with argon2id (PHC string) off the async executor.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| internal("password hashing task", e))?
    .map_err(|e| internal("password hashing", e))
}

/// A hash nobody's password matches: verified against when the email is unknown, so an
/// unknown email costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no user has this password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Verifies off the async executor; `None` (unknown user) verifies against the dummy hash.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
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
    .map_err(|e| internal("password verification task", e))
}

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
            other => internal("database", other),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        internal("session store", e)
    }
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

/// Limits failed sign-in attempts per email and per client address within a window.
#[derive(Clone, Default)]
pub struct SignInLimiter {
    failures: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl SignInLimiter {
    pub const WINDOW: Duration = Duration::from_secs(300);
    pub const MAX_PER_EMAIL: u32 = 5;
    pub const MAX_PER_ADDRESS: u32 = 20;

    fn keys(email: &str, address: Option<IpAddr>) -> [(String, u32); 2] {
        [
            (format!("email:{email}"), Self::MAX_PER_EMAIL),
            (
                format!(
                    "addr:{}",
                    address.map(|a| a.to_string()).unwrap_or_default()
                ),
                Self::MAX_PER_ADDRESS,
            ),
        ]
    }

    /// `Err(RateLimited)` while either key has used up its attempts in the window.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.retain(|_, (start, _)| now.duration_since(*start) < Self::WINDOW);
        for (key, max) in Self::keys(email, address) {
            if let Some((start, count)) = failures.get(&key)
                && *count >= max
            {
                let left = Self::WINDOW.saturating_sub(now.duration_since(*start));
                return Err(AppError::RateLimited {
                    retry_after_secs: left.as_secs().max(1),
                });
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, email: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in Self::keys(email, address) {
            failures.entry(key).or_insert((now, 0)).1 += 1;
        }
    }

    pub fn record_success(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&format!("email:{email}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_max_failures_per_email() {
        let limiter = SignInLimiter::default();
        let addr = Some("127.0.0.1".parse().unwrap());
        for _ in 0..SignInLimiter::MAX_PER_EMAIL {
            assert!(limiter.check("a@x.io", addr).is_ok());
            limiter.record_failure("a@x.io", addr);
        }
        match limiter.check("a@x.io", addr) {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!(retry_after_secs > 0 && retry_after_secs <= 300)
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(
            limiter.check("b@x.io", addr).is_ok(),
            "other emails are not limited"
        );
    }

    #[tokio::test]
    async fn argon2id_round_trip_and_unknown_user() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), Some(hash)).await.unwrap());
        assert!(
            !verify_password("no user has this password".into(), None)
                .await
                .unwrap()
        );
    }
}
