//! iglu's day-by-day interpolation grid (`CGMS2DayByDay`, iglu-python 0.4 in R-compatible mode).
//!
//! Readings are placed on the local wall clock (the IANA zone's naive local time, as iglu does after
//! `tz_localize(None)`), a grid `dt0, 2·dt0, …, 24 h` is laid over every local day from the first reading's day to
//! the day the last reading ends in (the grid point at the very start of the first day is dropped), values are
//! linearly interpolated exactly like `numpy.interp`, and grid points inside a gap longer than `inter_gap` minutes
//! stay NaN, using iglu's own index arithmetic.

use chrono::NaiveDate;

use crate::{AnalyticsError, Result};

const NS_PER_MIN: i64 = 60_000_000_000;
const NS_PER_DAY: i64 = 1_440 * NS_PER_MIN;

/// One reading on the local wall clock: nanoseconds since 1970-01-01T00:00 local time (no zone), and mg/dL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalReading {
    pub local_ns: i64,
    pub mg_dl: f64,
}

/// The interpolated days × (1440/dt0) matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DayGrid {
    /// Grid step in minutes.
    pub dt0: u32,
    /// Local calendar date of row 0.
    pub first_day: NaiveDate,
    /// Number of rows (local days).
    pub n_days: usize,
    /// Row-major values; column `c` of a row is the local time `(c + 1)·dt0` minutes after that day's midnight.
    pub values: Vec<f64>,
}

impl DayGrid {
    /// Grid points per day.
    pub fn per_day(&self) -> usize {
        (1440 / self.dt0) as usize
    }

    /// One day's row.
    pub fn row(&self, day: usize) -> &[f64] {
        let p = self.per_day();
        &self.values[day * p..(day + 1) * p]
    }

    /// Minutes after local midnight of every column (dt0, 2·dt0, …, 1440).
    pub fn minute_of_day(&self) -> Vec<u32> {
        (1..=self.per_day() as u32).map(|c| c * self.dt0).collect()
    }
}

/// iglu's time step: the most frequent difference between consecutive readings (smallest on ties), truncated to
/// whole minutes; if 1440 is not a multiple of it, R iglu's fallback (above 20 → 20, else rounded to a multiple
/// of 5). `readings` must be sorted by time.
pub fn mode_dt0(readings: &[LocalReading]) -> Result<u32> {
    if readings.len() < 2 {
        return Err(AnalyticsError::InsufficientData {
            reason: "at least two readings are needed to find the sampling interval".into(),
        });
    }
    let mut diffs: Vec<i64> = readings.windows(2).map(|w| w[1].local_ns - w[0].local_ns).collect();
    diffs.sort_unstable();
    let (mut best, mut best_count) = (diffs[0], 0usize);
    let mut i = 0;
    while i < diffs.len() {
        let mut j = i;
        while j < diffs.len() && diffs[j] == diffs[i] {
            j += 1;
        }
        if j - i > best_count {
            best = diffs[i];
            best_count = j - i;
        }
        i = j;
    }
    let minutes = (best as f64 / 1e9 / 60.0).trunc();
    if minutes < 1.0 {
        return Err(AnalyticsError::InvalidInput {
            field: "cgm".into(),
            reason: "the most frequent interval between readings is under one minute (duplicate timestamps?)".into(),
        });
    }
    let mut dt0 = minutes as u32;
    if 1440 % dt0 != 0 {
        dt0 = if dt0 > 20 {
            20
        } else {
            ((dt0 as f64 / 5.0).round() as u32 * 5).max(5)
        };
    }
    Ok(dt0)
}

/// Builds the grid. `readings` must be sorted by `local_ns` (ties keep their order). `dt0 = None` uses
/// [`mode_dt0`]. Returns `Ok(None)` when the readings span no grid point at all (e.g. one reading at midnight).
pub fn day_by_day(readings: &[LocalReading], dt0: Option<u32>, inter_gap_min: u32) -> Result<Option<DayGrid>> {
    if readings.is_empty() {
        return Err(AnalyticsError::InsufficientData {
            reason: "no readings".into(),
        });
    }
    let dt0 = match dt0 {
        Some(d) if d > 0 && 1440 % d == 0 => d,
        Some(d) => {
            return Err(AnalyticsError::InvalidInput {
                field: "dt0".into(),
                reason: format!("{d} minutes does not divide a day"),
            })
        }
        None => mode_dt0(readings)?,
    };
    let min_t = readings[0].local_ns;
    let max_t = readings[readings.len() - 1].local_ns;
    let start = min_t.div_euclid(NS_PER_DAY) * NS_PER_DAY;
    let end = -((-max_t).div_euclid(NS_PER_DAY) * NS_PER_DAY); // ceil to the day
    let n_days = ((end - start) / NS_PER_DAY) as usize;
    let first_day = chrono::DateTime::from_timestamp_nanos(start).date_naive();
    let per_day = (1440 / dt0) as usize;
    let n = n_days * per_day;
    if n == 0 {
        return Ok(None);
    }
    // numpy.interp over minutes since the first local midnight.
    let xp: Vec<f64> = readings
        .iter()
        .map(|r| (r.local_ns - start) as f64 / 1e9 / 60.0)
        .collect();
    let fp: Vec<f64> = readings.iter().map(|r| r.mg_dl).collect();
    let last = xp.len() - 1;
    let mut values = Vec::with_capacity(n);
    let mut j = 0usize; // last index with xp[j] <= x
    for k in 1..=n {
        let x = (k as u64 * dt0 as u64) as f64;
        let v = if x < xp[0] || x > xp[last] {
            f64::NAN
        } else if x == xp[last] {
            fp[last]
        } else {
            while j < last && xp[j + 1] <= x {
                j += 1;
            }
            if xp[j] == x {
                fp[j]
            } else {
                let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
                let r = slope * (x - xp[j]) + fp[j];
                if r.is_nan() {
                    let r2 = slope * (x - xp[j + 1]) + fp[j + 1];
                    if r2.is_nan() && fp[j] == fp[j + 1] {
                        fp[j]
                    } else {
                        r2
                    }
                } else {
                    r
                }
            }
        };
        values.push(v);
    }
    // Gaps: iglu's index arithmetic (floor of the gap start, floor of the gap end minus one second).
    let gap_ns = inter_gap_min as i64 * NS_PER_MIN;
    let step_s = 60.0 * dt0 as f64;
    for w in readings.windows(2) {
        if w[1].local_ns - w[0].local_ns > gap_ns {
            let s0 = (w[0].local_ns - start) as f64 / 1e9;
            let s1 = (w[1].local_ns - start) as f64 / 1e9;
            let a = (s0 / step_s).floor() as i64;
            let b = ((s1 - 1.0) / step_s).floor() as i64;
            let a = a.clamp(0, n as i64) as usize;
            let b = b.clamp(0, n as i64) as usize;
            if a < b {
                values[a..b].iter_mut().for_each(|v| *v = f64::NAN);
            }
        }
    }
    Ok(Some(DayGrid {
        dt0,
        first_day,
        n_days,
        values,
    }))
}
