//! `ApiQuery<T>`: the query-string extractor whose rejection is a problem response (400 `invalid_query`), so a
//! handler never has to map axum's text/plain rejection itself.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;

pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::BadRequest {
                code: "invalid_query",
                detail: glucolens_domain::rules::shorten(&rejection.body_text(), 200),
            })
    }
}
