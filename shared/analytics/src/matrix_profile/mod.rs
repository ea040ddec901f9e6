//! Exact z-normalised matrix profile of a CGM series, reproducing stumpy 1.14 (`stump`, `motifs`) in pure Rust.
//!
//! * [`stump`] — self-join matrix profile with left/right indices: O(n²) time (stumpy's centred-covariance
//!   recurrence along the diagonals, 32 adjacent diagonals at a time with AVX2 when the CPU has it, rayon threads
//!   over contiguous diagonal ranges, each with its own O(n) arrays, merged at the end), O(n) memory per thread.
//!   The distances of the chosen neighbours are then recomputed directly (O(n·m)), so the reported profile carries
//!   no drift of the recurrence.
//! * [`motifs`] — `stumpy.motifs(T, P)` with its defaults ([`MotifParams::default`]).
//! * [`discords`] — top-k discords: repeated argmax of the finite profile with ±⌈m/4⌉ blanked out.
//! * [`regular_grid`] / [`infer_interval`] — place irregular readings on the sampling grid (missing slots NaN);
//!   [`fill_short_gaps`] interpolates across gaps of a few slots.
//! * [`analyze_cgm`] — all of the above for the `glucolens analyze matrix-profile` command.
//!
//! stumpy semantics: a window touching a missing value (NaN/±inf) has profile `inf` and index −1 (left/right too)
//! and is nobody's neighbour; constant windows (peak-to-peak 0) are at distance 0 from each other and √m from any
//! other window; the exclusion zone is ⌈m/4⌉ (neighbours must be more than that many positions away). On exact ties
//! the nearest neighbour wins (left before right at equal offsets), as in stumpy's single-thread traversal.
//!
//! Numerics: z-normalised distances of nearly identical windows are ill-conditioned (d = √(2m(1−ρ)) turns a rounding
//! of 1e-16 in ρ into ~1e-7 in d), so any implementation, stumpy included, reports "zero" distances as ~1e-7 noise;
//! and for nearly constant windows (σ ≪ 1) the recurrence can choose a neighbour whose exact distance is a hair
//! above the true minimum. On CGM data with 0.1 mg/dL resolution this stays far below 1e-8.

mod grid;
mod stump;

use rayon::prelude::*;
use serde::Serialize;

pub use grid::{fill_short_gaps, infer_interval, regular_grid, RegularGrid};

use crate::cgm::CgmPoint;
use crate::{AnalyticsError, Result};
use stump::{self_join, WindowStats};

/// stumpy's `STUMPY_P_NORM_THRESHOLD`: squared distances below it are reported as exactly 0.
const P_NORM_THRESHOLD: f64 = 1e-14;
/// stumpy's `STUMPY_DENOM_THRESHOLD` (MASS distance profiles).
const DENOM_THRESHOLD: f64 = 1e-14;
/// Default re-seeding period of the covariance recurrence (steps along a diagonal); see [`StumpOptions`].
pub const DEFAULT_RESEED_EVERY: usize = 0;

/// The self-join matrix profile. JSON field names are the CLI's; `inf` distances serialise as `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixProfile {
    /// Series length.
    pub n: usize,
    /// Window length.
    pub m: usize,
    /// Exclusion zone ⌈m/4⌉.
    pub excl_zone: usize,
    /// z-normalised Euclidean distance from each window to its nearest non-trivial neighbour (`inf` if none).
    pub profile: Vec<f64>,
    /// Index of that neighbour (−1 if none).
    pub index: Vec<i64>,
    /// Nearest neighbour among earlier windows (−1 if none).
    pub left_index: Vec<i64>,
    /// Nearest neighbour among later windows (−1 if none).
    pub right_index: Vec<i64>,
}

/// One motif: its matches sorted by distance, the first being the motif's own window (distance 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Motif {
    pub distances: Vec<f64>,
    pub indices: Vec<i64>,
}

/// One discord: a window whose nearest neighbour is far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Discord {
    pub index: usize,
    pub distance: f64,
}

/// Numerical options of [`stump_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StumpOptions {
    /// Recompute the covariance of every diagonal directly (an O(m) dot product) every this many steps instead of
    /// only at its start; 0 = never (what stumpy does). Bounds the drift of the recurrence on very long series.
    pub reseed_every: usize,
    /// Use the portable kernel even where the AVX2 one is available (same results bit for bit; for tests and
    /// benchmarks of what CPUs without AVX2, e.g. aarch64, run).
    pub portable_kernel: bool,
}

impl Default for StumpOptions {
    fn default() -> Self {
        StumpOptions {
            reseed_every: DEFAULT_RESEED_EVERY,
            portable_kernel: false,
        }
    }
}

/// Parameters of [`motifs`], stumpy's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotifParams {
    /// A candidate becomes a motif when it has more than this many matches, the candidate itself included
    /// (stumpy: `len(matches) > min_neighbors`).
    pub min_neighbors: usize,
    /// Largest distance of a match; `None` = `max(mean(D) − 2·std(D), min(D))` over the finite distance profile.
    pub max_distance: Option<f64>,
    /// Largest profile value of a motif candidate; `None` = `max(mean(P) − 2·std(P), min(P))` over the finite profile.
    pub cutoff: Option<f64>,
    /// Most matches per motif (`None` = unlimited).
    pub max_matches: Option<usize>,
    /// Most motifs.
    pub max_motifs: usize,
    /// Added to `max_distance` when comparing.
    pub atol: f64,
}

impl Default for MotifParams {
    fn default() -> Self {
        MotifParams {
            min_neighbors: 1,
            max_distance: None,
            cutoff: None,
            max_matches: Some(10),
            max_motifs: 1,
            atol: 1e-8,
        }
    }
}

/// What [`analyze_cgm`] computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatrixProfileParams {
    /// Window length `m` in samples.
    pub window: usize,
    /// Sampling interval; `None` = inferred ([`infer_interval`]).
    pub interval: Option<chrono::Duration>,
    /// Motif search (`None` = skip).
    pub motifs: Option<MotifParams>,
    /// Number of discords (0 = skip).
    pub discords: usize,
}

/// Output of [`analyze_cgm`] (the CLI's JSON object). `motifs`/`discords` are empty when not requested.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixProfileReport {
    #[serde(flatten)]
    pub matrix_profile: MatrixProfile,
    pub motifs: Vec<Motif>,
    pub discords: Vec<Discord>,
}

/// A sampling interval of `minutes` (for [`MatrixProfileParams::interval`]).
pub fn interval_from_minutes(minutes: u32) -> chrono::Duration {
    chrono::Duration::minutes(i64::from(minutes))
}

/// Exclusion zone ⌈m/4⌉ (stumpy's `STUMPY_EXCL_ZONE_DENOM = 4`).
pub fn exclusion_zone(m: usize) -> usize {
    m.div_ceil(4)
}

fn check_window(n: usize, m: usize) -> Result<()> {
    if m < 3 {
        return Err(AnalyticsError::InvalidInput {
            field: "window".into(),
            reason: format!("window m={m} is too short: all window sizes must be at least 3 (as in stumpy)"),
        });
    }
    if n < m {
        return Err(AnalyticsError::InvalidInput {
            field: "window".into(),
            reason: format!("window m={m} is longer than the series (n={n})"),
        });
    }
    Ok(())
}

/// stumpy's `stump(T, m)` (self-join, z-normalised): profile, nearest-neighbour index and left/right indices.
///
/// Errors: `m < 3` or `n < m` → `InvalidInput`; no window of `m` consecutive finite values → `InsufficientData`.
pub fn stump(t: &[f64], m: usize) -> Result<MatrixProfile> {
    stump_with(t, m, &StumpOptions::default())
}

/// [`stump`] with numerical options.
pub fn stump_with(t: &[f64], m: usize, options: &StumpOptions) -> Result<MatrixProfile> {
    check_window(t.len(), m)?;
    let stats = WindowStats::new(t, m);
    if !stats.finite.iter().any(|&f| f) {
        return Err(AnalyticsError::InsufficientData {
            reason: format!(
                "no window of {m} consecutive finite values in the series (n={})",
                t.len()
            ),
        });
    }
    let excl_zone = exclusion_zone(m);
    let corr = self_join(&stats, excl_zone, options.reseed_every, options.portable_kernel);
    let l = stats.len();
    let two_m = 2.0 * m as f64;
    // The traversal chose the neighbours; their correlations are recomputed directly (O(n·m)), so the reported
    // distances carry no drift of the covariance recurrence, and I picks the better side by the exact values.
    let exact = |x: usize, idx: i64| {
        if idx < 0 {
            f64::NEG_INFINITY
        } else {
            stats.pearson(x, idx as usize)
        }
    };
    let (profile, index): (Vec<f64>, Vec<i64>) = (0..l)
        .into_par_iter()
        .with_min_len(512)
        .map(|x| {
            let (il, ir) = (corr.idx_left[x], corr.idx_right[x]);
            let (rl, rr) = (exact(x, il), exact(x, ir));
            let take_left = if rl != rr {
                rl > rr
            } else {
                // Tie: the nearer neighbour, the left one at equal offsets (stumpy's traversal order).
                il >= 0 && (ir < 0 || (x as i64 - il) <= (ir - x as i64))
            };
            let (rho, idx) = if take_left { (rl, il) } else { (rr, ir) };
            if idx < 0 {
                (f64::INFINITY, -1)
            } else {
                let p_norm = (two_m * (1.0 - rho)).abs();
                (if p_norm < P_NORM_THRESHOLD { 0.0 } else { p_norm.sqrt() }, idx)
            }
        })
        .unzip();
    Ok(MatrixProfile {
        n: t.len(),
        m,
        excl_zone,
        profile,
        index,
        left_index: corr.idx_left,
        right_index: corr.idx_right,
    })
}

/// Mean and population standard deviation of the finite values (numpy `nanmean`, `nanstd`), `None` if none.
fn finite_mean_std_min(values: &[f64]) -> Option<(f64, f64, f64)> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    let count = finite.len() as f64;
    let mean = neumaier_sum(finite.iter().copied()) / count;
    let var = neumaier_sum(finite.iter().map(|&v| (v - mean) * (v - mean))) / count;
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    Some((mean, var.sqrt(), min))
}

fn neumaier_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        comp += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + comp
}

/// stumpy's default threshold `max(mean − 2·std, min)` over the finite values (NaN if none).
fn default_threshold(values: &[f64]) -> f64 {
    match finite_mean_std_min(values) {
        Some((mean, std, min)) => (mean - 2.0 * std).max(min),
        None => f64::NAN,
    }
}

/// First index of the smallest value (numpy `argmin`; there are no NaN here).
fn argmin(values: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in values.iter().enumerate() {
        if v < values[best] {
            best = k;
        }
    }
    best
}

fn blank(values: &mut [f64], idx: usize, excl_zone: usize, fill: f64) {
    let lo = idx.saturating_sub(excl_zone);
    let hi = (idx + excl_zone).min(values.len() - 1);
    values[lo..=hi].fill(fill);
}

/// MASS distance profile of window `q` against every window (stumpy `core.mass` with `query_idx = q`).
fn distance_profile(stats: &WindowStats, q: usize) -> Vec<f64> {
    let m = stats.m;
    let mf = m as f64;
    let l = stats.len();
    let mut d: Vec<f64> = (0..l)
        .into_par_iter()
        .with_min_len(256)
        .map(|y| {
            if !stats.finite[y] || !stats.finite[q] {
                f64::INFINITY
            } else if stats.constant[q] && stats.constant[y] {
                0.0
            } else if stats.constant[q] || stats.constant[y] {
                mf.sqrt()
            } else {
                let denom = (stats.std[q] * stats.std[y] * mf).max(DENOM_THRESHOLD);
                let rho = (stats.cov(q, y) * mf / denom).min(1.0);
                (2.0 * mf * (1.0 - rho)).abs().sqrt()
            }
        })
        .collect();
    if stats.finite[q] {
        d[q] = 0.0;
    }
    d
}

/// stumpy `core._find_matches`: greedy nearest matches of the query, each blanking its exclusion zone.
fn find_matches(
    mut d: Vec<f64>,
    excl_zone: usize,
    max_distance: Option<f64>,
    max_matches: Option<usize>,
    query: usize,
    atol: f64,
) -> Vec<(f64, usize)> {
    let max_distance = max_distance.unwrap_or_else(|| default_threshold(&d));
    let max_matches = max_matches.unwrap_or(usize::MAX);
    let mut matches = Vec::new();
    let mut candidate = query;
    for _ in 0..d.len() {
        let v = d[candidate];
        if v > atol + max_distance || !v.is_finite() || matches.len() >= max_matches {
            break;
        }
        matches.push((v, candidate));
        blank(&mut d, candidate, excl_zone, f64::INFINITY);
        candidate = argmin(&d);
    }
    matches
}

/// stumpy's `motifs(T, P, ...)`: repeatedly takes the window with the smallest profile value (while it is within
/// `cutoff`), finds its matches from its MASS distance profile, keeps it as a motif if it has more than
/// `min_neighbors` matches (itself included), and blanks every match's exclusion zone in `P`.
///
/// `profile` must have length `n − m + 1` (it defines `m`); usually the `profile` of [`stump`].
pub fn motifs(t: &[f64], profile: &[f64], params: &MotifParams) -> Result<Vec<Motif>> {
    let n = t.len();
    if profile.is_empty() || profile.len() > n {
        return Err(AnalyticsError::InvalidInput {
            field: "profile".into(),
            reason: format!("profile length {} does not fit a series of length {n}", profile.len()),
        });
    }
    let m = n - profile.len() + 1;
    check_window(n, m)?;
    if params.max_motifs == 0 {
        return Err(AnalyticsError::InvalidInput {
            field: "max_motifs".into(),
            reason: "must be at least 1".into(),
        });
    }
    let stats = WindowStats::new(t, m);
    let excl_zone = exclusion_zone(m);
    let l = profile.len();
    let cutoff = params.cutoff.unwrap_or_else(|| default_threshold(profile));
    let mut p: Vec<f64> = profile
        .iter()
        .map(|&v| if v.is_nan() { f64::INFINITY } else { v })
        .collect();
    let mut found = Vec::new();
    let mut candidate = argmin(&p);
    for _ in 0..l {
        if found.len() >= params.max_motifs {
            break;
        }
        let value = p[candidate];
        if value > cutoff || !value.is_finite() {
            break;
        }
        if params.max_distance.is_some_and(|md| value > md) {
            break;
        }
        let d = distance_profile(&stats, candidate);
        let mut matches = find_matches(
            d,
            excl_zone,
            params.max_distance,
            params.max_matches,
            candidate,
            params.atol,
        );
        if matches.len() > params.min_neighbors {
            found.push(Motif {
                distances: matches.iter().map(|&(v, _)| v).collect(),
                indices: matches.iter().map(|&(_, k)| k as i64).collect(),
            });
        }
        if matches.is_empty() {
            matches.push((f64::NAN, candidate));
        }
        for &(_, idx) in &matches {
            blank(&mut p, idx, excl_zone, f64::INFINITY);
        }
        candidate = argmin(&p);
    }
    Ok(found)
}

/// Top-`k` discords: repeatedly the argmax of the finite profile (first on ties), then `P[idx−ez ..= idx+ez]`
/// blanked; stops early when no finite value is left.
pub fn discords(profile: &[f64], excl_zone: usize, k: usize) -> Vec<Discord> {
    let mut p: Vec<f64> = profile
        .iter()
        .map(|&v| if v.is_finite() { v } else { f64::NEG_INFINITY })
        .collect();
    let mut out = Vec::new();
    while out.len() < k {
        let mut best = None;
        for (x, &v) in p.iter().enumerate() {
            if v.is_finite() && best.is_none_or(|b: usize| v > p[b]) {
                best = Some(x);
            }
        }
        let Some(idx) = best else { break };
        out.push(Discord {
            index: idx,
            distance: p[idx],
        });
        blank(&mut p, idx, excl_zone, f64::NEG_INFINITY);
    }
    out
}

/// The `glucolens analyze matrix-profile` pipeline: readings → regular grid (NaN gaps, duplicates averaged) →
/// [`stump`] → optional [`motifs`] and [`discords`].
pub fn analyze_cgm(points: &[CgmPoint], params: &MatrixProfileParams) -> Result<MatrixProfileReport> {
    let interval = match params.interval {
        Some(i) => i,
        None => infer_interval(points)?,
    };
    let grid = regular_grid(points, interval)?;
    analyze_series(&grid.values, params)
}

/// [`analyze_cgm`] on a series already on its grid.
pub fn analyze_series(t: &[f64], params: &MatrixProfileParams) -> Result<MatrixProfileReport> {
    let mp = stump(t, params.window)?;
    let found = match &params.motifs {
        Some(mp_params) => motifs(t, &mp.profile, mp_params)?,
        None => Vec::new(),
    };
    let top = discords(&mp.profile, mp.excl_zone, params.discords);
    Ok(MatrixProfileReport {
        matrix_profile: mp,
        motifs: found,
        discords: top,
    })
}
