//! The daily aggregate: one user's local calendar day summarised (glucose statistics, sleep, activity, meals), as
//! `glucolens_app::aggregation` computes it and the `daily_aggregates` table stores it. A value only; no I/O.

use chrono::NaiveDate;
use serde::Serialize;

/// One stored day (the `daily_aggregates` columns other than the key's user, `id` and `computed_at`; the store maps
/// the field names to the design's column names, e.g. `mean_glucose` to `avg_glucose`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
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
    /// Activities started this day; `None` without any.
    pub activity_count: Option<i32>,
    pub active_calories: Option<f64>,
    pub steps: Option<i32>,
    pub carbs_g: Option<f64>,
    pub calories: Option<f64>,
    pub protein_g: Option<f64>,
    pub fat_g: Option<f64>,
    pub meal_count: Option<i32>,
}

impl DailyAggregate {
    /// The day's readings in the five consensus ranges (< 54, 54–69, 70–180, 181–250, > 250 mg/dL), recovered from
    /// the stored percentages. Each percentage is 100·count/reading_count in floating point, so
    /// percentage·reading_count/100 lies within about 1e-13 of the count and rounds back to it exactly (a day holds
    /// at most 300 readings); storing the counts besides the percentages would keep one fact twice.
    pub fn range_counts(&self) -> [i64; 5] {
        [
            self.pct_below_54,
            self.pct_54_69,
            self.pct_70_180,
            self.pct_181_250,
            self.pct_above_250,
        ]
        .map(|percent| percent.map_or(0, |p| (p * f64::from(self.reading_count) / 100.0).round() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_counts_come_back_exactly_from_the_percentages() {
        // Every count of every possible day size, percentages formed as the analytics form them.
        for n in 1..=300 {
            for count in 0..=n {
                let percent = |c: i32| Some(f64::from(c) / f64::from(n) * 100.0);
                let day = DailyAggregate {
                    reading_count: n,
                    pct_below_54: percent(count),
                    pct_54_69: percent(n - count),
                    pct_70_180: percent(0),
                    pct_181_250: percent(0),
                    pct_above_250: percent(0),
                    ..DailyAggregate::default()
                };
                assert_eq!(day.range_counts(), [count, n - count, 0, 0, 0].map(i64::from));
            }
        }
        assert_eq!(DailyAggregate::default().range_counts(), [0; 5]);
    }
}
