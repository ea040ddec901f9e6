//! Property and edge-case tests of glucolens_analytics::matrix_profile against an independent brute-force
//! O(n²·m) matrix profile written here, on seeded random series with NaN gaps and constant stretches.

use chrono::{DateTime, Duration};
use glucolens_analytics::cgm::CgmPoint;
use glucolens_analytics::matrix_profile::{
    discords, exclusion_zone, infer_interval, motifs, regular_grid, stump, stump_with, MotifParams, StumpOptions,
};
use glucolens_analytics::AnalyticsError;

/// splitmix64, uniform in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, k: usize) -> usize {
        (self.next() * k as f64) as usize
    }
}

/// CGM-like random walk (values with one decimal) with constant stretches (stuck sensor, often at the floor 39,
/// so different stretches share the value) and NaN gaps.
fn random_series(rng: &mut Rng, n: usize, m: usize) -> Vec<f64> {
    let mut t = Vec::with_capacity(n);
    let mut level = 120.0;
    while t.len() < n {
        let r = rng.next();
        if r < 0.08 {
            // constant stretch, sometimes at the floor so different stretches share the value
            let len = m + rng.below(2 * m);
            let v = if rng.next() < 0.5 {
                39.0
            } else {
                (level * 10.0f64).round() / 10.0
            };
            t.extend(std::iter::repeat_n(v, len));
        } else if r < 0.12 {
            let len = 1 + rng.below(m);
            t.extend(std::iter::repeat_n(f64::NAN, len));
        } else {
            level += 10.0 * (rng.next() - 0.5);
            t.push((level * 10.0).round() / 10.0);
        }
    }
    t.truncate(n);
    t
}

struct Brute {
    p: Vec<f64>,
    left: Vec<Option<usize>>,
    right: Vec<Option<usize>>,
}

fn window_stats(w: &[f64]) -> Option<(f64, f64, bool)> {
    if w.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let m = w.len() as f64;
    let mean = w.iter().sum::<f64>() / m;
    let sd = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m).sqrt();
    let constant = w.iter().all(|&v| v == w[0]);
    Some((mean, sd, constant))
}

/// Brute-force z-normalised distance, stumpy's conventions (None = a window touches a NaN).
fn dist(t: &[f64], m: usize, a: usize, b: usize) -> Option<f64> {
    let (ma, sa, ca) = window_stats(&t[a..a + m])?;
    let (mb, sb, cb) = window_stats(&t[b..b + m])?;
    Some(if ca && cb {
        0.0
    } else if ca || cb {
        (m as f64).sqrt()
    } else {
        let dot: f64 = (0..m).map(|k| (t[a + k] - ma) * (t[b + k] - mb)).sum();
        let rho = (dot / (m as f64 * sa * sb)).min(1.0);
        (2.0 * m as f64 * (1.0 - rho)).abs().sqrt()
    })
}

fn brute_force(t: &[f64], m: usize) -> Brute {
    let l = t.len() - m + 1;
    let ez = m.div_ceil(4);
    let mut p = vec![f64::INFINITY; l];
    let mut left = vec![None; l];
    let mut right = vec![None; l];
    let mut best_left = vec![f64::INFINITY; l];
    let mut best_right = vec![f64::INFINITY; l];
    for i in 0..l {
        for j in 0..l {
            if i.abs_diff(j) <= ez {
                continue;
            }
            if let Some(d) = dist(t, m, i, j) {
                p[i] = p[i].min(d);
                // nearest among equals: scanning j upwards, left keeps the last, right keeps the first
                if j < i && d <= best_left[i] {
                    best_left[i] = d;
                    left[i] = Some(j);
                }
                if j > i && d < best_right[i] {
                    best_right[i] = d;
                    right[i] = Some(j);
                }
            }
        }
    }
    Brute { p, left, right }
}

const TOL: f64 = 1e-8;

/// Distances agree: within 1e-8, or, near zero where d = √(2m(1−ρ)) turns a rounding of 1e-16 in ρ into ~1e-7 in d,
/// their Pearson correlations agree within 1e-12.
fn close(a: f64, b: f64, m: usize) -> bool {
    (a - b).abs() <= TOL || (a * a - b * b).abs() / (2.0 * m as f64) <= 1e-12
}

fn assert_index_ok(label: &str, t: &[f64], m: usize, x: usize, ours: i64, theirs: Option<usize>) {
    match (ours, theirs) {
        (-1, None) => {}
        (o, Some(b)) if o >= 0 => {
            if o as usize != b {
                let (da, db) = (dist(t, m, x, o as usize).unwrap(), dist(t, m, x, b).unwrap());
                assert!(close(da, db, m), "{label}[{x}]: ours {o} ({da}) vs brute {b} ({db})");
            }
        }
        (o, b) => panic!("{label}[{x}]: ours {o}, brute force {b:?}"),
    }
}

fn check_against_brute(t: &[f64], m: usize, label: &str) {
    let mp = stump(t, m).unwrap();
    let bf = brute_force(t, m);
    let l = t.len() - m + 1;
    assert_eq!(mp.profile.len(), l);
    for x in 0..l {
        let (a, b) = (mp.profile[x], bf.p[x]);
        if b.is_infinite() {
            assert!(a.is_infinite() && mp.index[x] == -1, "{label}: P[{x}] = {a}, brute inf");
        } else {
            assert!(close(a, b, m), "{label}: P[{x}] = {a}, brute {b}");
            // the chosen neighbour is at the profile distance
            let d = dist(t, m, x, mp.index[x] as usize).unwrap();
            assert!(close(d, b, m), "{label}: I[{x}] = {} at {d}, P {b}", mp.index[x]);
        }
        assert_index_ok("left", t, m, x, mp.left_index[x], bf.left[x]);
        assert_index_ok("right", t, m, x, mp.right_index[x], bf.right[x]);
        if mp.left_index[x] >= 0 {
            assert!(mp.left_index[x] < x as i64 - exclusion_zone(m) as i64);
        }
        if mp.right_index[x] >= 0 {
            assert!(mp.right_index[x] > (x + exclusion_zone(m)) as i64);
        }
    }
}

#[test]
fn matches_brute_force_on_random_series_with_gaps_and_constant_stretches() {
    let mut rng = Rng(0x5EED_0001);
    for case in 0..24 {
        let m = 3 + rng.below(22);
        let n = m + 20 + rng.below(300);
        let t = random_series(&mut rng, n, m);
        if !(0..=n - m).any(|x| t[x..x + m].iter().all(|v| v.is_finite())) {
            continue;
        }
        check_against_brute(&t, m, &format!("case {case} (n={n}, m={m})"));
    }
}

#[test]
fn matches_brute_force_with_many_threads_and_long_tiles() {
    // more threads than cores: several diagonal ranges merged; n large enough for the vectorised tiles
    let pool = rayon::ThreadPoolBuilder::new().num_threads(5).build().unwrap();
    let mut rng = Rng(0x5EED_0002);
    pool.install(|| {
        for case in 0..3 {
            let m = 8 + rng.below(30);
            let t = random_series(&mut rng, 700, m);
            check_against_brute(&t, m, &format!("threads case {case} (m={m})"));
        }
    });
}

#[test]
fn smooth_series_without_gaps_matches_brute_force() {
    let mut rng = Rng(7);
    let t: Vec<f64> = (0..600)
        .map(|k| 140.0 + 40.0 * (k as f64 / 25.0).sin() + 5.0 * rng.next())
        .collect();
    check_against_brute(&t, 48, "smooth m=48");
}

#[test]
fn reseeding_changes_nothing_beyond_rounding() {
    let mut rng = Rng(11);
    let t = random_series(&mut rng, 3000, 40);
    let a = stump(&t, 40).unwrap();
    let b = stump_with(
        &t,
        40,
        &StumpOptions {
            reseed_every: 97,
            ..StumpOptions::default()
        },
    )
    .unwrap();
    for (x, (p, q)) in a.profile.iter().zip(&b.profile).enumerate() {
        assert!(p == q || close(*p, *q, 40), "P[{x}]: {p} vs {q}");
    }
}

#[test]
fn portable_kernel_gives_identical_results() {
    let mut rng = Rng(0x5EED_0003);
    for m in [4, 30, 100] {
        let t = random_series(&mut rng, 1500, m);
        let portable = StumpOptions {
            portable_kernel: true,
            ..StumpOptions::default()
        };
        assert_eq!(stump(&t, m).unwrap(), stump_with(&t, m, &portable).unwrap(), "m={m}");
    }
}

#[test]
fn all_constant_series_is_distance_zero_to_the_nearest_window() {
    let (n, m) = (80, 8);
    let ez = exclusion_zone(m);
    let t = vec![39.0; n];
    let mp = stump(&t, m).unwrap();
    for x in 0..n - m + 1 {
        assert_eq!(mp.profile[x], 0.0);
        let left = x.checked_sub(ez + 1).map_or(-1, |v| v as i64);
        let right = if x + ez < n - m { (x + ez + 1) as i64 } else { -1 };
        assert_eq!(mp.left_index[x], left, "left[{x}]");
        assert_eq!(mp.right_index[x], right, "right[{x}]");
        // nearest; the left one at equal offsets
        assert_eq!(mp.index[x], if left >= 0 { left } else { right });
    }
}

#[test]
fn constant_and_regular_windows_are_sqrt_m_apart() {
    let m = 6;
    // one constant stretch, the rest strictly increasing: constant windows only see regular ones
    let mut t: Vec<f64> = (0..40).map(|k| (k * k) as f64).collect();
    for v in &mut t[15..15 + m] {
        *v = 7.0;
    }
    let mp = stump(&t, m).unwrap();
    assert!((mp.profile[15] - (m as f64).sqrt()).abs() < 1e-12);
}

#[test]
fn rejects_bad_windows_and_series_without_a_full_window() {
    let t: Vec<f64> = (0..10).map(f64::from).collect();
    assert!(matches!(stump(&t, 11), Err(AnalyticsError::InvalidInput { .. })));
    assert!(matches!(stump(&t, 2), Err(AnalyticsError::InvalidInput { .. })));
    assert!(matches!(stump(&t, 0), Err(AnalyticsError::InvalidInput { .. })));
    assert!(matches!(
        stump(&[f64::NAN; 50], 5),
        Err(AnalyticsError::InsufficientData { .. })
    ));
    let mut gappy = [1.0, 2.0, 3.0, f64::NAN].repeat(10);
    gappy[0] = 5.0;
    assert!(matches!(stump(&gappy, 4), Err(AnalyticsError::InsufficientData { .. })));
    assert!(stump(&t, 10).is_ok(), "n = m is allowed (one window, no neighbour)");
    let one = stump(&t, 10).unwrap();
    assert_eq!(one.profile, vec![f64::INFINITY]);
    assert_eq!(one.index, vec![-1]);
}

#[test]
fn infinities_are_treated_as_missing() {
    let mut rng = Rng(3);
    let mut t = random_series(&mut rng, 200, 10);
    t[50] = f64::INFINITY;
    let mut u = t.clone();
    u[50] = f64::NAN;
    assert_eq!(stump(&t, 10).unwrap(), stump(&u, 10).unwrap());
}

#[test]
fn discords_are_the_largest_finite_values_outside_each_others_zones() {
    let p = vec![1.0, 5.0, f64::INFINITY, 4.9, 2.0, 3.0, 1.0, 0.5, 4.0, 1.0];
    let d = discords(&p, 1, 5);
    let got: Vec<(usize, f64)> = d.iter().map(|d| (d.index, d.distance)).collect();
    // 1 blanks 0..=2, 3 blanks 2..=4, 8 blanks 7..=9, 5 blanks 4..=6: nothing finite is left after four
    assert_eq!(got, vec![(1, 5.0), (3, 4.9), (8, 4.0), (5, 3.0)]);
    assert_eq!(discords(&p, 1, 2).len(), 2);
    assert!(discords(&[f64::INFINITY; 4], 1, 3).is_empty());
}

#[test]
fn motifs_start_with_the_candidate_and_respect_the_exclusion_zone() {
    let mut rng = Rng(5);
    let t: Vec<f64> = (0..800)
        .map(|k| 100.0 + 30.0 * (k as f64 / 12.0).sin() + 8.0 * rng.next())
        .collect();
    let m = 24;
    let mp = stump(&t, m).unwrap();
    // no distance limit: the mechanics (ordering, exclusion, candidate order) are what is checked here
    let params = MotifParams {
        max_motifs: 3,
        max_distance: Some(f64::INFINITY),
        ..MotifParams::default()
    };
    let found = motifs(&t, &mp.profile, &params).unwrap();
    assert!(!found.is_empty());
    let ez = exclusion_zone(m) as i64;
    for motif in &found {
        assert_eq!(motif.distances[0], 0.0);
        assert_eq!(motif.indices.len(), 10);
        assert!(motif.distances.windows(2).all(|w| w[0] <= w[1]));
        for (a, &x) in motif.indices.iter().enumerate() {
            for &y in &motif.indices[a + 1..] {
                assert!((x - y).abs() > ez);
            }
            let d = dist(&t, m, motif.indices[0] as usize, x as usize).unwrap();
            assert!((d - motif.distances[a]).abs() < 1e-8);
        }
    }
    // the first motif is the window with the smallest profile value
    let best = (0..mp.profile.len())
        .min_by(|&a, &b| mp.profile[a].total_cmp(&mp.profile[b]))
        .unwrap();
    assert_eq!(found[0].indices[0], best as i64);
}

fn point(minutes: i64, v: f64) -> CgmPoint {
    let start = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap();
    CgmPoint {
        time: start + Duration::minutes(minutes),
        mg_dl: v,
    }
}

#[test]
fn regular_grid_fills_gaps_with_nan_and_averages_duplicates() {
    let points = vec![
        point(10, 120.0),
        point(0, 100.0),
        point(5, 110.0),
        point(5, 112.0),  // duplicate slot: averaged
        point(21, 130.0), // one minute off the grid: nearest slot (20)
        point(35, 140.0), // gap at 25 and 30
    ];
    let interval = infer_interval(&points).unwrap();
    assert_eq!(interval, Duration::minutes(5));
    let grid = regular_grid(&points, interval).unwrap();
    assert_eq!(grid.start, points[1].time);
    let v = grid.values;
    assert_eq!(v.len(), 8);
    assert_eq!(&v[..3], &[100.0, 111.0, 120.0]);
    assert!(v[3].is_nan() && v[5].is_nan() && v[6].is_nan());
    assert_eq!((v[4], v[7]), (130.0, 140.0));
    assert!(matches!(
        regular_grid(&points, Duration::zero()),
        Err(AnalyticsError::InvalidInput { .. })
    ));
    assert!(matches!(
        infer_interval(&points[..1]),
        Err(AnalyticsError::InsufficientData { .. })
    ));
}

/// 365 days of 5-minute CGM-like data (n = 105,120, m = 288): the profile at sampled windows equals a brute-force
/// scan of all their neighbours, and periodic re-seeding of the recurrence changes nothing beyond 1e-8.
/// Slow in debug builds: `cargo test --release -- --ignored long_series`.
#[test]
#[ignore]
fn long_series_matches_brute_force_at_sampled_windows() {
    let mut rng = Rng(365);
    let (n, m) = (105_120, 288);
    let mut level = 130.0f64;
    let t: Vec<f64> = (0..n)
        .map(|k| {
            level = 0.995 * level + 0.005 * 130.0 + 3.0 * (rng.next() - 0.5);
            let daily = 25.0 * (std::f64::consts::TAU * (k % 288) as f64 / 288.0).sin();
            if k % 10_000 < 12 {
                f64::NAN
            } else {
                ((level + daily).clamp(39.0, 400.0) * 10.0).round() / 10.0
            }
        })
        .collect();
    let mp = stump(&t, m).unwrap();
    let reseeded = stump_with(
        &t,
        m,
        &StumpOptions {
            reseed_every: 2048,
            ..StumpOptions::default()
        },
    )
    .unwrap();
    let drift = mp
        .profile
        .iter()
        .zip(&reseeded.profile)
        .filter(|(a, _)| a.is_finite())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    eprintln!("max |P(no re-seed) − P(re-seed every 2048)| = {drift:e}");
    assert!(drift <= TOL);
    let l = n - m + 1;
    let ez = exclusion_zone(m);
    let mut worst = 0.0f64;
    for s in 0..12 {
        let x = (s * 8_761 + 17) % l;
        let best = (0..l)
            .filter(|&y| y.abs_diff(x) > ez)
            .filter_map(|y| dist(&t, m, x, y))
            .fold(f64::INFINITY, f64::min);
        if best.is_finite() {
            worst = worst.max((mp.profile[x] - best).abs());
        } else {
            assert!(mp.profile[x].is_infinite());
        }
    }
    eprintln!("max |P − brute force| at 12 sampled windows = {worst:e}");
    assert!(worst <= TOL);
}
