//! The retrieval endpoint group: a user's readings, daily summary and dashboard, each read audited.

mod metrics;
mod readings;
mod summaries;

use axum::routing::get;
use axum::Router;
// Each read is audited through the one shared helper (`crate::audit_read` for this crate's handlers).
use glucolens_domain::{FieldError, GlucoseUnit, UserTimeZone};
use glucolens_store::users::{self, StoredSettings};
use glucolens_web::audit::audit_read;
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, AuthUser};
use utoipa::OpenApi;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
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

/// This function's part of the OpenAPI document (merged into the served one by `glucolens openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = RetrievalApi::openapi();
    openapi::add_shared_components(&mut api);
    api
}

glucolens_web::problem_responses! {
    /// The problem responses every retrieval route can give, documented once.
    ProblemResponses = [
        openapi::UNAUTHORIZED,
        ("404", "The caller's account no longer exists"),
        ("422", "Invalid query parameters; `errors` lists each one"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ]
}

/// How the caller wants their data shown: the zone of their local days and the glucose unit they read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DisplaySettings {
    time_zone: UserTimeZone,
    unit: GlucoseUnit,
}

/// The caller's settings, read once per request (the account may have been erased since its token was checked).
async fn settings(state: &AppState, user: AuthUser) -> Result<(StoredSettings, DisplaySettings), ApiError> {
    let stored = users::settings(&state.db, user.id).await?.ok_or(ApiError::NotFound)?;
    // Both columns were validated on write; a value that no longer parses is a corrupt row, not client input.
    let corrupt = |e: FieldError| sqlx::Error::Decode(format!("users.{}: {}", e.field, e.code).into());
    let display = DisplaySettings {
        time_zone: stored.time_zone().map_err(corrupt)?,
        unit: stored.display_unit().map_err(corrupt)?,
    };
    Ok((stored, display))
}
