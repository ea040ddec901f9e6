//! From daily aggregates to PCMCI findings: which variables and days go in, and how a PCMCI link becomes a stored
//! finding with a confidence level and an effect size in natural units.
//!
//! # Days and gaps
//! Only days with `sufficient_data` (≥ 70 % glucose coverage) are used. A variable is analysed when it is present on
//! at least [`MIN_PRESENCE`] of those days and not constant. A day *qualifies* when it has every analysed variable.
//! PCMCI needs consecutive days (lags are "the day before"), and the analytics port refuses gaps rather than guess,
//! so the series analysed is the **longest run of consecutive qualifying days** (the latest one on ties); days
//! outside it are not used. The run must be at least [`REQUIRED_DAYS`] long, otherwise the answer is "not enough
//! data yet" with the number of further consecutive days needed. We do not interpolate missing days: an invented
//! day would enter four lagged tests at once.
//!
//! # Links kept
//! PCMCI (tigramite's ParCorr, τmax = [`TAU_MAX`] days, pc_alpha [`PC_ALPHA`]) tests every pair at every lag. A link
//! is kept when its p-value is ≤ [`ALPHA`]; its q-value is Benjamini–Hochberg over all tests including same-day ones.
//! Same-day (lag 0) links have no direction in PCMCI; each is stored once, oriented from behaviour to glucose when
//! it joins the two (what a person did that day is treated as the cause of that day's glucose), otherwise in
//! catalogue order.
//!
//! # Confidence ([`Confidence::from_q`])
//! high: q < 0.01 and n ≥ 60 days; medium: q < 0.05; low: significant before FDR correction only (q ≥ 0.05).

use chrono::NaiveDate;
use glucolens_analytics::metrics::stats::{ols_slope, pearson};
use glucolens_analytics::pcmci::{PcmciParams, PcmciResult};
use ndarray::Array2;

use glucolens_domain::finding::{Confidence, DailyValues, Finding};
use glucolens_domain::variables::{Role, Variable, VARIABLES};

/// Consecutive qualifying days needed before any correlation is computed.
pub const REQUIRED_DAYS: usize = 30;
/// Longest lag tested, in days.
pub const TAU_MAX: usize = 3;
/// Significance level of PCMCI's condition-selection (PC1) phase; lenient on purpose, so confounders are kept.
pub const PC_ALPHA: f64 = 0.2;
/// Significance level of the final (MCI) tests.
pub const ALPHA: f64 = 0.05;
/// Share of days on which a variable must be recorded to be analysed.
pub const MIN_PRESENCE: f64 = 0.8;
/// Two variables correlated beyond this over the analysed days carry the same information (e.g. calories computed
/// from carbs); the later one in catalogue order is dropped so the partial-correlation conditions stay invertible.
const DUPLICATE_CORRELATION: f64 = 0.99;

pub fn pcmci_params() -> PcmciParams {
    PcmciParams {
        tau_min: 0,
        tau_max: TAU_MAX,
        pc_alpha: Some(PC_ALPHA),
        alpha_level: ALPHA,
        ..PcmciParams::default()
    }
}

/// The consecutive days and variables PCMCI runs on: `data` is days × variables.
#[derive(Debug, Clone)]
pub struct AnalysedSeries {
    pub variables: Vec<&'static Variable>,
    pub dates: Vec<NaiveDate>,
    pub data: Array2<f64>,
}

#[derive(Debug, Clone)]
pub enum Selection {
    Ready(AnalysedSeries),
    /// `qualifying_days` is the length of the longest run of consecutive qualifying days.
    NotEnoughData {
        qualifying_days: usize,
    },
}

/// Chooses variables and the longest run of consecutive qualifying days (see the module docs).
pub fn select_series(days: &[DailyValues]) -> Selection {
    let recorded = |index: usize, day: &DailyValues| day.values.get(index).copied().flatten().filter(|v| v.is_finite());
    let candidates: Vec<usize> = (0..VARIABLES.len())
        .filter(|&index| {
            let present: Vec<f64> = days.iter().filter_map(|day| recorded(index, day)).collect();
            !days.is_empty() && present.len() as f64 >= MIN_PRESENCE * days.len() as f64 && !is_constant(&present)
        })
        .collect();

    let complete: Vec<(NaiveDate, Vec<f64>)> = days
        .iter()
        .filter_map(|day| {
            let row: Option<Vec<f64>> = candidates.iter().map(|&index| recorded(index, day)).collect();
            row.map(|row| (day.date, row))
        })
        .collect();
    let run = longest_consecutive_run(&complete.iter().map(|(date, _)| *date).collect::<Vec<_>>());
    let rows = &complete[run];

    // Over the run itself, drop variables that became constant or duplicate another.
    let column = |position: usize| rows.iter().map(|(_, row)| row[position]).collect::<Vec<f64>>();
    let mut kept: Vec<usize> = Vec::new();
    for position in 0..candidates.len() {
        let values = column(position);
        let duplicate = kept
            .iter()
            .any(|&other| pearson(&column(other), &values).is_some_and(|r| r.abs() > DUPLICATE_CORRELATION));
        if !is_constant(&values) && !duplicate {
            kept.push(position);
        }
    }
    let variables: Vec<&'static Variable> = kept.iter().map(|&position| &VARIABLES[candidates[position]]).collect();
    let has_role = |glucose: bool| variables.iter().any(|v| v.is_glucose() == glucose);
    if !has_role(true) || !has_role(false) {
        return Selection::NotEnoughData { qualifying_days: 0 };
    }
    if rows.len() < REQUIRED_DAYS {
        return Selection::NotEnoughData {
            qualifying_days: rows.len(),
        };
    }
    let data = Array2::from_shape_fn((rows.len(), kept.len()), |(t, k)| rows[t].1[kept[k]]);
    Selection::Ready(AnalysedSeries {
        variables,
        dates: rows.iter().map(|(date, _)| *date).collect(),
        data,
    })
}

/// The index range of the longest run of consecutive calendar days in sorted `dates` (the latest on ties).
fn longest_consecutive_run(dates: &[NaiveDate]) -> std::ops::Range<usize> {
    let mut best = 0..0;
    let mut start = 0;
    for end in 1..=dates.len() {
        let breaks = end == dates.len() || (dates[end] - dates[end - 1]).num_days() != 1;
        if breaks {
            if end - start >= best.len() {
                best = start..end;
            }
            start = end;
        }
    }
    best
}

fn is_constant(values: &[f64]) -> bool {
    values.windows(2).all(|pair| pair[0] == pair[1])
}

/// Turns PCMCI's matrices into findings (module docs: which links, orientation of same-day links).
pub fn findings(series: &AnalysedSeries, result: &PcmciResult) -> Vec<Finding> {
    let n_vars = series.variables.len();
    let days = series.data.nrows();
    let sample_size = days.saturating_sub(2 * result.tau_max);
    let mut out = Vec::new();
    for cause in 0..n_vars {
        for effect in 0..n_vars {
            for lag in 0..=result.tau_max {
                if lag == 0
                    && !keeps_same_day_orientation(series.variables[cause], series.variables[effect], cause, effect)
                {
                    continue;
                }
                let p_value = result.p_matrix[cause][effect][lag].clamp(0.0, 1.0);
                if p_value.is_nan() || p_value > ALPHA {
                    continue;
                }
                let q_value = result.q_matrix_incl_contemporaneous[cause][effect][lag].clamp(0.0, 1.0);
                let caused: Vec<f64> = series.data.column(cause).iter().take(days - lag).copied().collect();
                let affected: Vec<f64> = series.data.column(effect).iter().skip(lag).copied().collect();
                out.push(Finding {
                    cause: series.variables[cause],
                    effect: series.variables[effect],
                    lag_days: lag,
                    coefficient: result.val_matrix[cause][effect][lag].clamp(-1.0, 1.0),
                    p_value,
                    q_value,
                    sample_size,
                    confidence: Confidence::from_q(q_value, sample_size),
                    effect_size: ols_slope(&caused, &affected).map(|slope| slope * series.variables[cause].step),
                });
            }
        }
    }
    out
}

/// Same-day links are stored once: behaviour → glucose when they differ in role, else lower index → higher.
fn keeps_same_day_orientation(cause: &Variable, effect: &Variable, cause_index: usize, effect_index: usize) -> bool {
    match (cause.role, effect.role) {
        (Role::Behaviour, Role::Glucose { .. }) => true,
        (Role::Glucose { .. }, Role::Behaviour) => false,
        _ => cause_index < effect_index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glucolens_domain::finding::effect_unit;

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(day as u64)
    }

    fn column(name: &str) -> usize {
        VARIABLES.iter().position(|v| v.column == name).unwrap()
    }

    /// Days with sleep, carbs and mean glucose recorded (other variables missing), varying by day.
    fn day(index: u32) -> DailyValues {
        let mut values = vec![None; VARIABLES.len()];
        values[column("sleep_minutes")] = Some(400.0 + (index * 37 % 90) as f64);
        values[column("carbs_g")] = Some(150.0 + (index * 53 % 70) as f64);
        values[column("mean_glucose")] = Some(120.0 + (index * 29 % 40) as f64);
        DailyValues {
            date: date(index),
            values,
        }
    }

    #[test]
    fn slope_is_in_natural_units() {
        // glucose rises 0.2 mg/dL per minute of sleep → 12 mg/dL per hour.
        let sleep = [300.0, 360.0, 420.0, 480.0];
        let glucose: Vec<f64> = sleep.iter().map(|s| 100.0 + 0.2 * s).collect();
        let slope = ols_slope(&sleep, &glucose).unwrap() * VARIABLES[column("sleep_minutes")].step;
        assert!((slope - 12.0).abs() < 1e-9);
        assert_eq!(ols_slope(&[1.0, 1.0], &[2.0, 3.0]), None);
        assert_eq!(
            effect_unit(&VARIABLES[column("mean_glucose")], &VARIABLES[column("sleep_minutes")]),
            "mg/dL per extra hour of sleep"
        );
    }

    #[test]
    fn longest_run_wins_and_missing_variables_are_dropped() {
        // 10 days, a gap, then 35 days: the 35-day run is analysed; absent variables are not.
        let days: Vec<DailyValues> = (0..10).chain(11..46).map(day).collect();
        let Selection::Ready(series) = select_series(&days) else {
            panic!("expected a series")
        };
        assert_eq!(series.dates.len(), 35);
        assert_eq!(series.dates[0], date(11));
        let names: Vec<&str> = series.variables.iter().map(|v| v.column).collect();
        assert_eq!(names, ["sleep_minutes", "carbs_g", "mean_glucose"]);
        assert_eq!(series.data.dim(), (35, 3));
    }

    #[test]
    fn too_short_a_run_reports_its_length() {
        let days: Vec<DailyValues> = (0..20).chain(21..40).map(day).collect();
        assert!(matches!(
            select_series(&days),
            Selection::NotEnoughData { qualifying_days: 20 }
        ));
    }

    #[test]
    fn constant_and_duplicate_variables_are_dropped() {
        let days: Vec<DailyValues> = (0..40)
            .map(|i| {
                let mut d = day(i);
                d.values[column("exercise_minutes")] = Some(30.0);
                d.values[column("calories")] = d.values[column("carbs_g")].map(|c| 4.0 * c);
                d
            })
            .collect();
        let Selection::Ready(series) = select_series(&days) else {
            panic!("expected a series")
        };
        let names: Vec<&str> = series.variables.iter().map(|v| v.column).collect();
        assert_eq!(names, ["sleep_minutes", "carbs_g", "mean_glucose"]);
    }

    #[test]
    fn without_any_glucose_variable_nothing_qualifies() {
        let days: Vec<DailyValues> = (0..40)
            .map(|i| {
                let mut d = day(i);
                d.values[column("mean_glucose")] = None;
                d
            })
            .collect();
        assert!(matches!(
            select_series(&days),
            Selection::NotEnoughData { qualifying_days: 0 }
        ));
    }

    #[test]
    fn same_day_links_are_oriented_from_behaviour_to_glucose() {
        let (sleep, glucose) = (&VARIABLES[column("sleep_minutes")], &VARIABLES[column("mean_glucose")]);
        assert!(keeps_same_day_orientation(sleep, glucose, 0, 6));
        assert!(!keeps_same_day_orientation(glucose, sleep, 6, 0));
        assert!(keeps_same_day_orientation(sleep, sleep, 0, 1));
        assert!(!keeps_same_day_orientation(sleep, sleep, 1, 0));
    }
}
