//! The retrieval endpoint group: a user's readings, daily summary and dashboard, each read audited.

mod metrics;
mod readings;
mod summaries;

use std::collections::BTreeMap;

use axum::routing::get;
use axum::Router;
use glucolens_core::http::{openapi, with_api_layers, ApiError, AuthUser, RequestId};
use glucolens_core::store::{audit, readings_query};
use glucolens_core::AppState;
use utoipa::openapi::RefOr;
use utoipa::OpenApi;

/// Every route this function serves (see `glucolens_core::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    with_api_layers(
        Router::new()
            .route("/api/v1/glucose/readings", get(readings::glucose_readings))
            .route("/api/v1/glucose/daily-summary", get(summaries::daily_summary))
            .route("/api/v1/dashboard/summary", get(summaries::dashboard_summary)),
        state,
    )
}

#[derive(OpenApi)]
#[openapi(paths(readings::glucose_readings, summaries::daily_summary, summaries::dashboard_summary))]
struct RetrievalApi;

/// This function's part of the OpenAPI document (merged by the docs function).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = RetrievalApi::openapi();
    openapi::add_bearer_scheme(&mut api);
    api
}

/// The problem responses every retrieval route can give, documented once.
struct ProblemResponses;

impl utoipa::IntoResponses for ProblemResponses {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        openapi::problem_responses(&[
            ("401", "Missing, invalid or expired access token"),
            ("422", "Invalid query parameters; `errors` lists each one"),
            ("429", "Rate limit exceeded; see `Retry-After`"),
        ])
    }
}

/// The caller's display settings (the account may have been erased since its token was checked).
async fn display_settings(state: &AppState, user: AuthUser) -> Result<readings_query::DisplaySettings, ApiError> {
    readings_query::display_settings(&state.db, user.id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Records the read of `resource` before its data leaves the service: a read that cannot be audited fails.
async fn audit_read(state: &AppState, user: AuthUser, request_id: &RequestId, resource: &str) -> Result<(), ApiError> {
    audit::record(&state.db, user.id, "read", resource, &request_id.0).await?;
    Ok(())
}
