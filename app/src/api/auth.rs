//! First-run set-up, sign-in, sign-out, the current user, own password.
//!
//! None of these redirects: the pages follow the session (see `pages::layout`), which
//! avoids racing a navigation against the re-read of the current user.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::CurrentUser;

/// True while no user exists: the console then offers the one-time set-up.
#[server(endpoint = "setup_needed")]
pub async fn setup_needed() -> Result<bool, AppError> {
    use crate::backend::{respond, state};
    respond(async { Ok(state()?.db.count_users().await? == 0) }.await)
}

/// Creates the first account and its owner, and signs them in. Refused once a user exists.
#[server(endpoint = "set_up")]
pub async fn set_up(account_name: String, email: String, password: String) -> Result<(), AppError> {
    use crate::backend::{DbError, auth, respond, state};
    use crate::validation;
    respond(
        async {
            let state = state()?;
            // Before any hashing: once set up, this costs an anonymous caller's request
            // nothing but a count.
            if state.db.count_users().await? > 0 {
                return Err(already_set_up());
            }
            let account_name = validation::required("account_name", &account_name)?;
            let email = validation::email("email", &email)?;
            validation::new_password("password", &password)?;
            let hash = state.passwords.hash(password).await?;
            let owner = match state
                .db
                .create_first_owner(&account_name, &email, &hash)
                .await
            {
                Err(DbError::Conflict("the first user")) => return Err(already_set_up()),
                other => other?,
            };
            tracing::info!(
                account_id = owner.account_id,
                "first account and owner created"
            );
            auth::start_session(&auth::session().await?, owner.id, owner.account_id).await?;
            Ok(())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn already_set_up() -> AppError {
    AppError::Conflict("This console is already set up: sign in instead.".into())
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    use crate::backend::{auth, respond, state};
    use crate::validation;
    respond(
        async {
            let state = state()?;
            let email = email.trim().to_lowercase();
            validation::bounded("email", &email, validation::MAX_EMAIL_BYTES)?;
            validation::bounded("password", &password, validation::MAX_PASSWORD_BYTES)?;
            let address = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
                .await
                .ok()
                .map(|ConnectInfo(addr)| addr.ip());
            // Taken before the password is checked: parallel guesses cannot pass the limit.
            auth::SignInLimiter::take_attempt(&state.db, &email, address).await?;
            let user = state.db.user_by_email(&email).await?;
            let verified = state
                .passwords
                .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
                .await?;
            let Some(user) = user.filter(|_| verified) else {
                tracing::info!("sign-in refused: wrong email or password");
                return Err(AppError::BadCredentials);
            };
            auth::SignInLimiter::succeeded(&state.db, &email, address).await?;
            auth::start_session(&auth::session().await?, user.id, user.account_id).await?;
            tracing::info!(user_id = user.id, account_id = user.account_id, "signed in");
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::backend::{auth, respond};
    respond(
        async {
            auth::session().await?.flush().await?;
            Ok(())
        }
        .await,
    )
}

/// The signed-in user, or `None`.
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            auth::current_user(&state, &auth::session().await?).await
        }
        .await,
    )
}

#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::backend::{auth, respond, state};
    use crate::validation;
    respond(
        async {
            let state = state()?;
            let me = auth::require_user(&state).await?;
            validation::bounded(
                "current_password",
                &current_password,
                validation::MAX_PASSWORD_BYTES,
            )?;
            let record = state.db.user(me.account_id, me.id).await?;
            if !state
                .passwords
                .verify(current_password, Some(record.password_hash))
                .await?
            {
                return Err(AppError::invalid(
                    "current_password",
                    "is not your current password",
                ));
            }
            validation::new_password("new_password", &new_password)?;
            let hash = state.passwords.hash(new_password).await?;
            state
                .db
                .set_password_hash(me.account_id, me.id, &hash)
                .await?;
            auth::end_other_sessions(&state, &auth::session().await?, me.id).await?;
            tracing::info!(user_id = me.id, "password changed");
            Ok(())
        }
        .await,
    )
}
