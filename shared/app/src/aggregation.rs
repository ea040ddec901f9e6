//! Daily aggregation: one `daily_aggregates` row per user per *local* calendar day, computed from the raw tables.
//!
//! Days, duplicate readings, coverage, nights and overlapping sleep are counted as [`glucolens_domain::local_day`] defines
//! them — the one definition the daily summary and the dashboard also use, through [`read_days`]: the stored row of
//! a day while it is current, the same row computed live ([`compute_days`]) for today and for days not aggregated
//! since their data changed.
//! - **sufficient_data** = coverage ≥ 70 % (the consensus minimum). Statistics are stored for every day with
//!   readings; analyses use only sufficient days.
//! - **Ranges** follow the consensus cut points with Tidepool's boundaries: < 54, 54–<70, 70–180 inclusive,
//!   >180–250, > 250; the user's own target range is inclusive at both ends. GMI = 3.31 + 0.02392 × mean (mg/dL).
//! - **Hypo events**: ≥ 3 consecutive readings (≥ 15 minutes, no gap over 10 minutes) below 70 mg/dL; an event ends
//!   at the first reading at or above 70.
//!
//! Incremental runs recompute only the days in `dirty_days` (marked by ingestion, each with the day before it, whose
//! night may have begun after midnight) and clear those marks in the same transaction; a full recompute covers every
//! day with data. Both go through [`recompute_days`], so they produce the same rows. A processed day left with no
//! data at all loses its row.
//! - **Impossible rows never poison a run** (defence in depth; ingestion already refuses them): every query is
//!   bounded to the accepted time range ([`glucolens_domain::rules`]: 2000-01-01 to now + 5 minutes), so a row stored
//!   with another date (year 0001 or 10000, inserted by hand or before the range was enforced) is ignored, and
//!   counted in a warning with the user id only (no health data in logs). Dirty marks on dates no accepted row
//!   can fall on are deleted, also counted; the run succeeds for everything else.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use glucolens_analytics::metrics;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use glucolens_domain::aggregate::DailyAggregate;
use glucolens_domain::local_day::{
    self, distinct_sessions, expected_readings, local_date, local_midnight, night_of, SLOT_MINUTES,
};
use glucolens_domain::rules;
use glucolens_store::aggregates::{self, DayRows, DaysSpan, SleepRow, StoredDay, Window};
use glucolens_store::audit;
use glucolens_store::users::{self, StoredSettings};

/// Minimum share of expected readings for a day to count in statistics (consensus: 70 %).
pub const SUFFICIENT_COVERAGE_PERCENT: f64 = 70.0;

#[derive(Debug, thiserror::Error)]
pub enum AggregationError {
    #[error("user not found")]
    UnknownUser,
    #[error("stored time zone is not a valid IANA name")]
    InvalidTimeZone,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only the days marked dirty.
    Incremental,
    /// Every day with data (and drop rows of days without any).
    Full,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub days_recomputed: usize,
    pub rows_written: u64,
    pub rows_deleted: u64,
}

/// The accepted range as a half-open UTC window `[earliest, latest + 1 µs)`, when the clock reads `now`.
pub fn accepted_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (rules::earliest(), rules::latest(now) + Duration::microseconds(1))
}

/// The local dates a row in the accepted range can fall on in any zone (offsets are within ±14 hours), widened by
/// the days the incremental run adds around a dirty day.
pub fn possible_dates(now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let (from, to) = accepted_window(now);
    (
        from.date_naive() - Duration::days(2),
        to.date_naive() + Duration::days(2),
    )
}

fn percent(count: usize, total: usize) -> f64 {
    100.0 * count as f64 / total as f64
}

/// Consensus glucose statistics of one day's deduplicated readings (sorted by time), in mg/dL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GlucoseSummary {
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub sd: Option<f64>,
    pub cv_percent: Option<f64>,
    pub gmi_percent: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pct_below_54: Option<f64>,
    pub pct_54_69: Option<f64>,
    pub pct_70_180: Option<f64>,
    pub pct_181_250: Option<f64>,
    pub pct_above_250: Option<f64>,
    pub pct_below_70: Option<f64>,
    pub pct_above_180: Option<f64>,
    pub pct_in_target: Option<f64>,
    pub hypo_events: Option<i32>,
}

/// The statistics come from `glucolens_analytics::metrics` (one implementation of the consensus formulas, shared
/// with `glucolens analyze`); the user's own target range and the hypo event count are added here.
pub fn summarize_glucose(readings: &[(DateTime<Utc>, f64)], target: (f64, f64)) -> GlucoseSummary {
    let n = readings.len();
    if n == 0 {
        return GlucoseSummary::default();
    }
    let values: Vec<f64> = readings.iter().map(|&(_, v)| v).collect();
    let stats = metrics::summary_stats(&values);
    let ranges = metrics::range_percentages(&values);
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let finite = |x: f64| x.is_finite().then_some(x);
    GlucoseSummary {
        mean: finite(stats.mean),
        median: finite(metrics::stats::median_sorted(&sorted)),
        sd: finite(stats.sd),
        cv_percent: finite(stats.cv),
        gmi_percent: finite(stats.gmi),
        min: sorted.first().copied(),
        max: sorted.last().copied(),
        pct_below_54: Some(ranges.below_54),
        pct_54_69: Some(ranges.from_54_to_69),
        pct_70_180: Some(ranges.from_70_to_180),
        pct_181_250: Some(ranges.from_181_to_250),
        pct_above_250: Some(ranges.above_250),
        pct_below_70: Some(ranges.below_54 + ranges.from_54_to_69),
        pct_above_180: Some(ranges.from_181_to_250 + ranges.above_250),
        pct_in_target: Some(percent(
            values.iter().filter(|v| (target.0..=target.1).contains(*v)).count(),
            n,
        )),
        hypo_events: Some(count_hypo_events(readings)),
    }
}

/// Episodes of ≥ 3 consecutive readings (≥ 15 min) below 70 mg/dL; a gap over 10 minutes breaks a run.
fn count_hypo_events(readings: &[(DateTime<Utc>, f64)]) -> i32 {
    const MIN_READINGS: usize = 3;
    let max_gap = Duration::minutes(2 * SLOT_MINUTES);
    let mut events = 0;
    let mut run = 0usize;
    let mut previous: Option<DateTime<Utc>> = None;
    for &(time, value) in readings {
        let contiguous = previous.is_some_and(|p| time - p <= max_gap);
        previous = Some(time);
        if value >= 70.0 {
            run = 0;
            continue;
        }
        run = if contiguous && run > 0 { run + 1 } else { 1 };
        if run == MIN_READINGS {
            events += 1;
        }
    }
    events
}

fn sum_opt<T>(items: &[T], value: impl Fn(&T) -> Option<f64>) -> Option<f64> {
    let present: Vec<f64> = items.iter().filter_map(value).collect();
    (!present.is_empty()).then(|| present.iter().sum())
}

/// The figures of a day's night, from the sleep sessions [`night_of`] assigns to the day.
struct Night {
    sleep_minutes: Option<f64>,
    deep_sleep_minutes: Option<f64>,
    rem_sleep_minutes: Option<f64>,
    sleep_quality: Option<f64>,
}

impl Night {
    fn of(sessions: &[SleepRow]) -> Self {
        // Overlapping records of one night (a watch and a phone) count once.
        let sleep: Vec<&SleepRow> = distinct_sessions(sessions);
        Self {
            sleep_minutes: (!sleep.is_empty()).then(|| {
                sleep
                    .iter()
                    .map(|s| {
                        (s.sleep_end - s.sleep_start).num_minutes() as f64 - f64::from(s.awake_minutes.unwrap_or(0))
                    })
                    .sum()
            }),
            deep_sleep_minutes: sum_opt(&sleep, |s| s.deep_sleep_minutes.map(f64::from)),
            rem_sleep_minutes: sum_opt(&sleep, |s| s.rem_sleep_minutes.map(f64::from)),
            sleep_quality: {
                let scores: Vec<f64> = sleep.iter().filter_map(|s| s.quality_score).collect();
                (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
            },
        }
    }

    /// `day` with this night: a day's other figures come from its own local date alone, so a dirty mark on the
    /// next day (where a night begun after midnight is marked) leaves them current.
    fn into_day(self, day: DailyAggregate) -> DailyAggregate {
        DailyAggregate {
            sleep_minutes: self.sleep_minutes,
            deep_sleep_minutes: self.deep_sleep_minutes,
            rem_sleep_minutes: self.rem_sleep_minutes,
            sleep_quality: self.sleep_quality,
            ..day
        }
    }
}

fn aggregate_day(tz: Tz, date: NaiveDate, target: (f64, f64), day: &DayRows) -> DailyAggregate {
    let expected = expected_readings(tz, date);
    let count = day.readings.len() as i32;
    let coverage = (percent(count as usize, expected as usize)).min(100.0);
    let glucose = summarize_glucose(&day.readings, target);
    let night = Night::of(&day.sleep);
    let has_activity = !day.activities.is_empty();
    let has_meals = !day.meals.is_empty();
    DailyAggregate {
        local_date: date,
        reading_count: count,
        expected_readings: expected,
        coverage_percent: coverage,
        sufficient_data: coverage >= SUFFICIENT_COVERAGE_PERCENT,
        mean_glucose: glucose.mean,
        median_glucose: glucose.median,
        sd_glucose: glucose.sd,
        cv_percent: glucose.cv_percent,
        gmi_percent: glucose.gmi_percent,
        min_glucose: glucose.min,
        max_glucose: glucose.max,
        pct_below_54: glucose.pct_below_54,
        pct_54_69: glucose.pct_54_69,
        pct_70_180: glucose.pct_70_180,
        pct_181_250: glucose.pct_181_250,
        pct_above_250: glucose.pct_above_250,
        pct_below_70: glucose.pct_below_70,
        pct_above_180: glucose.pct_above_180,
        pct_in_user_target: glucose.pct_in_target,
        hypo_events: glucose.hypo_events,
        sleep_minutes: night.sleep_minutes,
        deep_sleep_minutes: night.deep_sleep_minutes,
        rem_sleep_minutes: night.rem_sleep_minutes,
        sleep_quality: night.sleep_quality,
        exercise_minutes: has_activity.then(|| day.activities.iter().map(|a| f64::from(a.duration_minutes)).sum()),
        activity_count: has_activity.then_some(day.activities.len() as i32),
        active_calories: sum_opt(&day.activities, |a| a.calories_burned),
        steps: sum_opt(&day.activities, |a| a.steps.map(f64::from)).map(|s| s as i32),
        carbs_g: has_meals.then(|| day.meals.iter().map(|m| m.carbs_grams).sum()),
        calories: sum_opt(&day.meals, |m| m.calories),
        protein_g: sum_opt(&day.meals, |m| m.protein_grams),
        fat_g: sum_opt(&day.meals, |m| m.fat_grams),
        meal_count: has_meals.then_some(day.meals.len() as i32),
    }
}

/// The user's zone and target range, as aggregation reads them.
async fn settings(conn: &mut PgConnection, user_id: Uuid) -> Result<(Tz, (f64, f64)), AggregationError> {
    let stored = users::settings(&mut *conn, user_id)
        .await?
        .ok_or(AggregationError::UnknownUser)?;
    day_settings(&stored)
}

fn day_settings(stored: &StoredSettings) -> Result<(Tz, (f64, f64)), AggregationError> {
    let tz = stored.time_zone().map_err(|_| AggregationError::InvalidTimeZone)?.tz();
    Ok((tz, (stored.target_low_mg_dl, stored.target_high_mg_dl)))
}

/// What a computation covers: the dates to compute (`None`: every day with data), the spans holding their rows,
/// cut to the accepted range, and the spans' hull before that cut (`None`: everything).
struct Scope {
    dates: Option<BTreeSet<NaiveDate>>,
    spans: Vec<DaysSpan>,
    hull: Window,
}

/// The scope of `dates`, without the dates no accepted row can fall on; `None` when no date is left.
fn scope(tz: Tz, dates: Option<&BTreeSet<NaiveDate>>, accepted: (DateTime<Utc>, DateTime<Utc>)) -> Option<Scope> {
    let Some(dates) = dates else {
        let (from, to) = accepted;
        return Some(Scope {
            dates: None,
            spans: vec![DaysSpan {
                from,
                to,
                nights_from: from,
                nights_to: to,
            }],
            hull: None,
        });
    };
    let (first_possible, last_possible) = possible_dates(Utc::now());
    let dates: BTreeSet<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|date| (first_possible..=last_possible).contains(date))
        .collect();
    let spans = spans(tz, &dates);
    let hull = Some((spans.first()?.from, spans.last()?.nights_to));
    Some(Scope {
        spans: spans.into_iter().filter_map(|span| cut(span, accepted)).collect(),
        dates: Some(dates),
        hull,
    })
}

/// `span` cut to the `accepted` range; `None` when nothing of it is left.
fn cut(span: DaysSpan, accepted: (DateTime<Utc>, DateTime<Utc>)) -> Option<DaysSpan> {
    let within = |from: DateTime<Utc>, to: DateTime<Utc>| {
        let from = from.max(accepted.0);
        (from, to.min(accepted.1).max(from))
    };
    let ((from, to), (nights_from, nights_to)) = (within(span.from, span.to), within(span.nights_from, span.nights_to));
    (from < to || nights_from < nights_to).then_some(DaysSpan {
        from,
        to,
        nights_from,
        nights_to,
    })
}

/// Where the rows of `dates` lie: one span per run of consecutive dates, from the run's first local midnight to its
/// end (readings, activities, meals), and for sleep a day further, as the run's last night ends the next morning.
/// Only those days are read (a stale day a month back adds its own span, not the month), and the spans are disjoint.
fn spans(tz: Tz, dates: &BTreeSet<NaiveDate>) -> Vec<DaysSpan> {
    let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &date in dates {
        match runs.last_mut() {
            Some((_, last)) if *last + Duration::days(1) == date => *last = date,
            _ => runs.push((date, date)),
        }
    }
    runs.into_iter()
        .map(|(first, last)| DaysSpan {
            from: local_midnight(tz, first),
            to: local_midnight(tz, last + Duration::days(1)),
            nights_from: local_midnight(tz, first),
            nights_to: local_midnight(tz, last + Duration::days(2)),
        })
        .collect()
}

/// `rows`, each assigned to its local day (a night to the day of its evening).
fn by_day(tz: Tz, rows: DayRows) -> BTreeMap<NaiveDate, DayRows> {
    let mut days: BTreeMap<NaiveDate, DayRows> = BTreeMap::new();
    for reading in rows.readings {
        days.entry(local_date(tz, reading.0))
            .or_default()
            .readings
            .push(reading);
    }
    for session in rows.sleep {
        days.entry(night_of(tz, session.sleep_start))
            .or_default()
            .sleep
            .push(session);
    }
    for activity in rows.activities {
        days.entry(local_date(tz, activity.timestamp))
            .or_default()
            .activities
            .push(activity);
    }
    for meal in rows.meals {
        days.entry(local_date(tz, meal.timestamp)).or_default().meals.push(meal);
    }
    days
}

/// The raw rows in `spans` (already cut to the accepted range), each assigned to its local day.
async fn load_days(
    conn: &mut PgConnection,
    user_id: Uuid,
    tz: Tz,
    spans: &[DaysSpan],
) -> Result<BTreeMap<NaiveDate, DayRows>, sqlx::Error> {
    let rows = aggregates::day_rows(conn, user_id, spans, local_day::HUB_SOURCES).await?;
    Ok(by_day(tz, rows))
}

/// The days of `dates` that have rows in `days`, as the aggregation computes them.
fn aggregate_dates(
    tz: Tz,
    target: (f64, f64),
    dates: BTreeSet<NaiveDate>,
    days: &BTreeMap<NaiveDate, DayRows>,
) -> BTreeMap<NaiveDate, DailyAggregate> {
    dates
        .into_iter()
        .filter_map(|date| Some((date, aggregate_day(tz, date, target, days.get(&date)?))))
        .collect()
}

/// Computes the local days in `dates` exactly as the aggregation job would store them, without storing anything,
/// with the `settings` the caller read for the request ([`users::settings`]). Days without any record are absent.
pub async fn compute_days(
    conn: &mut PgConnection,
    user_id: Uuid,
    settings: &StoredSettings,
    dates: &BTreeSet<NaiveDate>,
) -> Result<BTreeMap<NaiveDate, DailyAggregate>, AggregationError> {
    let (tz, target) = day_settings(settings)?;
    let Some(Scope { dates, spans, .. }) = scope(tz, Some(dates), accepted_window(Utc::now())) else {
        return Ok(BTreeMap::new());
    };
    let days = load_days(conn, user_id, tz, &spans).await?;
    Ok(aggregate_dates(tz, target, dates.unwrap_or_default(), &days))
}

/// The local days `first..=last` of one user as the daily summary and the dashboard read them. A day before
/// yesterday comes from its stored row while that row is current (neither it nor the next day, where a night begun
/// after midnight is marked, is dirty); yesterday from its row with its night computed live, since today (its next
/// day) is marked all day long as readings arrive; today, stale days and days without a row (not aggregated yet, or
/// without data) are computed live, as [`compute_days`] does — only those. Either way a day is what the
/// aggregation stores, counted as `glucolens_domain::local_day` defines it. One statement records `audit` (a read
/// that cannot be audited fails) and reads the rows with today's raw rows and yesterday's night
/// ([`aggregates::read_days`]); a second runs only when other days must be computed live.
pub async fn read_days(
    db: &PgPool,
    user_id: Uuid,
    settings: &StoredSettings,
    (first, last): (NaiveDate, NaiveDate),
    today: NaiveDate,
    audit: audit::Read<'_>,
) -> Result<BTreeMap<NaiveDate, DailyAggregate>, AggregationError> {
    let (tz, target) = day_settings(settings)?;
    let yesterday = today - Duration::days(1);
    let in_range = |date: NaiveDate| (first..=last).contains(&date);
    let span = live_span(tz, today, in_range(today), in_range(yesterday))
        .and_then(|span| cut(span, accepted_window(Utc::now())));
    let mut conn = db.acquire().await?;
    let read = aggregates::read_days(
        &mut conn,
        user_id,
        (first, last),
        span.as_slice(),
        local_day::HUB_SOURCES,
        audit,
    )
    .await?;
    let mut live = by_day(tz, read.rows);
    let mut days = BTreeMap::new();
    for StoredDay { day, dirty, next_dirty } in read.stored {
        let date = day.local_date;
        if date == yesterday && !dirty {
            let night = live.remove(&date).unwrap_or_default();
            days.insert(date, Night::of(&night.sleep).into_day(day));
        } else if date < yesterday && !dirty && !next_dirty {
            days.insert(date, day);
        }
    }
    if in_range(today) {
        days.extend(aggregate_dates(tz, target, BTreeSet::from([today]), &live));
    }
    let others: BTreeSet<NaiveDate> = first
        .iter_days()
        .take_while(|date| *date <= last)
        .filter(|date| *date != today && !days.contains_key(date))
        .collect();
    days.extend(compute_days(&mut conn, user_id, settings, &others).await?);
    Ok(days)
}

/// The rows [`read_days`] reads live whatever is stored: today's (`with_today`) and the sessions of yesterday's
/// night (`with_last_night`), which begin in yesterday's evening or after midnight.
fn live_span(tz: Tz, today: NaiveDate, with_today: bool, with_last_night: bool) -> Option<DaysSpan> {
    let midnight = |days: i64| local_midnight(tz, today + Duration::days(days));
    (with_today || with_last_night).then(|| DaysSpan {
        from: midnight(0),
        to: midnight(if with_today { 1 } else { 0 }),
        nights_from: midnight(if with_last_night { -1 } else { 0 }),
        nights_to: midnight(if with_today { 2 } else { 1 }),
    })
}

/// Recomputes `dates` (or, with `None`, every day with data or an existing row) for one user on `conn`.
pub async fn recompute_days(
    conn: &mut PgConnection,
    user_id: Uuid,
    dates: Option<&BTreeSet<NaiveDate>>,
) -> Result<Report, AggregationError> {
    let (tz, target) = settings(conn, user_id).await?;
    // Dates no accepted row can fall on are not computed (a full run deletes their leftover rows below).
    let accepted = accepted_window(Utc::now());
    let Some(Scope { dates, spans, hull }) = scope(tz, dates, accepted) else {
        return Ok(Report::default());
    };
    // Only the job reports the rows it ignores; live reads of the same days would log them on every request.
    let ignored = aggregates::rows_outside(conn, user_id, hull, accepted).await?;
    if ignored > 0 {
        tracing::warn!(user_id = %user_id, rows = ignored, "aggregation ignored rows dated outside the accepted range");
    }
    let days = load_days(conn, user_id, tz, &spans).await?;
    let targets: BTreeSet<NaiveDate> = match dates {
        Some(set) => set,
        None => {
            let mut all: BTreeSet<NaiveDate> = days.keys().copied().collect();
            all.extend(aggregates::existing_dates(conn, user_id).await?);
            all
        }
    };
    let mut rows = Vec::new();
    let mut empty = Vec::new();
    for date in &targets {
        match days.get(date) {
            Some(inputs) => rows.push(aggregate_day(tz, *date, target, inputs)),
            None => empty.push(*date),
        }
    }
    Ok(Report {
        days_recomputed: targets.len(),
        rows_written: aggregates::upsert(conn, user_id, &rows).await?,
        rows_deleted: aggregates::delete_days(conn, user_id, &empty).await?,
    })
}

/// Aggregates one user in one transaction: the dirty days (clearing their marks) or, in full mode, every day.
pub async fn aggregate_user(db: &PgPool, user_id: Uuid, mode: Mode) -> Result<Report, AggregationError> {
    let mut tx = db.begin().await?;
    // Lock order (see `users::lock_owner`): an erasure that came first has removed the user; one that comes later
    // waits for this transaction instead of deadlocking against it.
    if !glucolens_store::users::lock_owner(&mut tx, user_id).await? {
        return Err(AggregationError::UnknownUser);
    }
    let (first, last) = possible_dates(Utc::now());
    let discarded = aggregates::discard_dirty_days_outside(&mut tx, user_id, first, last).await?;
    if discarded > 0 {
        tracing::warn!(user_id = %user_id, days = discarded, "aggregation discarded dirty marks on impossible dates");
    }
    let report = match mode {
        Mode::Full => {
            let dirty = aggregates::lock_dirty_days(&mut tx, user_id).await?;
            let report = recompute_days(&mut tx, user_id, None).await?;
            aggregates::clear_dirty_days(&mut tx, user_id, &dirty).await?;
            report
        }
        Mode::Incremental => {
            let dirty = aggregates::lock_dirty_days(&mut tx, user_id).await?;
            // Ingestion marks the dates its rows fall on; a sleep session that began after midnight belongs to the
            // previous day's night, so each dirty day also recomputes the day before it.
            let dates: BTreeSet<NaiveDate> = dirty
                .iter()
                .flat_map(|&(date, _)| [date - Duration::days(1), date])
                .collect();
            let report = recompute_days(&mut tx, user_id, Some(&dates)).await?;
            aggregates::clear_dirty_days(&mut tx, user_id, &dirty).await?;
            report
        }
    };
    if report.rows_written + report.rows_deleted > 0 {
        glucolens_store::analysis_inputs::bump(&mut tx, user_id).await?;
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn summary_uses_consensus_boundaries_and_sample_sd() {
        let values = [53.9, 54.0, 70.0, 180.0, 180.1, 250.0, 250.1, 100.0];
        let readings: Vec<_> = values.iter().enumerate().map(|(i, &v)| (at(5 * i as i64), v)).collect();
        let s = summarize_glucose(&readings, (70.0, 180.0));
        assert_eq!(s.pct_below_54, Some(12.5));
        assert_eq!(s.pct_54_69, Some(12.5));
        assert_eq!(s.pct_70_180, Some(37.5));
        assert_eq!(s.pct_181_250, Some(25.0));
        assert_eq!(s.pct_above_250, Some(12.5));
        assert_eq!(s.pct_in_target, s.pct_70_180);
        let mean = values.iter().sum::<f64>() / 8.0;
        assert!((s.mean.unwrap() - mean).abs() < 1e-9);
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 7.0).sqrt();
        assert!((s.sd.unwrap() - sd).abs() < 1e-9);
        assert_eq!(s.median, Some((100.0 + 180.0) / 2.0));
        assert!((s.gmi_percent.unwrap() - (3.31 + 0.02392 * mean)).abs() < 1e-9);
        assert_eq!(summarize_glucose(&[], (70.0, 180.0)), GlucoseSummary::default());
    }

    #[test]
    fn hypo_events_need_fifteen_contiguous_minutes() {
        let trace = |values: &[(i64, f64)]| values.iter().map(|&(m, v)| (at(m), v)).collect::<Vec<_>>();
        // Two readings low, then three low: one event.
        let readings = trace(&[
            (0, 65.0),
            (5, 60.0),
            (10, 90.0),
            (15, 60.0),
            (20, 60.0),
            (25, 62.0),
            (30, 64.0),
        ]);
        assert_eq!(count_hypo_events(&readings), 1);
        // A gap over 10 minutes breaks the run.
        let gappy = trace(&[(0, 60.0), (5, 60.0), (30, 60.0)]);
        assert_eq!(count_hypo_events(&gappy), 0);
    }
}
