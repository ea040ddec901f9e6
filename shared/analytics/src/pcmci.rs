//! PCMCI causal discovery on daily tables: a pure-Rust port of tigramite 5.2 `PCMCI.run_pcmci` with
//! `ParCorr(significance='analytic')`, plus `get_corrected_pvalues(fdr_method='fdr_bh')`.
//!
//! # Algorithm (as in tigramite)
//! * **Samples.** Every test uses tigramite's default `cut_off='2xtau_max'`: the first `2·tau_max` rows are dropped,
//!   so every test sees the same `T_eff = T − 2·tau_max` reference rows, and node `(k, −l)` is the column
//!   `x_k[t − l]` over those rows (lags up to `2·tau_max` occur in MCI conditions).
//! * **ParCorr.** Each row of the test array is standardised over the `T_eff` samples (mean, population std). The
//!   partial correlation of `X` and `Y` given `Z` is the Pearson correlation of their least-squares residuals on
//!   `Z`. Because standardisation per node does not depend on the test, all lagged nodes are standardised once and
//!   their Gram matrix `G = SᵀS` is precomputed; each test then solves the small normal equations of `G_ZZ` by
//!   Cholesky (`r = (G_xy − g_xᵀG_ZZ⁻¹g_y)/√(…)`), which equals tigramite's residual correlation to ~1e-13 on
//!   well-conditioned daily data. `p = 2·t.sf(|r|·√(df/(1−r²)), df)` with `df = T_eff − (2 + |Z|)` (statrs
//!   `StudentsT`), `p = 0` when `|r| = 1`.
//! * **Constant nodes** (all values of a lagged column identical over the `T_eff` rows) follow tigramite's
//!   `remove_constant_data`: they are dropped from `Z` (and from `dim`); a constant `X` or `Y` gives `val = 0`,
//!   `p = 1`.
//! * **PC1** (`run_pc_stable`, per effect `j`): candidates `(i, −τ)` for `i` in variable order and
//!   `τ = max(1, tau_min)..=tau_max`; for condition dimension `d = 0, 1, …, max_conds_dim` (default
//!   `N·(tau_max − max(1,tau_min) + 1)`), stopping when fewer than `d + 1` parents remain, each current parent is
//!   tested against the first `max_combinations` (default 1) size-`d` combinations of the other parents (in current
//!   parent order, lexicographic), tracking the minimum `|val|`; a parent with `p > pc_alpha` (or NaN `p`) is
//!   removed after the level; the survivors are re-sorted by decreasing minimum `|val|` (stable, ties in candidate
//!   order).
//! * **pc_alpha selection** (`pc_alpha = None`): PC1 runs for each of `[0.05, 0.1, 0.2, 0.3, 0.4, 0.5]`; the score
//!   is tigramite's AIC `T_eff·ln(RSS) + 2·(1 + |parents|)` of the standardised regression of `(j, 0)` on its
//!   parents; the first minimum wins.
//! * **MCI** for `τ = tau_min..=tau_max`: `X = (i, −τ)`, `Y = (j, 0)` (not `(j, 0)` itself),
//!   `Z = parents(j) \ {X}` followed by `parents(i)` shifted by `−τ` (duplicates removed).
//! * **Graph** from the unsymmetrised `p ≤ alpha_level`: lagged `"-->"`; at lag 0 `"o-o"` when both directions are
//!   significant, `"-->"`/`"<--"` when only one is. Then `p`/`val` at lag 0 are symmetrised (both entries take the
//!   values of the test with the larger p, in tigramite's loop order).
//! * **q-values**: Benjamini–Hochberg over all entries except the lag-0 diagonal, excluding lag 0 altogether in
//!   `q_matrix` (tigramite's default `exclude_contemporaneous=True`, where lag-0 entries keep their p-value) and
//!   including it in `q_matrix_incl_contemporaneous`; capped at 1. Like tigramite's call without
//!   `link_assumptions`, lags below `tau_min` (p = 1) take part in the correction.
//!
//! # Missing data policy
//! Tigramite refuses NaN without a `missing_flag`; so does this port: any non-finite value is an
//! [`AnalyticsError::InvalidInput`] naming the variable and row. Rows must be consecutive days
//! ([`crate::table::DailyTable::check_consecutive_days`]); fill or cut gaps before calling.
//!
//! # Errors
//! `InvalidInput` for bad parameters, non-finite data or exactly collinear conditions (singular `G_ZZ`);
//! `InsufficientData` when `T − 2·tau_max < 3` or a PC1 or MCI test would have fewer than one degree of freedom
//! (too many conditions for the series length). Tigramite instead returns a NaN p-value there, which in PC1 silently
//! drops every remaining parent; this port refuses rather than return that.

// Matrix code indexes several `[i][j][tau]` arrays at once; index loops are the clearest form here.
#![allow(clippy::needless_range_loop)]

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::{AnalyticsError, Result};

/// tigramite's default `pc_alpha` grid used when `pc_alpha` is `None`.
pub const PC_ALPHA_GRID: [f64; 6] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5];

/// Parameters of [`run_pcmci`] (tigramite's `run_pcmci` arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct PcmciParams {
    pub tau_min: usize,
    pub tau_max: usize,
    /// PC1 significance level; `None` selects it per variable from [`PC_ALPHA_GRID`] by AIC.
    pub pc_alpha: Option<f64>,
    /// Significance level of the MCI p-values for the graph.
    pub alpha_level: f64,
    /// Largest PC1 condition set; `None` = `N·(tau_max − max(1, tau_min) + 1)`.
    pub max_conds_dim: Option<usize>,
    /// Condition combinations tested per parent and level in PC1 (tigramite default 1).
    pub max_combinations: usize,
}

impl Default for PcmciParams {
    /// tigramite's `run_pcmci` defaults: `tau_min=0, tau_max=1, pc_alpha=0.05, alpha_level=0.05`.
    fn default() -> Self {
        PcmciParams {
            tau_min: 0,
            tau_max: 1,
            pc_alpha: Some(0.05),
            alpha_level: 0.05,
            max_conds_dim: None,
            max_combinations: 1,
        }
    }
}

/// A lagged node `(var, −lag)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Node {
    pub var: usize,
    pub lag: usize,
}

/// PCMCI output. Matrices are laid out `[i cause][j effect][tau]` with `tau = 0..=tau_max`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcmciResult {
    pub tau_min: usize,
    pub tau_max: usize,
    pub val_matrix: Vec<Vec<Vec<f64>>>,
    pub p_matrix: Vec<Vec<Vec<f64>>>,
    /// BH q-values among lagged links (lag-0 entries keep their p-value).
    pub q_matrix: Vec<Vec<Vec<f64>>>,
    /// BH q-values among lagged and contemporaneous links.
    pub q_matrix_incl_contemporaneous: Vec<Vec<Vec<f64>>>,
    /// `"-->"`, `"<--"`, `"o-o"`, `"x-x"` or `""`.
    pub graph: Vec<Vec<Vec<String>>>,
    /// PC1 parents of each variable, strongest first.
    pub parents: Vec<Vec<Node>>,
    /// The pc_alpha chosen per variable (`None` when a fixed pc_alpha was given).
    pub optimal_pc_alpha: Option<Vec<f64>>,
}

/// One link of the graph (by indices).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub cause: usize,
    pub effect: usize,
    pub lag: usize,
    pub edge: String,
    pub val: f64,
    pub p: f64,
    pub q: f64,
}

impl PcmciResult {
    /// Every non-empty graph entry, ordered by effect, cause, lag (tigramite's significant links), with `q` from
    /// [`PcmciResult::q_matrix`].
    pub fn links(&self) -> Vec<Link> {
        let n = self.graph.len();
        let mut links = Vec::new();
        for j in 0..n {
            for i in 0..n {
                for tau in 0..=self.tau_max {
                    let edge = &self.graph[i][j][tau];
                    if !edge.is_empty() {
                        links.push(Link {
                            cause: i,
                            effect: j,
                            lag: tau,
                            edge: edge.clone(),
                            val: self.val_matrix[i][j][tau],
                            p: self.p_matrix[i][j][tau],
                            q: self.q_matrix[i][j][tau],
                        });
                    }
                }
            }
        }
        links
    }
}

/// A link by variable names (CLI output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedLink {
    pub cause: String,
    pub effect: String,
    pub lag: usize,
    pub edge: String,
    pub val: f64,
    pub p: f64,
    pub q: f64,
}

/// The JSON report of `glucolens analyze pcmci`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcmciReport {
    pub variables: Vec<String>,
    pub tau_min: usize,
    pub tau_max: usize,
    pub val_matrix: Vec<Vec<Vec<f64>>>,
    pub p_matrix: Vec<Vec<Vec<f64>>>,
    pub q_matrix: Vec<Vec<Vec<f64>>>,
    pub q_matrix_incl_contemporaneous: Vec<Vec<Vec<f64>>>,
    pub graph: Vec<Vec<Vec<String>>>,
    pub links: Vec<NamedLink>,
    /// Per variable: its PC1 parents as `(name, −lag)` pairs, strongest first.
    pub pc_parents: Vec<(String, Vec<(String, i64)>)>,
    pub optimal_pc_alpha: Option<Vec<f64>>,
}

impl PcmciReport {
    /// Attaches variable names to a result (`variables.len()` must be the number of variables).
    pub fn new(result: PcmciResult, variables: Vec<String>) -> Result<Self> {
        if variables.len() != result.graph.len() {
            return Err(AnalyticsError::InvalidInput {
                field: "variables".into(),
                reason: format!("{} names for {} variables", variables.len(), result.graph.len()),
            });
        }
        let links = result
            .links()
            .into_iter()
            .map(|l| NamedLink {
                cause: variables[l.cause].clone(),
                effect: variables[l.effect].clone(),
                lag: l.lag,
                edge: l.edge,
                val: l.val,
                p: l.p,
                q: l.q,
            })
            .collect();
        let pc_parents = result
            .parents
            .iter()
            .enumerate()
            .map(|(j, ps)| {
                (
                    variables[j].clone(),
                    ps.iter().map(|p| (variables[p.var].clone(), -(p.lag as i64))).collect(),
                )
            })
            .collect();
        Ok(PcmciReport {
            variables,
            tau_min: result.tau_min,
            tau_max: result.tau_max,
            val_matrix: result.val_matrix,
            p_matrix: result.p_matrix,
            q_matrix: result.q_matrix,
            q_matrix_incl_contemporaneous: result.q_matrix_incl_contemporaneous,
            graph: result.graph,
            links,
            pc_parents,
            optimal_pc_alpha: result.optimal_pc_alpha,
        })
    }
}

/// The outcome of one conditional independence test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CiTest {
    /// Partial correlation.
    pub val: f64,
    /// Two-sided analytic p-value (NaN when `df < 1`).
    pub p: f64,
    /// Degrees of freedom `T_eff − dim` (`dim` = 2 + non-constant conditions).
    pub df: i64,
}

/// Standardised lagged nodes of a `T × N` table and their Gram matrix, for `lag = 0..=max_lag`, over the rows
/// `max_lag..T` (tigramite's `cut_off='2xtau_max'` with `max_lag = 2·tau_max`).
#[derive(Debug, Clone)]
pub struct LaggedGram {
    n_vars: usize,
    n_lags: usize,
    t_eff: usize,
    constant: Vec<bool>,
    /// `cols × cols`, row-major: `Σ_t s_a[t]·s_b[t]` of standardised columns (constant columns are zero).
    gram: Vec<f64>,
}

impl LaggedGram {
    /// Builds the lagged, standardised design for `data` (`T × N`, all finite) with lags `0..=max_lag`.
    pub fn new(data: ArrayView2<f64>, max_lag: usize) -> Result<Self> {
        let (t, n_vars) = data.dim();
        if t <= max_lag {
            return Err(AnalyticsError::InsufficientData {
                reason: format!("{t} rows but the lags need more than {max_lag}"),
            });
        }
        let t_eff = t - max_lag;
        let n_lags = max_lag + 1;
        let cols = n_vars * n_lags;
        let mut constant = vec![false; cols];
        let mut standardized = vec![0.0; cols * t_eff];
        for var in 0..n_vars {
            let series = data.column(var);
            for lag in 0..n_lags {
                let c = var * n_lags + lag;
                let window: Vec<f64> = (max_lag..t).map(|row| series[row - lag]).collect();
                let out = &mut standardized[c * t_eff..(c + 1) * t_eff];
                if window.iter().all(|&v| v == window[0]) {
                    constant[c] = true;
                    continue;
                }
                let mean = window.iter().sum::<f64>() / t_eff as f64;
                let var_ = window.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / t_eff as f64;
                let std = var_.sqrt();
                for (o, v) in out.iter_mut().zip(&window) {
                    *o = (v - mean) / std;
                }
            }
        }
        let mut gram = vec![0.0; cols * cols];
        for a in 0..cols {
            let sa = &standardized[a * t_eff..(a + 1) * t_eff];
            for b in a..cols {
                let sb = &standardized[b * t_eff..(b + 1) * t_eff];
                let dot: f64 = sa.iter().zip(sb).map(|(x, y)| x * y).sum();
                gram[a * cols + b] = dot;
                gram[b * cols + a] = dot;
            }
        }
        Ok(LaggedGram {
            n_vars,
            n_lags,
            t_eff,
            constant,
            gram,
        })
    }

    /// Number of reference rows every test uses.
    pub fn t_eff(&self) -> usize {
        self.t_eff
    }

    fn col(&self, node: Node) -> usize {
        debug_assert!(node.var < self.n_vars && node.lag < self.n_lags);
        node.var * self.n_lags + node.lag
    }

    fn g(&self, a: usize, b: usize) -> f64 {
        self.gram[a * self.n_vars * self.n_lags + b]
    }

    /// Cholesky factor (lower, row-major `m × m`) of `G_ZZ` for the non-constant columns `z`.
    fn cholesky(&self, z: &[usize]) -> Result<Vec<f64>> {
        let m = z.len();
        let mut l = vec![0.0; m * m];
        for r in 0..m {
            for c in 0..=r {
                let mut s = self.g(z[r], z[c]);
                for k in 0..c {
                    s -= l[r * m + k] * l[c * m + k];
                }
                if r == c {
                    // Relative pivot check: a standardised column has G_rr = T_eff.
                    if s.is_nan() || s <= COLLINEAR * self.t_eff as f64 {
                        return Err(collinear());
                    }
                    l[r * m + r] = s.sqrt();
                } else {
                    l[r * m + c] = s / l[c * m + c];
                }
            }
        }
        Ok(l)
    }

    /// Solves `L u = G_{Z,target}` and returns `u`.
    fn forward(&self, l: &[f64], z: &[usize], target: usize) -> Vec<f64> {
        let m = z.len();
        let mut u = vec![0.0; m];
        for r in 0..m {
            let mut s = self.g(z[r], target);
            for k in 0..r {
                s -= l[r * m + k] * u[k];
            }
            u[r] = s / l[r * m + r];
        }
        u
    }

    fn non_constant(&self, z: &[Node]) -> Vec<usize> {
        z.iter().map(|&n| self.col(n)).filter(|&c| !self.constant[c]).collect()
    }

    /// ParCorr test of `x ⊥ y | z` (nodes must be distinct and within the lag range).
    pub fn par_corr(&self, x: Node, y: Node, z: &[Node]) -> Result<CiTest> {
        let (cx, cy) = (self.col(x), self.col(y));
        let zc = self.non_constant(z);
        let df = self.t_eff as i64 - (2 + zc.len() as i64);
        if self.constant[cx] || self.constant[cy] {
            return Ok(CiTest { val: 0.0, p: 1.0, df });
        }
        let l = self.cholesky(&zc)?;
        let ux = self.forward(&l, &zc, cx);
        let uy = self.forward(&l, &zc, cy);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        let rxx = self.g(cx, cx) - dot(&ux, &ux);
        let ryy = self.g(cy, cy) - dot(&uy, &uy);
        let rxy = self.g(cx, cy) - dot(&ux, &uy);
        let floor = COLLINEAR * self.t_eff as f64;
        if !(rxx > floor && ryy > floor) {
            return Err(collinear());
        }
        let val = (rxy / (rxx * ryy).sqrt()).clamp(-1.0, 1.0);
        Ok(CiTest {
            val,
            p: analytic_p(val, df),
            df,
        })
    }

    /// tigramite's `get_model_selection_criterion(j, parents, tau_max)` (AIC): `T_eff·ln(RSS) + 2·(1 + |parents|)`.
    pub fn aic(&self, j: usize, parents: &[Node]) -> Result<f64> {
        let cy = self.col(Node { var: j, lag: 0 });
        let zc = self.non_constant(parents);
        let l = self.cholesky(&zc)?;
        let uy = self.forward(&l, &zc, cy);
        let rss = self.g(cy, cy) - uy.iter().map(|u| u * u).sum::<f64>();
        let p = 1.0 + parents.len() as f64;
        Ok(self.t_eff as f64 * rss.ln() + 2.0 * p)
    }
}

/// Relative residual variance below which a node counts as exactly explained by others (standardised nodes have
/// `G_kk = T_eff`).
const COLLINEAR: f64 = 1e-10;

fn collinear() -> AnalyticsError {
    AnalyticsError::InvalidInput {
        field: "data".into(),
        reason: "some variables are (nearly) exact linear combinations of others or of their own lags; remove \
                 duplicated or derived variables"
            .into(),
    }
}

/// Two-sided p-value of a Pearson (partial) correlation `r` with `df` degrees of freedom (ParCorr analytic).
pub fn analytic_p(r: f64, df: i64) -> f64 {
    if df < 1 {
        return f64::NAN;
    }
    if ((r.abs() - 1.0).abs()) <= f64::MIN_POSITIVE {
        return 0.0;
    }
    let df = df as f64;
    let t = r * (df / (1.0 - r * r)).sqrt();
    let dist = StudentsT::new(0.0, 1.0, df).expect("df >= 1 is a valid StudentsT");
    dist.sf(t.abs()) * 2.0
}

/// Runs PC1 for effect `j` at one `pc_alpha`; returns the parents, strongest first.
fn pc_single(
    gram: &LaggedGram,
    j: usize,
    candidates: &[Node],
    pc_alpha: f64,
    max_conds_dim: usize,
    max_combinations: usize,
) -> Result<Vec<Node>> {
    let y = Node { var: j, lag: 0 };
    let mut val_min: Vec<Option<f64>> = vec![None; candidates.len()];
    let mut parents: Vec<usize> = (0..candidates.len()).collect();
    let mut z = Vec::new();
    for conds_dim in 0..=max_conds_dim {
        if parents.len() < conds_dim + 1 {
            break;
        }
        let mut nonsig = Vec::new();
        for &parent in &parents {
            let others: Vec<usize> = parents.iter().copied().filter(|&p| p != parent).collect();
            let mut combination: Vec<usize> = (0..conds_dim).collect();
            for _ in 0..max_combinations {
                z.clear();
                z.extend(combination.iter().map(|&k| candidates[others[k]]));
                let test = gram.par_corr(candidates[parent], y, &z)?;
                if test.df < 1 {
                    return Err(AnalyticsError::InsufficientData {
                        reason: format!(
                            "PC1 condition selection for variable {j} reached {conds_dim} conditions with only {} \
                             usable rows; use more days, a smaller tau_max, fewer variables or max_conds_dim",
                            gram.t_eff()
                        ),
                    });
                }
                let current = val_min[parent].unwrap_or(f64::INFINITY);
                // Python's min(|val|, current): keeps `current` unless |val| is smaller.
                val_min[parent] = Some(if test.val.abs() < current {
                    test.val.abs()
                } else {
                    current
                });
                if test.p.is_nan() || test.p > pc_alpha {
                    nonsig.push(parent);
                    break;
                }
                if !next_combination(&mut combination, others.len()) {
                    break;
                }
            }
        }
        for parent in nonsig {
            val_min[parent] = None;
        }
        parents = (0..candidates.len()).filter(|&c| val_min[c].is_some()).collect();
        // Stable sort by decreasing |val_min|, ties in candidate (insertion) order.
        parents.sort_by(|&a, &b| {
            val_min[b]
                .unwrap()
                .partial_cmp(&val_min[a].unwrap())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    Ok(parents.into_iter().map(|c| candidates[c]).collect())
}

/// Advances a lexicographic combination of `k` positions out of `0..n`; false when exhausted.
fn next_combination(idx: &mut [usize], n: usize) -> bool {
    let k = idx.len();
    let Some(i) = (0..k).rev().find(|&i| idx[i] != i + n - k) else {
        return false;
    };
    idx[i] += 1;
    for m in i + 1..k {
        idx[m] = idx[m - 1] + 1;
    }
    true
}

fn validate(data: ArrayView2<f64>, params: &PcmciParams) -> Result<()> {
    let invalid = |field: &str, reason: String| AnalyticsError::InvalidInput {
        field: field.into(),
        reason,
    };
    if params.tau_min > params.tau_max {
        return Err(invalid(
            "tau_min",
            format!("must be <= tau_max ({} > {})", params.tau_min, params.tau_max),
        ));
    }
    if let Some(a) = params.pc_alpha {
        if !(0.0..=1.0).contains(&a) {
            return Err(invalid("pc_alpha", format!("must be in [0, 1], got {a}")));
        }
    }
    if !(0.0..=1.0).contains(&params.alpha_level) {
        return Err(invalid(
            "alpha_level",
            format!("must be in [0, 1], got {}", params.alpha_level),
        ));
    }
    if params.max_combinations == 0 {
        return Err(invalid("max_combinations", "must be > 0".into()));
    }
    let (t, n) = data.dim();
    if n == 0 {
        return Err(invalid("data", "no variables".into()));
    }
    if let Some(((row, var), v)) = data.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(invalid(
            "data",
            format!("row {row}, variable {var} is {v}: PCMCI needs a value for every day (fill or drop missing days)"),
        ));
    }
    let needed = 2 * params.tau_max + 3;
    if t < needed {
        return Err(AnalyticsError::InsufficientData {
            reason: format!(
                "PCMCI with tau_max = {} needs at least {needed} rows, got {t}",
                params.tau_max
            ),
        });
    }
    Ok(())
}

/// Benjamini–Hochberg as tigramite's `get_corrected_pvalues(fdr_method='fdr_bh')` without link assumptions.
fn fdr_bh(p: &[Vec<Vec<f64>>], exclude_contemporaneous: bool) -> Vec<Vec<Vec<f64>>> {
    let n = p.len();
    let taus = p.first().map_or(0, |row| row[0].len());
    let in_mask = |i: usize, j: usize, tau: usize| !(tau == 0 && (i == j || exclude_contemporaneous));
    let mut entries = Vec::new();
    for i in 0..n {
        for j in 0..n {
            for tau in 0..taus {
                if in_mask(i, j, tau) {
                    entries.push((p[i][j][tau], i, j, tau));
                }
            }
        }
    }
    // Ties get the same corrected value whatever their order, so a stable sort reproduces numpy's argsort.
    entries.sort_by(|a, b| a.0.total_cmp(&b.0));
    let m = entries.len() as f64;
    let mut corrected: Vec<f64> = entries
        .iter()
        .enumerate()
        .map(|(k, e)| e.0 / ((k + 1) as f64 / m))
        .collect();
    for k in (0..corrected.len().saturating_sub(1)).rev() {
        corrected[k] = corrected[k].min(corrected[k + 1]);
    }
    let mut q = p.to_vec();
    for (e, c) in entries.iter().zip(corrected) {
        q[e.1][e.2][e.3] = if c > 1.0 { 1.0 } else { c };
    }
    q
}

/// PCMCI (PC1 condition selection + MCI) on a `T × N` table of consecutive days. See the module docs.
pub fn run_pcmci(data: ArrayView2<f64>, params: &PcmciParams) -> Result<PcmciResult> {
    validate(data, params)?;
    let n = data.ncols();
    let (tau_min, tau_max) = (params.tau_min, params.tau_max);
    let gram = LaggedGram::new(data, 2 * tau_max)?;

    // PC1 per effect (and per pc_alpha), in parallel.
    let pc_tau_min = tau_min.max(1);
    let candidates: Vec<Node> = (0..n)
        .flat_map(|var| (pc_tau_min..=tau_max).map(move |lag| Node { var, lag }))
        .collect();
    let max_conds_dim = params
        .max_conds_dim
        .unwrap_or(n * (tau_max + 1).saturating_sub(pc_tau_min));
    let alphas: Vec<f64> = match params.pc_alpha {
        Some(a) => vec![a],
        None => PC_ALPHA_GRID.to_vec(),
    };
    let per_effect: Vec<(Vec<Node>, f64)> = (0..n)
        .into_par_iter()
        .map(|j| -> Result<(Vec<Node>, f64)> {
            let runs = alphas
                .iter()
                .map(|&a| pc_single(&gram, j, &candidates, a, max_conds_dim, params.max_combinations))
                .collect::<Result<Vec<_>>>()?;
            if alphas.len() == 1 {
                return Ok((runs.into_iter().next().unwrap_or_default(), alphas[0]));
            }
            // numpy argmin: the first minimum.
            let mut best = 0;
            let mut best_score = gram.aic(j, &runs[0])?;
            for (k, parents) in runs.iter().enumerate().skip(1) {
                let score = gram.aic(j, parents)?;
                if score < best_score {
                    best = k;
                    best_score = score;
                }
            }
            Ok((runs[best].clone(), alphas[best]))
        })
        .collect::<Result<Vec<_>>>()?;
    let parents: Vec<Vec<Node>> = per_effect.iter().map(|(p, _)| p.clone()).collect();
    let optimal_pc_alpha = params
        .pc_alpha
        .is_none()
        .then(|| per_effect.iter().map(|(_, a)| *a).collect());

    // MCI per effect, in parallel.
    let mci: Vec<Vec<(usize, usize, CiTest)>> = (0..n)
        .into_par_iter()
        .map(|j| -> Result<Vec<(usize, usize, CiTest)>> {
            let mut out = Vec::new();
            for i in 0..n {
                for tau in tau_min..=tau_max {
                    if i == j && tau == 0 {
                        continue;
                    }
                    let x = Node { var: i, lag: tau };
                    let mut z: Vec<Node> = parents[j].iter().copied().filter(|&p| p != x).collect();
                    for p in &parents[i] {
                        let shifted = Node {
                            var: p.var,
                            lag: p.lag + tau,
                        };
                        if !z.contains(&shifted) {
                            z.push(shifted);
                        }
                    }
                    let test = gram.par_corr(x, Node { var: j, lag: 0 }, &z)?;
                    if test.df < 1 {
                        return Err(AnalyticsError::InsufficientData {
                            reason: format!(
                                "the MCI test of variable {i} at lag {tau} -> variable {j} has {} conditions but only \
                                 {} usable rows; use more days, a smaller tau_max or fewer variables",
                                z.len(),
                                gram.t_eff()
                            ),
                        });
                    }
                    out.push((i, tau, test));
                }
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>>>()?;

    let mut val = vec![vec![vec![0.0; tau_max + 1]; n]; n];
    let mut p = vec![vec![vec![1.0; tau_max + 1]; n]; n];
    for (j, tests) in mci.iter().enumerate() {
        for &(i, tau, test) in tests {
            val[i][j][tau] = test.val;
            p[i][j][tau] = test.p;
        }
    }

    // Graph from the unsymmetrised p-values.
    let sig = |i: usize, j: usize, tau: usize| p[i][j][tau] <= params.alpha_level;
    let mut graph = vec![vec![vec![String::new(); tau_max + 1]; n]; n];
    for i in 0..n {
        for j in 0..n {
            for tau in 1..=tau_max {
                if sig(i, j, tau) {
                    graph[i][j][tau] = "-->".into();
                }
            }
            if sig(i, j, 0) && sig(j, i, 0) {
                graph[i][j][0] = "o-o".into();
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            if sig(i, j, 0) && !sig(j, i, 0) {
                graph[i][j][0] = "-->".into();
                graph[j][i][0] = "<--".into();
            }
        }
    }

    // Symmetrise lag 0 by the larger p-value, in tigramite's loop order.
    if tau_min == 0 {
        for i in 0..n {
            for j in 0..n {
                if i != j && p[i][j][0] >= p[j][i][0] {
                    p[j][i][0] = p[i][j][0];
                    val[j][i][0] = val[i][j][0];
                }
            }
        }
    }

    let q_matrix = fdr_bh(&p, true);
    let q_matrix_incl_contemporaneous = fdr_bh(&p, false);
    Ok(PcmciResult {
        tau_min,
        tau_max,
        val_matrix: val,
        p_matrix: p,
        q_matrix,
        q_matrix_incl_contemporaneous,
        graph,
        parents,
        optimal_pc_alpha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_matches_hand_computation() {
        // Four lagged p-values 0.01, 0.04, 0.03, 0.5 (plus the excluded lag-0 diagonal).
        let p = vec![
            vec![vec![1.0, 0.01, 0.04], vec![0.2, 0.03, 0.5]],
            vec![vec![0.2, 0.6, 0.7], vec![1.0, 0.8, 0.9]],
        ];
        let q = fdr_bh(&p, true);
        // Sorted lagged p: 0.01, 0.03, 0.04, 0.5, 0.6, 0.7, 0.8, 0.9 (m = 8); q_k = min_{l >= k} p_l / (l / m).
        assert_eq!(q[0][0][1], 0.01 / (1.0 / 8.0));
        assert_eq!(q[0][1][1], 0.04 / (3.0 / 8.0));
        assert_eq!(q[0][0][2], 0.04 / (3.0 / 8.0));
        assert_eq!(q[0][1][2], 0.9 / (8.0 / 8.0));
        assert_eq!(q[0][1][0], 0.2, "lag 0 keeps its p-value when excluded");
        let q_all = fdr_bh(&p, false);
        assert!(q_all[0][1][0] > 0.2);
        assert_eq!(q[1][1][2], 0.9);
    }
}
