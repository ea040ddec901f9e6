//! `GET /api/v1/sleep`, `/activities` and `/meals` (a time range one page at a time, or a sync), and each kind by
//! id: what a phone wrote, read back with the ids it corrects and deletes by.

use axum::extract::State;
use chrono::NaiveDate;
use glucolens_domain::local_day;
use glucolens_store::records::{self, ActivityRow, MealRow, RecordTable, SleepRow};
use glucolens_web::reader::{Access, OwnerHeader};
use glucolens_web::{ApiError, ApiJson, ApiQuery, AppState, DataReader, RecordId, RequestId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::listing::{self, ListQuery, RecordPage};
use crate::ProblemResponses;

/// A sleep session as stored, with the night it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct SleepSession {
    /// The local date of the evening the night began, in the account's time zone (sleep that starts before 06:00
    /// counts for the evening before), as the daily summary counts it.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    #[serde(flatten)]
    pub session: SleepRow,
}

/// Sleep sessions, activities or meals of the owner `reader` reads, read and audited as `resource`.
async fn list<T: RecordTable>(
    state: &AppState,
    reader: &Access,
    request_id: &RequestId,
    query: ListQuery,
    resource: &str,
) -> Result<RecordPage<T>, ApiError> {
    let request = query.validate()?;
    let page = listing::list::<T>(state, reader, request).await?;
    crate::audit_read(state, reader, request_id, resource).await?;
    Ok(page)
}

/// One record of the owner `reader` reads, read and audited as `resource`.
async fn one<T: RecordTable>(
    state: &AppState,
    reader: &Access,
    request_id: &RequestId,
    id: i64,
    resource: &str,
) -> Result<T, ApiError> {
    let row = records::get::<T>(&state.db, reader.owner_id, id, false)
        .await?
        .ok_or(ApiError::NotFound)?;
    crate::audit_read(state, reader, request_id, resource).await?;
    Ok(row)
}

/// Each session with its night, in the owner's zone.
fn with_nights(reader: &Access, sessions: RecordPage<SleepRow>) -> Result<RecordPage<SleepSession>, ApiError> {
    let zone = crate::display_settings(&reader.settings)?.time_zone.tz();
    Ok(sessions.map(|session| SleepSession {
        date: local_day::night_of(zone, session.sleep_start),
        session,
    }))
}

/// The caller's sleep sessions starting in `[start, end)`, or what changed since `updated_since`.
#[utoipa::path(
    get,
    path = "/api/v1/sleep",
    tag = "retrieval",
    params(ListQuery, OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "One page of sleep sessions", body = RecordPage<SleepSession>),
        ProblemResponses)
)]
pub async fn sleep_sessions(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<ApiJson<RecordPage<SleepSession>>, ApiError> {
    let page = list::<SleepRow>(&state, &reader, &request_id, query, "sleep").await?;
    Ok(ApiJson(with_nights(&reader, page)?))
}

/// One of the caller's sleep sessions.
#[utoipa::path(
    get,
    path = "/api/v1/sleep/{id}",
    tag = "retrieval",
    params(("id" = i64, Path, description = "The session's id"), OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "The session", body = SleepSession), ProblemResponses)
)]
pub async fn sleep_session(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<ApiJson<SleepSession>, ApiError> {
    let session = one::<SleepRow>(&state, &reader, &request_id, id, "sleep").await?;
    let settings = crate::display_settings(&reader.settings)?;
    Ok(ApiJson(SleepSession {
        date: local_day::night_of(settings.time_zone.tz(), session.sleep_start),
        session,
    }))
}

/// The caller's activities starting in `[start, end)`, or what changed since `updated_since`.
#[utoipa::path(
    get,
    path = "/api/v1/activities",
    tag = "retrieval",
    params(ListQuery, OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "One page of activities", body = RecordPage<ActivityRow>),
        ProblemResponses)
)]
pub async fn activities(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<ApiJson<RecordPage<ActivityRow>>, ApiError> {
    list(&state, &reader, &request_id, query, "activities")
        .await
        .map(ApiJson)
}

/// One of the caller's activities.
#[utoipa::path(
    get,
    path = "/api/v1/activities/{id}",
    tag = "retrieval",
    params(("id" = i64, Path, description = "The activity's id"), OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "The activity", body = ActivityRow), ProblemResponses)
)]
pub async fn activity(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<ApiJson<ActivityRow>, ApiError> {
    one(&state, &reader, &request_id, id, "activities").await.map(ApiJson)
}

/// The caller's meals eaten in `[start, end)`, or what changed since `updated_since`.
#[utoipa::path(
    get,
    path = "/api/v1/meals",
    tag = "retrieval",
    params(ListQuery, OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "One page of meals", body = RecordPage<MealRow>), ProblemResponses)
)]
pub async fn meals(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<ApiJson<RecordPage<MealRow>>, ApiError> {
    list(&state, &reader, &request_id, query, "meals").await.map(ApiJson)
}

/// One of the caller's meals.
#[utoipa::path(
    get,
    path = "/api/v1/meals/{id}",
    tag = "retrieval",
    params(("id" = i64, Path, description = "The meal's id"), OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "The meal", body = MealRow), ProblemResponses)
)]
pub async fn meal(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<ApiJson<MealRow>, ApiError> {
    one(&state, &reader, &request_id, id, "meals").await.map(ApiJson)
}
