//! Hypo- and hyperglycaemic episodes (international consensus 2023, Battelino et al.; iglu `episode_calculation`,
//! iglu-python 0.4 R-compatible mode).
//!
//! One detector, [`detect`], lists the episodes; iglu's summary rows ([`episodes`]) are computed from that list
//! ([`summarize`]), so a list and a summary of the same grid cannot disagree.
//!
//! # The definition, on the grid
//! Detection runs on the interpolated grid ([`DayGrid`], built by [`super::grid::day_by_day`]): where consecutive
//! readings are more than `inter_gap` minutes apart (45 by default) the grid points strictly between them stay NaN;
//! shorter gaps are bridged by linear interpolation. The grid's points, day rows joined, are split into segments of
//! consecutive finite points, and no episode spans a NaN.
//!
//! Time is counted in grid points, each standing for `dt0` minutes (iglu's durations are `points × dt0`):
//! - An episode starts at a run of at least `ceil(dur_length / dt0)` consecutive points beyond the threshold
//!   (strictly: `< 70` and `< 54`, `> 180` and `> 250` mg/dL). On the 5-minute grid "15 minutes" is 3 points, e.g.
//!   readings at 10:00, 10:05 and 10:10 below 70 (the first and last are 10 minutes apart; they cover 15 minutes of
//!   grid time); 2 points (10 minutes) are not an episode. On a 1-minute grid it is 15 points, and 14 are not.
//! - It lasts until the point before the next run of at least `ceil(end_length / dt0)` points back inside, or to
//!   the end of its segment (a gap or the end of the data ends it there). A shorter excursion back stays inside the
//!   episode, and a second start before that end joins the same episode.
//! - A level-1 hypo episode is *extended* when it holds a run of at least `int(120 / dt0) + 1` points below level 1,
//!   more than 120 minutes: 25 points (125 min) on the 5-minute grid, 121 on a 1-minute grid; 120 minutes is not
//!   extended. iglu's extended episode runs from the start of that run to the level-1 episode's end
//!   ([`Episode::extended_from`]). Every such run starts a level-1 episode as long as `dur_length ≤ 120`.
//! - Levels 1 and 2 are detected separately by the same rules. A level-2 episode always lies inside a level-1
//!   episode of the same kind, which carries [`Episode::contains_level_2`]; both are listed. iglu's `lv1_excl` rows
//!   count the level-1 episodes without one.

use serde::Serialize;

use super::grid::DayGrid;

/// Thresholds (mg/dL) and durations (minutes) of `episode_calculation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeParams {
    pub lv1_hypo: f64,
    pub lv2_hypo: f64,
    pub lv1_hyper: f64,
    pub lv2_hyper: f64,
    pub dur_length: u32,
    pub end_length: u32,
}

impl Default for EpisodeParams {
    fn default() -> Self {
        Self {
            lv1_hypo: 70.0,
            lv2_hypo: 54.0,
            lv1_hyper: 180.0,
            lv2_hyper: 250.0,
            dur_length: 15,
            end_length: 15,
        }
    }
}

/// Below (hypo) or above (hyper) the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpisodeKind {
    Hypo,
    Hyper,
}

/// Consensus level: 1 beyond `lv1_*` (70 / 180 mg/dL), 2 beyond `lv2_*` (54 / 250 mg/dL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EpisodeLevel {
    Level1,
    Level2,
}

impl EpisodeLevel {
    pub fn number(self) -> u8 {
        match self {
            EpisodeLevel::Level1 => 1,
            EpisodeLevel::Level2 => 2,
        }
    }
}

/// One episode on a grid; indices are into [`DayGrid::values`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    pub kind: EpisodeKind,
    pub level: EpisodeLevel,
    /// First point beyond the threshold.
    pub start: usize,
    /// Last point, inclusive: the point before the run back inside that ended the episode, or the last finite
    /// point before a gap or the end of the grid.
    pub end: usize,
    /// Lowest (hypo) or highest (hyper) grid value in `start..=end`, mg/dL: the nadir or the peak.
    pub extreme: f64,
    /// Level-1 hypo only: where the first run of more than 120 minutes below level 1 starts (the episode is
    /// extended); iglu's extended episode is `extended_from..=end`.
    pub extended_from: Option<usize>,
    /// Level 1 only: a level-2 episode of the same kind lies inside.
    pub contains_level_2: bool,
}

impl Episode {
    /// Grid points in the episode; its duration is `points() × dt0` minutes.
    pub fn points(&self) -> usize {
        self.end - self.start + 1
    }

    pub fn is_extended(&self) -> bool {
        self.extended_from.is_some()
    }
}

/// One row of iglu's episode summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpisodeStats {
    /// Episodes per day of finite grid time.
    pub avg_ep_per_day: f64,
    /// Mean episode duration, minutes.
    pub avg_ep_duration: f64,
    /// Mean over episodes of the episode's mean glucose (NaN without episodes).
    pub avg_ep_gl: f64,
    pub total_episodes: usize,
}

/// iglu's seven summary rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Episodes {
    pub hypo_lv1: EpisodeStats,
    pub hypo_lv2: EpisodeStats,
    pub hypo_extended: EpisodeStats,
    pub hyper_lv1: EpisodeStats,
    pub hyper_lv2: EpisodeStats,
    pub hypo_lv1_excl: EpisodeStats,
    pub hyper_lv1_excl: EpisodeStats,
}

impl Episodes {
    /// All rows empty (no grid).
    pub fn empty() -> Self {
        let e = EpisodeStats {
            avg_ep_per_day: f64::NAN,
            avg_ep_duration: f64::NAN,
            avg_ep_gl: f64::NAN,
            total_episodes: 0,
        };
        Self {
            hypo_lv1: e,
            hypo_lv2: e,
            hypo_extended: e,
            hyper_lv1: e,
            hyper_lv2: e,
            hypo_lv1_excl: e,
            hyper_lv1_excl: e,
        }
    }
}

/// A maximal run of a segment's points on one side of a threshold: `start..end`.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    beyond: bool,
}

impl Run {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

fn runs(seg: &[f64], beyond: impl Fn(f64) -> bool) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (i, &v) in seg.iter().enumerate() {
        let b = beyond(v);
        match out.last_mut() {
            Some(run) if run.beyond == b => run.end = i + 1,
            _ => out.push(Run {
                start: i,
                end: i + 1,
                beyond: b,
            }),
        }
    }
    out
}

/// iglu `event_class`: the episodes (first, last point inclusive) of a segment of `n` points with these `runs`.
/// Each start (a run of ≥ `ev_dur` points beyond) ends before the first end (a run of ≥ `end_dur` points back)
/// after it, or at the segment's end; starts sharing an end are one episode, from the first of them.
fn event_spans(runs: &[Run], n: usize, ev_dur: usize, end_dur: usize) -> Vec<(usize, usize)> {
    let ends: Vec<usize> = runs
        .iter()
        .filter(|r| !r.beyond && r.len() >= end_dur)
        .map(|r| r.start)
        .chain([n])
        .collect();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut next_end = 0usize;
    for start in runs.iter().filter(|r| r.beyond && r.len() >= ev_dur).map(|r| r.start) {
        while ends[next_end] <= start {
            next_end += 1;
        }
        let last = ends[next_end] - 1;
        if spans.last().is_some_and(|&(_, e)| e == last) {
            continue; // iglu: pairs.drop_duplicates(subset="ends_ref")
        }
        spans.push((start, last));
    }
    spans
}

/// Every episode of the grid, ordered by start (a level-1 episode before a level-2 one starting with it).
pub fn detect(grid: &DayGrid, p: &EpisodeParams) -> Vec<Episode> {
    let dt0 = grid.dt0 as f64;
    let dur = (p.dur_length as f64 / dt0).ceil() as usize;
    let end = (p.end_length as f64 / dt0).ceil() as usize;
    let extended = (120.0 / dt0) as usize + 1;
    let g = &grid.values;
    let mut out = Vec::new();
    let mut i = 0;
    while i < g.len() {
        if g[i].is_nan() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < g.len() && !g[j].is_nan() {
            j += 1;
        }
        let seg = &g[i..j];
        for (kind, lv1, lv2) in [
            (EpisodeKind::Hypo, p.lv1_hypo, p.lv2_hypo),
            (EpisodeKind::Hyper, p.lv1_hyper, p.lv2_hyper),
        ] {
            let beyond = |threshold: f64| {
                move |v: f64| match kind {
                    EpisodeKind::Hypo => v < threshold,
                    EpisodeKind::Hyper => v > threshold,
                }
            };
            let extreme = |s: usize, e: usize| {
                let values = seg[s..=e].iter().copied();
                match kind {
                    EpisodeKind::Hypo => values.fold(f64::INFINITY, f64::min),
                    EpisodeKind::Hyper => values.fold(f64::NEG_INFINITY, f64::max),
                }
            };
            let runs1 = runs(seg, beyond(lv1));
            let level2 = event_spans(&runs(seg, beyond(lv2)), seg.len(), dur, end);
            for (s, e) in event_spans(&runs1, seg.len(), dur, end) {
                let extended_from = (kind == EpisodeKind::Hypo)
                    .then(|| {
                        runs1
                            .iter()
                            .find(|r| r.beyond && r.start >= s && r.start <= e && r.len() >= extended)
                            .map(|r| i + r.start)
                    })
                    .flatten();
                out.push(Episode {
                    kind,
                    level: EpisodeLevel::Level1,
                    start: i + s,
                    end: i + e,
                    extreme: extreme(s, e),
                    extended_from,
                    contains_level_2: level2.iter().any(|&(s2, e2)| s2 <= e && e2 >= s),
                });
            }
            out.extend(level2.iter().map(|&(s, e)| Episode {
                kind,
                level: EpisodeLevel::Level2,
                start: i + s,
                end: i + e,
                extreme: extreme(s, e),
                extended_from: None,
                contains_level_2: false,
            }));
        }
        i = j;
    }
    // Stable: within one kind and level the order stays chronological, which the summary's sums rely on.
    out.sort_by_key(|e| (e.start, e.level));
    out
}

/// iglu's summary rows of `list`, the episodes [`detect`] found on `grid`.
pub fn summarize(grid: &DayGrid, list: &[Episode]) -> Episodes {
    let dt0 = grid.dt0 as f64;
    let n_points = grid.values.iter().filter(|v| !v.is_nan()).count();
    let row = |spans: Vec<(usize, usize)>| -> EpisodeStats {
        if spans.is_empty() {
            return EpisodeStats {
                avg_ep_per_day: 0.0,
                avg_ep_duration: 0.0,
                avg_ep_gl: f64::NAN,
                total_episodes: 0,
            };
        }
        let k = spans.len() as f64;
        let mean_points = spans.iter().map(|&(s, e)| (e - s + 1) as f64).sum::<f64>() / k;
        let mean_gl = spans
            .iter()
            .map(|&(s, e)| grid.values[s..=e].iter().sum::<f64>() / (e - s + 1) as f64)
            .sum::<f64>()
            / k;
        EpisodeStats {
            avg_ep_per_day: k / (n_points as f64 * dt0 / 60.0 / 24.0),
            avg_ep_duration: mean_points * dt0,
            avg_ep_gl: mean_gl,
            total_episodes: spans.len(),
        }
    };
    let spans = |keep: &dyn Fn(&Episode) -> bool| -> Vec<(usize, usize)> {
        list.iter().filter(|e| keep(e)).map(|e| (e.start, e.end)).collect()
    };
    let of = |kind: EpisodeKind, level: EpisodeLevel| move |e: &Episode| e.kind == kind && e.level == level;
    let (hypo1, hyper1) = (
        of(EpisodeKind::Hypo, EpisodeLevel::Level1),
        of(EpisodeKind::Hyper, EpisodeLevel::Level1),
    );
    Episodes {
        hypo_lv1: row(spans(&hypo1)),
        hypo_lv2: row(spans(&of(EpisodeKind::Hypo, EpisodeLevel::Level2))),
        hypo_extended: row(list
            .iter()
            .filter_map(|e| e.extended_from.map(|from| (from, e.end)))
            .collect()),
        hyper_lv1: row(spans(&hyper1)),
        hyper_lv2: row(spans(&of(EpisodeKind::Hyper, EpisodeLevel::Level2))),
        hypo_lv1_excl: row(spans(&|e| hypo1(e) && !e.contains_level_2)),
        hyper_lv1_excl: row(spans(&|e| hyper1(e) && !e.contains_level_2)),
    }
}

/// iglu `episode_calculation` on a grid: [`summarize`] of [`detect`].
pub fn episodes(grid: &DayGrid, p: &EpisodeParams) -> Episodes {
    summarize(grid, &detect(grid, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::grid::{day_by_day, LocalReading};
    use crate::metrics::INTER_GAP_MIN;

    const MIN_NS: i64 = 60_000_000_000;
    /// 2025-03-01T06:00 on the wall clock: every trace below stays within the day.
    const T0: i64 = 1_740_808_800 * 1_000_000_000;
    const NO_READING: f64 = f64::NAN;

    /// The grid of readings every `dt0` minutes from `T0` (on the grid), given as runs of (value, count);
    /// [`NO_READING`] runs are time without readings. Returns the grid and the grid index of reading 0.
    fn grid(dt0: u32, runs: &[(f64, usize)]) -> (DayGrid, usize) {
        let mut readings = Vec::new();
        let mut k = 0i64;
        for &(mg_dl, count) in runs {
            for _ in 0..count {
                if !mg_dl.is_nan() {
                    readings.push(LocalReading {
                        local_ns: T0 + k * dt0 as i64 * MIN_NS,
                        mg_dl,
                    });
                }
                k += 1;
            }
        }
        let grid = day_by_day(&readings, Some(dt0), INTER_GAP_MIN).unwrap().unwrap();
        let first = grid.values.iter().position(|v| !v.is_nan()).unwrap();
        (grid, first)
    }

    /// (kind, level, first reading, last reading) of every episode, reading numbers counted from reading 0.
    fn found(dt0: u32, runs: &[(f64, usize)]) -> Vec<(EpisodeKind, u8, usize, usize)> {
        let (grid, first) = grid(dt0, runs);
        detect(&grid, &EpisodeParams::default())
            .iter()
            .map(|e| (e.kind, e.level.number(), e.start - first, e.end - first))
            .collect()
    }

    fn only(dt0: u32, runs: &[(f64, usize)]) -> Episode {
        let (grid, _) = grid(dt0, runs);
        match detect(&grid, &EpisodeParams::default())[..] {
            [one] => one,
            ref other => panic!("expected one episode, found {other:?}"),
        }
    }

    use EpisodeKind::{Hyper, Hypo};

    #[test]
    fn fifteen_minutes_beyond_start_an_episode_fourteen_do_not() {
        // 5-minute grid: 3 readings (10:00, 10:05, 10:10) are 15 minutes of grid time.
        assert_eq!(found(5, &[(100.0, 6), (65.0, 3), (100.0, 6)]), [(Hypo, 1, 6, 8)]);
        assert_eq!(only(5, &[(100.0, 6), (65.0, 3), (100.0, 6)]).points() * 5, 15);
        assert_eq!(found(5, &[(100.0, 6), (65.0, 2), (100.0, 6)]), []);
        // 1-minute grid: 15 points are an episode, 14 are not.
        assert_eq!(found(1, &[(100.0, 20), (65.0, 15), (100.0, 20)]), [(Hypo, 1, 20, 34)]);
        assert_eq!(found(1, &[(100.0, 20), (65.0, 14), (100.0, 20)]), []);
        // The thresholds themselves are inside the range.
        assert_eq!(found(5, &[(100.0, 6), (70.0, 3), (100.0, 6)]), []);
        assert_eq!(found(5, &[(100.0, 6), (54.0, 3), (100.0, 6)]), [(Hypo, 1, 6, 8)]);
        assert_eq!(found(5, &[(150.0, 6), (180.0, 3), (150.0, 6)]), []);
        assert_eq!(found(5, &[(150.0, 6), (250.0, 3), (150.0, 6)]), [(Hyper, 1, 6, 8)]);
    }

    #[test]
    fn extended_hypoglycaemia_needs_more_than_120_minutes() {
        let extended = |dt0: u32, points: usize| only(dt0, &[(100.0, 20), (65.0, points), (100.0, 20)]).is_extended();
        assert!(extended(1, 121));
        assert!(!extended(1, 120));
        assert!(extended(5, 25), "125 minutes on the 5-minute grid");
        assert!(!extended(5, 24), "120 minutes");

        // The > 120-minute run may come after a short excursion back: the extended episode starts there.
        let runs = [(65.0, 3), (100.0, 2), (65.0, 25), (100.0, 6)];
        let (grid, first) = grid(5, &runs);
        let list = detect(&grid, &EpisodeParams::default());
        assert_eq!((list.len(), list[0].start - first, list[0].end - first), (1, 0, 29));
        assert_eq!(list[0].extended_from, Some(first + 5));
        let summary = summarize(&grid, &list);
        assert_eq!(summary.hypo_lv1.avg_ep_duration, 150.0);
        assert_eq!(summary.hypo_extended.avg_ep_duration, 125.0);
        assert_eq!(summary.hypo_extended.avg_ep_gl, 65.0);
    }

    #[test]
    fn level_2_inside_level_1_is_listed_and_flagged() {
        let runs = [(100.0, 6), (65.0, 3), (50.0, 4), (65.0, 3), (100.0, 6)];
        assert_eq!(found(5, &runs), [(Hypo, 1, 6, 15), (Hypo, 2, 9, 12)]);
        let (grid, _) = grid(5, &runs);
        let list = detect(&grid, &EpisodeParams::default());
        assert!(list[0].contains_level_2);
        assert!(!list[1].contains_level_2);
        assert_eq!((list[0].extreme, list[1].extreme), (50.0, 50.0));
        let summary = episodes(&grid, &EpisodeParams::default());
        assert_eq!(
            (summary.hypo_lv1.total_episodes, summary.hypo_lv2.total_episodes),
            (1, 1)
        );
        assert_eq!(summary.hypo_lv1_excl.total_episodes, 0);
        assert_eq!(summary.hypo_lv1.avg_ep_duration, 50.0);
        assert_eq!(summary.hypo_lv2.avg_ep_gl, 50.0);

        // A 10-minute dip below 54 is no level-2 episode.
        let dip = only(5, &[(100.0, 6), (65.0, 3), (50.0, 2), (65.0, 3), (100.0, 6)]);
        assert!(!dip.contains_level_2);
        assert_eq!((dip.level, dip.extreme), (EpisodeLevel::Level1, 50.0));
    }

    #[test]
    fn an_episode_ends_only_after_fifteen_minutes_back() {
        // 10 minutes back inside the range do not split the episode; they are part of it.
        assert_eq!(
            found(5, &[(100.0, 6), (60.0, 4), (100.0, 2), (60.0, 4), (100.0, 6)]),
            [(Hypo, 1, 6, 15)]
        );
        assert_eq!(
            found(5, &[(100.0, 6), (60.0, 4), (100.0, 3), (60.0, 4), (100.0, 6)]),
            [(Hypo, 1, 6, 9), (Hypo, 1, 13, 16)]
        );
        // Without 15 minutes back, the episode lasts to the end of the data.
        assert_eq!(found(5, &[(100.0, 6), (60.0, 4), (100.0, 2)]), [(Hypo, 1, 6, 11)]);
    }

    #[test]
    fn hyper_episodes_mirror_hypo_episodes() {
        assert_eq!(found(5, &[(150.0, 6), (190.0, 3), (150.0, 6)]), [(Hyper, 1, 6, 8)]);
        assert_eq!(found(5, &[(150.0, 6), (190.0, 2), (150.0, 6)]), []);
        let runs = [
            (150.0, 6),
            (190.0, 3),
            (260.0, 3),
            (190.0, 2),
            (150.0, 2),
            (190.0, 2),
            (150.0, 6),
        ];
        assert_eq!(found(5, &runs), [(Hyper, 1, 6, 17), (Hyper, 2, 9, 11)]);
        let (grid, _) = grid(5, &runs);
        let list = detect(&grid, &EpisodeParams::default());
        assert!(list[0].contains_level_2);
        assert_eq!((list[0].extreme, list[1].extreme), (260.0, 260.0));
        // Only hypoglycaemia is ever extended.
        assert!(!only(5, &[(150.0, 6), (190.0, 30), (150.0, 6)]).is_extended());
    }

    #[test]
    fn gaps_over_45_minutes_split_the_grid_shorter_ones_are_interpolated() {
        // 10 minutes low on each side of a 60-minute gap: two segments, no episode.
        assert_eq!(
            found(5, &[(100.0, 6), (60.0, 2), (NO_READING, 11), (60.0, 2), (100.0, 6)]),
            []
        );
        // Readings 30 and exactly 45 minutes apart are bridged: the interpolated points are below too.
        assert_eq!(
            found(5, &[(100.0, 6), (60.0, 1), (NO_READING, 5), (60.0, 1), (100.0, 6)]),
            [(Hypo, 1, 6, 12)]
        );
        assert_eq!(found(5, &[(60.0, 1), (NO_READING, 8), (60.0, 1)]), [(Hypo, 1, 0, 9)]);
        assert_eq!(found(5, &[(60.0, 1), (NO_READING, 9), (60.0, 1)]), []);
        // An episode running into a long gap ends at its last reading.
        assert_eq!(
            found(5, &[(100.0, 6), (60.0, 4), (NO_READING, 12), (100.0, 6)]),
            [(Hypo, 1, 6, 9)]
        );
    }
}
