//! The daily aggregate: one user's local calendar day summarised (glucose statistics, sleep, activity, meals), as
//! `glucolens_app::aggregation` computes it and the `daily_aggregates` table stores it. A value only; no I/O.

use chrono::NaiveDate;
use serde::Serialize;

/// One stored day (the `daily_aggregates` columns other than the key's user, `id` and `computed_at`; the store maps
/// the field names to the design's column names, e.g. `mean_glucose` to `avg_glucose`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyAggregate {
    pub local_date: NaiveDate,
    pub reading_count: i32,
    pub expected_readings: i32,
    pub coverage_percent: f64,
    pub sufficient_data: bool,
    pub mean_glucose: Option<f64>,
    pub median_glucose: Option<f64>,
    pub sd_glucose: Option<f64>,
    pub cv_percent: Option<f64>,
    pub gmi_percent: Option<f64>,
    pub min_glucose: Option<f64>,
    pub max_glucose: Option<f64>,
    pub pct_below_54: Option<f64>,
    pub pct_54_69: Option<f64>,
    pub pct_70_180: Option<f64>,
    pub pct_181_250: Option<f64>,
    pub pct_above_250: Option<f64>,
    pub pct_below_70: Option<f64>,
    pub pct_above_180: Option<f64>,
    pub pct_in_user_target: Option<f64>,
    pub hypo_events: Option<i32>,
    pub sleep_minutes: Option<f64>,
    pub deep_sleep_minutes: Option<f64>,
    pub rem_sleep_minutes: Option<f64>,
    pub sleep_quality: Option<f64>,
    pub exercise_minutes: Option<f64>,
    pub active_calories: Option<f64>,
    pub steps: Option<i32>,
    pub carbs_g: Option<f64>,
    pub calories: Option<f64>,
    pub protein_g: Option<f64>,
    pub fat_g: Option<f64>,
    pub meal_count: Option<i32>,
}
