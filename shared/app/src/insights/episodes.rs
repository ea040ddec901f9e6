//! Hypo- and hyperglycaemic episodes of a period (international consensus 2023, Battelino et al.), for the
//! episodes endpoint ([`list`], each episode with what preceded it: [`super::episode_context`]) and the AGP report
//! ([`find_episodes`], [`weekly_counts`]).
//!
//! # From readings to episodes
//! The readings in the range `[start, end)`, read as the daily aggregation reads them (one per 5-minute slot, a
//! device's reading preferred to a hub's copy: `glucolens_domain::local_day`), go on analytics' interpolation grid
//! with a fixed 5-minute step, laid out in UTC so every grid point is one instant, daylight-saving changes included
//! (episodes do not depend on local days). Analytics' single detector
//! (`glucolens_analytics::metrics::episodes::detect`, the one iglu's episode summary is computed from) finds them:
//! - an episode starts with ≥ 15 minutes beyond the threshold — 3 consecutive grid points, e.g. readings at 10:00,
//!   10:05 and 10:10 — and ends before ≥ 15 minutes (3 points) back; a shorter excursion back is part of it;
//! - readings more than 45 minutes apart leave a gap on the grid that no episode spans (an episode running into
//!   one ends at its last point); shorter gaps are interpolated linearly;
//! - level 1 is < 70 / > 180 mg/dL, level 2 < 54 / > 250 mg/dL, each detected separately. A level-2 episode always
//!   lies inside a level-1 episode of the same type: both are listed, and the level-1 one has
//!   `contains_level_2: true`. Level-1 counts therefore include the episodes that reached level 2;
//! - a level-1 hypo episode is `extended` when it holds more than 120 consecutive minutes below 70 mg/dL (25 grid
//!   points, 125 minutes; 120 minutes is not extended).
//!
//! Only readings in the range count: an episode under way at the range's `start` or `end` is cut there.
//!
//! # Times and values
//! An episode's `start` is its first grid point beyond the threshold and its `end` the grid point after its last,
//! so `end − start` is its duration (points × 5 minutes). The nadir (hypo) or peak (hyper) is the extreme grid
//! value, rounded as stored values are (0.1 mg/dL) and shown in the user's display unit (`GlucoseUnit::display`).

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use glucolens_analytics::cgm::CgmPoint;
use glucolens_analytics::metrics::{self, episodes, EpisodeKind, EpisodeParams};
use glucolens_analytics::AnalyticsError;
use glucolens_domain::local_day::{self, LocalDays};
use glucolens_domain::{rules, GlucoseUnit, MgDl};
use glucolens_store as store;
use glucolens_store::aggregates::DaysSpan;
use glucolens_store::records::{ActivityRow, MealRow, PagePosition, RecordTable, SleepRow};
use glucolens_store::users::StoredSettings;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

// The episode types live with the pure context module, which this service calls (one direction).
use super::episode_context::{self, EpisodeExplanation, ExplainedEpisode, LoggedRecords, RecordSpans};
pub use super::episode_context::{EpisodeType, GlucoseEpisode};
use super::InsightsError;
use crate::aggregation::accepted_window;

/// The grid step: the store's reading slot.
const GRID_MINUTES: u32 = local_day::SLOT_MINUTES as u32;

/// Rows read per query when reading a range of records ([`rows_in`]).
const RECORD_PAGE: i64 = 1000;

/// Episodes by type and level. Level-1 counts include the episodes that reached level 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct EpisodeCounts {
    pub hypo_level_1: usize,
    pub hypo_level_2: usize,
    /// Level-1 hypo episodes with more than 120 minutes below 70 mg/dL.
    pub hypo_extended: usize,
    pub hyper_level_1: usize,
    pub hyper_level_2: usize,
}

impl EpisodeCounts {
    pub fn of<'a>(episodes: impl IntoIterator<Item = &'a GlucoseEpisode>) -> Self {
        let mut counts = Self::default();
        for e in episodes {
            let count = match (e.kind, e.level) {
                (EpisodeType::Hypo, 1) => &mut counts.hypo_level_1,
                (EpisodeType::Hypo, _) => &mut counts.hypo_level_2,
                (EpisodeType::Hyper, 1) => &mut counts.hyper_level_1,
                (EpisodeType::Hyper, _) => &mut counts.hyper_level_2,
            };
            *count += 1;
            counts.hypo_extended += usize::from(e.extended);
        }
        counts
    }
}

/// The caller's episodes in a range.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EpisodeList {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The unit of `nadir` and `peak`: the caller's display unit.
    pub unit: GlucoseUnit,
    /// By start; a level-2 episode follows the level-1 episode it lies in. Each with what preceded it.
    pub episodes: Vec<ExplainedEpisode>,
    pub summary: EpisodeCounts,
    /// How often exercise, a meal or sleep preceded the period's level-1 episodes, lows first.
    pub explanations: Vec<EpisodeExplanation>,
}

/// The episodes of `readings` (UTC instants and mg/dL, sorted by time, one per 5-minute slot as [`readings`] gives
/// them), with values in `unit`. Pure: the endpoint and the AGP report both use it.
pub fn find_episodes(
    readings: &[(DateTime<Utc>, f64)],
    unit: GlucoseUnit,
) -> Result<Vec<GlucoseEpisode>, AnalyticsError> {
    let points: Vec<CgmPoint> = readings
        .iter()
        .map(|&(at, mg_dl)| CgmPoint {
            time: at.fixed_offset(),
            mg_dl,
        })
        .collect();
    let Some(grid) = metrics::day_grid(&points, chrono_tz::UTC, Some(GRID_MINUTES))? else {
        return Ok(Vec::new());
    };
    // Built in UTC, the grid's wall clock is UTC: point `k` is `(k + 1)·dt0` minutes after its first midnight.
    let first_midnight = grid.first_day.and_time(NaiveTime::MIN).and_utc();
    let at = |index: usize| first_midnight + Duration::minutes((index as i64 + 1) * i64::from(grid.dt0));
    let shown = |mg_dl: f64| unit.display(MgDl::from_stored(rules::round_mg_dl(mg_dl)));
    Ok(episodes::detect(&grid, &EpisodeParams::default())
        .iter()
        .map(|e| {
            let (start, end) = (at(e.start), at(e.end + 1));
            let hypo = e.kind == EpisodeKind::Hypo;
            GlucoseEpisode {
                kind: if hypo { EpisodeType::Hypo } else { EpisodeType::Hyper },
                level: e.level.number(),
                start,
                end,
                duration_minutes: (end - start).num_minutes(),
                nadir: hypo.then(|| shown(e.extreme)),
                peak: (!hypo).then(|| shown(e.extreme)),
                extended: e.is_extended(),
                contains_level_2: e.contains_level_2,
            }
        })
        .collect())
}

/// The user's readings in `[start, end)` (cut to the accepted time range), one per 5-minute slot as the daily
/// aggregation reads them, sorted by time, mg/dL.
pub async fn readings(
    db: &PgPool,
    user_id: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<(DateTime<Utc>, f64)>, sqlx::Error> {
    let (earliest, latest) = accepted_window(Utc::now());
    let (from, to) = (start.max(earliest), end.min(latest));
    if from >= to {
        return Ok(Vec::new());
    }
    // An empty nights span: no sleep is read.
    let span = DaysSpan {
        from,
        to,
        nights_from: from,
        nights_to: from,
    };
    let mut conn = db.acquire().await?;
    let rows = store::aggregates::day_rows(&mut conn, user_id, &[span], local_day::HUB_SOURCES).await?;
    Ok(rows.readings)
}

/// The user's records an episode context for episodes starting in `range` is taken from.
async fn logged_records(
    db: &PgPool,
    user_id: Uuid,
    range: (DateTime<Utc>, DateTime<Utc>),
) -> Result<LoggedRecords, sqlx::Error> {
    let spans = RecordSpans::of(range);
    let (meals, activities, sleep) = tokio::try_join!(
        records_in::<MealRow>(db, user_id, spans.meals),
        records_in::<ActivityRow>(db, user_id, spans.activities),
        records_in::<SleepRow>(db, user_id, spans.sleep),
    )?;
    Ok(LoggedRecords {
        meals,
        activities,
        sleep,
    })
}

/// Every record of kind `T` the user has in `[start, end)`.
async fn records_in<T: RecordTable>(
    db: &PgPool,
    user_id: Uuid,
    range: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<T::Record>, sqlx::Error> {
    Ok(rows_in::<T>(db, user_id, range).await?.iter().map(T::record).collect())
}

/// Every stored row of kind `T` the user has in `[start, end)`, by time, read page by page.
pub(super) async fn rows_in<T: RecordTable>(
    db: &PgPool,
    user_id: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<T>, sqlx::Error> {
    let mut rows: Vec<T> = Vec::new();
    loop {
        let after = rows.last().map(|last| PagePosition {
            time: last.time(),
            id: last.id(),
        });
        let page = store::records::page::<T>(db, user_id, start, end, after, RECORD_PAGE).await?;
        let last_page = (page.len() as i64) < RECORD_PAGE;
        rows.extend(page);
        if last_page {
            return Ok(rows);
        }
    }
}

/// The user's episodes in `[start, end)`, in the display unit of their `settings`, each with what preceded it, and
/// the period's explanations (the caller audits the read).
pub async fn list(
    db: &PgPool,
    user_id: Uuid,
    settings: &StoredSettings,
    range: (DateTime<Utc>, DateTime<Utc>),
) -> Result<EpisodeList, InsightsError> {
    let readings = readings(db, user_id, range).await?;
    list_with_readings(db, user_id, settings, range, &readings).await
}

/// [`list`] with the readings already read (sorted; only those in the range are used, so the same read can serve
/// a wider need).
pub async fn list_with_readings(
    db: &PgPool,
    user_id: Uuid,
    settings: &StoredSettings,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    readings: &[(DateTime<Utc>, f64)],
) -> Result<EpisodeList, InsightsError> {
    let unit = settings
        .display_unit()
        .map_err(|_| InsightsError::BadData("the stored display unit is invalid".into()))?;
    let tz = settings
        .time_zone()
        .map_err(|_| InsightsError::BadData("the stored time zone is invalid".into()))?
        .tz();
    let first = readings.partition_point(|&(at, _)| at < start);
    let last = readings.partition_point(|&(at, _)| at < end);
    let found = find_episodes(&readings[first..last], unit)?;
    let records = if found.is_empty() {
        LoggedRecords::default()
    } else {
        logged_records(db, user_id, (start, end)).await?
    };
    let summary = EpisodeCounts::of(&found);
    let episodes = episode_context::explain(found, &records, tz);
    Ok(EpisodeList {
        start,
        end,
        unit,
        explanations: episode_context::explanations(&episodes),
        summary,
        episodes,
    })
}

/// Episodes of one block of local days.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekCounts {
    pub days: LocalDays,
    pub counts: EpisodeCounts,
}

/// Episodes per block of 7 local days of `period` (in `tz`), from its first day on; the last block may be shorter.
/// An episode counts in the block its start falls in; episodes starting outside the period are not counted.
pub fn weekly_counts(episodes: &[GlucoseEpisode], period: &LocalDays, tz: Tz) -> Vec<WeekCounts> {
    let mut weeks = Vec::new();
    let mut first: NaiveDate = period.first;
    while first <= period.last {
        let last = (first + Days::new(6)).min(period.last);
        let days = LocalDays::ending(tz, last, (last - first).num_days() as u64 + 1);
        let counts = EpisodeCounts::of(episodes.iter().filter(|e| e.start >= days.start && e.start < days.end));
        weeks.push(WeekCounts { days, counts });
        first = last + Days::new(1);
    }
    weeks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    /// Readings every 5 minutes from `from`, as runs of (mg/dL, count).
    fn trace(from: &str, runs: &[(f64, usize)]) -> Vec<(DateTime<Utc>, f64)> {
        let from = at(from);
        runs.iter()
            .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
            .enumerate()
            .map(|(k, v)| (from + Duration::minutes(5 * k as i64), v))
            .collect()
    }

    #[test]
    fn episodes_get_instants_durations_and_display_values() {
        let readings = trace(
            "2025-03-01T09:30:00Z",
            &[
                (100.0, 6),
                (65.0, 3),
                (50.4, 3),
                (65.0, 3),
                (100.0, 6),
                (190.0, 4),
                (150.0, 6),
            ],
        );
        let mg = find_episodes(&readings, GlucoseUnit::MgDl).unwrap();
        assert_eq!(mg.len(), 3);
        let (lv1, lv2, hyper) = (&mg[0], &mg[1], &mg[2]);
        assert_eq!((lv1.kind, lv1.level), (EpisodeType::Hypo, 1));
        assert_eq!(
            (lv1.start, lv1.end),
            (at("2025-03-01T10:00:00Z"), at("2025-03-01T10:45:00Z"))
        );
        assert_eq!(lv1.duration_minutes, 45);
        assert_eq!((lv1.nadir, lv1.peak), (Some(50.4), None));
        assert!(lv1.contains_level_2 && !lv1.extended);
        assert_eq!(
            (lv2.level, lv2.start, lv2.duration_minutes),
            (2, at("2025-03-01T10:15:00Z"), 15)
        );
        assert_eq!(
            (hyper.kind, hyper.level, hyper.peak, hyper.nadir),
            (EpisodeType::Hyper, 1, Some(190.0), None)
        );
        assert_eq!(hyper.start, at("2025-03-01T11:15:00Z"));

        let mmol = find_episodes(&readings, GlucoseUnit::MmolL).unwrap();
        assert_eq!(mmol[0].nadir, Some(2.8), "50.4 / 18.0156 = 2.797");
        assert_eq!(mmol[2].peak, Some(10.55), "190 / 18.0156 = 10.546");
        assert_eq!(
            EpisodeCounts::of(&mg),
            EpisodeCounts {
                hypo_level_1: 1,
                hypo_level_2: 1,
                hypo_extended: 0,
                hyper_level_1: 1,
                hyper_level_2: 0,
            }
        );
        assert!(find_episodes(&[], GlucoseUnit::MgDl).unwrap().is_empty());
    }

    #[test]
    fn weekly_counts_use_local_day_blocks() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let period = LocalDays::ending(tz, "2025-03-16".parse().unwrap(), 16);
        // A hypo starting at 23:30 local (UTC+1) on 28 February (before the period), 1 March and 7 March, at
        // 01:00 local on 8 March and on 16 March.
        let mut readings = Vec::new();
        for from in [
            "2025-02-28T22:30:00Z",
            "2025-03-01T22:30:00Z",
            "2025-03-07T22:30:00Z",
            "2025-03-08T00:00:00Z",
            "2025-03-16T10:00:00Z",
        ] {
            readings.extend(trace(from, &[(60.0, 4), (100.0, 3)]));
        }
        let episodes = find_episodes(&readings, GlucoseUnit::MgDl).unwrap();
        assert_eq!(episodes.len(), 5);
        let weeks = weekly_counts(&episodes, &period, tz);
        let summary: Vec<(NaiveDate, NaiveDate, usize)> = weeks
            .iter()
            .map(|w| (w.days.first, w.days.last, w.counts.hypo_level_1))
            .collect();
        let date = |raw: &str| raw.parse::<NaiveDate>().unwrap();
        assert_eq!(
            summary,
            [
                (date("2025-03-01"), date("2025-03-07"), 2),
                (date("2025-03-08"), date("2025-03-14"), 1),
                (date("2025-03-15"), date("2025-03-16"), 1),
            ]
        );
    }
}
