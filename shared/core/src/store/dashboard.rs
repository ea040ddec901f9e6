//! Period statistics computed from the raw rows (portable SQL, no TimescaleDB functions), for the daily summary
//! and the dashboard. Counts and sums only: turning them into consensus metrics is pure code in the caller.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::UserTimeZone;

/// Coverage is counted in slots of this many minutes: a slot with at least one reading is covered, so 1-minute
/// data or two overlapping sources never count more than once.
pub const COVERAGE_SLOT_MINUTES: i64 = 5;

/// Glucose readings in a period, summarised in mg/dL. The five counts partition the readings at the consensus
/// cut points (< 54, 54–69, 70–180, 181–250, > 250; 70 and 180 are in range, as in iglu and Tidepool).
#[derive(Debug, Clone, Copy, PartialEq, Default, sqlx::FromRow)]
pub struct GlucoseStats {
    pub readings: i64,
    pub covered_slots: i64,
    pub mean_mg_dl: Option<f64>,
    /// Sample SD (n − 1); `None` below two readings.
    pub sd_mg_dl: Option<f64>,
    pub min_mg_dl: Option<f64>,
    pub max_mg_dl: Option<f64>,
    pub below_54: i64,
    pub from_54_to_69: i64,
    pub from_70_to_180: i64,
    pub from_181_to_250: i64,
    pub above_250: i64,
}

/// Statistics of `user_id`'s readings in `[start, end)`: one aggregate over a primary-key range scan.
pub async fn glucose_stats(
    db: &PgPool,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<GlucoseStats, sqlx::Error> {
    // Slots are aligned to a fixed origin; every local midnight is on a 5-minute UTC boundary (all zone offsets
    // in use are multiples of 15 minutes), so slots never straddle a day. The CTE is MATERIALIZED so the numeric
    // column is cast once per row, not once per aggregate (an inlined subquery repeats the cast in all ten).
    sqlx::query_as(&format!(
        "WITH period_readings AS MATERIALIZED (
             SELECT time, value_mg_dl::float8 AS v
             FROM glucose_readings
             WHERE user_id = $1 AND time >= $2 AND time < $3)
         SELECT count(*) AS readings,
                count(DISTINCT date_bin(interval '{COVERAGE_SLOT_MINUTES} minutes', time, TIMESTAMPTZ '2000-01-01'))
                    AS covered_slots,
                avg(v) AS mean_mg_dl,
                stddev_samp(v) AS sd_mg_dl,
                min(v) AS min_mg_dl,
                max(v) AS max_mg_dl,
                count(*) FILTER (WHERE v < 54) AS below_54,
                count(*) FILTER (WHERE v >= 54 AND v < 70) AS from_54_to_69,
                count(*) FILTER (WHERE v >= 70 AND v <= 180) AS from_70_to_180,
                count(*) FILTER (WHERE v > 180 AND v <= 250) AS from_181_to_250,
                count(*) FILTER (WHERE v > 250) AS above_250
         FROM period_readings"
    ))
    .bind(user_id)
    .bind(start)
    .bind(end)
    .fetch_one(db)
    .await
}

/// Sleep, exercise and meals recorded in a period, with the number of local days that have records, so callers
/// can average per recorded day.
#[derive(Debug, Clone, Copy, PartialEq, Default, sqlx::FromRow)]
pub struct LifestyleTotals {
    /// Length of the union of the sleep sessions that end in the period (a night belongs to the day one wakes up),
    /// so overlapping sessions from two sources count once.
    pub sleep_minutes: f64,
    /// Local days on which at least one sleep session ends.
    pub sleep_days: i64,
    /// Sum of the durations of activities starting in the period.
    pub exercise_minutes: i64,
    pub activity_count: i64,
    pub carbs_g: f64,
    pub meal_count: i64,
    /// Local days with at least one meal.
    pub meal_days: i64,
}

/// Lifestyle totals of `user_id` in `[start, end)`; local days are counted in `time_zone`.
pub async fn lifestyle_totals(
    db: &PgPool,
    user_id: Uuid,
    time_zone: UserTimeZone,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<LifestyleTotals, sqlx::Error> {
    // Sessions last at most 24 hours (a table CHECK), so bounding start_time too lets the primary key drive the scan.
    sqlx::query_as(
        "WITH sleep AS (
             SELECT start_time, end_time FROM sleep_data
             WHERE user_id = $1 AND start_time >= $2 - interval '24 hours' AND start_time < $3
               AND end_time >= $2 AND end_time < $3),
         exercise AS (
             SELECT duration_minutes FROM activities WHERE user_id = $1 AND start_time >= $2 AND start_time < $3),
         meal AS (
             SELECT eaten_at, carbs_g FROM meals WHERE user_id = $1 AND eaten_at >= $2 AND eaten_at < $3)
         SELECT
             coalesce((SELECT sum(EXTRACT(EPOCH FROM upper(merged.r) - lower(merged.r)))
                       FROM unnest((SELECT range_agg(tstzrange(start_time, end_time)) FROM sleep)) AS merged(r)),
                      0)::float8 / 60 AS sleep_minutes,
             (SELECT count(DISTINCT (end_time AT TIME ZONE $4)::date) FROM sleep) AS sleep_days,
             (SELECT coalesce(sum(duration_minutes), 0)::int8 FROM exercise) AS exercise_minutes,
             (SELECT count(*) FROM exercise) AS activity_count,
             (SELECT coalesce(sum(carbs_g), 0)::float8 FROM meal) AS carbs_g,
             (SELECT count(*) FROM meal) AS meal_count,
             (SELECT count(DISTINCT (eaten_at AT TIME ZONE $4)::date) FROM meal) AS meal_days",
    )
    .bind(user_id)
    .bind(start)
    .bind(end)
    .bind(time_zone.name())
    .fetch_one(db)
    .await
}
