//! GlucoLens HTTP plumbing, shared by every HTTP function: one error type ([`ApiError`]) mapped once to RFC 9457
//! problem responses (the application's errors included), the authenticated-user extractor (with the per-user rate
//! limit) and the read extractors (own data, or another user's through a grant), size-limited JSON bodies and
//! queries, audit of reads, middleware, OpenAPI helpers, the route table and the Lambda HTTP runner. Does not
//! belong here: SQL (the store), rules (the domain), what a request does (the application), AWS clients
//! (`glucolens-aws`).

pub mod audit;
pub mod auth;
pub mod json;
pub mod lambda;
pub mod layers;
pub mod openapi;
pub mod path;
pub mod problem;
pub mod query;
pub mod reader;
pub mod routes;
pub mod state;

pub use auth::{AuthUser, RequestId};
pub use json::ApiJson;
pub use path::RecordId;
pub use problem::{ApiError, Dependency};
pub use query::ApiQuery;
pub use reader::{DataReader, ReportReader};
pub use state::AppState;

/// Largest request body the API accepts. Lambda's synchronous payload limit is 6 MB for the whole event; 5 MB of
/// body leaves room for headers and the event envelope. 90 days of 5-minute readings is about 1.6 MB of JSON.
pub const MAX_BODY_BYTES: usize = 5_000_000;

/// Applies what every API router needs: the body limit above (axum's own default is 2 MB), retries of requests the
/// database aborted for contention, and problem documents for every error, the router's own 404 and 405 included.
pub fn with_api_layers(router: axum::Router<crate::AppState>, state: crate::AppState) -> axum::Router {
    router
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn(layers::retry_on_contention))
        .layer(axum::middleware::from_fn(layers::problem_for_bare_errors))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .with_state(state)
}
