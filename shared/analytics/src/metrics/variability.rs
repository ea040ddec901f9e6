//! Metrics on iglu's day-by-day grid ([`DayGrid`]): MODD, CONGA, MAG, GVP, AUC, CV/SD sub-measures, rate of
//! change and the AGP percentiles. Each mirrors the iglu-python 0.4 function of the same name.

use serde::Serialize;

use super::grid::DayGrid;
use super::stats::quantile_sorted;

/// numpy `nanmean` (NaN when nothing is finite).
pub fn nanmean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (s, n) = v
        .into_iter()
        .filter(|x| !x.is_nan())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// numpy `nanstd(ddof=1)` (NaN with fewer than two finite values).
pub fn nanstd1(v: &[f64]) -> f64 {
    let m = nanmean(v.iter().copied());
    let (ss, n) = v
        .iter()
        .filter(|x| !x.is_nan())
        .fold((0.0, 0usize), |(s, n), x| (s + (x - m) * (x - m), n + 1));
    if n < 2 {
        f64::NAN
    } else {
        (ss / (n - 1) as f64).sqrt()
    }
}

fn lagged<'a>(g: &'a [f64], lag: usize) -> impl Iterator<Item = f64> + 'a {
    let n = if lag < g.len() { g.len() - lag } else { 0 };
    (0..n).map(move |i| g[i + lag] - g[i])
}

/// iglu `modd(lag)`: mean |G(t) − G(t − lag days)| over the grid.
pub fn modd(grid: &DayGrid, lag_days: usize) -> f64 {
    let shift = lag_days * grid.per_day();
    if shift == 0 {
        return f64::NAN;
    }
    nanmean(lagged(&grid.values, shift).map(f64::abs))
}

/// iglu `conga(n)`: SD of G(t) − G(t − n hours) over the grid (NaN with fewer than two differences).
pub fn conga(grid: &DayGrid, hours: u32) -> f64 {
    let lag = ((60.0 / grid.dt0 as f64).round() as usize) * hours as usize;
    if lag == 0 {
        return f64::NAN;
    }
    let d: Vec<f64> = lagged(&grid.values, lag).collect();
    nanstd1(&d)
}

/// iglu `mag()` with the default n = dt0: Σ|ΔG| / hours covered, over consecutive grid points.
pub fn mag(grid: &DayGrid) -> f64 {
    let g = &grid.values;
    if g.len() <= 1 {
        return 0.0;
    }
    let (s, k) = lagged(g, 1)
        .filter(|d| !d.is_nan())
        .fold((0.0, 0usize), |(s, k), d| (s + d.abs(), k + 1));
    let hours = k as f64 * grid.dt0 as f64 / 60.0;
    if hours == 0.0 {
        0.0
    } else {
        s / hours
    }
}

/// iglu `gvp`: (length of the grid trace / its duration − 1) · 100.
pub fn gvp(grid: &DayGrid) -> f64 {
    let dt = grid.dt0 as f64;
    let (s, k) = lagged(&grid.values, 1)
        .filter(|d| !d.is_nan())
        .fold((0.0, 0usize), |(s, k), d| (s + (dt * dt + d * d).sqrt(), k + 1));
    let base = k as f64 * dt;
    if base == 0.0 {
        f64::NAN
    } else {
        (s / base - 1.0) * 100.0
    }
}

/// iglu `auc` (R-compatible): trapezoidal area over consecutive finite grid pairs per hour covered.
pub fn hourly_auc(grid: &DayGrid) -> f64 {
    let h = grid.dt0 as f64 / 60.0;
    let g = &grid.values;
    let (mut area, mut k) = (0.0, 0usize);
    for w in g.windows(2) {
        if !w[0].is_nan() && !w[1].is_nan() {
            area += h * (w[0] + w[1]) / 2.0;
            k += 1;
        }
    }
    area / (h * k as f64)
}

/// iglu `cv_measures`: mean and SD over days of each day's CV.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CvMeasures {
    pub cv_mean: f64,
    pub cv_sd: f64,
}

/// iglu `cv_measures`.
pub fn cv_measures(grid: &DayGrid) -> CvMeasures {
    let cv: Vec<f64> = (0..grid.n_days)
        .map(|d| {
            let r = grid.row(d);
            nanstd1(r) * 100.0 / nanmean(r.iter().copied())
        })
        .collect();
    CvMeasures {
        cv_mean: nanmean(cv.iter().copied()),
        cv_sd: if cv.len() > 1 { nanstd1(&cv) } else { f64::NAN },
    }
}

/// iglu `sd_measures`: SDw, SDhh:mm, SDwsh, SDdm, SDb, SDbdm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SdMeasures {
    pub sdw: f64,
    pub sdhhmm: f64,
    pub sdwsh: f64,
    pub sddm: f64,
    pub sdb: f64,
    pub sdbdm: f64,
}

/// iglu `sd_measures`.
pub fn sd_measures(grid: &DayGrid) -> SdMeasures {
    let p = grid.per_day();
    let days = grid.n_days;
    let daily_means: Vec<f64> = (0..days).map(|d| nanmean(grid.row(d).iter().copied())).collect();
    let daily_sds: Vec<f64> = (0..days).map(|d| nanstd1(grid.row(d))).collect();
    let mut col = vec![0.0; days];
    let mut col_c = vec![0.0; days];
    let mut tp_means = Vec::with_capacity(p);
    let mut tp_sds = Vec::with_capacity(p);
    let mut tp_sds_c = Vec::with_capacity(p);
    for c in 0..p {
        for d in 0..days {
            col[d] = grid.values[d * p + c];
            col_c[d] = col[d] - daily_means[d];
        }
        tp_means.push(nanmean(col.iter().copied()));
        tp_sds.push(nanstd1(&col));
        tp_sds_c.push(nanstd1(&col_c));
    }
    // Rolling SD over one hour, the trace padded with `win` NaNs (iglu's _rolling_std).
    let win = (60.0 / grid.dt0 as f64).round() as usize;
    let mut padded = grid.values.clone();
    padded.extend(std::iter::repeat_n(f64::NAN, win));
    let rolling = padded.windows(win.max(1)).map(nanstd1);
    SdMeasures {
        sdw: nanmean(daily_sds.iter().copied()),
        sdhhmm: nanstd1(&tp_means),
        sdwsh: nanmean(rolling),
        sddm: nanstd1(&daily_means),
        sdb: nanmean(tp_sds.iter().copied()),
        sdbdm: nanmean(tp_sds_c.iter().copied()),
    }
}

/// iglu `roc(timelag)` on a grid: (G(t) − G(t − timelag)) / timelag per grid point, the first points NaN.
pub fn roc(grid: &DayGrid, timelag_min: u32) -> Vec<f64> {
    let timelag = timelag_min.max(grid.dt0);
    let lag = (timelag / grid.dt0) as usize;
    let g = &grid.values;
    (0..g.len())
        .map(|i| {
            if i < lag {
                f64::NAN
            } else {
                (g[i] - g[i - lag]) / timelag as f64
            }
        })
        .collect()
}

/// iglu `sd_roc`: SD of the finite rate-of-change values.
pub fn sd_roc(roc: &[f64]) -> f64 {
    nanstd1(roc)
}

/// AGP percentiles (iglu `plot_agp`): quantiles 5/25/50/75/95 (type 7) across days of each grid column.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Agp {
    pub minute_of_day: Vec<u32>,
    pub p5: Vec<f64>,
    pub p25: Vec<f64>,
    pub p50: Vec<f64>,
    pub p75: Vec<f64>,
    pub p95: Vec<f64>,
}

/// AGP percentiles of a grid.
pub fn agp(grid: &DayGrid) -> Agp {
    let p = grid.per_day();
    let mut out = Agp {
        minute_of_day: grid.minute_of_day(),
        ..Agp::default()
    };
    let mut col = Vec::with_capacity(grid.n_days);
    for c in 0..p {
        col.clear();
        col.extend((0..grid.n_days).map(|d| grid.values[d * p + c]).filter(|v| !v.is_nan()));
        col.sort_unstable_by(f64::total_cmp);
        out.p5.push(quantile_sorted(&col, 0.05));
        out.p25.push(quantile_sorted(&col, 0.25));
        out.p50.push(quantile_sorted(&col, 0.5));
        out.p75.push(quantile_sorted(&col, 0.75));
        out.p95.push(quantile_sorted(&col, 0.95));
    }
    out
}
