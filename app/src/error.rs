//! The console's one error type: what a server function can answer.
//!
//! Details are logged on the server; the browser gets a generic or field-level message.
//! On the server each variant also sets the HTTP status (see `backend::respond`).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Sign in to continue.")]
    Unauthorized,
    #[error("Your role does not allow this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A write that named the revision it read (`If-Match`), which is no longer current.
    #[error("It was changed since you read it: read it again and retry.")]
    Stale,
    /// Bad input: names the field and the problem.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Several fields of a form at once (the stream form).
    #[error("Some fields need attention: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<crate::model::FieldError>),
    #[error("Wrong email or password.")]
    BadCredentials,
    #[error("Too many sign-in attempts. Try again in {retry_after_secs} s.")]
    RateLimited { retry_after_secs: u64 },
    #[error("Something went wrong on the server. Try again.")]
    Internal,
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The message for one form field, if this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid { field, message } if field == name => Some(message.clone()),
            AppError::InvalidFields(errors) => errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Conflict(_) => 409,
            AppError::Stale => 412,
            AppError::Invalid { .. } | AppError::InvalidFields(_) => 422,
            AppError::BadCredentials => 401,
            AppError::RateLimited { .. } => 429,
            AppError::Internal | AppError::ServerFn(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
