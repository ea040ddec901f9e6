//! The API layer's one error type and its single mapping to `application/problem+json` (RFC 9457).
//! Database and internal error text never reaches a client; it is logged (without health data) instead.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more fields are invalid; for batches, every offending item is listed.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The request is malformed (not JSON, wrong content type, bad query string).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: &'static str },
    /// Also returned for other users' resources, so their existence is never revealed.
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("request body over {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("rate limit exceeded")]
    RateLimited { retry_after_secs: u64 },
    /// The database or a dependency is temporarily unreachable; the client may retry.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The problem document. `code` is the stable machine-readable identifier; `errors` lists field errors.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(error))
    }

    pub fn invalid(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Invalid input"),
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code, "Bad request"),
            ApiError::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code, "Unauthorized"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code, "Conflict"),
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large")
            }
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable"),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error",
            ),
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.reason),
                many => format!("{} fields are invalid; nothing was written", many.len()),
            },
            ApiError::PayloadTooLarge { limit_bytes } => {
                format!(
                    "the request body exceeds the limit of {limit_bytes} bytes; split the upload into smaller batches"
                )
            }
            ApiError::RateLimited { retry_after_secs } => {
                format!("too many requests; retry after {retry_after_secs} s")
            }
            ApiError::NotFound => "no such resource".into(),
            ApiError::Unavailable(_) => "a dependency is temporarily unavailable; retry shortly".into(),
            ApiError::Internal(_) => "an unexpected error occurred".into(),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        Problem {
            problem_type: format!("urn:glucolens:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            code,
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                ApiError::Unavailable(Box::new(error))
            }
            // A CHECK constraint caught what validation should have: still the client's input, but the database
            // text (which may quote the row) is not passed on.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23514") => ApiError::invalid(FieldError::new(
                "body",
                "constraint_violation",
                "a value is outside its allowed range",
            )),
            _ => ApiError::internal(error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(source) => tracing::error!(error = %source, "internal error"),
            ApiError::Unavailable(source) => tracing::warn!(error = %source, "dependency unavailable"),
            _ => {}
        }
        let problem = self.problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lists_every_field_and_internal_hides_its_cause() {
        let error = ApiError::Validation(vec![
            FieldError::new("value", "out_of_range", "too high").in_item("readings", 2),
            FieldError::new("timestamp", "invalid_timestamp", "no offset").in_item("readings", 5),
        ]);
        let problem = error.problem();
        assert_eq!((problem.status, problem.code), (422, "validation_failed"));
        assert_eq!(problem.errors[1].field, "readings[5].timestamp");

        let hidden = ApiError::internal(std::io::Error::other("password=hunter2 relation users"));
        assert!(!serde_json::to_string(&hidden.problem()).unwrap().contains("hunter2"));
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let response = ApiError::RateLimited { retry_after_secs: 17 }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "17");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
    }
}
