//! `Authorization: Bearer <API token>`: the token's user and account, with the token's role
//! capped by the user's current one (read on every request).

use app::backend::AppState;
use app::backend::activity::Actor;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use model::Via;

use super::error::ApiError;

/// The caller, authenticated by an API token.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| token.starts_with(storage::tokens::API_TOKEN_PREFIX))
            .ok_or_else(unauthorized)?;
        let hash = storage::tokens::token_hash(token);
        let user = state
            .db
            .api_token_user(&hash)
            .await?
            .ok_or_else(unauthorized)?;
        Ok(Caller(Actor {
            user_id: user.user_id,
            account_id: user.account_id,
            email: user.email,
            role: user.role,
            via: Via::Api,
        }))
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "A valid, unexpired API token is required: Authorization: Bearer dsa_…",
    )
}
