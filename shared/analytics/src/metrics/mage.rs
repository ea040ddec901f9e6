//! MAGE, moving-average version (iglu `mage(version = "ma")`, Fernandes et al. 2022), following iglu-python 0.4
//! step by step: 5-minute grid, segments split at gaps over `max_gap`, pandas-style rolling means, crossings of the
//! short and long averages, extrema between crossings, then the MAGE+ / MAGE− excursion scans; `direction = avg`
//! weights every segment's MAGE+ and MAGE− by the segment's duration.

use super::grid::DayGrid;
use super::stats;

/// Parameters of the moving-average MAGE (iglu defaults: 5, 32, 180 min).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MageParams {
    pub short_ma: usize,
    pub long_ma: usize,
    pub max_gap_min: f64,
}

impl Default for MageParams {
    fn default() -> Self {
        Self {
            short_ma: 5,
            long_ma: 32,
            max_gap_min: 180.0,
        }
    }
}

/// pandas `Series.rolling(window, min_periods=1).mean()` including its Kahan-compensated running sum.
fn rolling_mean(values: &[f64], window: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let (mut sum, mut comp_add, mut comp_rem) = (0.0f64, 0.0f64, 0.0f64);
    let (mut nobs, mut neg) = (0i64, 0i64);
    let mut same = 0i64;
    let mut prev = if values.is_empty() { 0.0 } else { values[0] };
    for i in 0..values.len() {
        if i >= window {
            let v = values[i - window];
            if !v.is_nan() {
                nobs -= 1;
                let y = -v - comp_rem;
                let t = sum + y;
                comp_rem = t - sum - y;
                sum = t;
                if v.is_sign_negative() {
                    neg -= 1;
                }
            }
        }
        let v = values[i];
        if !v.is_nan() {
            nobs += 1;
            let y = v - comp_add;
            let t = sum + y;
            comp_add = t - sum - y;
            sum = t;
            if v.is_sign_negative() {
                neg += 1;
            }
            if v == prev {
                same += 1;
            } else {
                same = 1;
            }
            prev = v;
        }
        let r = if nobs > 0 {
            let mut r = sum / nobs as f64;
            if same >= nobs {
                r = prev;
            } else if (neg == 0 && r < 0.0) || (neg == nobs && r > 0.0) {
                r = 0.0;
            }
            r
        } else {
            f64::NAN
        };
        out.push(r);
    }
    out
}

fn smoothed(gl: &[f64], window: usize) -> Vec<f64> {
    let mut ma = rolling_mean(gl, window);
    let n = ma.len();
    if n == 0 {
        return ma;
    }
    let fill = if window > n { ma[n - 1] } else { ma[window - 1] };
    ma.iter_mut().take(window).for_each(|v| *v = fill);
    ma
}

/// One segment's result: duration (minutes) and MAGE+ / MAGE− (NaN when absent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentMage {
    pub minutes: f64,
    pub plus: f64,
    pub minus: f64,
}

fn mage_atomic(gl: &[f64], p: &MageParams) -> SegmentMage {
    let n = gl.len();
    let minutes = (n.saturating_sub(1) * 5) as f64;
    let none = SegmentMage {
        minutes,
        plus: f64::NAN,
        minus: f64::NAN,
    };
    let (short_ma, long_ma) = if p.short_ma >= p.long_ma {
        (p.long_ma, p.short_ma)
    } else {
        (p.short_ma, p.long_ma)
    };
    let ma_s = smoothed(gl, short_ma);
    let ma_l = smoothed(gl, long_ma);
    let mut delta: Vec<f64> = ma_s.iter().zip(&ma_l).map(|(a, b)| a - b).collect();
    // Validity (np.std on a pandas Series dispatches to Series.std, which skips NaN).
    let all_nan = gl.iter().all(|v| v.is_nan());
    if all_nan || n < 7 || n < short_ma || stats::sd(gl) < 1.0 {
        return none;
    }
    // Crossings.
    let mut ids: Vec<usize> = vec![0];
    let mut types: Vec<bool> = vec![delta[0] > 0.0]; // true = REL_MAX
    delta.iter_mut().filter(|d| **d == 0.0).for_each(|d| *d = f64::NAN);
    for i in 1..n {
        if !gl[i].is_nan() && !gl[i - 1].is_nan() && !delta[i].is_nan() && !delta[i - 1].is_nan() {
            if delta[i] * delta[i - 1] < 0.0 {
                ids.push(i);
                types.push(delta[i] >= delta[i - 1]);
            }
        } else if !delta[i].is_nan() {
            let prev_delta = delta[*ids.last().expect("non-empty")];
            if delta[i] * prev_delta < 0.0 {
                ids.push(i);
                types.push(delta[i] >= prev_delta);
            }
        }
    }
    ids.push(n - 1);
    types.push(delta[n - 1] > 0.0);
    // Extrema between crossings, on the original values (pandas min/idxmin skip NaN, first occurrence).
    let ne = ids.len() - 1;
    let mut minmax = Vec::with_capacity(ne);
    let mut indexes: Vec<usize> = Vec::with_capacity(ne);
    for i in 0..ne {
        let s1 = if i == 0 { ids[0] } else { indexes[i - 1] };
        let s2 = ids[i + 1];
        let mut best_i = usize::MAX;
        let mut best = f64::NAN;
        for (k, &v) in gl.iter().enumerate().take(s2 + 1).skip(s1) {
            if v.is_nan() {
                continue;
            }
            let better = best_i == usize::MAX || if types[i] { v > best } else { v < best };
            if better {
                best = v;
                best_i = k;
            }
        }
        minmax.push(best);
        indexes.push(if best_i == usize::MAX { s1 } else { best_i });
    }
    let sd = stats::sd(gl);
    let plus_h = mage_plus(&minmax, sd);
    let minus_h = mage_minus(&minmax, sd);
    if plus_h.is_empty() && minus_h.is_empty() {
        return none;
    }
    SegmentMage {
        minutes,
        plus: if plus_h.is_empty() {
            f64::NAN
        } else {
            stats::mean(&plus_h)
        },
        minus: if minus_h.is_empty() {
            f64::NAN
        } else {
            stats::mean(&minus_h).abs()
        },
    }
}

// iglu's `differences[a][b]` is `minmax[b] - minmax[a]`. Both scans keep a running extreme of
// `minmax[prev_j..=j]` (amortised O(N) instead of iglu's O(N²) slices); the first index attaining the extreme
// difference is then found exactly as `np.argmax`/`np.argmin` would, only when an excursion is taken.

/// Running minimum (`lowest = true`) or maximum of `mm[prev_j..=j]`, extended when `j` grows by one.
struct Running {
    prev_j: usize,
    j: usize,
    value: f64,
}

impl Running {
    fn get(cache: &mut Option<Running>, mm: &[f64], prev_j: usize, j: usize, lowest: bool) -> f64 {
        let better = |a: f64, b: f64| if lowest { a < b } else { a > b };
        match cache {
            Some(c) if c.prev_j == prev_j && c.j == j => {}
            Some(c) if c.prev_j == prev_j && c.j + 1 == j => {
                if better(mm[j], c.value) {
                    c.value = mm[j];
                }
                c.j = j;
            }
            _ => {
                let mut v = mm[prev_j];
                for &x in &mm[prev_j..=j] {
                    if better(x, v) {
                        v = x;
                    }
                }
                *cache = Some(Running { prev_j, j, value: v });
            }
        }
        cache.as_ref().map_or(f64::NAN, |c| c.value)
    }
}

fn mage_plus(mm: &[f64], sd: f64) -> Vec<f64> {
    let n = mm.len();
    let mut heights = Vec::new();
    let (mut j, mut prev_j) = (0usize, 0usize);
    let mut cache = None;
    while j < n {
        if prev_j > j {
            j += 1;
            continue;
        }
        // max over r in prev_j..=j of mm[j] - mm[r] (rounding is monotone, so it is mm[j] - min)
        let max_v = mm[j] - Running::get(&mut cache, mm, prev_j, j, true);
        if max_v > sd {
            let i = (prev_j..=j).find(|&r| mm[j] - mm[r] == max_v).unwrap_or(prev_j);
            let mut k = j;
            while k < n {
                if mm[k] >= mm[j] {
                    j = k;
                }
                if mm[k] - mm[j] < -sd || k == n - 1 {
                    heights.push(mm[j] - mm[i]);
                    prev_j = k;
                    j = k;
                    break;
                }
                k += 1;
            }
        } else {
            j += 1;
        }
    }
    heights
}

fn mage_minus(mm: &[f64], sd: f64) -> Vec<f64> {
    let n = mm.len();
    let mut heights = Vec::new();
    let (mut j, mut prev_j) = (0usize, 0usize);
    let mut cache = None;
    while j < n {
        if prev_j > j {
            j += 1;
            continue;
        }
        let min_v = mm[j] - Running::get(&mut cache, mm, prev_j, j, false);
        if min_v < -sd {
            let i = (prev_j..=j).find(|&r| mm[j] - mm[r] == min_v).unwrap_or(prev_j);
            let mut k = j;
            while k < n {
                if mm[k] <= mm[j] {
                    j = k;
                }
                if mm[k] - mm[j] > sd || k == n - 1 {
                    heights.push(mm[j] - mm[i]);
                    prev_j = j;
                    j = k;
                    break;
                }
                k += 1;
            }
        } else {
            j += 1;
        }
    }
    heights
}

/// Splits the 5-minute grid into iglu's MAGE segments (leading/trailing NaN trimmed, split where consecutive
/// finite points are more than `max_gap` apart, trailing NaN of each segment dropped) and scores each.
pub fn mage_segments(grid5: &DayGrid, p: &MageParams) -> Vec<SegmentMage> {
    debug_assert_eq!(grid5.dt0, 5);
    let g = &grid5.values;
    let Some(first) = g.iter().position(|v| !v.is_nan()) else {
        return Vec::new();
    };
    let last = g.iter().rposition(|v| !v.is_nan()).expect("has a finite value");
    let g = &g[first..=last];
    let mut segs = Vec::new();
    let mut seg_start = 0usize;
    let mut prev_valid: Option<usize> = None;
    for (i, v) in g.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        if let Some(pv) = prev_valid {
            if ((i - pv) * 5) as f64 > p.max_gap_min {
                segs.push((seg_start, pv)); // trailing NaNs trimmed: ends at the last finite point
                seg_start = i;
            }
        }
        prev_valid = Some(i);
    }
    segs.push((seg_start, g.len() - 1));
    segs.iter().map(|&(s, e)| mage_atomic(&g[s..=e], p)).collect()
}

/// iglu `mage()` (version "ma", direction "avg"): duration-weighted mean of every segment's MAGE+ and MAGE−.
pub fn mage_ma(grid5: &DayGrid, p: &MageParams) -> f64 {
    let mut wsum = 0.0;
    let mut parts = Vec::new();
    for s in mage_segments(grid5, p) {
        for v in [s.plus, s.minus] {
            if !v.is_nan() {
                wsum += s.minutes;
                parts.push((v, s.minutes));
            }
        }
    }
    if parts.is_empty() {
        return f64::NAN;
    }
    parts.iter().map(|(v, w)| v * (w / wsum)).sum()
}
