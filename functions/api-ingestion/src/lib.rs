//! The ingestion endpoint group: glucose (one reading or a bulk batch), sleep, activities, meals and the Apple
//! Health sync. Nothing lost, nothing duplicated:
//!
//! - every item is validated first and every problem reported (422, `errors[]` with `readings[3].value`, ...);
//!   a request with any invalid item writes nothing;
//! - each kind is written with one statement per batch that skips records whose natural key is already stored,
//!   so re-sending (or sending concurrently) never duplicates a row;
//! - the affected local days are marked for re-aggregation in the same transaction as the data.
//!
//! Responses: **201** `{inserted, already_present}` when anything new was stored, **200** with the same body when
//! every record was already there (an idempotent re-send).

mod write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use glucolens_app::record_writer::Record;
use glucolens_domain::ingest::{
    check_batch_size, validate_batch, validate_one, ActivityInput, Context, GlucoseReadingInput, MealInput, SleepInput,
    Validate,
};
use glucolens_domain::FieldError;
use glucolens_store::InsertCounts;
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, ApiJson, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use write::Writer;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    with_api_layers(
        Router::new()
            .route("/api/v1/glucose/readings", post(glucose_reading))
            .route("/api/v1/glucose/bulk", post(glucose_bulk))
            .route("/api/v1/sleep", post(sleep_session))
            .route("/api/v1/activities", post(activity))
            .route("/api/v1/meals", post(meal))
            .route("/api/v1/integrations/apple-health", post(apple_health)),
        state,
    )
}

#[derive(OpenApi)]
#[openapi(
    paths(glucose_reading, glucose_bulk, sleep_session, activity, meal, apple_health),
    components(schemas(FieldError))
)]
struct IngestionApi;

/// This function's part of the OpenAPI document (merged into the served one by `glucolens openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = IngestionApi::openapi();
    openapi::add_shared_components(&mut api);
    api
}

glucolens_web::problem_responses! {
    /// The problem responses every ingestion route can give, documented once.
    ProblemResponses = [
        openapi::MALFORMED_BODY,
        openapi::UNAUTHORIZED,
        openapi::PAYLOAD_TOO_LARGE,
        (
            "422",
            "Invalid items; `errors` lists every one (`field` such as `readings[3].value`, `index`, `code`, \
             `reason`), or `batch_too_large`. Nothing was written",
        ),
        ("429", "Rate limit exceeded; see `Retry-After`"),
        openapi::UNAVAILABLE,
    ]
}

/// Many glucose readings at once: up to 50,000 (90 days of 5-minute data is 25,920).
#[derive(Debug, Deserialize, ToSchema)]
pub struct GlucoseBulkInput {
    pub readings: Vec<GlucoseReadingInput>,
}

/// Everything an Apple Health sync carries; each list may be empty or absent. Items without a `source` are
/// recorded as `apple_health`. All four are written in one transaction: all or nothing.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AppleHealthInput {
    #[serde(default)]
    pub glucose: Vec<GlucoseReadingInput>,
    #[serde(default)]
    pub sleep: Vec<SleepInput>,
    #[serde(default)]
    pub activities: Vec<ActivityInput>,
    #[serde(default)]
    pub meals: Vec<MealInput>,
}

/// Per-kind counts of an Apple Health sync, and their totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppleHealthResult {
    pub glucose: InsertCounts,
    pub sleep: InsertCounts,
    pub activities: InsertCounts,
    pub meals: InsertCounts,
    /// Sum over the four kinds.
    pub inserted: u64,
    /// Sum over the four kinds.
    pub already_present: u64,
}

/// 201 when anything was new, 200 when the whole request was already stored.
fn status_for(counts: InsertCounts) -> StatusCode {
    if counts.inserted > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

type Stored = (StatusCode, ApiJson<InsertCounts>);

fn stored(counts: InsertCounts) -> Stored {
    (status_for(counts), ApiJson(counts))
}

/// The source recorded for items that name none, per route.
const API_SOURCE: &str = "api";
const APPLE_HEALTH_SOURCE: &str = "apple_health";

fn context(default_source: &'static str) -> Context {
    Context {
        now: Utc::now(),
        default_source,
    }
}

/// Writes records of one kind for the caller.
async fn store<K: Record>(state: &AppState, user: AuthUser, records: &[K]) -> Result<InsertCounts, ApiError> {
    let mut writer = Writer::begin(state, user).await?;
    let counts = writer.add(records).await?;
    writer.commit().await?;
    Ok(counts)
}

/// Validates one item and writes it.
async fn ingest_one<I>(state: &AppState, user: AuthUser, input: I) -> Result<Stored, ApiError>
where
    I: Validate,
    I::Record: Record,
{
    let record = validate_one(input, context(API_SOURCE)).map_err(ApiError::Validation)?;
    store(state, user, std::slice::from_ref(&record)).await.map(stored)
}

/// Store one glucose reading.
#[utoipa::path(
    post, path = "/api/v1/glucose/readings", tag = "ingestion",
    request_body = GlucoseReadingInput,
    responses(
        (status = 201, description = "Stored", body = InsertCounts),
        (status = 200, description = "Already stored (same timestamp and source); nothing changed", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn glucose_reading(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<GlucoseReadingInput>,
) -> Result<Stored, ApiError> {
    ingest_one(&state, user, input).await
}

/// Store many glucose readings in one transaction (one database round trip for the rows).
///
/// Readings already stored (same timestamp and source) and repeats within the batch are counted once in
/// `already_present`/`inserted` and never duplicated, also under concurrent identical uploads.
#[utoipa::path(
    post, path = "/api/v1/glucose/bulk", tag = "ingestion",
    request_body = GlucoseBulkInput,
    responses(
        (status = 201, description = "At least one new reading stored", body = InsertCounts),
        (status = 200, description = "Every reading was already stored", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn glucose_bulk(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<GlucoseBulkInput>,
) -> Result<Stored, ApiError> {
    check_batch_size("readings", input.readings.len()).map_err(ApiError::invalid)?;
    let mut errors = Vec::new();
    let records = validate_batch("readings", input.readings, context(API_SOURCE), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let counts = store(&state, user, &records).await?;
    tracing::info!(
        inserted = counts.inserted,
        already_present = counts.already_present,
        "glucose bulk stored"
    );
    Ok(stored(counts))
}

/// Store one sleep session.
#[utoipa::path(
    post, path = "/api/v1/sleep", tag = "ingestion",
    request_body = SleepInput,
    responses(
        (status = 201, description = "Stored", body = InsertCounts),
        (status = 200, description = "Already stored (same start time and source)", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn sleep_session(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<SleepInput>,
) -> Result<Stored, ApiError> {
    ingest_one(&state, user, input).await
}

/// Store one activity.
#[utoipa::path(
    post, path = "/api/v1/activities", tag = "ingestion",
    request_body = ActivityInput,
    responses(
        (status = 201, description = "Stored", body = InsertCounts),
        (status = 200, description = "Already stored (same start time, type and source)", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn activity(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<ActivityInput>,
) -> Result<Stored, ApiError> {
    ingest_one(&state, user, input).await
}

/// Store one meal.
#[utoipa::path(
    post, path = "/api/v1/meals", tag = "ingestion",
    request_body = MealInput,
    responses(
        (status = 201, description = "Stored", body = InsertCounts),
        (status = 200, description = "Already stored (same timestamp and source)", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn meal(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<MealInput>,
) -> Result<Stored, ApiError> {
    ingest_one(&state, user, input).await
}

/// Store an Apple Health sync: glucose, sleep sessions, activities and meals in one transaction.
///
/// Every item of every list is validated first; any invalid item means nothing of any kind is written.
#[utoipa::path(
    post, path = "/api/v1/integrations/apple-health", tag = "ingestion",
    request_body = AppleHealthInput,
    responses(
        (status = 201, description = "At least one new record stored", body = AppleHealthResult),
        (status = 200, description = "Every record was already stored", body = AppleHealthResult),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn apple_health(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<AppleHealthInput>,
) -> Result<(StatusCode, ApiJson<AppleHealthResult>), ApiError> {
    let items = input.glucose.len() + input.sleep.len() + input.activities.len() + input.meals.len();
    check_batch_size("body", items).map_err(ApiError::invalid)?;
    let context = context(APPLE_HEALTH_SOURCE);
    let mut errors = Vec::new();
    let glucose = validate_batch("glucose", input.glucose, context, &mut errors);
    let sleep = validate_batch("sleep", input.sleep, context, &mut errors);
    let activities = validate_batch("activities", input.activities, context, &mut errors);
    let meals = validate_batch("meals", input.meals, context, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut writer = Writer::begin(&state, user).await?;
    let (glucose, sleep, activities, meals) = (
        writer.add(&glucose).await?,
        writer.add(&sleep).await?,
        writer.add(&activities).await?,
        writer.add(&meals).await?,
    );
    writer.commit().await?;
    let total = glucose + sleep + activities + meals;
    Ok((
        status_for(total),
        ApiJson(AppleHealthResult {
            glucose,
            sleep,
            activities,
            meals,
            inserted: total.inserted,
            already_present: total.already_present,
        }),
    ))
}
