//! Consensus CGM metrics (Battelino et al. 2019) of a period's local days, in the user's display unit. The days
//! are counted as `glucolens_domain::local_day` defines them (the daily aggregates' definition): readings once per
//! 5-minute slot, nights to the evening they began. Percentages are of readings; GMI uses the mg/dL mean
//! (Bergenstal 2018); CV = 100·SD/mean. Every statistic comes from `glucolens_analytics`.

use glucolens_analytics::metrics::stats::{gmi_from_mean, range_counts, summary_stats};
use glucolens_app::aggregation::ComputedDay;
use glucolens_domain::GlucoseUnit;
use serde::Serialize;
use utoipa::ToSchema;

/// Glucose readings of a period, summarised in mg/dL. The five counts partition the readings at the consensus
/// cut points (< 54, 54–69, 70–180, 181–250, > 250; 70 and 180 are in range, as in iglu and Tidepool).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GlucoseStats {
    /// Readings after deduplication: one per covered 5-minute slot.
    pub readings: i64,
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

impl GlucoseStats {
    /// The statistics of the days' deduplicated readings.
    pub fn of<'a>(days: impl IntoIterator<Item = &'a ComputedDay>) -> Self {
        let values: Vec<f64> = days
            .into_iter()
            .flat_map(|day| day.readings.iter().map(|&(_, v)| v))
            .collect();
        if values.is_empty() {
            return Self::default();
        }
        let stats = summary_stats(&values);
        let [below_54, from_54_to_69, from_70_to_180, from_181_to_250, above_250] =
            range_counts(&values).map(|c| c as i64);
        Self {
            readings: values.len() as i64,
            mean_mg_dl: Some(stats.mean),
            sd_mg_dl: stats.sd.is_finite().then_some(stats.sd),
            min_mg_dl: values.iter().copied().reduce(f64::min),
            max_mg_dl: values.iter().copied().reduce(f64::max),
            below_54,
            from_54_to_69,
            from_70_to_180,
            from_181_to_250,
            above_250,
        }
    }
}

/// Sleep, exercise and meals of a period's local days, with the number of days that have records, so callers can
/// average per recorded day.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LifestyleTotals {
    /// Minutes asleep in the nights of the period (each night belongs to the day of its evening; overlapping
    /// records of one night count once).
    pub sleep_minutes: f64,
    /// Nights with sleep recorded.
    pub sleep_days: i64,
    pub exercise_minutes: i64,
    pub activity_count: i64,
    pub carbs_g: f64,
    pub meal_count: i64,
    /// Local days with at least one meal.
    pub meal_days: i64,
}

impl LifestyleTotals {
    /// The totals of the days, from the figures their daily aggregates hold.
    pub fn of<'a>(days: impl IntoIterator<Item = &'a ComputedDay>) -> Self {
        let mut totals = Self::default();
        for day in days {
            let aggregate = &day.aggregate;
            if let Some(minutes) = aggregate.sleep_minutes {
                totals.sleep_minutes += minutes;
                totals.sleep_days += 1;
            }
            totals.exercise_minutes += aggregate.exercise_minutes.unwrap_or(0.0).round() as i64;
            totals.activity_count += day.activity_count as i64;
            if let Some(carbs) = aggregate.carbs_g {
                totals.carbs_g += carbs;
                totals.meal_days += 1;
            }
            totals.meal_count += i64::from(aggregate.meal_count.unwrap_or(0));
        }
        totals
    }
}

/// Glucose metrics of one period. Glucose values are in the answer's `unit`; every metric is null when the
/// period has no readings (SD and CV also with a single reading).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GlucoseMetrics {
    pub reading_count: i64,
    /// Readings expected at one per 5 minutes over the period (elapsed part only, for a period that includes now).
    pub expected_readings: i64,
    /// Share of the expected 5-minute slots holding at least one reading, 0–100.
    pub coverage_percent: f64,
    pub mean: Option<f64>,
    /// Sample standard deviation.
    pub sd: Option<f64>,
    pub cv_percent: Option<f64>,
    /// Glucose Management Indicator, % (3.31 + 0.02392 × mean mg/dL).
    pub gmi_percent: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub time_in_ranges: Option<TimeInRanges>,
}

/// Percent of readings in each consensus range (mg/dL cut points; 70 and 180 count as in range). In a `change`,
/// the differences in percentage points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct TimeInRanges {
    /// < 54 mg/dL (< 3.0 mmol/L).
    pub very_low: f64,
    /// 54–69 mg/dL (3.0–3.8 mmol/L).
    pub low: f64,
    /// 70–180 mg/dL (3.9–10.0 mmol/L).
    pub in_range: f64,
    /// 181–250 mg/dL (10.1–13.9 mmol/L).
    pub high: f64,
    /// > 250 mg/dL (> 13.9 mmol/L).
    pub very_high: f64,
}

/// Sleep, exercise and carbohydrates of one local day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct DayLifestyle {
    /// Minutes asleep in the night that began this evening (overlapping records counted once, awake minutes
    /// subtracted); null when none recorded.
    pub sleep_minutes: Option<f64>,
    /// Minutes of activities starting this day.
    pub exercise_minutes: i64,
    pub activity_count: i64,
    /// Grams of carbohydrate eaten this day; null when no meal was recorded.
    pub carbs_g: Option<f64>,
    pub meal_count: i64,
}

/// Daily averages over a period; each is null when the period has no records of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct LifestyleAverages {
    /// Per night recorded (a night belongs to the day of its evening).
    pub sleep_minutes_per_day: Option<f64>,
    /// Per day of the period: a day without a workout is a day of zero exercise.
    pub exercise_minutes_per_day: Option<f64>,
    /// Per day with at least one meal recorded: unlogged days are missing data, not fasting.
    pub carbs_g_per_day: Option<f64>,
}

/// Current minus previous period; null wherever either period has no data.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PeriodChange {
    pub mean: Option<f64>,
    pub cv_percent: Option<f64>,
    pub gmi_percent: Option<f64>,
    pub coverage_percent: Option<f64>,
    pub time_in_ranges: Option<TimeInRanges>,
    pub sleep_minutes_per_day: Option<f64>,
    pub exercise_minutes_per_day: Option<f64>,
    pub carbs_g_per_day: Option<f64>,
}

/// Decimals shown for percentages and minutes.
const PERCENT_DECIMALS: i32 = 1;

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Glucose precision as users read it: 1 decimal in mg/dL, 2 in mmol/L.
fn glucose_decimals(unit: GlucoseUnit) -> i32 {
    match unit {
        GlucoseUnit::MgDl => 1,
        GlucoseUnit::MmolL => 2,
    }
}

impl GlucoseMetrics {
    pub fn new(stats: &GlucoseStats, expected_readings: i64, unit: GlucoseUnit) -> Self {
        let glucose = |mg_dl: Option<f64>| mg_dl.map(|v| round(unit.from_mg_dl(v), glucose_decimals(unit)));
        let coverage_percent = if expected_readings > 0 {
            round(
                (100.0 * stats.readings as f64 / expected_readings as f64).min(100.0),
                PERCENT_DECIMALS,
            )
        } else {
            0.0
        };
        let percent_of_readings = |count: i64| round(100.0 * count as f64 / stats.readings as f64, PERCENT_DECIMALS);
        let has_readings = stats.readings > 0;
        Self {
            reading_count: stats.readings,
            expected_readings,
            coverage_percent,
            mean: glucose(stats.mean_mg_dl),
            sd: glucose(stats.sd_mg_dl),
            cv_percent: stats
                .sd_mg_dl
                .zip(stats.mean_mg_dl)
                .map(|(sd, mean)| round(100.0 * sd / mean, PERCENT_DECIMALS)),
            gmi_percent: stats.mean_mg_dl.map(|mean| round(gmi_from_mean(mean), 2)),
            min: glucose(stats.min_mg_dl),
            max: glucose(stats.max_mg_dl),
            time_in_ranges: has_readings.then(|| TimeInRanges {
                very_low: percent_of_readings(stats.below_54),
                low: percent_of_readings(stats.from_54_to_69),
                in_range: percent_of_readings(stats.from_70_to_180),
                high: percent_of_readings(stats.from_181_to_250),
                very_high: percent_of_readings(stats.above_250),
            }),
        }
    }
}

impl DayLifestyle {
    pub fn new(totals: &LifestyleTotals) -> Self {
        Self {
            sleep_minutes: (totals.sleep_days > 0).then(|| round(totals.sleep_minutes, PERCENT_DECIMALS)),
            exercise_minutes: totals.exercise_minutes,
            activity_count: totals.activity_count,
            carbs_g: (totals.meal_count > 0).then(|| round(totals.carbs_g, PERCENT_DECIMALS)),
            meal_count: totals.meal_count,
        }
    }
}

impl LifestyleAverages {
    pub fn new(totals: &LifestyleTotals, period_days: u64) -> Self {
        let per_day = |total: f64, days: i64, has_records: bool| {
            (has_records && days > 0).then(|| round(total / days as f64, PERCENT_DECIMALS))
        };
        Self {
            sleep_minutes_per_day: per_day(totals.sleep_minutes, totals.sleep_days, totals.sleep_days > 0),
            exercise_minutes_per_day: per_day(
                totals.exercise_minutes as f64,
                period_days as i64,
                totals.activity_count > 0,
            ),
            carbs_g_per_day: per_day(totals.carbs_g, totals.meal_days, totals.meal_count > 0),
        }
    }
}

/// `current − previous`, rounded like its operands; null when either is null.
fn delta(current: Option<f64>, previous: Option<f64>, decimals: i32) -> Option<f64> {
    current.zip(previous).map(|(c, p)| round(c - p, decimals))
}

impl PeriodChange {
    pub fn between(
        current: (&GlucoseMetrics, &LifestyleAverages),
        previous: (&GlucoseMetrics, &LifestyleAverages),
        unit: GlucoseUnit,
    ) -> Self {
        let ((glucose, lifestyle), (earlier, earlier_lifestyle)) = (current, previous);
        let both_have_readings = glucose.reading_count > 0 && earlier.reading_count > 0;
        let percent = |c: f64, p: f64| round(c - p, PERCENT_DECIMALS);
        Self {
            mean: delta(glucose.mean, earlier.mean, glucose_decimals(unit)),
            cv_percent: delta(glucose.cv_percent, earlier.cv_percent, PERCENT_DECIMALS),
            gmi_percent: delta(glucose.gmi_percent, earlier.gmi_percent, 2),
            coverage_percent: both_have_readings.then(|| percent(glucose.coverage_percent, earlier.coverage_percent)),
            time_in_ranges: glucose
                .time_in_ranges
                .zip(earlier.time_in_ranges)
                .map(|(c, p)| TimeInRanges {
                    very_low: percent(c.very_low, p.very_low),
                    low: percent(c.low, p.low),
                    in_range: percent(c.in_range, p.in_range),
                    high: percent(c.high, p.high),
                    very_high: percent(c.very_high, p.very_high),
                }),
            sleep_minutes_per_day: delta(
                lifestyle.sleep_minutes_per_day,
                earlier_lifestyle.sleep_minutes_per_day,
                PERCENT_DECIMALS,
            ),
            exercise_minutes_per_day: delta(
                lifestyle.exercise_minutes_per_day,
                earlier_lifestyle.exercise_minutes_per_day,
                PERCENT_DECIMALS,
            ),
            carbs_g_per_day: delta(
                lifestyle.carbs_g_per_day,
                earlier_lifestyle.carbs_g_per_day,
                PERCENT_DECIMALS,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> GlucoseStats {
        GlucoseStats {
            readings: 10,
            mean_mg_dl: Some(150.0),
            sd_mg_dl: Some(45.0),
            min_mg_dl: Some(50.0),
            max_mg_dl: Some(300.0),
            below_54: 1,
            from_54_to_69: 1,
            from_70_to_180: 5,
            from_181_to_250: 2,
            above_250: 1,
        }
    }

    #[test]
    fn consensus_metrics_from_counts() {
        let metrics = GlucoseMetrics::new(&stats(), 20, GlucoseUnit::MgDl);
        assert_eq!(metrics.coverage_percent, 50.0);
        assert_eq!(metrics.cv_percent, Some(30.0));
        assert_eq!(metrics.gmi_percent, Some(6.9));
        let ranges = metrics.time_in_ranges.unwrap();
        assert_eq!(
            [
                ranges.very_low,
                ranges.low,
                ranges.in_range,
                ranges.high,
                ranges.very_high
            ],
            [10.0, 10.0, 50.0, 20.0, 10.0]
        );
    }

    #[test]
    fn mmol_display_converts_glucose_but_not_percentages() {
        let metrics = GlucoseMetrics::new(&stats(), 10, GlucoseUnit::MmolL);
        assert_eq!(metrics.mean, Some(8.33));
        assert_eq!(metrics.min, Some(2.78));
        assert_eq!(metrics.cv_percent, Some(30.0));
        assert_eq!(metrics.gmi_percent, Some(6.9));
    }

    #[test]
    fn empty_periods_have_null_metrics_and_null_changes() {
        let empty = GlucoseMetrics::new(&GlucoseStats::default(), 288, GlucoseUnit::MgDl);
        assert_eq!(
            (empty.mean, empty.time_in_ranges, empty.coverage_percent),
            (None, None, 0.0)
        );
        let full = GlucoseMetrics::new(&stats(), 10, GlucoseUnit::MgDl);
        let no_lifestyle = LifestyleAverages::new(&LifestyleTotals::default(), 7);
        assert_eq!(no_lifestyle.exercise_minutes_per_day, None);
        let change = PeriodChange::between((&full, &no_lifestyle), (&empty, &no_lifestyle), GlucoseUnit::MgDl);
        assert_eq!(
            (change.mean, change.coverage_percent, change.time_in_ranges),
            (None, None, None)
        );
        let same = PeriodChange::between((&full, &no_lifestyle), (&full, &no_lifestyle), GlucoseUnit::MgDl);
        assert_eq!((same.mean, same.gmi_percent), (Some(0.0), Some(0.0)));
    }

    #[test]
    fn lifestyle_averages_use_recorded_days() {
        let totals = LifestyleTotals {
            sleep_minutes: 840.0,
            sleep_days: 2,
            exercise_minutes: 70,
            activity_count: 2,
            carbs_g: 300.0,
            meal_count: 6,
            meal_days: 3,
        };
        let averages = LifestyleAverages::new(&totals, 7);
        assert_eq!(averages.sleep_minutes_per_day, Some(420.0));
        assert_eq!(averages.exercise_minutes_per_day, Some(10.0));
        assert_eq!(averages.carbs_g_per_day, Some(100.0));
    }
}
