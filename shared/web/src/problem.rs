//! The API layer's one error type and its single mapping to `application/problem+json` (RFC 9457).
//! Database and internal error text never reaches a client; it is logged (without health data) instead.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use glucolens_importers::ParseError;
use serde::Serialize;

use glucolens_app::import_service::ImportError;
use glucolens_app::insights::InsightsError;
use glucolens_app::jobs::JobError;
use glucolens_app::records::EditError;
use glucolens_app::report::ReportError;
use glucolens_app::shares::ShareError;
use glucolens_domain::{rules, FieldError};

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
    /// Authenticated, but the request is not one the caller may make this way (e.g. a write through a grant).
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: &'static str },
    /// Also returned for other users' resources, so their existence is never revealed.
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("request body over {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("rate limit exceeded")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency is unreachable or not configured; the client may retry (`Retry-After`), and the code names the
    /// dependency (`database_unavailable`, `queue_unavailable`, ...).
    #[error("{dependency} unavailable")]
    Unavailable {
        dependency: Dependency,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database aborted the transaction to resolve a deadlock or a serialization conflict (40P01, 40001). Nothing
    /// was written; the request is retried inside the server (see [`super::layers::retry_on_contention`]) and otherwise answered 503.
    #[error("database contention")]
    Contention(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a 503 is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Database,
    /// The analysis queue (SQS).
    Queue,
    /// The import bucket (S3).
    Storage,
    /// Secrets Manager.
    Secrets,
}

impl Dependency {
    pub fn code(self) -> &'static str {
        match self {
            Dependency::Database => "database_unavailable",
            Dependency::Queue => "queue_unavailable",
            Dependency::Storage => "storage_unavailable",
            Dependency::Secrets => "secrets_unavailable",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Dependency::Database => "the database",
            Dependency::Queue => "the analysis queue",
            Dependency::Storage => "the file storage (imports and exports)",
            Dependency::Secrets => "the secret store",
        }
    }
}

impl std::fmt::Display for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Marks a response whose transaction was aborted by the database to resolve contention, so the retry layer knows
/// the request may be run again.
#[derive(Debug, Clone, Copy)]
pub struct ContentionMarker;

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 2;

/// Field errors listed in one problem document; the rest are counted in `error_count` (a 20,000-item batch of
/// invalid readings must not answer with megabytes).
pub const MAX_LISTED_ERRORS: usize = 100;

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
    /// How many field errors there were in all; `errors` lists at most the first 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<usize>,
}

impl ApiError {
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(error))
    }

    pub fn invalid(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }

    pub fn unavailable(dependency: Dependency, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Unavailable {
            dependency,
            source: Box::new(source),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Invalid input"),
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code, "Bad request"),
            ApiError::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code, "Unauthorized"),
            ApiError::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code, "Forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code, "Conflict"),
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large")
            }
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
            ApiError::Unavailable { dependency, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                dependency.code(),
                "Service unavailable",
            ),
            ApiError::Contention(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_busy", "Service unavailable"),
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
            ApiError::Unavailable { dependency, .. } => {
                format!("{dependency} is temporarily unavailable; nothing was changed, retry shortly")
            }
            ApiError::Contention(_) => {
                "the database is busy with a conflicting change; nothing was changed, retry shortly".into()
            }
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
                ApiError::Validation(errors) => errors.iter().take(MAX_LISTED_ERRORS).cloned().collect(),
                _ => Vec::new(),
            },
            error_count: match self {
                ApiError::Validation(errors) if errors.len() > MAX_LISTED_ERRORS => Some(errors.len()),
                _ => None,
            },
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match DatabaseFault::of(&error) {
            Some(DatabaseFault::Unavailable) => ApiError::unavailable(Dependency::Database, error),
            Some(DatabaseFault::Contention) => ApiError::Contention(Box::new(error)),
            // A CHECK constraint caught what validation should have: still the client's input, but the database
            // text (which may quote the row) is not passed on.
            Some(DatabaseFault::OutOfRange) => ApiError::invalid(FieldError::new(
                "body",
                "constraint_violation",
                "a value is outside its allowed range",
            )),
            Some(DatabaseFault::UnstorableText) => ApiError::invalid(FieldError::new(
                "body",
                "invalid_text",
                "a text value contains characters that cannot be stored (such as NUL)",
            )),
            None => ApiError::internal(error),
        }
    }
}

// The application layer's errors, mapped to HTTP here and only here: `import_service` and `jobs` know nothing of
// the API.

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Parse(ParseError::Unrecognised { .. }) => {
                ApiError::invalid(FieldError::new("file", "unrecognised_format", error.to_string()))
            }
            ImportError::Parse(ParseError::Corrupt { .. }) => {
                ApiError::invalid(FieldError::new("file", "corrupt_file", error.to_string()))
            }
            ImportError::Parse(ParseError::UnstorableText { .. }) => {
                ApiError::invalid(FieldError::new("file", rules::INVALID_TEXT, error.to_string()))
            }
            ImportError::Parse(ParseError::Io(_) | ParseError::Stopped) => ApiError::BadRequest {
                code: "unreadable_file",
                detail: "the file could not be read to the end; nothing was imported".into(),
            },
            ImportError::Invalid(_) => ApiError::internal(error),
            ImportError::Database(db) => db.into(),
        }
    }
}

impl From<EditError> for ApiError {
    fn from(error: EditError) -> Self {
        match error {
            EditError::NotFound => ApiError::NotFound,
            EditError::Invalid(errors) => ApiError::Validation(errors),
            EditError::KeyTaken(field) => ApiError::Conflict {
                code: "duplicate_key",
                detail: format!("another stored record already has this `{field}` and `source`; nothing was changed"),
            },
            EditError::Database(e) => e.into(),
        }
    }
}

impl From<ShareError> for ApiError {
    fn from(error: ShareError) -> Self {
        match error {
            ShareError::Invalid(errors) => ApiError::Validation(errors),
            ShareError::NoSuchAccount => ApiError::invalid(FieldError::new(
                "grantee_email",
                "no_such_account",
                "no account has this email; ask them to register first, or share a link (`link: true`) instead",
            )),
            ShareError::Database(e) => e.into(),
        }
    }
}

impl From<InsightsError> for ApiError {
    fn from(error: InsightsError) -> Self {
        match error {
            InsightsError::Database(e) => e.into(),
            // The account was erased after its token was checked.
            InsightsError::UnknownUser => ApiError::NotFound,
            InsightsError::BadData(_) => ApiError::internal(error),
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::Database(e) => e.into(),
            // The account was erased after its token was checked.
            ReportError::UnknownUser => ApiError::NotFound,
            ReportError::EndsAfterToday => ApiError::invalid(FieldError::new(
                "end",
                "date_in_future",
                "the date is after today in your time zone",
            )),
            other => ApiError::internal(other),
        }
    }
}

impl From<glucolens_credentials::passwords::PasswordError> for ApiError {
    fn from(error: glucolens_credentials::passwords::PasswordError) -> Self {
        ApiError::internal(error)
    }
}

impl From<JobError> for ApiError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::Database(e) => e.into(),
            JobError::Queue(e) => ApiError::unavailable(Dependency::Queue, e),
            other => ApiError::internal(other),
        }
    }
}

/// The database errors that are not bugs, classified once for every layer (the API maps them to 503 or 422, the
/// worker to retryable or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseFault {
    /// The server is unreachable, shutting down, restarting or out of connections: retry later.
    Unavailable,
    /// Deadlock (40P01) or serialization failure (40001): the transaction was rolled back; run it again.
    Contention,
    /// A CHECK constraint (23514) or a date/time or numeric value out of range (22008, 22003).
    OutOfRange,
    /// Text PostgreSQL cannot store: NUL bytes (22021) or an untranslatable character (22P05).
    UnstorableText,
}

impl DatabaseFault {
    pub fn of(error: &sqlx::Error) -> Option<Self> {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed => Some(DatabaseFault::Unavailable),
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                match code.as_ref() {
                    "40P01" | "40001" => Some(DatabaseFault::Contention),
                    "23514" | "22008" | "22003" | "22009" => Some(DatabaseFault::OutOfRange),
                    "22021" | "22P05" => Some(DatabaseFault::UnstorableText),
                    // Connection exceptions, admin/crash shutdown, cannot connect now, too many connections,
                    // out of memory or disk, query cancelled by a shutdown.
                    c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
                        Some(DatabaseFault::Unavailable)
                    }
                    "57014" => Some(DatabaseFault::Unavailable),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(source) => tracing::error!(error = %source, "internal error"),
            ApiError::Unavailable { dependency, source } => {
                tracing::warn!(error = %source, dependency = dependency.code(), "dependency unavailable")
            }
            ApiError::Contention(source) => tracing::warn!(error = %source, "database contention"),
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
            ApiError::Unavailable { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE_SECS));
            }
            ApiError::Contention(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1u64));
                response.extensions_mut().insert(ContentionMarker);
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
