//! What the report shows, computed elsewhere (`glucolens_app::report` fills it from the store and the analytics):
//! glucose values in mg/dL, times as minutes after local midnight, dates in the person's zone. The page converts
//! to the display unit and formats; nothing here computes a statistic.

use chrono::NaiveDate;
use glucolens_domain::GlucoseUnit;

/// Days of data the consensus asks for before a report is read as representative (Battelino et al. 2019).
pub const RECOMMENDED_DAYS: u32 = 14;
/// % of the period with CGM readings the consensus asks for.
pub const RECOMMENDED_ACTIVE_PERCENT: f64 = 70.0;

/// One AGP-style report of one person's period.
#[derive(Debug, Clone, PartialEq)]
pub struct AgpReport {
    /// The person's name, when their profile has one.
    pub name: Option<String>,
    /// First and last local day of the period (inclusive).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// IANA zone the days and times of day are counted in.
    pub time_zone: String,
    /// The unit the person reads glucose in.
    pub unit: GlucoseUnit,
    /// The person's own target range (mg/dL), drawn as the target band.
    pub target_mg_dl: (f64, f64),
    /// Local days of the period with at least one reading.
    pub days_with_data: u32,
    /// Share of the period's 5-minute slots holding a reading, 0–100.
    pub active_percent: f64,
    /// Mean, GMI, CV and time in ranges; `None` without readings.
    pub glucose: Option<GlucoseSummary>,
    /// Percentiles by time of day; `None` when there are too few readings for them.
    pub profile: Option<DailyProfile>,
    /// One entry per local day of the period, in order.
    pub days: Vec<DayTrace>,
    /// Episode counts per week of the period (weeks start on the period's first day).
    pub weeks: Vec<WeekEpisodes>,
}

/// Consensus numbers of the period's readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlucoseSummary {
    pub readings: usize,
    pub mean_mg_dl: f64,
    /// Glucose Management Indicator, %.
    pub gmi_percent: f64,
    /// Coefficient of variation, %; NaN with a single reading.
    pub cv_percent: f64,
    pub ranges: TimeInRanges,
}

/// Percent of readings in each consensus range (< 54, 54–69, 70–180, 181–250, > 250 mg/dL); they add up to 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeInRanges {
    pub very_low: f64,
    pub low: f64,
    pub in_range: f64,
    pub high: f64,
    pub very_high: f64,
}

/// Glucose percentiles 5/25/50/75/95 (mg/dL) at each time-of-day slot; NaN where a slot has no data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DailyProfile {
    /// Minutes after local midnight of each slot, increasing.
    pub minute_of_day: Vec<u32>,
    pub p5: Vec<f64>,
    pub p25: Vec<f64>,
    pub p50: Vec<f64>,
    pub p75: Vec<f64>,
    pub p95: Vec<f64>,
}

/// One local day: its readings and what the person did.
#[derive(Debug, Clone, PartialEq)]
pub struct DayTrace {
    pub date: NaiveDate,
    /// Runs of readings without a sensor gap, each `(minute after local midnight, mg/dL)`.
    pub segments: Vec<Vec<(f64, f64)>>,
    /// Sleep, as `(from, to)` minutes after local midnight, clipped to the day.
    pub sleep: Vec<(f64, f64)>,
    /// Exercise, as `(from, to)` minutes after local midnight, clipped to the day.
    pub exercise: Vec<(f64, f64)>,
}

/// Episodes that began in one week of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekEpisodes {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Level 2 hypoglycaemia: below 54 mg/dL for at least 15 minutes.
    pub very_low: usize,
    /// Level 1 hypoglycaemia: below 70 mg/dL for at least 15 minutes (episodes that reached level 2 included).
    pub low: usize,
    /// Extended hypoglycaemia: below 70 mg/dL for more than 120 minutes.
    pub extended_low: usize,
    /// Level 1 hyperglycaemia: above 180 mg/dL for at least 15 minutes (episodes that reached level 2 included).
    pub high: usize,
    /// Level 2 hyperglycaemia: above 250 mg/dL for at least 15 minutes.
    pub very_high: usize,
}

impl AgpReport {
    /// Days in the period.
    pub fn period_days(&self) -> u32 {
        ((self.last_day - self.first_day).num_days() + 1) as u32
    }

    /// Why the period may not represent the person's glucose (fewer than 14 days of data or under 70 % of the time
    /// with readings), in words for the page; `None` when it meets both recommendations.
    pub fn not_enough_data(&self) -> Option<String> {
        let mut short = Vec::new();
        if self.days_with_data < RECOMMENDED_DAYS {
            short.push(format!(
                "{} day{} with CGM data (at least {RECOMMENDED_DAYS} recommended)",
                self.days_with_data,
                if self.days_with_data == 1 { "" } else { "s" }
            ));
        }
        if self.active_percent.is_nan() || self.active_percent < RECOMMENDED_ACTIVE_PERCENT {
            short.push(format!(
                "CGM active {} of the time (at least {RECOMMENDED_ACTIVE_PERCENT:.0} % recommended)",
                percent(self.active_percent)
            ));
        }
        (!short.is_empty()).then(|| {
            format!(
                "Not enough data: {}. The numbers below may not represent this person's glucose.",
                short.join("; ")
            )
        })
    }

    /// A glucose value in the display unit, as the page prints it (mg/dL whole, mmol/L to one decimal).
    pub fn glucose_text(&self, mg_dl: f64) -> String {
        glucose_text(self.unit, mg_dl)
    }
}

/// `mg_dl` in `unit`, as the page prints it: mg/dL whole, mmol/L to one decimal (the domain's conversion).
pub fn glucose_text(unit: GlucoseUnit, mg_dl: f64) -> String {
    let value = unit.from_mg_dl(mg_dl);
    match unit {
        GlucoseUnit::MgDl => format!("{value:.0}"),
        GlucoseUnit::MmolL => format!("{value:.1}"),
    }
}

/// A percentage as the page prints it: one decimal, `–` when unknown.
pub fn percent(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.1} %")
    } else {
        "–".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_in_the_display_unit() {
        assert_eq!(glucose_text(GlucoseUnit::MgDl, 154.4), "154");
        assert_eq!(glucose_text(GlucoseUnit::MmolL, 180.0), "10.0");
        assert_eq!(glucose_text(GlucoseUnit::MmolL, 54.0), "3.0");
        assert_eq!(percent(71.26), "71.3 %");
        assert_eq!(percent(f64::NAN), "–");
    }
}
