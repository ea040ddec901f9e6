//! `RecordId`: the `{id}` of a stored record in a path. Anything that is not a positive whole number cannot name a
//! record, so it is answered like an unknown id (404), never with axum's text/plain rejection.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for RecordId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(RecordId(id)),
            _ => Err(ApiError::NotFound),
        }
    }
}
