//! Property and edge-case tests for PCMCI: single ParCorr tests against an independent least-squares
//! implementation (normal equations with an intercept on the raw lagged data, solved here by Gaussian
//! elimination), detection of planted links, and the documented edge cases.

use glucolens_analytics::pcmci::{run_pcmci, LaggedGram, Node, PcmciParams};
use glucolens_analytics::AnalyticsError;
use ndarray::Array2;
use statrs::distribution::{ContinuousCDF, StudentsT};

struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        (-2.0 * self.unit().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
}

/// Correlated random data: each variable mixes its own noise, a shared factor and the previous day's first variable.
fn random_data(seed: u64, t: usize, n: usize) -> Array2<f64> {
    let mut rng = SplitMix(seed);
    let mut data = Array2::zeros((t, n));
    for row in 0..t {
        let shared = rng.normal();
        for k in 0..n {
            let prev = if row > 0 { data[[row - 1, 0]] } else { 0.0 };
            data[[row, k]] = 10.0 * (k as f64 + 1.0) + (k as f64 + 1.0) * rng.normal() + 0.5 * shared + 0.4 * prev;
        }
    }
    data
}

#[allow(clippy::needless_range_loop)] // textbook elimination reads best with indices
/// Solves the normal equations `AᵀA β = Aᵀy` by Gaussian elimination with partial pivoting; returns residuals.
fn ols_residuals(design: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let p = design.len();
    let t = y.len();
    let mut m = vec![vec![0.0; p + 1]; p];
    for a in 0..p {
        for b in 0..p {
            m[a][b] = (0..t).map(|r| design[a][r] * design[b][r]).sum();
        }
        m[a][p] = (0..t).map(|r| design[a][r] * y[r]).sum();
    }
    for col in 0..p {
        let pivot = (col..p)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        for row in 0..p {
            if row != col {
                let f = m[row][col] / m[col][col];
                for k in col..=p {
                    m[row][k] -= f * m[col][k];
                }
            }
        }
    }
    let beta: Vec<f64> = (0..p).map(|k| m[k][p] / m[k][k]).collect();
    (0..t)
        .map(|r| y[r] - (0..p).map(|k| beta[k] * design[k][r]).sum::<f64>())
        .collect()
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb) * (y - mb)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn par_corr_matches_independent_least_squares() {
    let mut rng = SplitMix(7);
    for case in 0..40u64 {
        let t = 40 + (case as usize * 13) % 200;
        let n = 2 + (case as usize) % 5;
        let max_lag = (case as usize) % 4;
        let data = random_data(1000 + case, t, n);
        let gram = LaggedGram::new(data.view(), max_lag).unwrap();
        let t_eff = t - max_lag;
        let lagged = |node: Node| -> Vec<f64> { (max_lag..t).map(|row| data[[row - node.lag, node.var]]).collect() };
        // Random distinct nodes: x, y and up to 5 conditions.
        let mut nodes: Vec<Node> = (0..n)
            .flat_map(|var| (0..=max_lag).map(move |lag| Node { var, lag }))
            .collect();
        for k in (1..nodes.len()).rev() {
            let r = (rng.next() % (k as u64 + 1)) as usize;
            nodes.swap(k, r);
        }
        let n_cond = ((rng.next() % 6) as usize).min(nodes.len() - 2);
        let (x, y, z) = (nodes[0], nodes[1], &nodes[2..2 + n_cond]);
        let got = gram.par_corr(x, y, z).unwrap();

        let mut design = vec![vec![1.0; t_eff]];
        design.extend(z.iter().map(|&node| lagged(node)));
        let rx = ols_residuals(&design, &lagged(x));
        let ry = ols_residuals(&design, &lagged(y));
        let r = pearson(&rx, &ry);
        let df = t_eff as f64 - 2.0 - n_cond as f64;
        let stat = r * (df / (1.0 - r * r)).sqrt();
        let p = 2.0 * StudentsT::new(0.0, 1.0, df).unwrap().sf(stat.abs());
        assert_eq!(got.df as f64, df);
        assert!((got.val - r).abs() < 1e-9, "case {case}: val {} vs {r}", got.val);
        assert!((got.p - p).abs() < 1e-9, "case {case}: p {} vs {p}", got.p);
    }
}

#[test]
fn planted_lagged_links_are_found() {
    let mut rng = SplitMix(42);
    let t = 300;
    let mut data = Array2::<f64>::zeros((t, 4));
    for row in 0..t {
        let e: Vec<f64> = (0..4).map(|_| rng.normal()).collect();
        let x0_lag1 = if row >= 1 { data[[row - 1, 0]] } else { 0.0 };
        let x1_lag2 = if row >= 2 { data[[row - 2, 1]] } else { 0.0 };
        data[[row, 0]] = 0.5 * x0_lag1 + e[0];
        data[[row, 1]] = 0.6 * x0_lag1 + e[1];
        data[[row, 2]] = -0.5 * x1_lag2 + e[2];
        data[[row, 3]] = e[3];
    }
    let params = PcmciParams {
        tau_max: 3,
        pc_alpha: Some(0.1),
        alpha_level: 0.01,
        ..PcmciParams::default()
    };
    let result = run_pcmci(data.view(), &params).unwrap();
    for (i, j, tau) in [(0, 0, 1), (0, 1, 1), (1, 2, 2)] {
        assert_eq!(result.graph[i][j][tau], "-->", "planted {i} -> {j} at lag {tau}");
        assert!(result.p_matrix[i][j][tau] < 1e-6);
        assert!(result.q_matrix[i][j][tau] >= result.p_matrix[i][j][tau]);
    }
    // Variable 3 is pure noise: at alpha 0.01 it should have (almost) no links.
    let noise_links = result.links().iter().filter(|l| l.cause == 3 || l.effect == 3).count();
    assert!(noise_links <= 1, "{noise_links} spurious links at variable 3");
    // Lag-0 matrices are symmetric after symmetrisation; graph marks match.
    for i in 0..4 {
        for j in 0..4 {
            assert_eq!(result.p_matrix[i][j][0], result.p_matrix[j][i][0]);
            assert_eq!(result.val_matrix[i][j][0], result.val_matrix[j][i][0]);
            let (a, b) = (&result.graph[i][j][0], &result.graph[j][i][0]);
            match a.as_str() {
                "o-o" => assert_eq!(b, "o-o"),
                "-->" => assert_eq!(b, "<--"),
                "<--" => assert_eq!(b, "-->"),
                _ => assert_eq!(b, ""),
            }
        }
    }
}

#[test]
fn one_variable_and_tau_min() {
    let data = random_data(3, 60, 1);
    let result = run_pcmci(
        data.view(),
        &PcmciParams {
            tau_max: 2,
            pc_alpha: None,
            ..PcmciParams::default()
        },
    )
    .unwrap();
    assert_eq!(result.val_matrix.len(), 1);
    assert_eq!(result.p_matrix[0][0][0], 1.0);
    assert_eq!(result.graph[0][0][0], "");
    assert_eq!(
        result.graph[0][0][1], "-->",
        "x depends on its own lag 1 by construction"
    );
    assert_eq!(result.optimal_pc_alpha.as_ref().unwrap().len(), 1);

    let data = random_data(4, 80, 3);
    let lagged_only = run_pcmci(
        data.view(),
        &PcmciParams {
            tau_min: 1,
            tau_max: 2,
            ..PcmciParams::default()
        },
    )
    .unwrap();
    for i in 0..3 {
        for j in 0..3 {
            assert_eq!(lagged_only.p_matrix[i][j][0], 1.0);
            assert_eq!(lagged_only.val_matrix[i][j][0], 0.0);
            assert_eq!(lagged_only.graph[i][j][0], "");
        }
    }
}

#[test]
fn too_short_nan_and_bad_parameters_are_clear_errors() {
    let data = random_data(5, 8, 2);
    // tau_max 3 needs 2*3 + 3 = 9 rows.
    let short = run_pcmci(
        data.view(),
        &PcmciParams {
            tau_max: 3,
            ..PcmciParams::default()
        },
    );
    assert!(
        matches!(short, Err(AnalyticsError::InsufficientData { .. })),
        "{short:?}"
    );
    // Many variables and lags on a short series: an MCI test runs out of degrees of freedom.
    let wide = random_data(6, 20, 6);
    let dof = run_pcmci(
        wide.view(),
        &PcmciParams {
            tau_max: 3,
            pc_alpha: Some(1.0),
            ..PcmciParams::default()
        },
    );
    assert!(matches!(dof, Err(AnalyticsError::InsufficientData { .. })), "{dof:?}");

    let mut with_nan = random_data(7, 50, 2);
    with_nan[[10, 1]] = f64::NAN;
    match run_pcmci(with_nan.view(), &PcmciParams::default()) {
        Err(AnalyticsError::InvalidInput { reason, .. }) => assert!(reason.contains("row 10"), "{reason}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let data = random_data(8, 50, 2);
    for params in [
        PcmciParams {
            tau_min: 2,
            tau_max: 1,
            ..PcmciParams::default()
        },
        PcmciParams {
            pc_alpha: Some(1.5),
            ..PcmciParams::default()
        },
        PcmciParams {
            alpha_level: -0.1,
            ..PcmciParams::default()
        },
        PcmciParams {
            max_combinations: 0,
            ..PcmciParams::default()
        },
    ] {
        assert!(matches!(
            run_pcmci(data.view(), &params),
            Err(AnalyticsError::InvalidInput { .. })
        ));
    }
    assert!(matches!(
        run_pcmci(Array2::<f64>::zeros((50, 0)).view(), &PcmciParams::default()),
        Err(AnalyticsError::InvalidInput { .. })
    ));
}

#[test]
fn constant_column_follows_tigramite_remove_constant_data() {
    let mut data = random_data(9, 60, 3);
    data.column_mut(2).fill(5.0);
    let result = run_pcmci(
        data.view(),
        &PcmciParams {
            tau_max: 2,
            pc_alpha: Some(0.2),
            ..PcmciParams::default()
        },
    )
    .unwrap();
    for k in 0..3 {
        for tau in 0..=2 {
            for (i, j) in [(2, k), (k, 2)] {
                if i == j && tau == 0 {
                    continue;
                }
                assert_eq!(result.val_matrix[i][j][tau], 0.0, "[{i}][{j}][{tau}]");
                assert_eq!(result.p_matrix[i][j][tau], 1.0);
                assert_eq!(result.graph[i][j][tau], "");
            }
        }
    }
    assert!(result.parents[2].is_empty());
    // The other variables are analysed as if the constant column were absent.
    let without = run_pcmci(
        data.slice(ndarray::s![.., 0..2]),
        &PcmciParams {
            tau_max: 2,
            pc_alpha: Some(0.2),
            ..PcmciParams::default()
        },
    )
    .unwrap();
    for i in 0..2 {
        for j in 0..2 {
            for tau in 0..=2 {
                assert!((result.p_matrix[i][j][tau] - without.p_matrix[i][j][tau]).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn duplicated_variable_is_a_clear_error() {
    let mut data = random_data(10, 80, 3);
    let copy = data.column(0).to_owned();
    data.column_mut(2).assign(&copy);
    let result = run_pcmci(data.view(), &PcmciParams::default());
    assert!(matches!(result, Err(AnalyticsError::InvalidInput { .. })), "{result:?}");
}
