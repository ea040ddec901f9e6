//! The AGP-style report of one owner's period (`glucolens_report::AgpReport`), read from the store and computed
//! with the analytics: the days are the owner's local days, readings counted once per 5-minute slot exactly as the
//! daily aggregates, the daily summary and the dashboard count them (`glucolens_domain::local_day`; the same store
//! read, `aggregates::day_rows`), so the report's mean, GMI, CV and time in ranges equal the dashboard's for the
//! same days. Statistics come from `glucolens_analytics::metrics`: `summary_stats` and `range_percentages` for the
//! consensus numbers, the iglu day grid with `agp` for the percentiles by time of day; the weekly episode counts
//! come from the episodes endpoint's detector (`crate::insights::episodes`). Does not audit: the caller records the
//! read before the report leaves.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use glucolens_analytics::cgm::CgmPoint;
use glucolens_analytics::metrics::{self, DayGrid};
use glucolens_analytics::AnalyticsError;
use glucolens_domain::local_day::{self, distinct_sessions, expected_slots, LocalDays};
use glucolens_domain::{FieldError, GlucoseUnit, UserTimeZone};
use glucolens_report::{AgpReport, DailyProfile, DayTrace, GlucoseSummary, TimeInRanges, WeekEpisodes};
use glucolens_store::aggregates::{self, DayRows, DaysSpan};
use glucolens_store::users;
use sqlx::PgPool;
use uuid::Uuid;

use crate::aggregation::accepted_window;
use crate::insights::episodes::{find_episodes, weekly_counts};

/// Days in a report unless asked otherwise (the consensus minimum for a representative period).
pub const DEFAULT_DAYS: u32 = 14;
/// Longest period a report covers.
pub const MAX_DAYS: u32 = 90;
/// Readings further apart than this are drawn as a sensor gap in the daily panels.
const TRACE_GAP_MINUTES: i64 = 15;
/// A night may begin up to a day before the period's first midnight and still reach into it.
const SLEEP_LOOKBACK_HOURS: i64 = 24;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("user not found")]
    UnknownUser,
    /// The requested period ends after the owner's today.
    #[error("the period ends after today in the owner's time zone")]
    EndsAfterToday,
    /// The stored time zone no longer parses (the writers validate it, so a row changed by hand).
    #[error("stored time zone is not a valid IANA name")]
    InvalidTimeZone,
    #[error("analytics: {0}")]
    Analytics(#[from] AnalyticsError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Which local days a report covers: `days` days ending with `last_day` (`None`: yesterday in the owner's zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    pub days: u32,
    pub last_day: Option<NaiveDate>,
}

impl Default for ReportPeriod {
    fn default() -> Self {
        Self {
            days: DEFAULT_DAYS,
            last_day: None,
        }
    }
}

impl ReportPeriod {
    /// The period from the query's `days` (1–90, default 14) and `end` (`YYYY-MM-DD`, default yesterday); every
    /// problem is reported.
    pub fn parse(days: Option<&str>, end: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let days = match days.map(str::trim) {
            None => DEFAULT_DAYS,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .unwrap_or_else(|| {
                    errors.push(FieldError::new(
                        "days",
                        "out_of_range",
                        format!("an integer from 1 to {MAX_DAYS}"),
                    ));
                    DEFAULT_DAYS
                }),
        };
        let last_day = end.map(str::trim).and_then(|raw| {
            let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .filter(|date| date.year() >= 2000);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "end",
                    "invalid_date",
                    "a date like 2026-03-14, from 2000-01-01 to today",
                ));
            }
            parsed
        });
        if errors.is_empty() {
            Ok(Self { days, last_day })
        } else {
            Err(errors)
        }
    }
}

/// The report of `owner_id`'s `period`, when the clock reads `now`.
pub async fn agp_report(
    db: &PgPool,
    owner_id: Uuid,
    period: ReportPeriod,
    now: DateTime<Utc>,
) -> Result<AgpReport, ReportError> {
    let user = users::get(db, owner_id).await?.ok_or(ReportError::UnknownUser)?;
    let tz = UserTimeZone::parse(&user.time_zone)
        .map_err(|_| ReportError::InvalidTimeZone)?
        .tz();
    let today = local_day::today(tz, now);
    let last_day = period.last_day.unwrap_or(today - Days::new(1));
    if last_day > today {
        return Err(ReportError::EndsAfterToday);
    }
    let days = LocalDays::ending(tz, last_day, u64::from(period.days));
    let rows = read_rows(db, owner_id, days, now).await?;
    let mut report = build(tz, days, &rows)?;
    report.name = user.full_name.clone();
    report.time_zone = user.time_zone.clone();
    report.unit = user.display_unit();
    report.target_mg_dl = (user.target_low().get(), user.target_high().get());
    Ok(report)
}

/// The period's readings (one per 5-minute slot), the sleep that may reach into it and its activities.
async fn read_rows(db: &PgPool, owner_id: Uuid, days: LocalDays, now: DateTime<Utc>) -> Result<DayRows, sqlx::Error> {
    // Rows dated outside the accepted range are ignored, as the aggregation ignores them.
    let (earliest, latest) = accepted_window(now);
    let span = DaysSpan {
        from: days.start.max(earliest),
        to: days.end.min(latest),
        nights_from: (days.start - Duration::hours(SLEEP_LOOKBACK_HOURS)).max(earliest),
        nights_to: days.end.min(latest),
    };
    let mut conn = db.acquire().await?;
    aggregates::day_rows(&mut conn, owner_id, &[span], local_day::HUB_SOURCES).await
}

/// The report of `rows` over `days` in `tz`, without the owner's name, unit and target (the caller adds them).
fn build(tz: Tz, days: LocalDays, rows: &DayRows) -> Result<AgpReport, ReportError> {
    let values: Vec<f64> = rows.readings.iter().map(|&(_, v)| v).collect();
    let expected = expected_slots(days.start, days.end);
    let points: Vec<CgmPoint> = rows
        .readings
        .iter()
        .map(|&(time, mg_dl)| CgmPoint {
            time: time.fixed_offset(),
            mg_dl,
        })
        .collect();
    let grid = metrics::day_grid(&points, tz, None)?;
    let traces = day_traces(tz, days, rows);
    Ok(AgpReport {
        name: None,
        first_day: days.first,
        last_day: days.last,
        time_zone: String::new(),
        unit: Default::default(),
        target_mg_dl: (70.0, 180.0),
        days_with_data: traces.iter().filter(|d| !d.segments.is_empty()).count() as u32,
        active_percent: if expected > 0 {
            (100.0 * values.len() as f64 / expected as f64).min(100.0)
        } else {
            0.0
        },
        glucose: glucose_summary(&values),
        profile: grid.as_ref().and_then(profile),
        days: traces,
        weeks: weekly_episodes(tz, days, &rows.readings)?,
    })
}

fn glucose_summary(values: &[f64]) -> Option<GlucoseSummary> {
    if values.is_empty() {
        return None;
    }
    let stats = metrics::summary_stats(values);
    let ranges = metrics::range_percentages(values);
    Some(GlucoseSummary {
        readings: stats.n,
        mean_mg_dl: stats.mean,
        gmi_percent: stats.gmi,
        cv_percent: stats.cv,
        ranges: TimeInRanges {
            very_low: ranges.below_54,
            low: ranges.from_54_to_69,
            in_range: ranges.from_70_to_180,
            high: ranges.from_181_to_250,
            very_high: ranges.above_250,
        },
    })
}

/// The AGP percentiles of the grid; `None` when no time of day has a value.
fn profile(grid: &DayGrid) -> Option<DailyProfile> {
    let agp = metrics::variability::agp(grid);
    agp.p50.iter().any(|v| v.is_finite()).then_some(DailyProfile {
        minute_of_day: agp.minute_of_day,
        p5: agp.p5,
        p25: agp.p25,
        p50: agp.p50,
        p75: agp.p75,
        p95: agp.p95,
    })
}

/// Minutes after local midnight of `date` at which `at` falls on the wall clock, clamped to the day (0–1440).
fn minute_of_day(tz: Tz, date: NaiveDate, at: DateTime<Utc>) -> f64 {
    let local = at.with_timezone(&tz);
    match local.date_naive().cmp(&date) {
        std::cmp::Ordering::Less => 0.0,
        std::cmp::Ordering::Greater => 1440.0,
        std::cmp::Ordering::Equal => f64::from(local.num_seconds_from_midnight()) / 60.0,
    }
}

/// `(from, to)` of every interval that overlaps local `date`, clipped to it, as minutes after its midnight.
fn clipped(tz: Tz, date: NaiveDate, intervals: &[(DateTime<Utc>, DateTime<Utc>)]) -> Vec<(f64, f64)> {
    let (start, end) = local_day::local_day_bounds(tz, date);
    intervals
        .iter()
        .filter(|(from, to)| *from < end && *to > start)
        .map(|&(from, to)| {
            (
                minute_of_day(tz, date, from.max(start)),
                minute_of_day(tz, date, to.min(end)),
            )
        })
        .filter(|(from, to)| to > from)
        .collect()
}

fn day_traces(tz: Tz, days: LocalDays, rows: &DayRows) -> Vec<DayTrace> {
    let mut by_date: BTreeMap<NaiveDate, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    for &(time, mg_dl) in &rows.readings {
        by_date
            .entry(local_day::local_date(tz, time))
            .or_default()
            .push((time, mg_dl));
    }
    // Overlapping records of one night (a watch and a phone) are drawn once, as everywhere else.
    let sleep: Vec<(DateTime<Utc>, DateTime<Utc>)> = distinct_sessions(&rows.sleep)
        .into_iter()
        .map(|s| (s.sleep_start, s.sleep_end))
        .collect();
    let exercise: Vec<(DateTime<Utc>, DateTime<Utc>)> = rows
        .activities
        .iter()
        .map(|a| {
            (
                a.timestamp,
                a.timestamp + Duration::minutes(i64::from(a.duration_minutes)),
            )
        })
        .collect();
    days.dates()
        .map(|date| {
            let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
            let mut previous: Option<DateTime<Utc>> = None;
            for &(time, mg_dl) in by_date.get(&date).map(Vec::as_slice).unwrap_or_default() {
                let point = (minute_of_day(tz, date, time), mg_dl);
                match (previous, segments.last_mut()) {
                    (Some(p), Some(segment)) if time - p <= Duration::minutes(TRACE_GAP_MINUTES) => segment.push(point),
                    _ => segments.push(vec![point]),
                }
                previous = Some(time);
            }
            DayTrace {
                date,
                segments,
                sleep: clipped(tz, date, &sleep),
                exercise: clipped(tz, date, &exercise),
            }
        })
        .collect()
}

/// Episode counts of each week of the period (the last may be shorter): the consensus episodes of the period's
/// readings ([`crate::insights::episodes`], the episodes endpoint's detector), each in the week it began.
fn weekly_episodes(
    tz: Tz,
    days: LocalDays,
    readings: &[(DateTime<Utc>, f64)],
) -> Result<Vec<WeekEpisodes>, ReportError> {
    // The unit only formats nadirs and peaks, which the counts do not use.
    let found = find_episodes(readings, GlucoseUnit::MgDl)?;
    Ok(weekly_counts(&found, &days, tz)
        .into_iter()
        .map(|week| WeekEpisodes {
            first_day: week.days.first,
            last_day: week.days.last,
            very_low: week.counts.hypo_level_2,
            low: week.counts.hypo_level_1,
            extended_low: week.counts.hypo_extended,
            high: week.counts.hyper_level_1,
            very_high: week.counts.hyper_level_2,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glucolens_store::aggregates::{ActivityRow, SleepRow};

    fn tz() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    #[test]
    fn periods_are_validated() {
        assert_eq!(ReportPeriod::parse(None, None).unwrap(), ReportPeriod::default());
        let period = ReportPeriod::parse(Some("90"), Some("2026-03-01")).unwrap();
        assert_eq!(
            (period.days, period.last_day.unwrap().to_string()),
            (90, "2026-03-01".into())
        );
        let errors = ReportPeriod::parse(Some("91"), Some("2026-02-30")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["days", "end"]);
        for bad in ["0", "-1", "x", ""] {
            assert!(ReportPeriod::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert!(ReportPeriod::parse(None, Some("1999-12-31")).is_err());
    }

    #[test]
    fn days_are_local_with_gaps_sleep_and_exercise_clipped() {
        let tz = tz();
        let days = LocalDays::ending(tz, "2026-03-02".parse().unwrap(), 2);
        // Berlin is UTC+1 in March: 23:00Z on 1 March is midnight of 2 March.
        let mut readings: Vec<(DateTime<Utc>, f64)> = (0..12)
            .map(|i| (at("2026-03-01T22:00:00Z") + Duration::minutes(5 * i), 100.0))
            .collect();
        readings.push((at("2026-03-01T23:30:00Z"), 200.0));
        let rows = DayRows {
            readings,
            sleep: vec![SleepRow {
                sleep_start: at("2026-02-28T22:00:00Z"),
                sleep_end: at("2026-03-01T06:00:00Z"),
                source: "watch".into(),
                deep_sleep_minutes: None,
                rem_sleep_minutes: None,
                awake_minutes: None,
                quality_score: None,
            }],
            activities: vec![ActivityRow {
                timestamp: at("2026-03-01T22:30:00Z"),
                duration_minutes: 60,
                calories_burned: None,
                steps: None,
            }],
            meals: vec![],
        };
        let report = build(tz, days, &rows).unwrap();
        assert_eq!(report.days.len(), 2);
        let (first, second) = (&report.days[0], &report.days[1]);
        // 23:00–23:55 local on 1 March in one run; 00:30 on 2 March alone.
        assert_eq!(first.segments.len(), 1);
        assert_eq!(first.segments[0][0], (1380.0, 100.0));
        assert_eq!(second.segments, vec![vec![(30.0, 200.0)]]);
        assert_eq!(first.sleep, vec![(0.0, 420.0)]);
        assert!(second.sleep.is_empty());
        assert_eq!(first.exercise, vec![(1410.0, 1440.0)]);
        assert_eq!(second.exercise, vec![(0.0, 30.0)]);
        assert_eq!(report.days_with_data, 2);
        let glucose = report.glucose.unwrap();
        assert_eq!(glucose.readings, 13);
        assert!((report.active_percent - 100.0 * 13.0 / 576.0).abs() < 1e-9);
        assert_eq!(report.weeks.len(), 1);
        assert!(report.not_enough_data().is_some());
    }

    #[test]
    fn weeks_count_the_episodes_of_their_own_days() {
        let tz: Tz = "UTC".parse().unwrap();
        let days = LocalDays::ending(tz, "2026-03-14".parse().unwrap(), 10);
        // 5-minute readings over all ten days at 120, with one 30-minute low (40 mg/dL) on the 9th day: a level-2
        // episode inside a level-1 one, both counted in the second week.
        let start = at("2026-03-05T00:00:00Z");
        let low_from = start + Duration::days(8) + Duration::hours(12);
        let readings = (0..10 * 288)
            .map(|i| {
                let time = start + Duration::minutes(5 * i);
                let low = time >= low_from && time < low_from + Duration::minutes(30);
                (time, if low { 40.0 } else { 120.0 })
            })
            .collect();
        let rows = DayRows {
            readings,
            ..DayRows::default()
        };
        let report = build(tz, days, &rows).unwrap();
        let counts: Vec<(usize, usize, usize)> = report.weeks.iter().map(|w| (w.very_low, w.low, w.high)).collect();
        assert_eq!(counts, [(0, 0, 0), (1, 1, 0)]);
        assert_eq!(report.weeks[1].last_day.to_string(), "2026-03-14");
        let profile = report.profile.as_ref().unwrap();
        assert_eq!(profile.minute_of_day.len(), 288);
        assert!(report.not_enough_data().is_some(), "ten days are fewer than fourteen");
    }
}
