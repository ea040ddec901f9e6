//! The retrieval endpoint group: a user's readings, sleep, activities and meals (by range, by id, or as a sync),
//! daily summary and dashboard, each read audited. Every route reads through `glucolens_web::DataReader`: the
//! caller's own data, or an owner's through a grant of scope `read`.

mod listing;
mod metrics;
mod readings;
mod records;
mod summaries;

use axum::routing::get;
use axum::Router;
// Each read is audited through the one shared helper (`crate::audit_read` for this crate's handlers).
use glucolens_domain::{FieldError, GlucoseUnit, UserTimeZone};
use glucolens_store::users::StoredSettings;
use glucolens_web::audit::audit_read;
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError};
use utoipa::OpenApi;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    with_api_layers(
        Router::new()
            .route("/api/v1/glucose/readings", get(readings::glucose_readings))
            .route("/api/v1/glucose/readings/{id}", get(readings::glucose_reading))
            .route("/api/v1/sleep", get(records::sleep_sessions))
            .route("/api/v1/sleep/{id}", get(records::sleep_session))
            .route("/api/v1/activities", get(records::activities))
            .route("/api/v1/activities/{id}", get(records::activity))
            .route("/api/v1/meals", get(records::meals))
            .route("/api/v1/meals/{id}", get(records::meal))
            .route("/api/v1/glucose/daily-summary", get(summaries::daily_summary))
            .route("/api/v1/dashboard/summary", get(summaries::dashboard_summary)),
        state,
    )
}

#[derive(OpenApi)]
#[openapi(paths(
    readings::glucose_readings,
    readings::glucose_reading,
    records::sleep_sessions,
    records::sleep_session,
    records::activities,
    records::activity,
    records::meals,
    records::meal,
    summaries::daily_summary,
    summaries::dashboard_summary
))]
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
        (
            "404",
            "No such record, or `X-GlucoLens-Owner` names no active grant of scope `read` to the caller",
        ),
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

/// How `stored` settings show data: the data owner's, which the reader read with the request's credentials
/// (`glucolens_web::reader::Access::settings`).
fn display_settings(stored: &StoredSettings) -> Result<DisplaySettings, ApiError> {
    // Both columns were validated on write; a value that no longer parses is a corrupt row, not client input.
    let corrupt = |e: FieldError| sqlx::Error::Decode(format!("users.{}: {}", e.field, e.code).into());
    Ok(DisplaySettings {
        time_zone: stored.time_zone().map_err(corrupt)?,
        unit: stored.display_unit().map_err(corrupt)?,
    })
}
