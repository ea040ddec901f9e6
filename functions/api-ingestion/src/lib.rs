//! The ingestion endpoint group: glucose, sleep, activities and meals (each one at a time or as a bulk batch) and
//! the Apple Health sync. Request fields carry the design's names (`sleep_start`, `carbs_grams`, ...; the earlier
//! names are accepted as aliases, see `glucolens_domain::ingest`). Nothing lost, nothing duplicated:
//!
//! - every item is validated first and every problem reported (422, `errors[]` with `readings[3].value`, ...);
//!   a request with any invalid item writes nothing;
//! - each kind is written with one statement per batch that skips records whose natural key is already stored,
//!   so re-sending (or sending concurrently) never duplicates a row;
//! - the affected local days are marked for re-aggregation in the same transaction as the data.
//!
//! Responses: **201** `{inserted, already_present}` when anything new was stored, **200** with the same body when
//! every record was already there (an idempotent re-send). Every bulk route behaves as `POST /api/v1/glucose/bulk`
//! does: at most 50,000 items, all validated before any is written, repeats within the batch collapsed (the same
//! key with other values is a 422 naming both items), one request against the rate limit.

mod corrections;
mod write;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::Router;
use chrono::Utc;
use glucolens_app::record_writer::Record;
use glucolens_domain::ingest::{
    check_batch_size, validate_batch, validate_one, ActivityInput, Context, GlucoseReadingInput, MealInput, NaturalKey,
    SleepInput, Validate,
};
use glucolens_domain::FieldError;
use glucolens_store::{users, InsertCounts};
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, ApiJson, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use write::Writer;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    with_api_layers(
        Router::new()
            .route(
                "/api/v1/glucose/readings",
                post(glucose_reading).delete(corrections::delete_readings),
            )
            .route(
                "/api/v1/glucose/readings/{id}",
                patch(corrections::correct_reading).delete(corrections::delete_reading),
            )
            .route(
                "/api/v1/sleep/{id}",
                patch(corrections::correct_sleep).delete(corrections::delete_sleep),
            )
            .route(
                "/api/v1/activities/{id}",
                patch(corrections::correct_activity).delete(corrections::delete_activity),
            )
            .route(
                "/api/v1/meals/{id}",
                patch(corrections::correct_meal).delete(corrections::delete_meal),
            )
            .route("/api/v1/glucose/bulk", post(glucose_bulk))
            .route("/api/v1/sleep", post(sleep_session))
            .route("/api/v1/sleep/bulk", post(sleep_bulk))
            .route("/api/v1/activities", post(activity))
            .route("/api/v1/activities/bulk", post(activity_bulk))
            .route("/api/v1/meals", post(meal))
            .route("/api/v1/meals/bulk", post(meal_bulk))
            .route("/api/v1/integrations/apple-health", post(apple_health)),
        state,
    )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        glucose_reading,
        glucose_bulk,
        sleep_session,
        sleep_bulk,
        activity,
        activity_bulk,
        meal,
        meal_bulk,
        apple_health,
        corrections::delete_readings,
        corrections::correct_reading,
        corrections::delete_reading,
        corrections::correct_sleep,
        corrections::delete_sleep,
        corrections::correct_activity,
        corrections::delete_activity,
        corrections::correct_meal,
        corrections::delete_meal
    ),
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
#[schema(example = json!({"readings": [
    {"timestamp": "2025-01-15T08:00:00Z", "value": 95.0, "source": "dexcom_g7"},
    {"timestamp": "2025-01-15T08:05:00Z", "value": 98.0, "source": "dexcom_g7"}
]}))]
pub struct GlucoseBulkInput {
    pub readings: Vec<GlucoseReadingInput>,
}

/// Many sleep sessions at once: up to 50,000.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"sleep_sessions": [
    {"date": "2025-01-14", "sleep_start": "2025-01-14T23:00:00Z", "sleep_end": "2025-01-15T07:00:00Z",
     "duration_minutes": 480, "deep_sleep_minutes": 120, "quality_score": 8.5, "source": "apple_watch"}
]}))]
pub struct SleepBulkInput {
    /// Alias: `sleep`.
    #[serde(alias = "sleep")]
    pub sleep_sessions: Vec<SleepInput>,
}

/// Many activities at once: up to 50,000.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"activities": [
    {"timestamp": "2025-01-15T18:00:00Z", "activity_type": "running", "duration_minutes": 45,
     "intensity": "vigorous", "calories_burned": 420, "heart_rate_avg": 148, "source": "apple_watch"}
]}))]
pub struct ActivityBulkInput {
    pub activities: Vec<ActivityInput>,
}

/// Many meals at once: up to 50,000.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"meals": [
    {"timestamp": "2025-01-15T12:30:00Z", "meal_type": "lunch", "carbs_grams": 65.0, "protein_grams": 30.0,
     "fat_grams": 20.0, "calories": 560, "description": "pasta with salad", "source": "manual"}
]}))]
pub struct MealBulkInput {
    pub meals: Vec<MealInput>,
}

/// Everything an Apple Health sync carries (the design's `glucose_readings`, `sleep_sessions`, `activities`, and
/// `meals`); each list may be empty or absent, at most 50,000 items in all. Items without a `source` are recorded
/// as `apple_health`. All four are written in one transaction: all or nothing.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AppleHealthInput {
    /// Alias: `glucose`.
    #[serde(default, alias = "glucose")]
    pub glucose_readings: Vec<GlucoseReadingInput>,
    /// Alias: `sleep`.
    #[serde(default, alias = "sleep")]
    pub sleep_sessions: Vec<SleepInput>,
    #[serde(default)]
    pub activities: Vec<ActivityInput>,
    #[serde(default)]
    pub meals: Vec<MealInput>,
}

/// The outcome the design's sync answer names; a sync that fails is a problem document instead.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    Success,
}

/// Per-kind counts of an Apple Health sync, and their totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppleHealthResult {
    /// Always `success`.
    pub status: SyncStatus,
    /// Records of the request that are now stored: `inserted` + `already_present` (repeats within the request
    /// count once).
    pub records_synced: u64,
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

/// The validation context for `items`: the account's time zone is looked up only when an item needs it (a sleep
/// session naming its `date`).
async fn context<'i, I: Validate + 'i>(
    state: &AppState,
    user: AuthUser,
    default_source: &'static str,
    items: impl IntoIterator<Item = &'i I>,
) -> Result<Context, ApiError> {
    let now = Utc::now();
    let time_zone = match items.into_iter().any(Validate::needs_time_zone) {
        true => Some(users::time_zone(&state.db, user.id).await?),
        false => None,
    };
    Ok(Context {
        now,
        default_source,
        time_zone,
    })
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
    let context = context(state, user, API_SOURCE, [&input]).await?;
    let record = validate_one(input, context).map_err(ApiError::Validation)?;
    store(state, user, std::slice::from_ref(&record)).await.map(stored)
}

/// Validates the batch field `batch` (every item, nothing written if any is invalid) and writes it.
async fn ingest_batch<I>(
    state: &AppState,
    user: AuthUser,
    batch: &'static str,
    items: Vec<I>,
) -> Result<Stored, ApiError>
where
    I: Validate,
    I::Record: Record + NaturalKey,
{
    check_batch_size(batch, items.len()).map_err(ApiError::invalid)?;
    let context = context(state, user, API_SOURCE, &items).await?;
    let mut errors = Vec::new();
    let records = validate_batch(batch, items, context, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let counts = store(state, user, &records).await?;
    tracing::info!(
        batch,
        inserted = counts.inserted,
        already_present = counts.already_present,
        "bulk stored"
    );
    Ok(stored(counts))
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
    ingest_batch(&state, user, "readings", input.readings).await
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

/// Store many sleep sessions in one transaction, as `POST /api/v1/glucose/bulk` stores readings.
///
/// Sessions already stored (same start and source) and identical repeats within the batch are never duplicated.
#[utoipa::path(
    post, path = "/api/v1/sleep/bulk", tag = "ingestion",
    request_body = SleepBulkInput,
    responses(
        (status = 201, description = "At least one new session stored", body = InsertCounts),
        (status = 200, description = "Every session was already stored", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn sleep_bulk(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<SleepBulkInput>,
) -> Result<Stored, ApiError> {
    ingest_batch(&state, user, "sleep_sessions", input.sleep_sessions).await
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

/// Store many activities in one transaction, as `POST /api/v1/glucose/bulk` stores readings.
///
/// Activities already stored (same start, type and source) and identical repeats within the batch are never
/// duplicated.
#[utoipa::path(
    post, path = "/api/v1/activities/bulk", tag = "ingestion",
    request_body = ActivityBulkInput,
    responses(
        (status = 201, description = "At least one new activity stored", body = InsertCounts),
        (status = 200, description = "Every activity was already stored", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn activity_bulk(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<ActivityBulkInput>,
) -> Result<Stored, ApiError> {
    ingest_batch(&state, user, "activities", input.activities).await
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

/// Store many meals in one transaction, as `POST /api/v1/glucose/bulk` stores readings.
///
/// Meals already stored (same timestamp and source) and identical repeats within the batch are never duplicated.
#[utoipa::path(
    post, path = "/api/v1/meals/bulk", tag = "ingestion",
    request_body = MealBulkInput,
    responses(
        (status = 201, description = "At least one new meal stored", body = InsertCounts),
        (status = 200, description = "Every meal was already stored", body = InsertCounts),
        ProblemResponses
    ),
    security(("bearer" = []))
)]
async fn meal_bulk(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<MealBulkInput>,
) -> Result<Stored, ApiError> {
    ingest_batch(&state, user, "meals", input.meals).await
}

/// Store an Apple Health sync: glucose readings, sleep sessions, activities and meals in one transaction.
///
/// Every item of every list is validated first; any invalid item means nothing of any kind is written (errors
/// name the list: `glucose_readings[3].value`). The answer carries the design's `status` and `records_synced`.
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
    let items = input.glucose_readings.len() + input.sleep_sessions.len() + input.activities.len() + input.meals.len();
    check_batch_size("body", items).map_err(ApiError::invalid)?;
    // Only sleep sessions can ask for the account's zone.
    let context = context(&state, user, APPLE_HEALTH_SOURCE, &input.sleep_sessions).await?;
    let mut errors = Vec::new();
    let glucose = validate_batch("glucose_readings", input.glucose_readings, context, &mut errors);
    let sleep = validate_batch("sleep_sessions", input.sleep_sessions, context, &mut errors);
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
            status: SyncStatus::Success,
            records_synced: total.inserted + total.already_present,
            glucose,
            sleep,
            activities,
            meals,
            inserted: total.inserted,
            already_present: total.already_present,
        }),
    ))
}
