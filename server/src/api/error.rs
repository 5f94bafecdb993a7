//! The API's one error shape, from the console's `AppError` (same statuses, same field
//! names), and extractors whose rejections answer in it instead of axum's plain text.

use app::error::AppError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// Every error answer: the status again, a message, and for bad input each field's problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub status: u16,
    pub message: String,
    /// One entry per field at fault, named as on the console's forms (`endpoint.url`).
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    fields: Vec<FieldProblem>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        AppError::invalid(field, message).into()
    }

    /// A query parameter out of its range: 400, naming it.
    pub fn query(parameter: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: format!("{parameter}: {message}"),
            fields: vec![FieldProblem {
                field: parameter.to_string(),
                message,
            }],
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let fields = match &error {
            AppError::Invalid { field, message } => vec![FieldProblem {
                field: field.clone(),
                message: message.clone(),
            }],
            AppError::InvalidFields(list) => list
                .iter()
                .map(|e| FieldProblem {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        ApiError {
            status,
            message: error.to_string(),
            fields,
        }
    }
}

impl From<storage::DbError> for ApiError {
    fn from(error: storage::DbError) -> ApiError {
        AppError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let body = ErrorBody {
            status: self.status.as_u16(),
            message: self.message,
            fields: self.fields,
        };
        let mut response = (self.status, Json(body)).into_response();
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"data-streaming\""),
            );
        }
        response
    }
}

/// A JSON body; a body that is not one answers 400/415/422 in [`ErrorBody`]'s shape.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = match &rejection {
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
        // A body over the limit (413), or one that could not be read.
        JsonRejection::BytesRejection(_) => rejection.status(),
        _ => StatusCode::BAD_REQUEST,
    };
    let message = rejection.body_text();
    let mut error = ApiError::new(status, message.clone());
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        error.fields.push(FieldProblem {
            field: "body".into(),
            message,
        });
    }
    error
}

/// Query parameters; bad ones answer 400 naming the problem.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|rejection: QueryRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text())
            })
    }
}

/// A resource id in the path; one that is not a number names nothing (404).
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|p| Id(p.0))
            .map_err(|_: PathRejection| AppError::NotFound.into())
    }
}
