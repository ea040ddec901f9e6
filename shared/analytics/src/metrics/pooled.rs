//! Count, mean and sample SD of a union of groups from each group's own (n, mean, sample SD), without the values:
//! the parallel-variance combination of Chan, Golub and LeVeque (1979). A period's statistics combine its days'
//! stored summaries this way and equal those of the period's readings up to floating-point rounding.

/// One group's summary: `n` values with mean `mean` and sample SD `sd` (`None` for a single value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Group {
    pub n: usize,
    pub mean: f64,
    pub sd: Option<f64>,
}

/// The union's count, mean and sample SD (n − 1); the mean is `None` without values, the SD below two.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pooled {
    pub n: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
}

/// Two passes over the groups, as the two-pass SD over the values: the count-weighted mean first, then
/// M2 = Σ (nᵢ − 1)·sdᵢ² + Σ nᵢ·(meanᵢ − mean)², every term non-negative (no cancellation). Empty groups are skipped.
pub fn pooled(groups: &[Group]) -> Pooled {
    let groups = || groups.iter().filter(|g| g.n > 0);
    let n: usize = groups().map(|g| g.n).sum();
    if n == 0 {
        return Pooled::default();
    }
    let mean = groups().map(|g| g.n as f64 * g.mean).sum::<f64>() / n as f64;
    let m2: f64 = groups()
        .map(|g| {
            let within = g.sd.map_or(0.0, |sd| (g.n - 1) as f64 * sd * sd);
            within + g.n as f64 * (g.mean - mean).powi(2)
        })
        .sum();
    Pooled {
        n,
        mean: Some(mean),
        sd: (n > 1).then(|| (m2 / (n - 1) as f64).sqrt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::{mean, sd};

    fn group(values: &[f64]) -> Group {
        Group {
            n: values.len(),
            mean: mean(values),
            sd: (values.len() > 1).then(|| sd(values)),
        }
    }

    #[test]
    fn pooled_groups_equal_the_statistics_of_all_values() {
        // Uneven groups, a single value, an empty group and a constant one, values like a CGM trace's.
        let values: Vec<f64> = (0..1000).map(|i| 140.0 + 70.0 * (i as f64 / 13.7).sin()).collect();
        let cuts = [0, 288, 289, 289, 500, 576, 600, 1000];
        let mut groups: Vec<Group> = cuts.windows(2).map(|w| group(&values[w[0]..w[1]])).collect();
        groups.push(group(&[120.0; 5]));
        let mut all = values.clone();
        all.extend([120.0; 5]);
        let got = pooled(&groups);
        assert_eq!(got.n, all.len());
        let relative = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(relative(got.mean.unwrap(), mean(&all)) < 1e-12);
        assert!(relative(got.sd.unwrap(), sd(&all)) < 1e-12);
    }

    #[test]
    fn too_few_values_give_no_mean_or_no_sd() {
        assert_eq!(pooled(&[]), Pooled::default());
        let one = pooled(&[group(&[]), group(&[100.0])]);
        assert_eq!((one.n, one.mean, one.sd), (1, Some(100.0), None));
        let two = pooled(&[group(&[100.0]), group(&[110.0])]);
        assert!((two.sd.unwrap() - sd(&[100.0, 110.0])).abs() < 1e-12);
    }
}
