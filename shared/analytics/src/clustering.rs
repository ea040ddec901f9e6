//! Grouping similar days: k-means (Lloyd's algorithm, k-means++ seeding), the silhouette that chooses k, and the
//! adjusted Rand index that compares two groupings. Checked against scikit-learn's `KMeans`, `silhouette_score` and
//! `adjusted_rand_score` (`tests/clustering_golden.rs`).
//!
//! Deterministic: the seeding draws from a fixed-seed SplitMix64 stream, and [`kmeans`] keeps the best of
//! [`KMeansParams::restarts`] seeded runs (lowest inertia; ties to the earlier run), so the same rows always give the
//! same clusters. Rows are points in Euclidean space; the caller chooses the features and their scale.

use crate::{AnalyticsError, Result};

/// How [`kmeans`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KMeansParams {
    /// Seeded runs; the one with the lowest inertia wins (scikit-learn's `n_init`).
    pub restarts: usize,
    /// Lloyd iterations per run at most.
    pub max_iterations: usize,
    /// A run stops when no centre moves more than this (squared Euclidean distance).
    pub tolerance: f64,
    pub seed: u64,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            restarts: 10,
            max_iterations: 300,
            tolerance: 1e-8,
            seed: 0x5EED,
        }
    }
}

/// A grouping of the rows into `k` clusters.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// The cluster of each row, `0..k`, numbered by first appearance (row 0 is in cluster 0), so equal groupings
    /// have equal labels.
    pub labels: Vec<usize>,
    /// Each cluster's centre (the mean of its rows), in label order.
    pub centres: Vec<Vec<f64>>,
    /// Sum of squared distances of the rows to their centres.
    pub inertia: f64,
}

/// SplitMix64: a tiny, well-mixed stream, enough for seeding (no dependency on `rand` in the pure layer).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The squared Euclidean distance of two rows of equal length.
pub fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn check_rows(rows: &[Vec<f64>], k: usize) -> Result<usize> {
    let width = rows.first().map_or(0, Vec::len);
    if width == 0 || rows.iter().any(|row| row.len() != width) {
        return Err(AnalyticsError::InvalidInput {
            field: "rows".into(),
            reason: "rows must be non-empty and of equal length".into(),
        });
    }
    if rows.iter().flatten().any(|v| !v.is_finite()) {
        return Err(AnalyticsError::InvalidInput {
            field: "rows".into(),
            reason: "values must be finite".into(),
        });
    }
    if k == 0 || k > rows.len() {
        return Err(AnalyticsError::InsufficientData {
            reason: format!("{k} clusters need at least {k} rows (have {})", rows.len()),
        });
    }
    Ok(width)
}

/// Greedy k-means++ seeding (scikit-learn's): the first centre uniformly; each next one is the best of
/// `2 + ⌊ln k⌋` candidates, each drawn with probability proportional to the squared distance to the nearest centre
/// so far, the best being the one that leaves the lowest total squared distance.
fn seed_centres(rows: &[Vec<f64>], k: usize, rng: &mut SplitMix64) -> Vec<Vec<f64>> {
    let first = ((rng.next_f64() * rows.len() as f64) as usize).min(rows.len() - 1);
    let mut centres = vec![rows[first].clone()];
    let mut nearest: Vec<f64> = rows.iter().map(|row| squared_distance(row, &centres[0])).collect();
    let trials = 2 + (k as f64).ln() as usize;
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let candidate = if total > 0.0 {
                let mut target = rng.next_f64() * total;
                nearest
                    .iter()
                    .position(|&d| {
                        target -= d;
                        target < 0.0
                    })
                    .unwrap_or(rows.len() - 1)
            } else {
                // Every row sits on a centre already: any row will do.
                centres.len()
            };
            let with_candidate: Vec<f64> = nearest
                .iter()
                .zip(rows)
                .map(|(&d, row)| d.min(squared_distance(row, &rows[candidate])))
                .collect();
            let potential: f64 = with_candidate.iter().sum();
            if best.as_ref().is_none_or(|(p, ..)| potential < *p) {
                best = Some((potential, candidate, with_candidate));
            }
        }
        let (_, chosen, with_chosen) = best.expect("at least two trials");
        centres.push(rows[chosen].clone());
        nearest = with_chosen;
    }
    centres
}

fn nearest_centre(row: &[f64], centres: &[Vec<f64>]) -> (usize, f64) {
    centres
        .iter()
        .enumerate()
        .map(|(c, centre)| (c, squared_distance(row, centre)))
        .fold(
            (0, f64::INFINITY),
            |best, candidate| if candidate.1 < best.1 { candidate } else { best },
        )
}

/// One seeded Lloyd run: labels, centres and inertia.
fn lloyd(rows: &[Vec<f64>], k: usize, width: usize, params: &KMeansParams, rng: &mut SplitMix64) -> Clustering {
    let mut centres = seed_centres(rows, k, rng);
    let mut labels = vec![0; rows.len()];
    for _ in 0..params.max_iterations {
        for (label, row) in labels.iter_mut().zip(rows) {
            *label = nearest_centre(row, &centres).0;
        }
        let mut sums = vec![vec![0.0; width]; k];
        let mut counts = vec![0usize; k];
        for (&label, row) in labels.iter().zip(rows) {
            counts[label] += 1;
            for (sum, v) in sums[label].iter_mut().zip(row) {
                *sum += v;
            }
        }
        let mut moved: f64 = 0.0;
        for c in 0..k {
            let updated = if counts[c] == 0 {
                // An emptied cluster takes the row farthest from its centre (scikit-learn does the same).
                let (far, _) = rows
                    .iter()
                    .enumerate()
                    .map(|(i, row)| (i, squared_distance(row, &centres[labels[i]])))
                    .fold(
                        (0, -1.0),
                        |best, candidate| if candidate.1 > best.1 { candidate } else { best },
                    );
                rows[far].clone()
            } else {
                sums[c].iter().map(|sum| sum / counts[c] as f64).collect()
            };
            moved = moved.max(squared_distance(&updated, &centres[c]));
            centres[c] = updated;
        }
        if moved <= params.tolerance {
            break;
        }
    }
    for (label, row) in labels.iter_mut().zip(rows) {
        *label = nearest_centre(row, &centres).0;
    }
    let inertia = rows
        .iter()
        .zip(&labels)
        .map(|(row, &label)| squared_distance(row, &centres[label]))
        .sum();
    Clustering {
        labels,
        centres,
        inertia,
    }
    .renumbered()
}

impl Clustering {
    /// Labels in order of first appearance, centres reordered to match; empty clusters dropped.
    fn renumbered(self) -> Clustering {
        let mut order: Vec<usize> = Vec::new();
        for &label in &self.labels {
            if !order.contains(&label) {
                order.push(label);
            }
        }
        let labels = self
            .labels
            .iter()
            .map(|label| order.iter().position(|o| o == label).unwrap_or(0))
            .collect();
        let centres = order.iter().map(|&old| self.centres[old].clone()).collect();
        Clustering {
            labels,
            centres,
            inertia: self.inertia,
        }
    }

    /// Clusters with at least one row.
    pub fn k(&self) -> usize {
        self.centres.len()
    }
}

/// k-means of `rows` into `k` clusters (module docs).
pub fn kmeans(rows: &[Vec<f64>], k: usize, params: &KMeansParams) -> Result<Clustering> {
    let width = check_rows(rows, k)?;
    let mut rng = SplitMix64(params.seed);
    let mut best: Option<Clustering> = None;
    for _ in 0..params.restarts.max(1) {
        let run = lloyd(rows, k, width, params, &mut rng);
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    Ok(best.expect("at least one run"))
}

/// Each row's silhouette `(b − a) / max(a, b)` (Euclidean distances; `a` the mean distance to the other rows of its
/// cluster, `b` the lowest mean distance to another cluster's rows), 0 for a row alone in its cluster
/// (scikit-learn's `silhouette_samples`). Needs 2 ≤ clusters < rows.
pub fn silhouettes(rows: &[Vec<f64>], labels: &[usize]) -> Result<Vec<f64>> {
    check_rows(rows, 1)?;
    let k = labels.iter().max().map_or(0, |m| m + 1);
    if labels.len() != rows.len() || k < 2 || k >= rows.len() {
        return Err(AnalyticsError::InvalidInput {
            field: "labels".into(),
            reason: "one label per row, and 2 ≤ clusters < rows".into(),
        });
    }
    let mut sizes = vec![0usize; k];
    for &label in labels {
        sizes[label] += 1;
    }
    Ok((0..rows.len())
        .map(|i| {
            let mut sums = vec![0.0; k];
            for (j, row) in rows.iter().enumerate() {
                if j != i {
                    sums[labels[j]] += squared_distance(&rows[i], row).sqrt();
                }
            }
            let own = labels[i];
            if sizes[own] <= 1 {
                return 0.0;
            }
            let a = sums[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && sizes[c] > 0)
                .map(|c| sums[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            let scale = a.max(b);
            if scale > 0.0 {
                (b - a) / scale
            } else {
                0.0
            }
        })
        .collect())
}

/// The mean silhouette of all rows (scikit-learn's `silhouette_score`).
pub fn silhouette_score(rows: &[Vec<f64>], labels: &[usize]) -> Result<f64> {
    let each = silhouettes(rows, labels)?;
    Ok(each.iter().sum::<f64>() / each.len() as f64)
}

/// The k-means grouping over `k_range` with the highest mean silhouette (ties to the smaller k), with that score.
pub fn kmeans_best_k(
    rows: &[Vec<f64>],
    k_range: std::ops::RangeInclusive<usize>,
    params: &KMeansParams,
) -> Result<(Clustering, f64)> {
    let mut best: Option<(Clustering, f64)> = None;
    for k in k_range.filter(|&k| k >= 2 && k < rows.len()) {
        let clustering = kmeans(rows, k, params)?;
        if clustering.k() < 2 {
            continue;
        }
        let score = silhouette_score(rows, &clustering.labels)?;
        if best.as_ref().is_none_or(|(_, s)| score > *s) {
            best = Some((clustering, score));
        }
    }
    best.ok_or_else(|| AnalyticsError::InsufficientData {
        reason: format!("no k in the range fits {} rows", rows.len()),
    })
}

/// The adjusted Rand index of two groupings of the same rows (Hubert and Arabie 1985; scikit-learn's
/// `adjusted_rand_score`): 1 for identical groupings, about 0 for chance agreement.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> Result<f64> {
    if a.len() != b.len() || a.is_empty() {
        return Err(AnalyticsError::InvalidInput {
            field: "labels".into(),
            reason: "two non-empty groupings of the same rows".into(),
        });
    }
    let (ka, kb) = (a.iter().max().map_or(0, |m| m + 1), b.iter().max().map_or(0, |m| m + 1));
    let mut table = vec![vec![0u64; kb]; ka];
    for (&x, &y) in a.iter().zip(b) {
        table[x][y] += 1;
    }
    let pairs = |n: u64| (n * n.saturating_sub(1) / 2) as f64;
    let index: f64 = table.iter().flatten().map(|&n| pairs(n)).sum();
    let rows: f64 = table.iter().map(|row| pairs(row.iter().sum())).sum();
    let columns: f64 = (0..kb).map(|c| pairs(table.iter().map(|row| row[c]).sum())).sum();
    let expected = rows * columns / pairs(a.len() as u64);
    let max = (rows + columns) / 2.0;
    if max == expected {
        // Both groupings are a single cluster (or all singletons): identical, as scikit-learn reports.
        return Ok(1.0);
    }
    Ok((index - expected) / (max - expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> Vec<Vec<f64>> {
        let mut rows = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)] {
            for i in 0..6 {
                let (dx, dy) = ((i % 3) as f64 * 0.3, (i / 3) as f64 * 0.4);
                rows.push(vec![cx + dx, cy + dy]);
            }
        }
        rows
    }

    #[test]
    fn separated_blobs_are_found_and_k_is_chosen_by_silhouette() {
        let rows = blobs();
        let (clustering, score) = kmeans_best_k(&rows, 2..=6, &KMeansParams::default()).unwrap();
        assert_eq!(clustering.k(), 3);
        let truth: Vec<usize> = (0..18).map(|i| i / 6).collect();
        assert_eq!(clustering.labels, truth);
        assert_eq!(adjusted_rand_index(&clustering.labels, &truth).unwrap(), 1.0);
        assert!(score > 0.9, "{score}");
        // Same input, same answer.
        assert_eq!(
            kmeans_best_k(&rows, 2..=6, &KMeansParams::default()).unwrap().0,
            clustering
        );
    }

    #[test]
    fn adjusted_rand_index_matches_hand_counts() {
        // Permuted labels are the same grouping.
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]).unwrap(), 1.0);
        // scikit-learn: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.5714285714285715
        let ari = adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]).unwrap();
        assert!((ari - 0.571_428_571_428_571_5).abs() < 1e-12, "{ari}");
        // Disagreeing groupings go below zero: adjusted_rand_score([0, 0, 1, 1], [0, 1, 0, 1]) = -0.5
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]).unwrap() + 0.5).abs() < 1e-12);
        assert!(adjusted_rand_index(&[0], &[0, 1]).is_err());
    }

    #[test]
    fn silhouette_of_a_lone_row_is_zero_and_bad_labels_are_refused() {
        let rows = vec![vec![0.0], vec![1.0], vec![10.0]];
        let each = silhouettes(&rows, &[0, 0, 1]).unwrap();
        assert_eq!(each[2], 0.0);
        // Row 0: a = 1, b = 10 → 0.9.
        assert!((each[0] - 0.9).abs() < 1e-12);
        assert!(silhouettes(&rows, &[0, 0, 0]).is_err());
        assert!(silhouettes(&rows, &[0, 1, 2]).is_err());
    }

    #[test]
    fn bad_rows_are_refused() {
        assert!(kmeans(&[vec![1.0], vec![f64::NAN]], 1, &KMeansParams::default()).is_err());
        assert!(kmeans(&[vec![1.0], vec![1.0, 2.0]], 1, &KMeansParams::default()).is_err());
        assert!(matches!(
            kmeans(&[vec![1.0]], 2, &KMeansParams::default()),
            Err(AnalyticsError::InsufficientData { .. })
        ));
        // Identical rows: one centre holds them all, the other is dropped.
        let same = kmeans(&vec![vec![1.0]; 4], 2, &KMeansParams::default()).unwrap();
        assert_eq!(same.labels, vec![0; 4]);
    }
}
