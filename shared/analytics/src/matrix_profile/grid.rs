//! Placing irregular CGM readings on a regular time grid, missing slots as NaN (the input the matrix profile needs).

use chrono::{DateTime, Duration, FixedOffset};

use crate::cgm::CgmPoint;
use crate::{AnalyticsError, Result};

/// A series on a regular grid: slot `k` is the instant `start + k·interval`; `values[k]` is NaN where no reading fell.
#[derive(Debug, Clone, PartialEq)]
pub struct RegularGrid {
    pub start: DateTime<FixedOffset>,
    pub interval: Duration,
    pub values: Vec<f64>,
}

impl RegularGrid {
    /// The instant slot `k` stands for: `start + k·interval`.
    pub fn slot_start(&self, k: usize) -> DateTime<FixedOffset> {
        self.start + self.interval * k as i32
    }

    /// Fills interior gaps of at most `max_gap` slots by linear interpolation ([`fill_short_gaps`]).
    pub fn fill_short_gaps(&mut self, max_gap: usize) {
        fill_short_gaps(&mut self.values, max_gap);
    }
}

/// Linear interpolation across interior runs of at most `max_gap` NaNs (a missed transmission or two); longer runs
/// and the NaNs before the first and after the last value stay NaN, so the matrix profile still leaves out every
/// window touching a real gap (a sensor change).
pub fn fill_short_gaps(values: &mut [f64], max_gap: usize) {
    let mut last_known: Option<usize> = None;
    for k in 0..values.len() {
        if values[k].is_nan() {
            continue;
        }
        if let Some(before) = last_known {
            let gap = k - before - 1;
            if (1..=max_gap).contains(&gap) {
                let (a, b) = (values[before], values[k]);
                for (step, slot) in (before + 1..k).enumerate() {
                    values[slot] = a + (b - a) * (step + 1) as f64 / (gap + 1) as f64;
                }
            }
        }
        last_known = Some(k);
    }
}

/// The sampling interval: the most common positive difference between consecutive distinct timestamps (in time
/// order; ties go to the shorter difference). Errors if fewer than two distinct timestamps.
pub fn infer_interval(points: &[CgmPoint]) -> Result<Duration> {
    let mut times: Vec<i64> = points.iter().map(|p| p.time.timestamp_millis()).collect();
    times.sort_unstable();
    times.dedup();
    let mut diffs: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if diffs.is_empty() {
        return Err(AnalyticsError::InsufficientData {
            reason: "need at least two distinct timestamps to infer the sampling interval".into(),
        });
    }
    diffs.sort_unstable();
    let (mut best, mut best_count) = (diffs[0], 0usize);
    let mut k = 0;
    while k < diffs.len() {
        let run = diffs[k..].iter().take_while(|&&d| d == diffs[k]).count();
        if run > best_count {
            best = diffs[k];
            best_count = run;
        }
        k += run;
    }
    Ok(Duration::milliseconds(best))
}

/// Places readings on the grid `first timestamp + k·interval` up to the last reading. Each reading goes to its
/// nearest slot (`round((t − start)/interval)`, half away from zero); several readings in one slot are averaged
/// (mean of duplicates); slots without a reading are NaN. Input order does not matter.
pub fn regular_grid(points: &[CgmPoint], interval: Duration) -> Result<RegularGrid> {
    let step = interval.num_milliseconds();
    if step <= 0 {
        return Err(AnalyticsError::InvalidInput {
            field: "interval".into(),
            reason: "the sampling interval must be positive".into(),
        });
    }
    let first = points
        .iter()
        .min_by_key(|p| p.time)
        .ok_or_else(|| AnalyticsError::InsufficientData {
            reason: "no CGM readings".into(),
        })?;
    let start = first.time;
    let t0 = start.timestamp_millis();
    let slot = |p: &CgmPoint| -> usize {
        let offset = (p.time.timestamp_millis() - t0) as f64 / step as f64;
        offset.round() as usize
    };
    let slots = points.iter().map(slot).max().unwrap_or(0) + 1;
    const MAX_SLOTS: usize = 50_000_000;
    if slots > MAX_SLOTS {
        return Err(AnalyticsError::InvalidInput {
            field: "interval".into(),
            reason: format!("the grid would have {slots} slots (more than {MAX_SLOTS}); is the interval right?"),
        });
    }
    let mut sum = vec![0.0f64; slots];
    let mut count = vec![0u32; slots];
    for p in points {
        let k = slot(p);
        sum[k] += p.mg_dl;
        count[k] += 1;
    }
    let values = sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| if c == 0 { f64::NAN } else { s / f64::from(c) })
        .collect();
    Ok(RegularGrid {
        start,
        interval,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn short_gaps_are_interpolated_and_long_ones_kept() {
        let nan = f64::NAN;
        let mut values = vec![nan, 100.0, nan, nan, 130.0, nan, nan, nan, nan, 150.0, nan];
        fill_short_gaps(&mut values, 3);
        assert_eq!(&values[1..5], &[100.0, 110.0, 120.0, 130.0]);
        assert!(values[0].is_nan() && values[5..9].iter().all(|v| v.is_nan()) && values[10].is_nan());
        let mut untouched = vec![1.0, nan, 3.0];
        fill_short_gaps(&mut untouched, 0);
        assert!(untouched[1].is_nan());
    }

    #[test]
    fn slots_on_the_grid_keep_their_place_and_gaps_fill() {
        let points = [(0, 100.0), (10, 120.0), (60, 90.0)].map(|(m, mg_dl)| CgmPoint { time: at(m), mg_dl });
        let mut grid = regular_grid(&points, Duration::minutes(5)).unwrap();
        assert_eq!(grid.values.len(), 13);
        assert!(grid.values[1].is_nan());
        grid.fill_short_gaps(3);
        assert_eq!(grid.values[1], 110.0);
        assert!(grid.values[5].is_nan());
        assert_eq!(grid.slot_start(12), at(60));
        assert_eq!(grid.slot_start(0), grid.start);
    }
}
