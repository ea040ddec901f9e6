//! Hypo-/hyperglycaemic episodes (iglu `episode_calculation`, iglu-python 0.4 R-compatible mode).
//!
//! Runs on the interpolated grid, split into segments of consecutive finite points. In a segment an episode
//! starts at a run of at least `dur_length/dt0` (rounded up) points beyond the threshold and lasts until the
//! point before the next run of at least `end_length/dt0` points back inside (or the segment end); starts before
//! the same end merge into one episode. Extended hypoglycaemia needs `int(120/dt0) + 1` points below level 1.
//! `lv1_excl` drops level-1 episodes containing a level-2 point.

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

/// iglu `event_class`: episode labels (0 = none, 1.. = episode number within the segment).
fn event_class(seg: &[f64], beyond: impl Fn(f64) -> bool, ev_dur: usize, end_dur: usize) -> Vec<u32> {
    let n = seg.len();
    let mut starts = Vec::new();
    let mut ends = vec![0usize];
    let mut i = 0;
    while i < n {
        let lvl = beyond(seg[i]);
        let mut j = i;
        while j < n && beyond(seg[j]) == lvl {
            j += 1;
        }
        let len = j - i;
        if lvl && len >= ev_dur {
            starts.push(i);
        }
        if !lvl && len >= end_dur {
            ends.push(i);
        }
        i = j;
    }
    ends.push(n);
    let mut out = vec![0u32; n];
    let mut label = 0u32;
    let mut last_end: Option<usize> = None;
    let mut e_ptr = 0usize;
    for &s in &starts {
        while ends[e_ptr] <= s {
            e_ptr += 1;
        }
        let e = ends[e_ptr] - 1;
        if last_end == Some(e) {
            continue; // pairs.drop_duplicates(subset="ends_ref")
        }
        last_end = Some(e);
        label += 1;
        out[s..=e].iter_mut().for_each(|v| *v = label);
    }
    out
}

#[derive(Default)]
struct Acc {
    // per episode: (count, sum of glucose)
    episodes: Vec<(usize, f64)>,
}

impl Acc {
    fn add_segment(&mut self, seg: &[f64], labels: &[u32], keep: impl Fn(u32) -> bool) {
        let n_labels = labels.iter().copied().max().unwrap_or(0) as usize;
        let mut local = vec![(0usize, 0.0f64); n_labels];
        for (&g, &l) in seg.iter().zip(labels) {
            if l > 0 && keep(l) {
                local[l as usize - 1].0 += 1;
                local[l as usize - 1].1 += g;
            }
        }
        self.episodes.extend(local.into_iter().filter(|e| e.0 > 0));
    }

    fn stats(&self, n_points: usize, dt0: f64) -> EpisodeStats {
        if self.episodes.is_empty() {
            return EpisodeStats {
                avg_ep_per_day: 0.0,
                avg_ep_duration: 0.0,
                avg_ep_gl: f64::NAN,
                total_episodes: 0,
            };
        }
        let k = self.episodes.len() as f64;
        let mean_count = self.episodes.iter().map(|e| e.0 as f64).sum::<f64>() / k;
        let mean_gl = self.episodes.iter().map(|e| e.1 / e.0 as f64).sum::<f64>() / k;
        EpisodeStats {
            avg_ep_per_day: k / (n_points as f64 * dt0 / 60.0 / 24.0),
            avg_ep_duration: mean_count * dt0,
            avg_ep_gl: mean_gl,
            total_episodes: self.episodes.len(),
        }
    }
}

/// iglu `episode_calculation` on a grid.
pub fn episodes(grid: &DayGrid, p: &EpisodeParams) -> Episodes {
    let dt0 = grid.dt0 as f64;
    let dur = (p.dur_length as f64 / dt0).ceil() as usize;
    let end = (p.end_length as f64 / dt0).ceil() as usize;
    let ext = (120.0 / dt0) as usize + 1;
    let mut acc: [Acc; 7] = Default::default();
    let mut n_points = 0usize;
    let g = &grid.values;
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
        n_points += seg.len();
        let l1o = event_class(seg, |v| v < p.lv1_hypo, dur, end);
        let l2o = event_class(seg, |v| v < p.lv2_hypo, dur, end);
        let l1r = event_class(seg, |v| v > p.lv1_hyper, dur, end);
        let l2r = event_class(seg, |v| v > p.lv2_hyper, dur, end);
        let exo = event_class(seg, |v| v < p.lv1_hypo, ext, end);
        let excluded = |l1: &[u32], l2: &[u32]| {
            let n = l1.iter().copied().max().unwrap_or(0) as usize;
            let mut has = vec![false; n + 1];
            for (&a, &b) in l1.iter().zip(l2) {
                if b > 0 {
                    has[a as usize] = true;
                }
            }
            has
        };
        let ex_o = excluded(&l1o, &l2o);
        let ex_r = excluded(&l1r, &l2r);
        acc[0].add_segment(seg, &l1o, |_| true);
        acc[1].add_segment(seg, &l2o, |_| true);
        acc[2].add_segment(seg, &exo, |_| true);
        acc[3].add_segment(seg, &l1r, |_| true);
        acc[4].add_segment(seg, &l2r, |_| true);
        acc[5].add_segment(seg, &l1o, |l| !ex_o[l as usize]);
        acc[6].add_segment(seg, &l1r, |l| !ex_r[l as usize]);
        i = j;
    }
    let s = |k: usize| acc[k].stats(n_points, dt0);
    Episodes {
        hypo_lv1: s(0),
        hypo_lv2: s(1),
        hypo_extended: s(2),
        hyper_lv1: s(3),
        hyper_lv2: s(4),
        hypo_lv1_excl: s(5),
        hyper_lv1_excl: s(6),
    }
}
