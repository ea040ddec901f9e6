//! Metrics on the raw readings (no grid): location, spread, ranges, risk indices. Every function takes the
//! readings in mg/dL as a plain slice, NaN values are ignored (iglu drops NAs), and duplicates count (iglu keeps
//! duplicate timestamps). An empty input gives NaN (or 0 % for the range percentages, as iglu does).

use serde::Serialize;

fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| !v.is_nan()).collect()
}

/// Arithmetic mean of the non-NaN values (NaN if none).
pub fn mean(values: &[f64]) -> f64 {
    let (s, n) = values
        .iter()
        .filter(|v| !v.is_nan())
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// Sample standard deviation (n − 1) of the non-NaN values, two-pass like numpy/pandas (NaN if fewer than 2).
pub fn sd(values: &[f64]) -> f64 {
    let m = mean(values);
    let (ss, n) = values
        .iter()
        .filter(|v| !v.is_nan())
        .fold((0.0, 0usize), |(s, n), v| (s + (v - m) * (v - m), n + 1));
    if n < 2 {
        f64::NAN
    } else {
        (ss / (n - 1) as f64).sqrt()
    }
}

/// Quantile of already sorted, NaN-free data, numpy's default `linear` method (R type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = q * (sorted.len() - 1) as f64;
    let lo = idx.floor();
    let t = idx - lo;
    let lo = lo as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Median of sorted NaN-free data (numpy: mean of the two middle values).
pub fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v = finite(values);
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// Median of the non-NaN values, in any order (NaN if none).
pub fn median(values: &[f64]) -> f64 {
    median_sorted(&sorted_finite(values))
}

/// Centred sums of squares and cross-products (Σ(x−x̄)², Σ(y−ȳ)², Σ(x−x̄)(y−ȳ)) of the pairs `(x[i], y[i])` in which
/// neither value is NaN, two-pass. Extra values of the longer slice are ignored.
fn centred_sums(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let (xs, ys): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(&a, &b)| (a, b))
        .unzip();
    let (mx, my) = (mean(&xs), mean(&ys));
    let sxx: f64 = xs.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = ys.iter().map(|b| (b - my).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - mx) * (b - my)).sum();
    (sxx, syy, sxy)
}

/// Pearson's correlation coefficient of the pairs `(x[i], y[i])` (pairs with a NaN are left out, as pandas'
/// `Series.corr` does). `None` when either side is constant or fewer than two pairs remain.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (sxx, syy, sxy) = centred_sums(x, y);
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Ordinary least-squares slope of `y` on `x` (numpy's `polyfit(x, y, 1)[0]`; pairs with a NaN are left out).
/// `None` when `x` is constant or fewer than two pairs remain.
pub fn ols_slope(x: &[f64], y: &[f64]) -> Option<f64> {
    let (sxx, _, sxy) = centred_sums(x, y);
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Cheap per-period summary (for daily aggregation): count, mean, SD, CV (%), GMI (%), eA1c (%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SummaryStats {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub cv: f64,
    pub gmi: f64,
    pub ea1c: f64,
}

/// Mean, SD, CV, GMI and eA1c of the non-NaN readings, with iglu's formulas.
pub fn summary_stats(values: &[f64]) -> SummaryStats {
    let m = mean(values);
    let s = sd(values);
    SummaryStats {
        n: values.iter().filter(|v| !v.is_nan()).count(),
        mean: m,
        sd: s,
        cv: 100.0 * s / m,
        gmi: gmi_from_mean(m),
        ea1c: ea1c_from_mean(m),
    }
}

/// GMI (%) = 3.31 + 0.02392 · mean (Bergenstal 2018).
pub fn gmi_from_mean(mean: f64) -> f64 {
    3.31 + 0.02392 * mean
}

/// eA1c (%) = (mean + 46.7) / 28.7 (ADAG).
pub fn ea1c_from_mean(mean: f64) -> f64 {
    (mean + 46.7) / 28.7
}

/// Percent of readings in the five consensus ranges, iglu's boundaries: `< 54`, `54 ≤ v < 70`, `70 ≤ v ≤ 180`,
/// `180 < v ≤ 250`, `> 250`. They sum to 100 (all 0 for an empty input, as iglu reports).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RangePercentages {
    pub below_54: f64,
    pub from_54_to_69: f64,
    pub from_70_to_180: f64,
    pub from_181_to_250: f64,
    pub above_250: f64,
}

/// How many non-NaN readings fall in each of the five consensus ranges (the boundaries of [`RangePercentages`]).
pub fn range_counts(values: &[f64]) -> [usize; 5] {
    let mut counts = [0usize; 5];
    for &v in values.iter().filter(|v| !v.is_nan()) {
        let i = if v < 54.0 {
            0
        } else if v < 70.0 {
            1
        } else if v <= 180.0 {
            2
        } else if v <= 250.0 {
            3
        } else {
            4
        };
        counts[i] += 1;
    }
    counts
}

/// The five consensus range percentages of the non-NaN readings.
pub fn range_percentages(values: &[f64]) -> RangePercentages {
    let c = range_counts(values);
    let n: usize = c.iter().sum();
    let p = |k: usize| if n == 0 { 0.0 } else { c[k] as f64 / n as f64 * 100.0 };
    RangePercentages {
        below_54: p(0),
        from_54_to_69: p(1),
        from_70_to_180: p(2),
        from_181_to_250: p(3),
        above_250: p(4),
    }
}

/// iglu `in_range_percent`: % of readings with `lo ≤ v ≤ hi`.
pub fn in_range_percent(values: &[f64], lo: f64, hi: f64) -> f64 {
    percent_where(values, |v| v >= lo && v <= hi)
}

/// iglu `below_percent`: % of readings with `v < t`.
pub fn below_percent(values: &[f64], t: f64) -> f64 {
    percent_where(values, |v| v < t)
}

/// iglu `above_percent`: % of readings with `v > t`.
pub fn above_percent(values: &[f64], t: f64) -> f64 {
    percent_where(values, |v| v > t)
}

fn percent_where(values: &[f64], f: impl Fn(f64) -> bool) -> f64 {
    let (k, n) = values
        .iter()
        .filter(|v| !v.is_nan())
        .fold((0usize, 0usize), |(k, n), &v| (k + f(v) as usize, n + 1));
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64 * 100.0
    }
}

/// Order statistics of the readings (numpy linear quantiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantiles {
    #[serde(rename = "0")]
    pub min: f64,
    #[serde(rename = "25")]
    pub q25: f64,
    #[serde(rename = "50")]
    pub median: f64,
    #[serde(rename = "75")]
    pub q75: f64,
    #[serde(rename = "100")]
    pub max: f64,
}

/// Quantiles 0/25/50/75/100 of the non-NaN readings.
pub fn quantiles(values: &[f64]) -> Quantiles {
    let s = sorted_finite(values);
    Quantiles {
        min: quantile_sorted(&s, 0.0),
        q25: quantile_sorted(&s, 0.25),
        median: median_sorted(&s),
        q75: quantile_sorted(&s, 0.75),
        max: quantile_sorted(&s, 1.0),
    }
}

/// iglu `mad_glu`: 1.4826 · median(|v − median(v)|).
pub fn mad(values: &[f64]) -> f64 {
    let s = sorted_finite(values);
    let m = median_sorted(&s);
    let mut d: Vec<f64> = s.iter().map(|v| (v - m).abs()).collect();
    d.sort_unstable_by(f64::total_cmp);
    median_sorted(&d) * 1.4826
}

fn bgi(v: f64) -> f64 {
    v.ln().powf(1.084) - 5.381
}

/// iglu `lbgi`: 10 · Σ_{v<112.5} (1.509 · min(f, 0))² / n.
pub fn lbgi(values: &[f64]) -> f64 {
    let v = finite(values);
    if v.is_empty() {
        return f64::NAN;
    }
    let s: f64 = v
        .iter()
        .filter(|&&g| g < 112.5)
        .map(|&g| (1.509 * bgi(g)).min(0.0).powi(2))
        .sum();
    10.0 * s / v.len() as f64
}

/// iglu `hbgi`: 10 · Σ_{v≥112.5} (1.509 · max(f, 0))² / n.
pub fn hbgi(values: &[f64]) -> f64 {
    let v = finite(values);
    if v.is_empty() {
        return f64::NAN;
    }
    let s: f64 = v
        .iter()
        .filter(|&&g| g >= 112.5)
        .map(|&g| (1.509 * bgi(g)).max(0.0).powi(2))
        .sum();
    10.0 * s / v.len() as f64
}

/// iglu's daily risk range of one day's readings: 22.77·max(f,0)² + 22.77·min(f,0)² of the extremes of f.
pub fn daily_risk_range(day_values: &[f64]) -> f64 {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &g in day_values.iter().filter(|v| !v.is_nan()) {
        let f = bgi(g);
        lo = lo.min(f);
        hi = hi.max(f);
    }
    if lo > hi {
        return f64::NAN;
    }
    22.77 * lo.min(0.0).powi(2) + 22.77 * hi.max(0.0).powi(2)
}

fn grade_score(g: f64) -> f64 {
    (425.0 * ((g / 18.0).log10().log10() + 0.16).powi(2)).min(50.0)
}

/// GRADE and its hypo (< 80), eu (70–140) and hyper (> 140) percentage parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grade {
    pub grade: f64,
    pub hypo: f64,
    pub eugly: f64,
    pub hyper: f64,
}

/// iglu `grade`, `grade_hypo(lower=80)`, `grade_eugly(70, 140)`, `grade_hyper(upper=140)`.
pub fn grade(values: &[f64]) -> Grade {
    let v = finite(values);
    if v.is_empty() {
        return Grade {
            grade: f64::NAN,
            hypo: f64::NAN,
            eugly: f64::NAN,
            hyper: f64::NAN,
        };
    }
    let (mut tot, mut hypo, mut eu, mut hyper) = (0.0, 0.0, 0.0, 0.0);
    for &g in &v {
        let s = grade_score(g);
        tot += s;
        if g < 80.0 {
            hypo += s;
        }
        if (70.0..=140.0).contains(&g) {
            eu += s;
        }
        if g > 140.0 {
            hyper += s;
        }
    }
    let part = |x: f64| if tot == 0.0 { f64::NAN } else { x / tot * 100.0 };
    Grade {
        grade: tot / v.len() as f64,
        hypo: part(hypo),
        eugly: part(eu),
        hyper: part(hyper),
    }
}

/// iglu `j_index`: 0.001 · (mean + SD)².
pub fn j_index(values: &[f64]) -> f64 {
    0.001 * (mean(values) + sd(values)).powi(2)
}

/// iglu `m_value` with r = 90: 1000 · mean(|log10(v / r)|³).
pub fn m_value(values: &[f64], r: f64) -> f64 {
    let v: Vec<f64> = finite(values).iter().map(|g| (g / r).log10().abs().powi(3)).collect();
    1000.0 * mean(&v)
}

/// iglu `gri`: 3.0·%<54 + 2.4·%54–69 + 1.6·%>250 + 0.8·%181–250, capped at 100.
pub fn gri(values: &[f64]) -> f64 {
    if values.iter().all(|v| v.is_nan()) {
        return f64::NAN;
    }
    let b54 = below_percent(values, 54.0);
    let b70 = below_percent(values, 70.0);
    let a180 = above_percent(values, 180.0);
    let a250 = above_percent(values, 250.0);
    let g = 3.0 * b54 + 2.4 * (b70 - b54) + 1.6 * a250 + 0.8 * (a180 - a250);
    g.min(100.0)
}

/// iglu `hyper_index` (ULTR 140, a 1.1, c 30).
pub fn hyper_index(values: &[f64]) -> f64 {
    let v = finite(values);
    if v.is_empty() {
        return f64::NAN;
    }
    let s: f64 = v.iter().filter(|&&g| g > 140.0).map(|g| (g - 140.0).powf(1.1)).sum();
    s / (v.len() as f64 * 30.0)
}

/// iglu `hypo_index` (LLTR 80, b 2, d 30).
pub fn hypo_index(values: &[f64]) -> f64 {
    let v = finite(values);
    if v.is_empty() {
        return f64::NAN;
    }
    let s: f64 = v.iter().filter(|&&g| g < 80.0).map(|g| (80.0 - g).powi(2)).sum();
    s / (v.len() as f64 * 30.0)
}

/// iglu `cogi` with targets 70–180 and weights 0.5/0.35/0.15.
pub fn cogi(values: &[f64]) -> f64 {
    let ir = in_range_percent(values, 70.0, 180.0);
    let br = below_percent(values, 70.0);
    let s = sd(values);
    let inc = |x: f64, lo: f64, hi: f64| ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    let dec = |x: f64, lo: f64, hi: f64| (1.0 - (x - lo) / (hi - lo)).clamp(0.0, 1.0);
    // Python's min(1, max(0, NaN)) keeps NaN out of the first argument order: max(0, nan) -> 0.
    let dec_py = |x: f64, lo: f64, hi: f64| if x.is_nan() { 0.0 } else { dec(x, lo, hi) };
    (inc(ir, 0.0, 100.0) * 0.5 + dec(br, 0.0, 15.0) * 0.35 + dec_py(s, 18.0, 108.0) * 0.15) * 100.0
}

/// iglu `mage(version = "naive")`: mean of |v − mean| over readings where that exceeds SD (NaN if none).
pub fn mage_naive(values: &[f64]) -> f64 {
    let m = mean(values);
    let s = sd(values);
    let d: Vec<f64> = finite(values)
        .iter()
        .map(|v| (v - m).abs())
        .filter(|&d| d > s)
        .collect();
    mean(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ignores_nan_and_order() {
        assert_eq!(median(&[3.0, f64::NAN, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median_sorted(&[1.0, 2.0, 3.0, 10.0]), 2.5);
        assert!(median(&[]).is_nan() && median(&[f64::NAN]).is_nan());
    }

    #[test]
    fn pearson_matches_a_hand_computation() {
        // x̄ = 2.5, ȳ = 5: Σdx·dy = 11, Σdx² = 5, Σdy² = 26, so r = 11/√130.
        let (x, y) = ([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 5.0, 9.0]);
        let r = pearson(&x, &y).unwrap();
        assert!((r - 11.0 / 130f64.sqrt()).abs() < 1e-15);
        assert!((r - 0.964_763_821).abs() < 1e-9);
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // A pair with a NaN on either side is left out.
        let with_nan = pearson(&[1.0, 2.0, f64::NAN, 3.0, 4.0], &[2.0, 4.0, 7.0, 5.0, 9.0]);
        assert_eq!(with_nan, Some(r));
        assert_eq!(
            pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, f64::NAN, 5.0, 9.0]),
            pearson(&[1.0, 3.0, 4.0], &[2.0, 5.0, 9.0])
        );
    }

    #[test]
    fn pearson_is_undefined_for_constant_or_too_few_values() {
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), None);
        assert_eq!(pearson(&[1.0], &[2.0]), None);
        assert_eq!(pearson(&[], &[]), None);
    }

    #[test]
    fn ols_slope_matches_a_hand_computation() {
        // Same data: slope = Σdx·dy / Σdx² = 11 / 5.
        assert_eq!(ols_slope(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]), Some(2.2));
        // y = 100 + 0.2·x exactly.
        let x = [300.0, 360.0, 420.0, 480.0];
        let y: Vec<f64> = x.iter().map(|v| 100.0 + 0.2 * v).collect();
        assert!((ols_slope(&x, &y).unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(ols_slope(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), Some(0.0));
        assert_eq!(ols_slope(&[2.0, 2.0], &[1.0, 3.0]), None);
        assert_eq!(ols_slope(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, f64::NAN]), None);
        assert_eq!(ols_slope(&[], &[]), None);
    }
}
