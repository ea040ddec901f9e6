//! Postprandial glucose responses: what one meal did to glucose, and how a person's rise grows with carbohydrate.
//!
//! # One meal ([`meal_response`])
//! Readings are given as minutes relative to the meal (negative before it) and mg/dL, sorted by time.
//! - **Baseline**: the mean of the readings in the 30 minutes before the meal, `[−30, 0)`.
//! - **Response curve**: the readings in `[0, 120]` minutes, joined by straight lines (gaps are interpolated).
//! - **Peak rise ΔG**: the highest point of the curve smoothed by a centred moving average over each reading and its
//!   neighbours up to 7.5 minutes away (three readings at the usual 5-minute spacing), minus the baseline (negative
//!   when glucose only fell); **time to peak**: the minutes to that reading (the first one on a tie). The highest of
//!   ~24 raw readings would overstate a rise by about twice the sensor noise's SD (measured on the sample data: about
//!   +5 mg/dL with noise of SD 4); smoothing halves that, and lowers a physiological peak (≥ 15 minutes wide) by
//!   under 1 %. At the window's edges the average has one neighbour.
//! - **Incremental AUC** (Wolever & Jenkins 1986, as in the glycaemic-index literature): the trapezoid area of the
//!   curve *above* the baseline only, mg/dL·min; a segment crossing the baseline contributes its triangle above it.
//! - **Time back to baseline**: the first moment after the peak when the curve is at or below the baseline
//!   (interpolated between the two readings around the crossing); `None` when it stays above for the whole window.
//!
//! **Coverage**: a meal has a response only when at least 70 % of the 5-minute slots of each part hold a reading:
//! ≥ 5 of the 6 baseline slots and ≥ 17 of the 24 slots of the two hours after the meal. Otherwise `None`.
//!
//! # Rise per 10 g of carbohydrate ([`rise_per_10g_carbs`])
//! Ordinary least squares of ΔG on carbohydrate grams *with* an intercept (a meal's rise also has parts carbohydrate
//! does not explain: protein, fat, noise), slope × 10, with the two-sided 95 % confidence interval from Student's t
//! with n − 2 degrees of freedom. Needs at least 3 meals and two different carbohydrate amounts.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::metrics::stats;

/// Minutes before the meal whose readings make the baseline.
pub const BASELINE_MINUTES: f64 = 30.0;
/// Minutes after the meal the response is followed for.
pub const WINDOW_MINUTES: f64 = 120.0;
/// The CGM slot width coverage is counted in.
pub const SLOT_MINUTES: f64 = 5.0;
/// Share of each part's 5-minute slots that must hold a reading.
pub const MIN_COVERAGE: f64 = 0.7;

/// What one meal did to glucose (mg/dL and minutes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MealResponse {
    pub baseline: f64,
    pub peak_rise: f64,
    pub minutes_to_peak: f64,
    /// mg/dL·min above the baseline over the two hours.
    pub incremental_auc: f64,
    pub minutes_to_baseline: Option<f64>,
}

/// Whether at least [`MIN_COVERAGE`] of the 5-minute slots of `[from, to)` hold one of `offsets`.
fn covered(offsets: impl Iterator<Item = f64>, from: f64, to: f64) -> bool {
    let slots = ((to - from) / SLOT_MINUTES).round() as usize;
    let mut seen = vec![false; slots];
    for offset in offsets.filter(|t| (from..to).contains(t)) {
        seen[(((offset - from) / SLOT_MINUTES) as usize).min(slots - 1)] = true;
    }
    seen.iter().filter(|&&s| s).count() as f64 >= MIN_COVERAGE * slots as f64
}

/// Area above zero of the straight line from `(0, a)` to `(width, b)`.
fn positive_trapezoid(a: f64, b: f64, width: f64) -> f64 {
    match (a > 0.0, b > 0.0) {
        (true, true) => (a + b) / 2.0 * width,
        (false, false) => 0.0,
        // Crossing: the triangle above zero, of base width·p/(p − n).
        _ => {
            let (p, n) = if a > 0.0 { (a, b) } else { (b, a) };
            p * p / (p - n) * width / 2.0
        }
    }
}

/// The response to a meal from `readings` as `(minutes relative to the meal, mg/dL)`, sorted by time; `None` without
/// enough coverage (see the module documentation).
pub fn meal_response(readings: &[(f64, f64)]) -> Option<MealResponse> {
    let offsets = || readings.iter().map(|&(t, _)| t);
    if !covered(offsets(), -BASELINE_MINUTES, 0.0) || !covered(offsets(), 0.0, WINDOW_MINUTES) {
        return None;
    }
    let before: Vec<f64> = readings
        .iter()
        .filter(|(t, _)| (-BASELINE_MINUTES..0.0).contains(t))
        .map(|&(_, g)| g)
        .collect();
    let baseline = stats::mean(&before);
    let curve: Vec<(f64, f64)> = readings
        .iter()
        .filter(|(t, _)| (0.0..=WINDOW_MINUTES).contains(t))
        .map(|&(t, g)| (t, g - baseline))
        .collect();
    let smoothed: Vec<f64> = curve
        .iter()
        .map(|&(t, _)| {
            let near: Vec<f64> = curve
                .iter()
                .filter(|(u, _)| (u - t).abs() <= 1.5 * SLOT_MINUTES)
                .map(|&(_, d)| d)
                .collect();
            stats::mean(&near)
        })
        .collect();
    let peak = (0..curve.len()).fold(0, |best, i| if smoothed[i] > smoothed[best] { i } else { best });
    let (minutes_to_peak, peak_rise) = (curve[peak].0, smoothed[peak]);
    let incremental_auc = curve
        .windows(2)
        .map(|w| positive_trapezoid(w[0].1, w[1].1, w[1].0 - w[0].0))
        .sum();
    let minutes_to_baseline = if peak_rise <= 0.0 {
        Some(minutes_to_peak)
    } else {
        curve[peak..].windows(2).find(|w| w[1].1 <= 0.0).map(|w| {
            let ((t0, d0), (t1, d1)) = (w[0], w[1]);
            t0 + (t1 - t0) * d0 / (d0 - d1)
        })
    };
    Some(MealResponse {
        baseline,
        peak_rise,
        minutes_to_peak,
        incremental_auc,
        minutes_to_baseline,
    })
}

/// The mean and spread of some meals' responses (mg/dL, mg/dL·min).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ResponseSummary {
    pub n: usize,
    pub mean_peak_rise: f64,
    /// Sample SD (n − 1); `None` for a single meal.
    pub sd_peak_rise: Option<f64>,
    pub mean_incremental_auc: f64,
    pub sd_incremental_auc: Option<f64>,
}

/// Mean and SD of `responses` (`None` when there are none).
pub fn summarize<'a>(responses: impl IntoIterator<Item = &'a MealResponse>) -> Option<ResponseSummary> {
    let (rises, areas): (Vec<f64>, Vec<f64>) = responses.into_iter().map(|r| (r.peak_rise, r.incremental_auc)).unzip();
    let spread = |values: &[f64]| Some(stats::sd(values)).filter(|s| s.is_finite());
    (!rises.is_empty()).then(|| ResponseSummary {
        n: rises.len(),
        mean_peak_rise: stats::mean(&rises),
        sd_peak_rise: spread(&rises),
        mean_incremental_auc: stats::mean(&areas),
        sd_incremental_auc: spread(&areas),
    })
}

/// ΔG per 10 g of carbohydrate with its 95 % confidence interval (mg/dL).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CarbSlope {
    pub n: usize,
    pub rise_per_10g: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// OLS of `(carbs g, ΔG mg/dL)` pairs (see the module documentation); `None` with fewer than 3 pairs or one
/// carbohydrate amount.
pub fn rise_per_10g_carbs(pairs: &[(f64, f64)]) -> Option<CarbSlope> {
    let n = pairs.len();
    if n < 3 {
        return None;
    }
    let (carbs, rises): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let slope = stats::ols_slope(&carbs, &rises)?;
    let (mean_carbs, mean_rise) = (stats::mean(&carbs), stats::mean(&rises));
    let intercept = mean_rise - slope * mean_carbs;
    let residual_ss: f64 = pairs.iter().map(|&(x, y)| (y - intercept - slope * x).powi(2)).sum();
    let carbs_ss: f64 = carbs.iter().map(|x| (x - mean_carbs).powi(2)).sum();
    let df = (n - 2) as f64;
    let standard_error = (residual_ss / df / carbs_ss).sqrt();
    let t = StudentsT::new(0.0, 1.0, df)
        .expect("df >= 1 is a valid StudentsT")
        .inverse_cdf(0.975);
    Some(CarbSlope {
        n,
        rise_per_10g: 10.0 * slope,
        ci_low: 10.0 * (slope - t * standard_error),
        ci_high: 10.0 * (slope + t * standard_error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Readings every 5 minutes from −30 to 120 minutes: `before` for the baseline, then `after(t)`.
    fn trace(before: f64, after: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (-6..=24)
            .map(|k| {
                let t = f64::from(k) * 5.0;
                (t, if t < 0.0 { before } else { after(t) })
            })
            .collect()
    }

    #[test]
    fn a_trapezoid_response_has_exact_rise_time_area_and_return() {
        // 100 flat, up to 160 at 50 minutes, flat to 70, back to 100 at 120 (straight lines).
        let readings = trace(100.0, |t| 100.0 + (60.0 * t.min(120.0 - t) / 50.0).min(60.0));
        let r = meal_response(&readings).unwrap();
        assert_eq!(r.baseline, 100.0);
        // The first reading whose neighbours are all on the plateau.
        assert_eq!((r.peak_rise, r.minutes_to_peak), (60.0, 55.0));
        // 60 mg/dL × (25 + 20 + 25) minutes.
        assert!((r.incremental_auc - 4200.0).abs() < 1e-9, "{}", r.incremental_auc);
        assert_eq!(r.minutes_to_baseline, Some(120.0));
        // A sharp triangle peak is lowered by the smoothing: (55 + 60 + 55) / 3.
        let sharp = meal_response(&trace(100.0, |t| 100.0 + 60.0 * (1.0 - (t - 60.0).abs() / 60.0))).unwrap();
        assert!((sharp.peak_rise - 170.0 / 3.0).abs() < 1e-9 && sharp.minutes_to_peak == 60.0);
    }

    #[test]
    fn only_area_above_baseline_counts_and_crossings_are_interpolated() {
        // Baseline 100 (mean of 90 and 110); the curve: 120 at 0–30, then 80 from 35 on.
        let mut readings = trace(0.0, |t| if t <= 30.0 { 120.0 } else { 80.0 });
        for (k, reading) in readings.iter_mut().take(6).enumerate() {
            reading.1 = if k % 2 == 0 { 90.0 } else { 110.0 };
        }
        let r = meal_response(&readings).unwrap();
        assert_eq!(r.baseline, 100.0);
        assert_eq!((r.peak_rise, r.minutes_to_peak), (20.0, 0.0));
        // 30 minutes at +20, then the triangle from 30 to the crossing at 32.5: 600 + 20 · 2.5 / 2.
        assert!((r.incremental_auc - 625.0).abs() < 1e-9, "{}", r.incremental_auc);
        assert_eq!(r.minutes_to_baseline, Some(32.5));
    }

    #[test]
    fn a_response_still_up_after_two_hours_has_no_return_and_a_fall_has_no_rise() {
        // At the window's end the average has one neighbour: (57.5 + 60) / 2.
        let rising = meal_response(&trace(100.0, |t| 100.0 + t / 2.0)).unwrap();
        assert_eq!((rising.peak_rise, rising.minutes_to_peak), (58.75, 120.0));
        assert_eq!(rising.minutes_to_baseline, None);
        let falling = meal_response(&trace(100.0, |t| 100.0 - t / 10.0)).unwrap();
        assert_eq!((falling.peak_rise, falling.incremental_auc), (-0.25, 0.0));
        assert_eq!(falling.minutes_to_baseline, Some(0.0));
    }

    #[test]
    fn coverage_needs_seventy_percent_of_each_part() {
        let full = trace(100.0, |_| 130.0);
        // 2 of 6 baseline slots missing: 4 < 4.2.
        let thin_baseline: Vec<_> = full
            .iter()
            .copied()
            .filter(|&(t, _)| t != -30.0 && t != -20.0)
            .collect();
        assert_eq!(meal_response(&thin_baseline), None);
        // 1 missing: 5 ≥ 4.2.
        let one_missing: Vec<_> = full.iter().copied().filter(|&(t, _)| t != -30.0).collect();
        assert!(meal_response(&one_missing).is_some());
        // 7 of the 24 response slots missing (17 kept ≥ 16.8) passes, 8 (16 kept) does not.
        let gap = |missing: i32| -> Vec<(f64, f64)> {
            full.iter()
                .copied()
                .filter(|&(t, _)| !(t >= 30.0 && t < 30.0 + 5.0 * f64::from(missing)))
                .collect()
        };
        assert!(meal_response(&gap(7)).is_some());
        assert_eq!(meal_response(&gap(8)), None);
        assert_eq!(meal_response(&[]), None);
    }

    #[test]
    fn summaries_give_mean_and_sample_sd() {
        let r = |rise: f64| MealResponse {
            baseline: 100.0,
            peak_rise: rise,
            minutes_to_peak: 45.0,
            incremental_auc: rise * 10.0,
            minutes_to_baseline: None,
        };
        let s = summarize(&[r(40.0), r(60.0)]).unwrap();
        assert_eq!((s.n, s.mean_peak_rise, s.mean_incremental_auc), (2, 50.0, 500.0));
        assert!((s.sd_peak_rise.unwrap() - 200f64.sqrt()).abs() < 1e-9);
        assert_eq!(summarize(&[r(40.0)]).unwrap().sd_peak_rise, None);
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn the_carb_slope_matches_a_hand_computed_regression() {
        // y = 10 + 2x exactly: slope 20 per 10 g, zero-width interval.
        let exact = rise_per_10g_carbs(&[(10.0, 30.0), (20.0, 50.0), (40.0, 90.0)]).unwrap();
        assert!((exact.rise_per_10g - 20.0).abs() < 1e-9);
        assert!((exact.ci_high - exact.ci_low).abs() < 1e-9);
        // x = 0, 10, 20, 30; y = 0, 12, 18, 30: slope 0.96, intercept 0.6, residuals −0.6, 1.8, −1.8, 0.6 (SS 7.2),
        // Sxx 500, SE = √(7.2 / 2 / 500) = 0.0849, t(0.975, 2) = 4.3027.
        let noisy = rise_per_10g_carbs(&[(0.0, 0.0), (10.0, 12.0), (20.0, 18.0), (30.0, 30.0)]).unwrap();
        assert!((noisy.rise_per_10g - 9.6).abs() < 1e-9);
        let half_width = 10.0 * 4.302_652_73 * (7.2f64 / 2.0 / 500.0).sqrt();
        assert!((noisy.ci_high - 9.6 - half_width).abs() < 1e-6, "{noisy:?}");
        assert!((9.6 - noisy.ci_low - half_width).abs() < 1e-6);
        assert_eq!(rise_per_10g_carbs(&[(10.0, 1.0), (20.0, 2.0)]), None);
        assert_eq!(rise_per_10g_carbs(&[(10.0, 1.0), (10.0, 2.0), (10.0, 3.0)]), None);
    }
}
