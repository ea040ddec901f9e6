//! Correcting and deleting what was written: `PATCH` and `DELETE` by id for a glucose reading, sleep session,
//! activity or meal, and `DELETE /api/v1/glucose/readings?start&end&source` for a bad sensor session. The work is
//! the application's ([`glucolens_app::records`]): a correction is validated as a new record would be, and every
//! change marks the local days it touches for re-aggregation. Another user's id is a 404, like an unknown one.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use glucolens_app::records::{self as edits, Correctable};
use glucolens_domain::{parse_time_range, rules, FieldError, GlucoseUnit, MgDl};
use glucolens_store::records::{ActivityRow, GlucoseRow, MealRow, SleepRow};
use glucolens_store::users;
use glucolens_web::{ApiError, ApiJson, ApiQuery, AppState, AuthUser, RecordId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// Applies a merge patch to one of the caller's records.
async fn correct<T: Correctable>(
    state: &AppState,
    user: AuthUser,
    id: i64,
    patch: Map<String, Value>,
) -> Result<T, ApiError> {
    Ok(edits::correct::<T>(&state.db, user.id, id, patch, Utc::now()).await?)
}

/// Deletes one of the caller's records: 204.
async fn delete<T: Correctable>(state: &AppState, user: AuthUser, id: i64) -> Result<StatusCode, ApiError> {
    edits::delete::<T>(&state.db, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The corrected reading, in the caller's display unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectedReading {
    pub id: i64,
    pub timestamp: DateTime<Utc>,
    /// In `unit`.
    pub value: f64,
    pub unit: GlucoseUnit,
    pub source: String,
    pub trend: Option<String>,
    pub device_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Corrects one of the caller's glucose readings: a JSON merge patch (RFC 7396) of the fields of `POST
/// /api/v1/glucose/readings` (`value` with its `unit`, `timestamp`, `source`, `trend`, `device_id`; `null` clears
/// an optional field). The corrected reading is validated as a new one would be.
#[utoipa::path(
    patch,
    path = "/api/v1/glucose/readings/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The reading's id")),
    request_body(content = Object, content_type = "application/json",
        example = json!({"value": 112.0, "unit": "mg/dL"})),
    security(("bearer" = [])),
    responses((status = 200, description = "The reading as now stored", body = CorrectedReading), EditProblems)
)]
pub async fn correct_reading(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<ApiJson<CorrectedReading>, ApiError> {
    let row = correct::<GlucoseRow>(&state, user, id, patch).await?;
    let unit = users::settings(&state.db, user.id)
        .await?
        .ok_or(ApiError::NotFound)?
        .display_unit()
        .unwrap_or(GlucoseUnit::MgDl);
    Ok(ApiJson(CorrectedReading {
        id: row.id,
        timestamp: row.timestamp,
        value: unit.display(MgDl::from_stored(row.value)),
        unit,
        source: row.source,
        trend: row.trend,
        device_id: row.device_id,
        updated_at: row.updated_at,
    }))
}

/// Deletes one of the caller's glucose readings.
#[utoipa::path(
    delete,
    path = "/api/v1/glucose/readings/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The reading's id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted; the day is re-aggregated"), EditProblems)
)]
pub async fn delete_reading(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<StatusCode, ApiError> {
    delete::<GlucoseRow>(&state, user, id).await
}

/// Corrects one of the caller's sleep sessions: a JSON merge patch of the fields of `POST /api/v1/sleep`.
#[utoipa::path(
    patch,
    path = "/api/v1/sleep/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The session's id")),
    request_body(content = Object, content_type = "application/json",
        example = json!({"sleep_end": "2025-01-15T06:30:00Z", "quality_score": 7.5})),
    security(("bearer" = [])),
    responses((status = 200, description = "The session as now stored", body = SleepRow), EditProblems)
)]
pub async fn correct_sleep(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<ApiJson<SleepRow>, ApiError> {
    correct(&state, user, id, patch).await.map(ApiJson)
}

/// Deletes one of the caller's sleep sessions.
#[utoipa::path(
    delete,
    path = "/api/v1/sleep/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The session's id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted; its days are re-aggregated"), EditProblems)
)]
pub async fn delete_sleep(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<StatusCode, ApiError> {
    delete::<SleepRow>(&state, user, id).await
}

/// Corrects one of the caller's activities: a JSON merge patch of the fields of `POST /api/v1/activities`.
#[utoipa::path(
    patch,
    path = "/api/v1/activities/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The activity's id")),
    request_body(content = Object, content_type = "application/json", example = json!({"duration_minutes": 30})),
    security(("bearer" = [])),
    responses((status = 200, description = "The activity as now stored", body = ActivityRow), EditProblems)
)]
pub async fn correct_activity(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<ApiJson<ActivityRow>, ApiError> {
    correct(&state, user, id, patch).await.map(ApiJson)
}

/// Deletes one of the caller's activities.
#[utoipa::path(
    delete,
    path = "/api/v1/activities/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The activity's id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted; its days are re-aggregated"), EditProblems)
)]
pub async fn delete_activity(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<StatusCode, ApiError> {
    delete::<ActivityRow>(&state, user, id).await
}

/// Corrects one of the caller's meals: a JSON merge patch of the fields of `POST /api/v1/meals`.
#[utoipa::path(
    patch,
    path = "/api/v1/meals/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The meal's id")),
    request_body(content = Object, content_type = "application/json",
        example = json!({"carbs_grams": 45.0, "description": null})),
    security(("bearer" = [])),
    responses((status = 200, description = "The meal as now stored", body = MealRow), EditProblems)
)]
pub async fn correct_meal(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<ApiJson<MealRow>, ApiError> {
    correct(&state, user, id, patch).await.map(ApiJson)
}

/// Deletes one of the caller's meals.
#[utoipa::path(
    delete,
    path = "/api/v1/meals/{id}",
    tag = "ingestion",
    params(("id" = i64, Path, description = "The meal's id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted; its day is re-aggregated"), EditProblems)
)]
pub async fn delete_meal(
    user: AuthUser,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<StatusCode, ApiError> {
    delete::<MealRow>(&state, user, id).await
}

/// Longest range one range deletion may cover (the same as a read), so one request stays one bounded transaction.
const MAX_DELETE_RANGE_DAYS: i64 = 92;

/// Which readings to delete: every reading in `[start, end)`, or only those of `source`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeDeletion {
    /// Start, inclusive (RFC 3339 with an offset or `Z`).
    #[param(required = true, value_type = String, format = DateTime)]
    start: Option<String>,
    /// End, exclusive; after `start`, at most 92 days later.
    #[param(required = true, value_type = String, format = DateTime)]
    end: Option<String>,
    /// Only readings of this source (e.g. the sensor's `dexcom_g7`); all sources when absent.
    source: Option<String>,
}

/// A validated [`RangeDeletion`].
struct ReadingRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    source: Option<String>,
}

impl RangeDeletion {
    fn validate(self) -> Result<ReadingRange, ApiError> {
        let mut errors = Vec::new();
        let range = parse_time_range(
            self.start.as_deref(),
            self.end.as_deref(),
            MAX_DELETE_RANGE_DAYS,
            "",
            &mut errors,
        );
        if self.source.as_deref().is_some_and(|s| rules::check_text(s).is_err()) {
            errors.push(FieldError::unstorable_text("source"));
        }
        match range {
            Some((start, end)) if errors.is_empty() => Ok(ReadingRange {
                start,
                end,
                source: self.source,
            }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// How many readings a range deletion removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub deleted: u64,
}

/// Deletes the caller's glucose readings in `[start, end)`, of one `source` or all: removes a bad sensor session.
/// Deleting a range that holds nothing deletes nothing (`deleted: 0`).
#[utoipa::path(
    delete,
    path = "/api/v1/glucose/readings",
    tag = "ingestion",
    params(RangeDeletion),
    security(("bearer" = [])),
    responses((status = 200, description = "Deleted; the days are re-aggregated", body = Deleted), EditProblems)
)]
pub async fn delete_readings(
    user: AuthUser,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RangeDeletion>,
) -> Result<ApiJson<Deleted>, ApiError> {
    let range = query.validate()?;
    let deleted =
        edits::delete_glucose_range(&state.db, user.id, range.start, range.end, range.source.as_deref()).await?;
    Ok(ApiJson(Deleted { deleted }))
}

glucolens_web::problem_responses! {
    /// The problem responses of correcting and deleting.
    EditProblems = [
        glucolens_web::openapi::MALFORMED_BODY,
        glucolens_web::openapi::UNAUTHORIZED,
        ("404", "The caller has no record with this id"),
        ("409", "`duplicate_key`: the correction would give the record the natural key of another stored record"),
        ("422", "The corrected record or the query is invalid; `errors` lists every problem. Nothing was changed"),
        ("429", "Rate limit exceeded; see `Retry-After`"),
        glucolens_web::openapi::UNAVAILABLE,
    ]
}
