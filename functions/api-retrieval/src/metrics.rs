//! Consensus CGM metrics (Battelino et al. 2019) of a period's local days, in the user's display unit. The days
//! are counted as `glucolens_domain::local_day` defines them (the daily aggregates' definition): readings once per
//! 5-minute slot, nights to the evening they began. Percentages are of readings; GMI uses the mg/dL mean
//! (Bergenstal 2018); CV = 100·SD/mean. Every statistic comes from `glucolens_analytics`.
//!
//! A period's figures combine its days' daily aggregates (stored rows or computed live, the same values), exactly:
//! the reading count is the sum of the days'; the mean is their count-weighted mean and the SD their pooled sample
//! SD (Chan et al., from each day's count, mean and SD); minimum and maximum are the days' extremes; range counts are
//! the days' range percentages times their reading counts, which give back the integer counts exactly
//! (`DailyAggregate::range_counts`); lifestyle totals add up the days' columns. No figure here needs a day's
//! readings themselves (no quantile or median is shown), so none are stored for it.

use glucolens_analytics::metrics::pooled::{pooled, Group};
use glucolens_analytics::metrics::stats::gmi_from_mean;
use glucolens_domain::aggregate::DailyAggregate;
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
    /// The statistics of the days' readings, combined exactly from each day's own (see the module documentation):
    /// equal, up to floating-point rounding, to those computed over the readings themselves.
    pub fn of<'a>(days: impl IntoIterator<Item = &'a DailyAggregate>) -> Self {
        let days: Vec<&DailyAggregate> = days.into_iter().filter(|day| day.reading_count > 0).collect();
        let groups: Vec<Group> = days
            .iter()
            .filter_map(|day| {
                Some(Group {
                    n: usize::try_from(day.reading_count).ok()?,
                    mean: day.mean_glucose?,
                    sd: day.sd_glucose,
                })
            })
            .collect();
        let period = pooled(&groups);
        if period.n == 0 {
            return Self::default();
        }
        let mut counts = [0i64; 5];
        for day in &days {
            for (total, count) in counts.iter_mut().zip(day.range_counts()) {
                *total += count;
            }
        }
        let [below_54, from_54_to_69, from_70_to_180, from_181_to_250, above_250] = counts;
        Self {
            readings: period.n as i64,
            mean_mg_dl: period.mean,
            sd_mg_dl: period.sd,
            min_mg_dl: days.iter().filter_map(|day| day.min_glucose).reduce(f64::min),
            max_mg_dl: days.iter().filter_map(|day| day.max_glucose).reduce(f64::max),
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
    pub fn of<'a>(days: impl IntoIterator<Item = &'a DailyAggregate>) -> Self {
        let mut totals = Self::default();
        for day in days {
            if let Some(minutes) = day.sleep_minutes {
                totals.sleep_minutes += minutes;
                totals.sleep_days += 1;
            }
            totals.exercise_minutes += day.exercise_minutes.unwrap_or(0.0).round() as i64;
            totals.activity_count += i64::from(day.activity_count.unwrap_or(0));
            if let Some(carbs) = day.carbs_g {
                totals.carbs_g += carbs;
                totals.meal_days += 1;
            }
            totals.meal_count += i64::from(day.meal_count.unwrap_or(0));
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

    /// A day's aggregate as the aggregation computes it from `values` (5 minutes apart).
    fn day(values: &[f64]) -> DailyAggregate {
        let start = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap();
        let readings: Vec<_> = (0..)
            .zip(values)
            .map(|(i, &v)| (start + chrono::Duration::minutes(5 * i), v))
            .collect();
        let summary = glucolens_app::aggregation::summarize_glucose(&readings, (70.0, 180.0));
        DailyAggregate {
            reading_count: values.len() as i32,
            mean_glucose: summary.mean,
            sd_glucose: summary.sd,
            min_glucose: summary.min,
            max_glucose: summary.max,
            pct_below_54: summary.pct_below_54,
            pct_54_69: summary.pct_54_69,
            pct_70_180: summary.pct_70_180,
            pct_181_250: summary.pct_181_250,
            pct_above_250: summary.pct_above_250,
            ..DailyAggregate::default()
        }
    }

    #[test]
    fn period_statistics_from_day_rows_equal_those_of_the_readings() {
        use glucolens_analytics::metrics::stats::{range_counts, summary_stats};
        // Days of different lengths (a DST day, a partial one, a single reading, none), crossing every range.
        let trace: Vec<f64> = (0..1200)
            .map(|i| (150.0 + 120.0 * (i as f64 / 37.0).sin() + 9.0 * (i as f64 / 3.1).cos()).clamp(40.0, 400.0))
            .map(|v| (v * 10.0).round() / 10.0)
            .collect();
        let cuts = [0, 288, 564, 565, 565, 865, 1200];
        let days: Vec<DailyAggregate> = cuts.windows(2).map(|w| day(&trace[w[0]..w[1]])).collect();
        let got = GlucoseStats::of(&days);
        let all = summary_stats(&trace);
        let relative = |a: Option<f64>, b: f64| ((a.unwrap() - b) / b).abs();
        assert_eq!(got.readings, trace.len() as i64);
        assert!(relative(got.mean_mg_dl, all.mean) < 1e-12);
        assert!(relative(got.sd_mg_dl, all.sd) < 1e-12);
        assert_eq!(got.min_mg_dl, trace.iter().copied().reduce(f64::min));
        assert_eq!(got.max_mg_dl, trace.iter().copied().reduce(f64::max));
        let counts = range_counts(&trace).map(|c| c as i64);
        assert_eq!(
            [
                got.below_54,
                got.from_54_to_69,
                got.from_70_to_180,
                got.from_181_to_250,
                got.above_250
            ],
            counts
        );
        assert!(counts.iter().all(|&c| c > 0), "the trace crosses every range");
        assert_eq!(
            GlucoseStats::of(&[day(&[]), DailyAggregate::default()]),
            GlucoseStats::default()
        );
        let single = GlucoseStats::of(&[day(&[120.0])]);
        assert_eq!(
            (single.readings, single.mean_mg_dl, single.sd_mg_dl),
            (1, Some(120.0), None)
        );
    }

    #[test]
    fn lifestyle_totals_add_up_the_days() {
        let days = [
            DailyAggregate {
                sleep_minutes: Some(400.5),
                exercise_minutes: Some(30.4),
                activity_count: Some(2),
                carbs_g: Some(120.0),
                meal_count: Some(3),
                ..DailyAggregate::default()
            },
            DailyAggregate {
                exercise_minutes: Some(44.6),
                activity_count: Some(1),
                ..DailyAggregate::default()
            },
            DailyAggregate::default(),
        ];
        let totals = LifestyleTotals::of(&days);
        assert_eq!(
            totals,
            LifestyleTotals {
                sleep_minutes: 400.5,
                sleep_days: 1,
                exercise_minutes: 75,
                activity_count: 3,
                carbs_g: 120.0,
                meal_count: 3,
                meal_days: 1,
            }
        );
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
