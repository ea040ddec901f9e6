//! CGM metrics matching iglu (R iglu 4.x through its Python port iglu-python 0.4, `TZ=UTC`, R-compatible mode).
//!
//! Entry point: [`compute`] turns parsed readings ([`crate::cgm::CgmPoint`]) into a [`MetricsReport`] (every
//! scalar metric, the episode summary and the AGP percentiles). Metrics that depend on days or the time of day
//! (ADRR, MODD, CONGA, MAGE, MAG, GVP, AUC, CV/SD sub-measures, rate of change, episodes, AGP) use the local wall
//! clock of the given IANA zone; iglu's reference outputs were made with UTC.
//!
//! Building blocks are public for in-process callers: [`stats`] works on plain `&[f64]` (e.g.
//! [`stats::summary_stats`] and [`stats::range_percentages`] for daily aggregation), [`pooled`] combines days'
//! summaries into a period's, [`grid`] builds iglu's day-by-day interpolation grid, [`variability`], [`mage`] and
//! [`episodes`] work on that grid ([`episodes::detect`] lists the episodes its summary is computed from).
//!
//! Differences from iglu-python, all outside its defined behaviour: readings are sorted by time (stable) before
//! the grid is built (iglu passes unsorted times to `numpy.interp`, whose result is then undefined); a grid step
//! that does not divide a day is replaced as R iglu does (iglu-python fails); with fewer than two readings the
//! grid metrics are NaN instead of an error.

pub mod episodes;
pub mod grid;
pub mod mage;
pub mod pooled;
pub mod stats;
pub mod variability;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Serialize;

use crate::cgm::CgmPoint;
use crate::{AnalyticsError, Result};
pub use episodes::{Episode, EpisodeKind, EpisodeLevel, EpisodeParams, EpisodeStats, Episodes};
pub use grid::{DayGrid, LocalReading};
pub use stats::{range_percentages, summary_stats, Quantiles, RangePercentages, SummaryStats};
pub use variability::Agp;

/// Default maximal gap (minutes) bridged by the grid's linear interpolation.
pub const INTER_GAP_MIN: u32 = 45;

/// Parses an IANA zone name such as `Europe/Berlin` (for `--tz`).
pub fn parse_tz(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| AnalyticsError::InvalidInput {
        field: "tz".into(),
        reason: format!("`{name}` is not an IANA time zone name"),
    })
}

/// Every scalar metric. Field names are the JSON keys of `glucolens analyze metrics`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub mean_glu: f64,
    pub median_glu: f64,
    pub sd_glu: f64,
    pub cv_glu: f64,
    pub gmi: f64,
    pub ea1c: f64,
    pub in_range_70_180: f64,
    pub below_54: f64,
    pub below_70: f64,
    pub above_180: f64,
    pub above_250: f64,
    pub active_percent: f64,
    pub mage: f64,
    pub modd: f64,
    pub conga_1: f64,
    pub conga_24: f64,
    pub lbgi: f64,
    pub hbgi: f64,
    pub adrr: f64,
    pub grade: f64,
    pub grade_hypo: f64,
    pub grade_eugly: f64,
    pub grade_hyper: f64,
    pub j_index: f64,
    pub mad_glu: f64,
    pub m_value: f64,
    pub gri: f64,
    pub hyper_index: f64,
    pub hypo_index: f64,
    pub mag: f64,
    /// max − min.
    pub range: f64,
    /// q75 − q25.
    pub iqr: f64,
    /// Quantiles 0/25/50/75/100.
    pub quantiles: Quantiles,
    pub mage_naive: f64,
    pub in_range_70_140: f64,
    pub in_range_54_250: f64,
    pub in_range_63_140: f64,
    pub above_140: f64,
    /// Days between the first and last reading (iglu `active_percent`'s `ndays`, rounded to 0.1).
    pub ndays: f64,
    pub igc: f64,
    pub gvp: f64,
    pub cogi: f64,
    pub pgs: f64,
    /// iglu `auc`: hourly average area under the curve (mg/dL).
    pub hourly_auc: f64,
    pub cv_mean: f64,
    pub cv_sd: f64,
    pub sdw: f64,
    pub sdhhmm: f64,
    pub sdwsh: f64,
    pub sddm: f64,
    pub sdb: f64,
    pub sdbdm: f64,
    /// SD of the 15-minute rate of change (mg/dL/min).
    pub sd_roc: f64,
}

/// The full report of `glucolens analyze metrics`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsReport {
    /// Number of readings.
    pub n: usize,
    pub metrics: Metrics,
    pub episodes: Episodes,
    pub agp: Agp,
}

/// Readings on the local wall clock of `tz`, sorted by wall-clock time (stable, duplicates kept, NaN values
/// dropped). In a daylight-saving fall-back hour the two passes interleave by wall-clock time, so the grid
/// follows the later pass; a spring-forward hour is a 60-minute wall-clock gap and stays NaN on the grid.
pub fn local_readings(points: &[CgmPoint], tz: Tz) -> Result<Vec<LocalReading>> {
    let mut out = points
        .iter()
        .filter(|p| !p.mg_dl.is_nan())
        .map(|p| {
            let local = p.time.with_timezone(&tz).naive_local();
            local
                .and_utc()
                .timestamp_nanos_opt()
                .map(|local_ns| LocalReading {
                    local_ns,
                    mg_dl: p.mg_dl,
                })
                .ok_or_else(|| AnalyticsError::InvalidInput {
                    field: "timestamp".into(),
                    reason: format!("{} is outside the supported range", p.time),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|r| r.local_ns);
    Ok(out)
}

/// iglu's day-by-day grid of the readings in `tz` (`dt0 = None`: the most frequent sampling interval).
/// `Ok(None)` when there are too few readings for a grid.
pub fn day_grid(points: &[CgmPoint], tz: Tz, dt0: Option<u32>) -> Result<Option<DayGrid>> {
    let local = local_readings(points, tz)?;
    grid_or_none(&local, dt0)
}

fn grid_or_none(local: &[LocalReading], dt0: Option<u32>) -> Result<Option<DayGrid>> {
    match grid::day_by_day(local, dt0, INTER_GAP_MIN) {
        Ok(g) => Ok(g),
        Err(AnalyticsError::InsufficientData { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// iglu `active_percent` (`range_type = "automatic"`): percent of expected readings present, and the span in
/// days. Uses real elapsed time; NaN with fewer than two readings.
pub fn active_percent(points: &[CgmPoint]) -> (f64, f64) {
    let mut t: Vec<i64> = points
        .iter()
        .filter(|p| !p.mg_dl.is_nan())
        .filter_map(|p| p.time.timestamp_nanos_opt())
        .collect();
    if t.len() < 2 {
        return (f64::NAN, if t.len() == 1 { 0.0 } else { f64::NAN });
    }
    t.sort_unstable();
    let mut diffs: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]) as f64 / 1e9 / 60.0).collect();
    let total_minutes = (t[t.len() - 1] - t[0]) as f64 / 1e9 / 60.0;
    diffs.sort_by(f64::total_cmp);
    let dt0 = round_half_even(stats::median_sorted(&diffs));
    if dt0 <= 0.0 {
        return (f64::NAN, total_minutes / 1440.0);
    }
    let theoretical = round_half_even(total_minutes / dt0) + 1.0;
    let gaps: Vec<f64> = diffs.iter().copied().filter(|&d| d > dt0).collect();
    let missing = round_half_even((gaps.iter().sum::<f64>() - gaps.len() as f64 * dt0) / dt0);
    let ndays = (total_minutes / 1440.0 * 10.0).round() / 10.0;
    ((theoretical - missing) / theoretical * 100.0, ndays)
}

/// iglu `adrr`: mean over local calendar days of the daily risk range.
pub fn adrr(points: &[CgmPoint], tz: Tz) -> f64 {
    local_readings(points, tz).map_or(f64::NAN, |local| adrr_local(&local))
}

/// [`adrr`] on readings already on the local wall clock and sorted ([`local_readings`]).
pub fn adrr_local(local: &[LocalReading]) -> f64 {
    const NS_PER_DAY: i64 = 86_400_000_000_000;
    let mut risks = Vec::new();
    let mut day_values = Vec::new();
    for (i, r) in local.iter().enumerate() {
        day_values.push(r.mg_dl);
        let day = r.local_ns.div_euclid(NS_PER_DAY);
        if local
            .get(i + 1)
            .is_none_or(|n| n.local_ns.div_euclid(NS_PER_DAY) != day)
        {
            risks.push(stats::daily_risk_range(&day_values));
            day_values.clear();
        }
    }
    stats::mean(&risks)
}

/// Summary of one local calendar day (for the backend's daily aggregation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySummary {
    pub date: NaiveDate,
    pub stats: SummaryStats,
    pub ranges: RangePercentages,
}

/// Per local day: mean, SD, CV, GMI, eA1c and the five consensus range percentages of the raw readings.
pub fn daily_summaries(points: &[CgmPoint], tz: Tz) -> Vec<DaySummary> {
    let mut by_day: Vec<(NaiveDate, f64)> = points
        .iter()
        .map(|p| (p.time.with_timezone(&tz).date_naive(), p.mg_dl))
        .collect();
    by_day.sort_by_key(|d| d.0);
    by_day
        .chunk_by(|a, b| a.0 == b.0)
        .map(|day| {
            let v: Vec<f64> = day.iter().map(|x| x.1).collect();
            DaySummary {
                date: day[0].0,
                stats: summary_stats(&v),
                ranges: range_percentages(&v),
            }
        })
        .collect()
}

/// iglu `pgs` (episodes with dur_length 20, end_length 30).
pub fn pgs(values: &[f64], grid: Option<&DayGrid>) -> f64 {
    let Some(grid) = grid else { return f64::NAN };
    let gvp_val = variability::gvp(grid);
    let mean_val = stats::mean(values);
    let ptir = stats::in_range_percent(values, 70.0, 180.0);
    let eps = episodes::episodes(
        grid,
        &EpisodeParams {
            dur_length: 20,
            end_length: 30,
            ..EpisodeParams::default()
        },
    );
    let n54 = eps.hypo_lv2.avg_ep_per_day * 7.0;
    let n70 = eps.hypo_lv1_excl.avg_ep_per_day * 7.0;
    let f_gvp = 1.0 + 9.0 / (1.0 + (-0.049 * (gvp_val - 65.47)).exp());
    let f_ptir = 1.0 + 9.0 / (1.0 + (0.0833 * (ptir - 55.04)).exp());
    let f_mg = 1.0
        + 9.0
            * (1.0 / (1.0 + (0.1139 * (mean_val - 72.08)).exp())
                + 1.0 / (1.0 + (-0.09195 * (mean_val - 157.57)).exp()));
    let f_h54 = 0.5 + 4.5 * (1.0 - (-0.91093 * n54).exp());
    let f_h70 = if n70 <= 7.65 { 0.5714 * n70 + 0.625 } else { 5.0 };
    f_gvp + f_ptir + f_mg + f_h54 + f_h70
}

/// Computes every metric, the episodes and the AGP of a trace, with days and times of day in `tz`.
pub fn compute(points: &[CgmPoint], tz: Tz) -> Result<MetricsReport> {
    if points.is_empty() {
        return Err(AnalyticsError::InsufficientData {
            reason: "no CGM readings".into(),
        });
    }
    let values: Vec<f64> = points.iter().map(|p| p.mg_dl).collect();
    let local = local_readings(points, tz)?;
    let grid = grid_or_none(&local, None)?;
    let grid5 = match &grid {
        Some(g) if g.dt0 == 5 => Some(g.clone()),
        _ => grid_or_none(&local, Some(5))?,
    };
    let nan_or = |f: &dyn Fn(&DayGrid) -> f64, g: &Option<DayGrid>| g.as_ref().map_or(f64::NAN, f);

    let q = stats::quantiles(&values);
    let s = summary_stats(&values);
    let gr = stats::grade(&values);
    let (active, ndays) = active_percent(points);
    let cv = grid.as_ref().map(variability::cv_measures);
    let sdm = grid.as_ref().map(variability::sd_measures);
    let sd_roc = grid5
        .as_ref()
        .map_or(f64::NAN, |g| variability::sd_roc(&variability::roc(g, 15)));
    let metrics = Metrics {
        mean_glu: s.mean,
        median_glu: q.median,
        sd_glu: s.sd,
        cv_glu: s.cv,
        gmi: s.gmi,
        ea1c: s.ea1c,
        in_range_70_180: stats::in_range_percent(&values, 70.0, 180.0),
        below_54: stats::below_percent(&values, 54.0),
        below_70: stats::below_percent(&values, 70.0),
        above_180: stats::above_percent(&values, 180.0),
        above_250: stats::above_percent(&values, 250.0),
        active_percent: active,
        mage: nan_or(&|g| mage::mage_ma(g, &mage::MageParams::default()), &grid5),
        modd: nan_or(&|g| variability::modd(g, 1), &grid),
        conga_1: nan_or(&|g| variability::conga(g, 1), &grid),
        conga_24: nan_or(&|g| variability::conga(g, 24), &grid),
        lbgi: stats::lbgi(&values),
        hbgi: stats::hbgi(&values),
        adrr: adrr_local(&local),
        grade: gr.grade,
        grade_hypo: gr.hypo,
        grade_eugly: gr.eugly,
        grade_hyper: gr.hyper,
        j_index: stats::j_index(&values),
        mad_glu: stats::mad(&values),
        m_value: stats::m_value(&values, 90.0),
        gri: stats::gri(&values),
        hyper_index: stats::hyper_index(&values),
        hypo_index: stats::hypo_index(&values),
        mag: nan_or(&variability::mag, &grid),
        range: q.max - q.min,
        iqr: q.q75 - q.q25,
        quantiles: q,
        mage_naive: stats::mage_naive(&values),
        in_range_70_140: stats::in_range_percent(&values, 70.0, 140.0),
        in_range_54_250: stats::in_range_percent(&values, 54.0, 250.0),
        in_range_63_140: stats::in_range_percent(&values, 63.0, 140.0),
        above_140: stats::above_percent(&values, 140.0),
        ndays,
        igc: stats::hyper_index(&values) + stats::hypo_index(&values),
        gvp: nan_or(&variability::gvp, &grid),
        cogi: stats::cogi(&values),
        pgs: pgs(&values, grid.as_ref()),
        hourly_auc: nan_or(&variability::hourly_auc, &grid),
        cv_mean: cv.map_or(f64::NAN, |c| c.cv_mean),
        cv_sd: cv.map_or(f64::NAN, |c| c.cv_sd),
        sdw: sdm.map_or(f64::NAN, |m| m.sdw),
        sdhhmm: sdm.map_or(f64::NAN, |m| m.sdhhmm),
        sdwsh: sdm.map_or(f64::NAN, |m| m.sdwsh),
        sddm: sdm.map_or(f64::NAN, |m| m.sddm),
        sdb: sdm.map_or(f64::NAN, |m| m.sdb),
        sdbdm: sdm.map_or(f64::NAN, |m| m.sdbdm),
        sd_roc,
    };
    let episodes = grid
        .as_ref()
        .map_or_else(Episodes::empty, |g| episodes::episodes(g, &EpisodeParams::default()));
    let agp = grid.as_ref().map(variability::agp).unwrap_or_default();
    Ok(MetricsReport {
        n: points.len(),
        metrics,
        episodes,
        agp,
    })
}
