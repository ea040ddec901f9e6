//! `GET /api/v1/glucose/daily-summary` and `GET /api/v1/dashboard/summary`: consensus metrics and lifestyle
//! figures over the caller's local days. Each day is the daily aggregation's row — stored while current, computed
//! live for today and days not aggregated since their data changed (`glucolens_app::aggregation::read_days`) — so
//! what a person sees is the day the analysis uses; a period's figures combine its days ([`crate::metrics`]).

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use glucolens_app::aggregation::{self, AggregationError};
use glucolens_domain::aggregate::DailyAggregate;
use glucolens_domain::local_day::{expected_slots, today, LocalDays};
use glucolens_domain::{FieldError, GlucoseUnit};
use glucolens_web::reader::{Access, OwnerHeader};
use glucolens_web::AppState;
use glucolens_web::{audit, ApiError, ApiJson, ApiQuery, DataReader, RequestId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::metrics::{DayLifestyle, GlucoseMetrics, GlucoseStats, LifestyleAverages, LifestyleTotals, PeriodChange};
use crate::ProblemResponses;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailySummaryQuery {
    /// The local calendar date in the caller's time zone, `YYYY-MM-DD`; from 2000-01-01 to today.
    #[param(required = true, value_type = String, format = Date)]
    date: Option<String>,
}

/// One local day of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailySummary {
    pub date: NaiveDate,
    pub time_zone: String,
    /// Unit of every glucose value in `glucose`.
    pub unit: GlucoseUnit,
    /// The day's first instant.
    pub start: DateTime<Utc>,
    /// The next day's first instant (exclusive).
    pub end: DateTime<Utc>,
    /// 24, or 23 / 25 on a DST change.
    pub hours: f64,
    pub glucose: GlucoseMetrics,
    pub lifestyle: DayLifestyle,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Period length in local days: 7 (default), 30 or 90.
    #[param(value_type = Option<u32>)]
    days: Option<String>,
}

/// Metrics over the last `days` local days (today included, up to now) against the `days` before them.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardSummary {
    pub days: u64,
    pub time_zone: String,
    /// Unit of every glucose value (means, SDs, minima and maxima, and their changes).
    pub unit: GlucoseUnit,
    pub current: DashboardPeriod,
    pub previous: DashboardPeriod,
    /// `current − previous`, absolute differences; null where either period has no data.
    pub change: PeriodChange,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardPeriod {
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub glucose: GlucoseMetrics,
    pub lifestyle: LifestyleAverages,
}

/// Ingestion accepts no reading before 2000-01-01, so earlier dates are refused rather than computed.
const EARLIEST_YEAR: i32 = 2000;

/// Period lengths the dashboard offers.
const DASHBOARD_DAYS: [u64; 3] = [7, 30, 90];

fn parse_date(raw: Option<&str>, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("date", "required", "`date` is required (YYYY-MM-DD)"))?;
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new("date", "invalid_date", format!("`{raw}` is not a date like 2025-03-09")))?;
    if date.year() < EARLIEST_YEAR {
        return Err(FieldError::new(
            "date",
            "date_out_of_range",
            format!("dates before {EARLIEST_YEAR} hold no data (ingestion accepts none)"),
        ));
    }
    if date > today {
        return Err(FieldError::new(
            "date",
            "date_in_future",
            "the date is after today in your time zone",
        ));
    }
    Ok(date)
}

fn parse_days(raw: Option<&str>) -> Result<u64, FieldError> {
    let Some(raw) = raw else {
        return Ok(DASHBOARD_DAYS[0]);
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|days| DASHBOARD_DAYS.contains(days))
        .ok_or_else(|| FieldError::new("days", "invalid_days", "`days` must be 7, 30 or 90"))
}

/// The owner's local days `first..=last` (stored rows where current, the rest live), read by the statement that
/// records the read.
async fn local_days(
    state: &AppState,
    reader: &Access,
    (first, last): (NaiveDate, NaiveDate),
    today: NaiveDate,
    read: glucolens_store::audit::Read<'_>,
) -> Result<BTreeMap<NaiveDate, DailyAggregate>, ApiError> {
    aggregation::read_days(&state.db, reader.owner_id, &reader.settings, (first, last), today, read)
        .await
        .map_err(|error| match error {
            AggregationError::Database(e) => e.into(),
            // The account was erased after its token was checked.
            AggregationError::UnknownUser => ApiError::NotFound,
            other => ApiError::internal(other),
        })
}

/// Glucose metrics and lifestyle totals of `period`; coverage counts only its elapsed part.
fn period_figures(
    days: &BTreeMap<NaiveDate, DailyAggregate>,
    unit: GlucoseUnit,
    period: LocalDays,
    now: DateTime<Utc>,
) -> (GlucoseMetrics, LifestyleTotals) {
    let in_period = || days.range(period.first..=period.last).map(|(_, day)| day);
    let expected = expected_slots(period.start, period.end.min(now));
    (
        GlucoseMetrics::new(&GlucoseStats::of(in_period()), expected, unit),
        LifestyleTotals::of(in_period()),
    )
}

/// Metrics for one local day of the caller.
#[utoipa::path(
    get,
    path = "/api/v1/glucose/daily-summary",
    tag = "retrieval",
    params(DailySummaryQuery, OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "The day's metrics", body = DailySummary), ProblemResponses)
)]
pub async fn daily_summary(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DailySummaryQuery>,
) -> Result<ApiJson<DailySummary>, ApiError> {
    let settings = crate::display_settings(&reader.settings)?;
    let tz = settings.time_zone.tz();
    let now = Utc::now();
    let today = today(tz, now);
    let date = parse_date(query.date.as_deref(), today).map_err(ApiError::invalid)?;
    let day = LocalDays::day(tz, date);
    let read = audit::read_of(&reader, &request_id, "glucose_daily_summary");
    let days = local_days(&state, &reader, (date, date), today, read).await?;
    let (glucose, lifestyle) = period_figures(&days, settings.unit, day, now);
    Ok(ApiJson(DailySummary {
        date,
        time_zone: settings.time_zone.name().to_owned(),
        unit: settings.unit,
        start: day.start,
        end: day.end,
        hours: day.hours(),
        glucose,
        lifestyle: DayLifestyle::new(&lifestyle),
    }))
}

/// Consensus metrics over the last 7, 30 or 90 local days and their change against the period before.
#[utoipa::path(
    get,
    path = "/api/v1/dashboard/summary",
    tag = "retrieval",
    params(DashboardQuery, OwnerHeader),
    security(("bearer" = [])),
    responses((status = 200, description = "The dashboard", body = DashboardSummary), ProblemResponses)
)]
pub async fn dashboard_summary(
    reader: DataReader,
    request_id: RequestId,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DashboardQuery>,
) -> Result<ApiJson<DashboardSummary>, ApiError> {
    let days = parse_days(query.days.as_deref()).map_err(ApiError::invalid)?;
    let settings = crate::display_settings(&reader.settings)?;
    let tz = settings.time_zone.tz();
    let now = Utc::now();
    let today = today(tz, now);
    let current = LocalDays::ending(tz, today, days);
    let previous = current.previous(tz);
    let read = audit::read_of(&reader, &request_id, "dashboard_summary");
    let stored = local_days(&state, &reader, (previous.first, current.last), today, read).await?;
    let (glucose, lifestyle) = period_figures(&stored, settings.unit, current, now);
    let (earlier_glucose, earlier_lifestyle) = period_figures(&stored, settings.unit, previous, now);
    let (lifestyle, earlier_lifestyle) = (
        LifestyleAverages::new(&lifestyle, current.day_count()),
        LifestyleAverages::new(&earlier_lifestyle, previous.day_count()),
    );
    let change = PeriodChange::between(
        (&glucose, &lifestyle),
        (&earlier_glucose, &earlier_lifestyle),
        settings.unit,
    );
    let period = |days: LocalDays, glucose, lifestyle| DashboardPeriod {
        first_date: days.first,
        last_date: days.last,
        start: days.start,
        end: days.end,
        glucose,
        lifestyle,
    };
    Ok(ApiJson(DashboardSummary {
        days,
        time_zone: settings.time_zone.name().to_owned(),
        unit: settings.unit,
        current: period(current, glucose, lifestyle),
        previous: period(previous, earlier_glucose, earlier_lifestyle),
        change,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_days_are_validated() {
        let today: NaiveDate = "2025-06-01".parse().unwrap();
        assert_eq!(parse_date(Some("2025-05-31"), today).unwrap().to_string(), "2025-05-31");
        assert_eq!(
            parse_date(Some("2025-06-02"), today).unwrap_err().code,
            "date_in_future"
        );
        assert_eq!(parse_date(Some("2025-02-30"), today).unwrap_err().code, "invalid_date");
        assert_eq!(parse_date(Some("31/05/2025"), today).unwrap_err().code, "invalid_date");
        assert_eq!(
            parse_date(Some("1999-12-31"), today).unwrap_err().code,
            "date_out_of_range"
        );
        assert_eq!(parse_date(None, today).unwrap_err().code, "required");
        assert_eq!(parse_days(None).unwrap(), 7);
        assert_eq!(parse_days(Some("30")).unwrap(), 30);
        assert_eq!(parse_days(Some("90")).unwrap(), 90);
        for bad in ["9", "0", "-7", "seven", "365"] {
            assert_eq!(parse_days(Some(bad)).unwrap_err().code, "invalid_days");
        }
    }
}
