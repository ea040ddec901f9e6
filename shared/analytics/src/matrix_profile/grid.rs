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
