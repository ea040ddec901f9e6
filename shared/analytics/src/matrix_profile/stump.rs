//! The exact self-join matrix profile (stumpy's `stump`): diagonal traversal with the centred-covariance
//! recurrence, split across rayon threads by diagonal ranges, each thread with its own O(n) profile arrays.

// The kernels index several arrays with one lane/row counter; iterator chains would hide that structure.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

/// Lanes (adjacent diagonals) processed together by the vectorised kernel.
const LANES: usize = 32;

/// Per-window statistics of the series, stumpy's `preprocess_diagonal`: the series with missing values replaced by
/// zero, window means and population standard deviations (each window computed on its own, two-pass), which windows
/// are finite and which are constant (peak-to-peak 0), plus the `m − 1` window terms of the covariance recurrence.
pub(crate) struct WindowStats {
    pub m: usize,
    /// Series with NaN/±inf filled in ([`fill_missing`]); only windows flagged finite are ever used.
    pub tz: Vec<f64>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub finite: Vec<bool>,
    pub constant: Vec<bool>,
}

impl WindowStats {
    pub fn new(t: &[f64], m: usize) -> Self {
        let n = t.len();
        let l = n + 1 - m;
        let tz = fill_missing(t);
        // Windows touching a non-finite value: prefix count of non-finite readings.
        let mut bad_prefix = vec![0u32; n + 1];
        // Windows that are constant: prefix count of positions where the value changes (t[k] != t[k+1]).
        let mut change_prefix = vec![0u32; n];
        for k in 0..n {
            bad_prefix[k + 1] = bad_prefix[k] + u32::from(!t[k].is_finite());
            if k + 1 < n {
                change_prefix[k + 1] = change_prefix[k] + u32::from(t[k] != t[k + 1]);
            }
        }
        let finite: Vec<bool> = (0..l).map(|x| bad_prefix[x + m] == bad_prefix[x]).collect();
        let constant: Vec<bool> = (0..l)
            .map(|x| finite[x] && change_prefix[x + m - 1] == change_prefix[x])
            .collect();
        let (mean, std): (Vec<f64>, Vec<f64>) = (0..l)
            .into_par_iter()
            .with_min_len(1024)
            .map(|x| mean_std(&tz[x..x + m]))
            .unzip();
        WindowStats {
            m,
            tz,
            mean,
            std,
            finite,
            constant,
        }
    }

    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// A window that takes part in distance computations through its standard deviation (finite, not constant).
    pub fn regular(&self, x: usize) -> bool {
        self.finite[x] && !self.constant[x]
    }

    /// Centred covariance of windows `x` and `y`: `(1/m) Σ (T[x+k] − μx)(T[y+k] − μy)`.
    pub fn cov(&self, x: usize, y: usize) -> f64 {
        let (mx, my) = (self.mean[x], self.mean[y]);
        let a = &self.tz[x..x + self.m];
        let b = &self.tz[y..y + self.m];
        a.iter().zip(b).map(|(&p, &q)| (p - mx) * (q - my)).sum::<f64>() / self.m as f64
    }
}

/// The series with non-finite values replaced by linear interpolation between the neighbouring finite values
/// (constant extension at the ends; all zeros if nothing is finite). Windows touching a filled value are excluded
/// anyway; the filler only keeps the terms of the covariance recurrence small across gaps (stumpy fills with 0,
/// which makes the recurrence step over jumps of the size of the glucose values and adds rounding drift).
fn fill_missing(t: &[f64]) -> Vec<f64> {
    let mut out = t.to_vec();
    let mut prev: Option<usize> = None;
    let mut k = 0;
    while k < out.len() {
        if out[k].is_finite() {
            prev = Some(k);
            k += 1;
            continue;
        }
        let end = (k..out.len()).find(|&e| out[e].is_finite());
        match (prev, end) {
            (Some(p), Some(e)) => {
                let (a, b) = (out[p], out[e]);
                for q in k..e {
                    out[q] = a + (b - a) * ((q - p) as f64 / (e - p) as f64);
                }
            }
            (Some(p), None) => {
                let v = out[p];
                out[k..].fill(v);
            }
            (None, Some(e)) => {
                let v = out[e];
                out[k..e].fill(v);
            }
            (None, None) => out.fill(0.0),
        }
        k = end.unwrap_or(out.len());
    }
    out
}

impl WindowStats {
    /// Pearson correlation of windows `x` and `y` computed directly (stumpy's rules for constant windows; NaN if
    /// either touches a missing value).
    pub fn pearson(&self, x: usize, y: usize) -> f64 {
        if !self.finite[x] || !self.finite[y] {
            f64::NAN
        } else if self.constant[x] && self.constant[y] {
            1.0
        } else if self.constant[x] || self.constant[y] {
            0.5
        } else {
            (self.cov(x, y) / (self.std[x] * self.std[y])).min(1.0)
        }
    }
}

/// Mean and population standard deviation of one window, two-pass.
fn mean_std(w: &[f64]) -> (f64, f64) {
    let m = w.len() as f64;
    let mean = w.iter().sum::<f64>() / m;
    let var = w.iter().map(|&v| (v - mean) * (v - mean)).sum::<f64>() / m;
    (mean, var.max(0.0).sqrt())
}

/// Raw result of the self-join: best Pearson correlation to the left (neighbour index < window) and to the right,
/// with their indices (−1 when none).
pub(crate) struct Correlations {
    pub rho_left: Vec<f64>,
    pub idx_left: Vec<i64>,
    pub rho_right: Vec<f64>,
    pub idx_right: Vec<i64>,
}

impl Correlations {
    fn empty(l: usize) -> Self {
        Correlations {
            rho_left: vec![f64::NEG_INFINITY; l],
            idx_left: vec![-1; l],
            rho_right: vec![f64::NEG_INFINITY; l],
            idx_right: vec![-1; l],
        }
    }

    /// Offers a left candidate `i < x`; ties go to the larger `i` (the nearer one), as in stumpy's traversal.
    #[inline]
    fn offer_left(&mut self, x: usize, rho: f64, i: i64) {
        let (cur, ci) = (self.rho_left[x], self.idx_left[x]);
        if rho > cur || (rho == cur && ci >= 0 && i > ci) {
            self.rho_left[x] = rho;
            self.idx_left[x] = i;
        }
    }

    /// Offers a right candidate `j > x`; ties go to the smaller `j` (the nearer one).
    #[inline]
    fn offer_right(&mut self, x: usize, rho: f64, j: i64) {
        let (cur, cj) = (self.rho_right[x], self.idx_right[x]);
        if rho > cur || (rho == cur && cj >= 0 && j < cj) {
            self.rho_right[x] = rho;
            self.idx_right[x] = j;
        }
    }

    fn merge(mut self, other: Correlations) -> Correlations {
        for x in 0..self.rho_left.len() {
            if other.idx_left[x] >= 0 {
                self.offer_left(x, other.rho_left[x], other.idx_left[x]);
            }
            if other.idx_right[x] >= 0 {
                self.offer_right(x, other.rho_right[x], other.idx_right[x]);
            }
        }
        self
    }
}

/// Inputs of the covariance recurrence along a diagonal (stumpy's `cov_a`, `cov_c` for a self-join):
/// `cov(i, j) = cov(i−1, j−1) + (m−1)/m² · (a[j]·a[i] − c[j]·c[i])`, with `a[x] = T[x+m−1] − μ′[x]`,
/// `c[x] = T[x−1] − μ′[x]` and `μ′[x]` the mean of the `m − 1` values starting at `x`.
struct Recurrence<'a> {
    stats: &'a WindowStats,
    a: Vec<f64>,
    c: Vec<f64>,
    /// `1/σ` for regular windows, NaN for missing/constant ones (so they never win a comparison).
    sinv: Vec<f64>,
    /// `(m − 1)/m²`.
    k: f64,
    /// Re-seed the covariance with a direct dot product every this many steps along a diagonal (0 = never).
    reseed: usize,
}

impl<'a> Recurrence<'a> {
    fn new(stats: &'a WindowStats, reseed: usize) -> Self {
        let m = stats.m;
        let l = stats.len();
        let tz = &stats.tz;
        let mean1 = |x: usize| tz[x..x + m - 1].iter().sum::<f64>() / (m - 1) as f64;
        let (a, c): (Vec<f64>, Vec<f64>) = (0..l)
            .into_par_iter()
            .with_min_len(1024)
            .map(|x| {
                let mu = mean1(x);
                let cx = if x == 0 { 0.0 } else { tz[x - 1] - mu };
                (tz[x + m - 1] - mu, cx)
            })
            .unzip();
        let sinv = (0..l)
            .map(|x| if stats.regular(x) { 1.0 / stats.std[x] } else { f64::NAN })
            .collect();
        let mf = m as f64;
        Recurrence {
            stats,
            a,
            c,
            sinv,
            k: (mf - 1.0) / (mf * mf),
            reseed,
        }
    }
}

/// Best left/right Pearson correlations of every window (exclusion zone `excl_zone`), stumpy semantics: windows
/// touching a missing value never take part; constant windows correlate 1 with each other and 0.5 with the rest.
pub(crate) fn self_join(stats: &WindowStats, excl_zone: usize, reseed: usize, portable: bool) -> Correlations {
    let l = stats.len();
    let first = excl_zone + 1;
    let mut out = if first >= l {
        Correlations::empty(l)
    } else {
        let rec = Recurrence::new(stats, reseed);
        let parts = partition_diagonals(first, l, rayon::current_num_threads().max(1));
        parts
            .into_par_iter()
            .map(|(g_lo, g_hi)| {
                let mut acc = Correlations::empty(l);
                run_range(&rec, g_lo, g_hi, &mut acc, portable);
                acc
            })
            .reduce_with(Correlations::merge)
            .unwrap_or_else(|| Correlations::empty(l))
    };
    add_constant_candidates(stats, excl_zone, &mut out);
    out
}

/// Splits diagonals `first..l` into at most `parts` contiguous ranges of about equal work (diagonal `g` has `l − g`
/// cells), with boundaries on multiples of `LANES` from `first`.
fn partition_diagonals(first: usize, l: usize, parts: usize) -> Vec<(usize, usize)> {
    let total: u128 = (first..l).map(|g| (l - g) as u128).sum();
    let mut ranges = Vec::with_capacity(parts);
    let mut lo = first;
    let mut acc: u128 = 0;
    let mut g = first;
    let mut part = 1u128;
    while g < l {
        let hi = (g + LANES).min(l);
        acc += (g..hi).map(|d| (l - d) as u128).sum::<u128>();
        g = hi;
        if acc * parts as u128 >= total * part && (part as usize) < parts {
            ranges.push((lo, g));
            lo = g;
            part += 1;
        }
    }
    if lo < l {
        ranges.push((lo, l));
    }
    ranges
}

fn run_range(rec: &Recurrence, g_lo: usize, g_hi: usize, acc: &mut Correlations, portable: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if !portable && std::arch::is_x86_feature_detected!("avx2") {
            let rows = |rec: &Recurrence,
                        g0: usize,
                        end: usize,
                        cov: &mut [f64; LANES],
                        seed: &mut usize,
                        acc: &mut Correlations| {
                // SAFETY: AVX2 is available (checked just above).
                unsafe { avx2::full_rows(rec, g0, end, cov, seed, acc) }
            };
            run_range_with(rec, g_lo, g_hi, acc, rows);
            return;
        }
    }
    run_range_with(rec, g_lo, g_hi, acc, full_rows_generic);
}

type FullRows = fn(&Recurrence, usize, usize, &mut [f64; LANES], &mut usize, &mut Correlations);

fn run_range_with(rec: &Recurrence, g_lo: usize, g_hi: usize, acc: &mut Correlations, rows: FullRows) {
    let mut g0 = g_lo;
    while g0 < g_hi {
        let lanes = (g_hi - g0).min(LANES);
        if lanes == LANES {
            tile(rec, g0, acc, rows);
        } else {
            for g in g0..g0 + lanes {
                diagonal(rec, g, acc);
            }
        }
        g0 += lanes;
    }
}

/// `LANES` adjacent diagonals `g0 .. g0+LANES` walked together (row `i`, columns `i+g0+k`): first the rows where
/// every lane is inside the matrix (`rows`, vectorised), then the triangle where lanes leave it one by one.
fn tile(rec: &Recurrence, g0: usize, acc: &mut Correlations, rows: FullRows) {
    let stats = rec.stats;
    let l = stats.len();
    debug_assert!(g0 + LANES <= l);
    // Rows where every lane is inside the matrix: i + g0 + LANES − 1 <= l − 1.
    let full_end = l - g0 - LANES + 1;
    let mut cov = [0.0f64; LANES];
    let mut next_seed = 0usize;
    rows(rec, g0, full_end, &mut cov, &mut next_seed, acc);
    let reseed = if rec.reseed == 0 { usize::MAX } else { rec.reseed };
    let (a, c, sinv, k) = (&rec.a[..], &rec.c[..], &rec.sinv[..], rec.k);
    for i in full_end..l - g0 {
        let lanes = l - g0 - i;
        let j0 = i + g0;
        let (ka, kc) = (k * a[i], k * c[i]);
        for lane in 0..lanes {
            let j = j0 + lane;
            if i == next_seed {
                cov[lane] = stats.cov(i, j);
            } else {
                cov[lane] += a[j] * ka - c[j] * kc;
            }
            let v = cov[lane] * sinv[j] * sinv[i];
            let v = if v > 1.0 { 1.0 } else { v };
            if v > acc.rho_left[j] {
                acc.rho_left[j] = v;
                acc.idx_left[j] = i as i64;
            }
            if v > acc.rho_right[i] {
                acc.rho_right[i] = v;
                acc.idx_right[i] = j as i64;
            }
        }
        if i == next_seed {
            next_seed = next_seed.saturating_add(reseed);
        }
    }
}

/// Rows `0..end` of a tile, portable version. `cov` carries the lanes' covariances out; `next_seed` the next row
/// where they are recomputed directly.
fn full_rows_generic(
    rec: &Recurrence,
    g0: usize,
    end: usize,
    cov: &mut [f64; LANES],
    next_seed: &mut usize,
    acc: &mut Correlations,
) {
    let stats = rec.stats;
    let (a, c, sinv, k) = (&rec.a[..], &rec.c[..], &rec.sinv[..], rec.k);
    let reseed = if rec.reseed == 0 { usize::MAX } else { rec.reseed };
    for i in 0..end {
        let j0 = i + g0;
        if i == *next_seed {
            for (lane, cv) in cov.iter_mut().enumerate() {
                *cv = stats.cov(i, j0 + lane);
            }
            *next_seed = next_seed.saturating_add(reseed);
        } else {
            let (ka, kc) = (k * a[i], k * c[i]);
            for lane in 0..LANES {
                cov[lane] += a[j0 + lane] * ka - c[j0 + lane] * kc;
            }
        }
        // Written lane-wise over fixed-size arrays so that LLVM vectorises it for the baseline target (SSE2, NEON).
        let si = sinv[i];
        let sj: &[f64; LANES] = sinv[j0..j0 + LANES].try_into().unwrap();
        let mut r = [0.0f64; LANES];
        for lane in 0..LANES {
            let v = cov[lane] * sj[lane] * si;
            r[lane] = if v > 1.0 { 1.0 } else { v };
        }
        let rl: &mut [f64; LANES] = (&mut acc.rho_left[j0..j0 + LANES]).try_into().unwrap();
        let il: &mut [i64; LANES] = (&mut acc.idx_left[j0..j0 + LANES]).try_into().unwrap();
        let ii = i as i64;
        for lane in 0..LANES {
            let better = r[lane] > rl[lane];
            rl[lane] = if better { r[lane] } else { rl[lane] };
            il[lane] = if better { ii } else { il[lane] };
        }
        let mut best = f64::NEG_INFINITY;
        for lane in 0..LANES {
            best = if r[lane] > best { r[lane] } else { best };
        }
        if best > acc.rho_right[i] {
            let lane = r.iter().position(|&v| v == best).unwrap_or(0);
            acc.rho_right[i] = best;
            acc.idx_right[i] = (j0 + lane) as i64;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Correlations, Recurrence, LANES};
    use std::arch::x86_64::*;

    const V: usize = LANES / 4;

    /// AVX2 version of [`super::full_rows_generic`], same arithmetic (no FMA), so results are bit-identical.
    ///
    /// # Safety
    /// The CPU must support AVX2; `g0 + end + LANES − 1 <= l`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn full_rows(
        rec: &Recurrence,
        g0: usize,
        end: usize,
        cov_out: &mut [f64; LANES],
        next_seed: &mut usize,
        acc: &mut Correlations,
    ) {
        let stats = rec.stats;
        let l = stats.len();
        assert!(end == 0 || g0 + end - 1 + LANES <= l);
        assert!(acc.rho_left.len() == l && acc.idx_left.len() == l && acc.rho_right.len() == l);
        assert!(rec.a.len() == l && rec.c.len() == l && rec.sinv.len() == l && acc.idx_right.len() == l);
        let (a, c, sinv) = (rec.a.as_ptr(), rec.c.as_ptr(), rec.sinv.as_ptr());
        let (rl, il) = (acc.rho_left.as_mut_ptr(), acc.idx_left.as_mut_ptr());
        let reseed = if rec.reseed == 0 { usize::MAX } else { rec.reseed };
        let one = _mm256_set1_pd(1.0);
        let mut cov = [_mm256_setzero_pd(); V];
        for v in 0..V {
            cov[v] = _mm256_loadu_pd(cov_out.as_ptr().add(4 * v));
        }
        for i in 0..end {
            let j0 = i + g0;
            if i == *next_seed {
                let mut seed = [0.0f64; LANES];
                for (lane, s) in seed.iter_mut().enumerate() {
                    *s = stats.cov(i, j0 + lane);
                }
                for v in 0..V {
                    cov[v] = _mm256_loadu_pd(seed.as_ptr().add(4 * v));
                }
                *next_seed = next_seed.saturating_add(reseed);
            } else {
                let ka = _mm256_set1_pd(rec.k * *a.add(i));
                let kc = _mm256_set1_pd(rec.k * *c.add(i));
                for v in 0..V {
                    let aj = _mm256_loadu_pd(a.add(j0 + 4 * v));
                    let cj = _mm256_loadu_pd(c.add(j0 + 4 * v));
                    let step = _mm256_sub_pd(_mm256_mul_pd(aj, ka), _mm256_mul_pd(cj, kc));
                    cov[v] = _mm256_add_pd(cov[v], step);
                }
            }
            let si = _mm256_set1_pd(*sinv.add(i));
            let ii = _mm256_set1_epi64x(i as i64);
            let mut best = _mm256_set1_pd(f64::NEG_INFINITY);
            for v in 0..V {
                let sj = _mm256_loadu_pd(sinv.add(j0 + 4 * v));
                let x = _mm256_mul_pd(_mm256_mul_pd(cov[v], sj), si);
                // min(1, x) keeping NaN (minpd returns its second operand when either is NaN).
                let x = _mm256_min_pd(one, x);
                let pl = rl.add(j0 + 4 * v);
                let pi = il.add(j0 + 4 * v) as *mut __m256i;
                let cur = _mm256_loadu_pd(pl);
                let better = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_GT_OQ>(x, cur));
                // Written without blends: LLVM turns "store(select(mask, new, load))" into vmaskmovpd, which is
                // microcoded and very slow on AMD Zen.
                _mm256_storeu_pd(pl, _mm256_max_pd(x, cur));
                let cur_i = _mm256_loadu_si256(pi);
                let new_i = _mm256_xor_si256(cur_i, _mm256_and_si256(_mm256_xor_si256(cur_i, ii), better));
                _mm256_storeu_si256(pi, new_i);
                // maxpd returns its second operand when either is NaN: NaN lanes never win.
                best = _mm256_max_pd(x, best);
            }
            let hi = _mm256_extractf128_pd::<1>(best);
            let m2 = _mm_max_pd(_mm256_castpd256_pd128(best), hi);
            let m1 = _mm_max_sd(m2, _mm_unpackhi_pd(m2, m2));
            let bmax = _mm_cvtsd_f64(m1);
            if bmax > *acc.rho_right.get_unchecked(i) {
                // Rare (only when the row's best improves): recompute the lanes to find the first maximal one.
                let mut lanes = [0.0f64; LANES];
                for v in 0..V {
                    let sj = _mm256_loadu_pd(sinv.add(j0 + 4 * v));
                    let x = _mm256_min_pd(one, _mm256_mul_pd(_mm256_mul_pd(cov[v], sj), si));
                    _mm256_storeu_pd(lanes.as_mut_ptr().add(4 * v), x);
                }
                let lane = lanes.iter().position(|&x| x == bmax).unwrap_or(0);
                *acc.rho_right.get_unchecked_mut(i) = bmax;
                *acc.idx_right.get_unchecked_mut(i) = (j0 + lane) as i64;
            }
        }
        for v in 0..V {
            _mm256_storeu_pd(cov_out.as_mut_ptr().add(4 * v), cov[v]);
        }
    }
}

/// One diagonal `g`, cell by cell (ranges narrower than a tile).
#[inline(always)]
fn diagonal(rec: &Recurrence, g: usize, acc: &mut Correlations) {
    let stats = rec.stats;
    let l = stats.len();
    let reseed = if rec.reseed == 0 { usize::MAX } else { rec.reseed };
    let mut cov = 0.0;
    for i in 0..l - g {
        let j = i + g;
        if i % reseed == 0 {
            cov = stats.cov(i, j);
        } else {
            cov += rec.a[j] * (rec.k * rec.a[i]) - rec.c[j] * (rec.k * rec.c[i]);
        }
        let v = cov * rec.sinv[j] * rec.sinv[i];
        let v = if v > 1.0 { 1.0 } else { v };
        if v > acc.rho_left[j] {
            acc.rho_left[j] = v;
            acc.idx_left[j] = i as i64;
        }
        if v > acc.rho_right[i] {
            acc.rho_right[i] = v;
            acc.idx_right[i] = j as i64;
        }
    }
}

/// Constant windows, stumpy's rule: Pearson 1 between two constant windows, 0.5 between a constant and a regular
/// one. Only the nearest candidate on each side matters (ties go to the nearer neighbour).
fn add_constant_candidates(stats: &WindowStats, excl_zone: usize, out: &mut Correlations) {
    let l = stats.len();
    let constant: Vec<usize> = (0..l).filter(|&x| stats.constant[x]).collect();
    if constant.is_empty() {
        return;
    }
    let regular: Vec<usize> = (0..l).filter(|&x| stats.regular(x)).collect();
    let nearest = |list: &[usize], x: usize| -> (Option<usize>, Option<usize>) {
        // Largest y <= x − excl_zone − 1 and smallest y >= x + excl_zone + 1.
        let left = x
            .checked_sub(excl_zone + 1)
            .and_then(|lim| list.partition_point(|&y| y <= lim).checked_sub(1))
            .map(|p| list[p]);
        let p = list.partition_point(|&y| y < x + excl_zone + 1);
        (left, list.get(p).copied())
    };
    for x in 0..l {
        if !stats.finite[x] {
            continue;
        }
        let (rho_const, others): (f64, Option<&[usize]>) = if stats.constant[x] {
            (1.0, Some(&regular))
        } else {
            (0.5, None)
        };
        let (cl, cr) = nearest(&constant, x);
        if let Some(y) = cl {
            out.offer_left(x, rho_const, y as i64);
        }
        if let Some(y) = cr {
            out.offer_right(x, rho_const, y as i64);
        }
        if let Some(list) = others {
            let (rl, rr) = nearest(list, x);
            if let Some(y) = rl {
                out.offer_left(x, 0.5, y as i64);
            }
            if let Some(y) = rr {
                out.offer_right(x, 0.5, y as i64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(rows: FullRows, t: &[f64], m: usize) -> Correlations {
        let stats = WindowStats::new(t, m);
        let rec = Recurrence::new(&stats, 0);
        let l = stats.len();
        let mut acc = Correlations::empty(l);
        run_range_with(&rec, m.div_ceil(4) + 1, l, &mut acc, rows);
        acc
    }

    #[test]
    fn vectorised_kernel_is_bit_identical_to_the_portable_one() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("avx2") {
                return;
            }
            let avx: FullRows = |rec, g0, end, cov, seed, acc| unsafe { avx2::full_rows(rec, g0, end, cov, seed, acc) };
            let mut state = 12345u64;
            let t: Vec<f64> = (0..900)
                .map(|k| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if k % 97 < 3 {
                        f64::NAN
                    } else if k % 150 < 20 {
                        39.0
                    } else {
                        100.0 + (state % 1000) as f64 / 10.0
                    }
                })
                .collect();
            for m in [3, 20, 64] {
                let (a, b) = (run_with(avx, &t, m), run_with(full_rows_generic, &t, m));
                assert_eq!(a.idx_left, b.idx_left);
                assert_eq!(a.idx_right, b.idx_right);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a.rho_left), bits(&b.rho_left));
                assert_eq!(bits(&a.rho_right), bits(&b.rho_right));
            }
        }
    }

    #[test]
    fn partitions_cover_all_diagonals_in_order() {
        for (first, l, parts) in [(5, 100, 2), (10, 11, 4), (1, 1000, 3), (3, 40, 8)] {
            let ranges = partition_diagonals(first, l, parts);
            assert!(ranges.len() <= parts);
            assert_eq!(ranges[0].0, first);
            assert_eq!(ranges.last().unwrap().1, l);
            for w in ranges.windows(2) {
                assert_eq!(w[0].1, w[1].0);
            }
        }
    }
}
