//! `GET /api/v1/glucose/readings` (a time range one page at a time, or a sync) and `GET /api/v1/glucose/readings/{id}`,
//! in the caller's display unit.

use axum::extract::State;
use chrono::{DateTime, Utc};
use glucolens_domain::{GlucoseUnit, MgDl};
use glucolens_store::records::{self, GlucoseRow};
use glucolens_web::reader::OwnerHeader;
use glucolens_web::AppState;
use glucolens_web::{ApiError, ApiJson, ApiQuery, DataReader, RecordId, RequestId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::listing::{self, ListQuery, Listing, Tombstone};
use crate::ProblemResponses;

/// One glucose reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reading {
    /// What `PATCH` and `DELETE /api/v1/glucose/readings/{id}` take.
    pub id: i64,
    pub timestamp: DateTime<Utc>,
    /// In the page's `unit`.
    pub value: f64,
    pub source: String,
    pub trend: Option<String>,
    pub device_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A page of readings ordered by time (then id), or a sync's changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingsPage {
    /// The caller's display unit, in which every `value` is given.
    pub unit: GlucoseUnit,
    /// The range asked for (null in a sync).
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub readings: Vec<Reading>,
    /// In a sync only: readings deleted since `updated_since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Vec<Tombstone>>,
    /// Pass as `cursor` (with the same other parameters) for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// In a sync, on its last page: the `updated_since` of the next sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_updated_since: Option<DateTime<Utc>>,
}

impl Reading {
    fn new(row: GlucoseRow, unit: GlucoseUnit) -> Self {
        Self {
            id: row.id,
            timestamp: row.timestamp,
            value: unit.display(MgDl::from_stored(row.value)),
            source: row.source,
            trend: row.trend,
            device_id: row.device_id,
            updated_at: row.updated_at,
        }
    }
}

/// The caller's glucose readings in `[start, end)`, or what changed since `updated_since`.
#[utoipa::path(
    get,
    path = "/api/v1/glucose/readings",
    tag = "retrieval",
    params(ListQuery, OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "One page of readings", body = ReadingsPage), ProblemResponses)
)]
pub async fn glucose_readings(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<ApiJson<ReadingsPage>, ApiError> {
    let request = query.validate()?;
    let settings = crate::display_settings(&reader.settings)?;
    let (start, end) = match request.listing {
        Listing::Range { start, end, .. } => (Some(start), Some(end)),
        Listing::Changes { .. } => (None, None),
    };
    let page = listing::list::<GlucoseRow>(&state, &reader, request).await?;
    crate::audit_read(&state, &reader, &request_id, "glucose_readings").await?;
    Ok(ApiJson(ReadingsPage {
        unit: settings.unit,
        start,
        end,
        readings: page
            .items
            .into_iter()
            .map(|row| Reading::new(row, settings.unit))
            .collect(),
        deleted: page.deleted,
        next_cursor: page.next_cursor,
        next_updated_since: page.next_updated_since,
    }))
}

/// One of the caller's glucose readings, in their display unit (as `value` with `unit` alongside).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingWithUnit {
    pub unit: GlucoseUnit,
    #[serde(flatten)]
    pub reading: Reading,
}

/// One of the caller's glucose readings.
#[utoipa::path(
    get,
    path = "/api/v1/glucose/readings/{id}",
    tag = "retrieval",
    params(("id" = i64, Path, description = "The reading's id"), OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "The reading", body = ReadingWithUnit), ProblemResponses)
)]
pub async fn glucose_reading(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    RecordId(id): RecordId,
) -> Result<ApiJson<ReadingWithUnit>, ApiError> {
    let settings = crate::display_settings(&reader.settings)?;
    let row = records::get::<GlucoseRow>(&state.db, reader.owner_id, id, false)
        .await?
        .ok_or(ApiError::NotFound)?;
    crate::audit_read(&state, &reader, &request_id, "glucose_readings").await?;
    Ok(ApiJson(ReadingWithUnit {
        unit: settings.unit,
        reading: Reading::new(row, settings.unit),
    }))
}
