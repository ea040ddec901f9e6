//! `GET /api/v1/glucose/readings`: the caller's readings in a time range, in key order, one page at a time.

use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use glucolens_domain::{parse_timestamp, FieldError, GlucoseUnit, MgDl};
use glucolens_store::readings_query::{self, ReadingCursor, ReadingRow};
use glucolens_web::AppState;
use glucolens_web::{ApiError, ApiJson, ApiQuery, AuthUser, RequestId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ProblemResponses;

/// Longest range one request may ask for; longer histories are read range by range.
const MAX_RANGE_DAYS: i64 = 92;
const DEFAULT_PAGE_SIZE: i64 = 1000;
const MAX_PAGE_SIZE: i64 = 5000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadingsQuery {
    /// Start of the range, inclusive: RFC 3339 with an offset or `Z`, e.g. `2025-03-01T00:00:00+01:00`.
    #[param(required = true, value_type = String, format = DateTime)]
    start: Option<String>,
    /// End of the range, exclusive; after `start` and at most 92 days later.
    #[param(required = true, value_type = String, format = DateTime)]
    end: Option<String>,
    /// Page size, 1–5000 (default 1000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 5000)]
    limit: Option<String>,
    /// `next_cursor` of the previous page, to continue after it.
    cursor: Option<String>,
}

/// A validated request for one page.
#[derive(Debug, PartialEq)]
struct PageRequest {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: i64,
    after: Option<ReadingCursor>,
}

impl ReadingsQuery {
    /// Checks every parameter and reports all problems at once.
    fn validate(&self) -> Result<PageRequest, ApiError> {
        let mut errors = Vec::new();
        let mut timestamp = |field: &str, raw: &Option<String>| match raw {
            None => {
                errors.push(FieldError::new(field, "required", format!("`{field}` is required")));
                None
            }
            Some(raw) => parse_timestamp(field, raw).map_err(|e| errors.push(e)).ok(),
        };
        let (start, end) = (timestamp("start", &self.start), timestamp("end", &self.end));
        if let (Some(start), Some(end)) = (start, end) {
            if end <= start {
                errors.push(FieldError::new("end", "invalid_range", "`end` must be after `start`"));
            } else if end - start > TimeDelta::days(MAX_RANGE_DAYS) {
                errors.push(FieldError::new(
                    "end",
                    "range_too_long",
                    format!("a range spans at most {MAX_RANGE_DAYS} days; request longer histories range by range"),
                ));
            }
        }
        let limit = match self.limit.as_deref().map(str::parse::<i64>) {
            None => Some(DEFAULT_PAGE_SIZE),
            Some(Ok(limit)) if (1..=MAX_PAGE_SIZE).contains(&limit) => Some(limit),
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    format!("`limit` must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                ));
                None
            }
        };
        let after = self
            .cursor
            .as_deref()
            .map(ReadingCursor::decode)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        match (start, end, limit) {
            (Some(start), Some(end), Some(limit)) if errors.is_empty() => Ok(PageRequest {
                start,
                end,
                limit,
                after,
            }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// One glucose reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reading {
    pub time: DateTime<Utc>,
    /// In the page's `unit`.
    pub value: f64,
    pub source: String,
    pub trend: Option<String>,
    pub device: Option<String>,
}

/// A page of readings ordered by time (then source).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingsPage {
    /// The caller's display unit, in which every `value` is given.
    pub unit: GlucoseUnit,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub readings: Vec<Reading>,
    /// Pass as `cursor` (with the same `start` and `end`) for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl Reading {
    fn new(row: ReadingRow, unit: GlucoseUnit) -> Self {
        Self {
            time: row.time,
            value: unit.display(MgDl::from_stored(row.value_mg_dl)),
            source: row.source,
            trend: row.trend,
            device: row.device,
        }
    }
}

/// The caller's glucose readings in `[start, end)`.
#[utoipa::path(
    get,
    path = "/api/v1/glucose/readings",
    tag = "retrieval",
    params(ReadingsQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "One page of readings", body = ReadingsPage), ProblemResponses)
)]
pub async fn glucose_readings(
    user: AuthUser,
    request_id: RequestId,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ReadingsQuery>,
) -> Result<ApiJson<ReadingsPage>, ApiError> {
    let page = query.validate()?;
    let (_, settings) = crate::settings(&state, user).await?;
    // One row beyond the page tells whether another page follows.
    let mut rows = readings_query::readings_page(
        &state.db,
        user.id,
        page.start,
        page.end,
        page.after.as_ref(),
        page.limit + 1,
    )
    .await?;
    let has_more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    let next_cursor = has_more
        .then(|| rows.last())
        .flatten()
        .map(|last| ReadingCursor {
            time: last.time,
            source: last.source.clone(),
        })
        .map(|cursor| cursor.encode());
    crate::audit_read(&state, user, &request_id, "glucose_readings").await?;
    Ok(ApiJson(ReadingsPage {
        unit: settings.unit,
        start: page.start,
        end: page.end,
        readings: rows.into_iter().map(|row| Reading::new(row, settings.unit)).collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(start: &str, end: &str, limit: Option<&str>, cursor: Option<&str>) -> ReadingsQuery {
        ReadingsQuery {
            start: Some(start.into()),
            end: Some(end.into()),
            limit: limit.map(Into::into),
            cursor: cursor.map(Into::into),
        }
    }

    fn codes(query: ReadingsQuery) -> Vec<&'static str> {
        match query.validate() {
            Err(ApiError::Validation(errors)) => errors.iter().map(|e| e.code).collect(),
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn valid_ranges_get_the_default_page_size() {
        let page = query("2025-03-01T00:00:00+01:00", "2025-03-02T00:00:00Z", None, None)
            .validate()
            .unwrap();
        assert_eq!(page.start.to_rfc3339(), "2025-02-28T23:00:00+00:00");
        assert_eq!((page.limit, page.after), (DEFAULT_PAGE_SIZE, None));
    }

    #[test]
    fn every_problem_is_reported() {
        assert_eq!(
            codes(query("2025-03-02T00:00:00Z", "2025-03-01T00:00:00Z", None, None)),
            ["invalid_range"]
        );
        assert_eq!(
            codes(query("2025-01-01T00:00:00Z", "2025-04-03T00:00:01Z", None, None)),
            ["range_too_long"]
        );
        assert_eq!(
            codes(query("2025-03-01", "2025-03-02T00:00:00", Some("0"), Some("!!"))),
            [
                "invalid_timestamp",
                "invalid_timestamp",
                "out_of_range",
                "invalid_cursor"
            ]
        );
        assert_eq!(
            codes(ReadingsQuery {
                start: None,
                end: None,
                limit: Some("5001".into()),
                cursor: None
            }),
            ["required", "required", "out_of_range"]
        );
    }
}
