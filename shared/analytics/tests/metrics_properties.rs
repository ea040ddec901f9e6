//! Property tests against deliberately simple re-implementations, on seeded random irregular traces.

use chrono::{DateTime, Duration, FixedOffset};
use chrono_tz::UTC;
use glucolens_analytics::cgm::CgmPoint;
use glucolens_analytics::metrics::{self, stats, variability, EpisodeParams};

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unif(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Irregular trace: mostly 5-minute steps (some jittered by whole seconds), occasional gaps, random walk values.
fn trace(rng: &mut SplitMix, n: usize) -> Vec<CgmPoint> {
    let mut t =
        DateTime::parse_from_rfc3339("2025-03-01T00:00:00Z").unwrap() + Duration::seconds(rng.below(86_400) as i64);
    let mut g = 60.0 + 200.0 * rng.unif();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(CgmPoint {
            time: t,
            mg_dl: (g * 10.0f64).round() / 10.0,
        });
        let step = match rng.below(100) {
            0..=2 => 300 * (2 + rng.below(60) as i64), // gap 10 min .. 5 h
            3..=12 => 300 + rng.below(61) as i64 - 30,
            _ => 300,
        };
        t += Duration::seconds(step);
        g = (g + 12.0 * (rng.unif() - 0.5)).clamp(39.0, 400.0);
    }
    out
}

fn secs(t: DateTime<FixedOffset>) -> f64 {
    t.timestamp() as f64
}

/// The grid by definition: value at local time k·dt0 after the first midnight (k ≥ 1) is the linear
/// interpolation of the bracketing readings, NaN outside the data, and NaN when the bracketing readings are
/// more than 45 minutes apart (iglu's index arithmetic blanks exactly the grid points strictly inside a gap).
#[test]
fn grid_equals_direct_definition() {
    let mut rng = SplitMix(7);
    for _ in 0..20 {
        let n = 300 + rng.below(1500) as usize;
        let pts = trace(&mut rng, n);
        let grid = metrics::day_grid(&pts, UTC, Some(5)).unwrap().unwrap();
        let day0 = secs(pts[0].time).div_euclid(86_400.0) * 86_400.0;
        for (k, &ours) in grid.values.iter().enumerate() {
            let x = day0 + 300.0 * (k + 1) as f64;
            let j = pts.iter().rposition(|p| secs(p.time) <= x);
            let expect = match j {
                None => f64::NAN,
                Some(j) if secs(pts[j].time) == x => pts[j].mg_dl,
                Some(j) if j + 1 == pts.len() => f64::NAN,
                Some(j) => {
                    let (t0, t1) = (secs(pts[j].time), secs(pts[j + 1].time));
                    if t1 - t0 > 45.0 * 60.0 {
                        f64::NAN
                    } else {
                        pts[j].mg_dl + (pts[j + 1].mg_dl - pts[j].mg_dl) * (x - t0) / (t1 - t0)
                    }
                }
            };
            if expect.is_nan() || ours.is_nan() {
                assert!(expect.is_nan() && ours.is_nan(), "k={k}: ours {ours} expected {expect}");
            } else {
                assert!((ours - expect).abs() < 1e-9, "k={k}: ours {ours} expected {expect}");
            }
        }
    }
}

/// Episodes on a clean grid against a direct state machine: an episode starts at ≥ 3 points beyond the
/// threshold and ends before ≥ 3 points back inside.
#[test]
fn episode_counts_equal_state_machine() {
    let mut rng = SplitMix(11);
    for _ in 0..20 {
        let pts: Vec<CgmPoint> = {
            let t0 = DateTime::parse_from_rfc3339("2025-03-01T00:00:00Z").unwrap();
            let mut g: f64 = 120.0;
            (0..2000)
                .map(|i| {
                    g = (g + 25.0 * (rng.unif() - 0.5)).clamp(40.0, 300.0);
                    CgmPoint {
                        time: t0 + Duration::minutes(5 * (i + 1)),
                        mg_dl: g.round(),
                    }
                })
                .collect()
        };
        let grid = metrics::day_grid(&pts, UTC, None).unwrap().unwrap();
        let e = metrics::episodes::episodes(&grid, &EpisodeParams::default());
        let vals: Vec<f64> = grid.values.iter().copied().filter(|v| !v.is_nan()).collect();
        let count = |beyond: &dyn Fn(f64) -> bool| {
            let (mut in_ep, mut run_in, mut run_out, mut n) = (false, 0, 0, 0);
            for &v in &vals {
                if beyond(v) {
                    run_in += 1;
                    run_out = 0;
                } else {
                    run_out += 1;
                    run_in = 0;
                }
                if !in_ep && run_in >= 3 {
                    in_ep = true;
                    n += 1;
                }
                if in_ep && run_out >= 3 {
                    in_ep = false;
                }
            }
            n
        };
        assert_eq!(e.hypo_lv1.total_episodes, count(&|v| v < 70.0));
        assert_eq!(e.hypo_lv2.total_episodes, count(&|v| v < 54.0));
        assert_eq!(e.hyper_lv1.total_episodes, count(&|v| v > 180.0));
        assert_eq!(e.hyper_lv2.total_episodes, count(&|v| v > 250.0));
    }
}

/// Raw-value metrics against one-line formulas.
#[test]
fn raw_metrics_equal_formulas() {
    let mut rng = SplitMix(3);
    for _ in 0..50 {
        let n = 2 + rng.below(500) as usize;
        let v: Vec<f64> = (0..n).map(|_| 39.0 + 360.0 * rng.unif()).collect();
        let m = v.iter().sum::<f64>() / n as f64;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(close(stats::mean(&v), m));
        assert!(close(stats::sd(&v), sd));
        assert!(close(stats::j_index(&v), 0.001 * (m + sd).powi(2)));
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let q = stats::quantiles(&v);
        assert_eq!((q.min, q.max), (s[0], s[n - 1]));
        let f = |g: f64| 1.509 * (g.ln().powf(1.084) - 5.381);
        let lb: f64 = v.iter().map(|&g| f(g).min(0.0).powi(2)).sum::<f64>() * 10.0 / n as f64;
        let hb: f64 = v.iter().map(|&g| f(g).max(0.0).powi(2)).sum::<f64>() * 10.0 / n as f64;
        assert!(close(stats::lbgi(&v), lb));
        assert!(close(stats::hbgi(&v), hb));
        let r = stats::range_percentages(&v);
        let total = r.below_54 + r.from_54_to_69 + r.from_70_to_180 + r.from_181_to_250 + r.above_250;
        assert!(close(total, 100.0));
        assert!(close(r.below_54 + r.from_54_to_69, stats::below_percent(&v, 70.0)));
        assert!(close(r.from_181_to_250 + r.above_250, stats::above_percent(&v, 180.0)));
    }
}

/// CONGA(n) and MODD: direct loops over the flattened grid.
#[test]
fn lagged_grid_metrics_equal_loops() {
    let mut rng = SplitMix(5);
    for _ in 0..10 {
        let pts = trace(&mut rng, 3000);
        let grid = metrics::day_grid(&pts, UTC, None).unwrap().unwrap();
        let g = &grid.values;
        let lag = |l: usize| -> Vec<f64> { (l..g.len()).map(|i| g[i] - g[i - l]).filter(|d| !d.is_nan()).collect() };
        let d = lag(12);
        let m = d.iter().sum::<f64>() / d.len() as f64;
        let sd = (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (d.len() - 1) as f64).sqrt();
        assert!((variability::conga(&grid, 1) - sd).abs() < 1e-9);
        let d = lag(288);
        let modd = d.iter().map(|x| x.abs()).sum::<f64>() / d.len() as f64;
        assert!((variability::modd(&grid, 1) - modd).abs() < 1e-9);
    }
}
