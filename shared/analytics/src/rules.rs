//! Association rules over daily 0/1 items: a pure-Rust port of mlxtend 0.25 `apriori` + `association_rules`.
//!
//! * Frequent itemsets: level-wise Apriori (join + prune exactly like mlxtend's `_apriori_gen`), support =
//!   `count as f64 / rows as f64`, kept when `support >= min_support`. Support counting uses one bitset per item
//!   (`u64` words over transactions); each candidate's transactions are the AND of its two parents' bitsets.
//! * Rules: for every frequent itemset with at least two items, every non-empty proper subset is an antecedent and the
//!   rest the consequent; a rule is kept when the chosen metric is `>= min_threshold`. Every metric uses mlxtend's
//!   formula with `num_itemsets` = number of transactions, so results agree bit for bit (e.g. confidence is
//!   `(sAC·N)/(sA·N)`, conviction is `inf` when confidence ≥ 1, Zhang's metric and certainty are 0 where their
//!   denominators vanish, representativity is 1 since there are no missing cells).
//!
//! Deterministic order (documented, mlxtend's own rule order depends on `PYTHONHASHSEED`):
//! * itemsets by size, then lexicographically by item column index (this is mlxtend's itemset order);
//! * items inside an itemset, antecedent or consequent in column order;
//! * rules grouped by their itemset in itemset order, then antecedents of decreasing size, then antecedent
//!   combinations in lexicographic column order (mlxtend's loop order with sets iterated in column order).
//!
//! No frequent itemsets (or no rows) gives empty lists, not an error.

use std::collections::HashSet;
use std::str::FromStr;

use ndarray::ArrayView2;
use serde::Serialize;

use crate::{AnalyticsError, Result};

/// The rule metric used to filter rules (`metric=` in mlxtend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleMetric {
    AntecedentSupport,
    ConsequentSupport,
    Support,
    Confidence,
    Lift,
    Representativity,
    Leverage,
    Conviction,
    ZhangsMetric,
    Jaccard,
    Certainty,
    Kulczynski,
}

impl RuleMetric {
    /// All metrics with their snake_case names (the JSON field names).
    pub const ALL: [(RuleMetric, &'static str); 12] = [
        (RuleMetric::AntecedentSupport, "antecedent_support"),
        (RuleMetric::ConsequentSupport, "consequent_support"),
        (RuleMetric::Support, "support"),
        (RuleMetric::Confidence, "confidence"),
        (RuleMetric::Lift, "lift"),
        (RuleMetric::Representativity, "representativity"),
        (RuleMetric::Leverage, "leverage"),
        (RuleMetric::Conviction, "conviction"),
        (RuleMetric::ZhangsMetric, "zhangs_metric"),
        (RuleMetric::Jaccard, "jaccard"),
        (RuleMetric::Certainty, "certainty"),
        (RuleMetric::Kulczynski, "kulczynski"),
    ];

    /// The metric's value for a rule.
    pub fn of(self, rule: &Rule) -> f64 {
        match self {
            RuleMetric::AntecedentSupport => rule.antecedent_support,
            RuleMetric::ConsequentSupport => rule.consequent_support,
            RuleMetric::Support => rule.support,
            RuleMetric::Confidence => rule.confidence,
            RuleMetric::Lift => rule.lift,
            RuleMetric::Representativity => rule.representativity,
            RuleMetric::Leverage => rule.leverage,
            RuleMetric::Conviction => rule.conviction,
            RuleMetric::ZhangsMetric => rule.zhangs_metric,
            RuleMetric::Jaccard => rule.jaccard,
            RuleMetric::Certainty => rule.certainty,
            RuleMetric::Kulczynski => rule.kulczynski,
        }
    }
}

impl FromStr for RuleMetric {
    type Err = AnalyticsError;

    /// Accepts the snake_case names and mlxtend's spelling (`"antecedent support"`).
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().replace(' ', "_").to_ascii_lowercase();
        RuleMetric::ALL
            .iter()
            .find(|(_, name)| *name == wanted)
            .map(|(metric, _)| *metric)
            .ok_or_else(|| AnalyticsError::InvalidInput {
                field: "metric".into(),
                reason: format!(
                    "unknown metric `{s}`; expected one of {}",
                    RuleMetric::ALL.map(|(_, n)| n).join(", ")
                ),
            })
    }
}

/// Parameters of [`run_rules`]. Defaults are mlxtend's (`min_support=0.5`, `metric='confidence'`,
/// `min_threshold=0.8`, no `max_len`).
#[derive(Debug, Clone, PartialEq)]
pub struct RulesParams {
    /// Minimum itemset support, in (0, 1].
    pub min_support: f64,
    /// Largest itemset size (≥ 1); `None` = unlimited.
    pub max_len: Option<usize>,
    pub metric: RuleMetric,
    pub min_threshold: f64,
}

impl Default for RulesParams {
    fn default() -> Self {
        RulesParams {
            min_support: 0.5,
            max_len: None,
            metric: RuleMetric::Confidence,
            min_threshold: 0.8,
        }
    }
}

/// A frequent itemset by item column indices (ascending), with its transaction count and support.
#[derive(Debug, Clone, PartialEq)]
pub struct FrequentItemset {
    pub items: Vec<usize>,
    pub count: usize,
    pub support: f64,
}

/// A frequent itemset by item names (JSON output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Itemset {
    pub items: Vec<String>,
    pub support: f64,
}

/// One association rule with every mlxtend metric column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub antecedents: Vec<String>,
    pub consequents: Vec<String>,
    pub antecedent_support: f64,
    pub consequent_support: f64,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
    pub representativity: f64,
    pub leverage: f64,
    /// `inf` (JSON `null`) when confidence is 1.
    pub conviction: f64,
    pub zhangs_metric: f64,
    pub jaccard: f64,
    pub certainty: f64,
    pub kulczynski: f64,
}

/// Frequent itemsets and rules, in the documented order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesResult {
    pub itemsets: Vec<Itemset>,
    pub rules: Vec<Rule>,
}

fn check_min_support(min_support: f64) -> Result<()> {
    if !(min_support > 0.0 && min_support <= 1.0) {
        return Err(AnalyticsError::InvalidInput {
            field: "min_support".into(),
            reason: format!("must be in (0, 1], got {min_support}"),
        });
    }
    Ok(())
}

/// Transactions of each item as a bitset over rows.
fn item_bitsets(present: ArrayView2<bool>) -> Vec<Vec<u64>> {
    let (rows, items) = present.dim();
    let words = rows.div_ceil(64);
    let mut bits = vec![vec![0u64; words]; items];
    for ((t, k), &p) in present.indexed_iter() {
        if p {
            bits[k][t / 64] |= 1u64 << (t % 64);
        }
    }
    bits
}

/// mlxtend `apriori(df, min_support, use_colnames=False, max_len)`: frequent itemsets of the `rows × items` 0/1
/// table, in mlxtend's order (by size, then lexicographic column indices).
pub fn apriori(present: ArrayView2<bool>, min_support: f64, max_len: Option<usize>) -> Result<Vec<FrequentItemset>> {
    check_min_support(min_support)?;
    if max_len == Some(0) {
        return Err(AnalyticsError::InvalidInput {
            field: "max_len".into(),
            reason: "must be at least 1".into(),
        });
    }
    let rows = present.nrows();
    let n = rows as f64;
    let supported = |count: usize| count as f64 / n >= min_support;
    let bits = item_bitsets(present);

    let mut result = Vec::new();
    // The current level: (items, bitset), sorted lexicographically by items.
    let mut level: Vec<(Vec<usize>, Vec<u64>)> = Vec::new();
    for (k, b) in bits.iter().enumerate() {
        let count = popcount(b);
        if supported(count) {
            result.push(FrequentItemset {
                items: vec![k],
                count,
                support: count as f64 / n,
            });
            level.push((vec![k], b.clone()));
        }
    }
    let mut size = 1;
    while !level.is_empty() && max_len.is_none_or(|m| size < m) {
        let known: HashSet<&[usize]> = level.iter().map(|(items, _)| items.as_slice()).collect();
        let mut next: Vec<(Vec<usize>, Vec<u64>)> = Vec::new();
        for (i, (a, bits_a)) in level.iter().enumerate() {
            let prefix = &a[..size - 1];
            for (b, bits_b) in &level[i + 1..] {
                if &b[..size - 1] != prefix {
                    break;
                }
                let mut candidate = a.clone();
                candidate.push(b[size - 1]);
                // Prune: every subset dropping one of the first size-1 items must be frequent.
                let mut subset = Vec::with_capacity(size);
                let all_frequent = (0..size - 1).all(|drop| {
                    subset.clear();
                    subset.extend(candidate.iter().enumerate().filter(|&(x, _)| x != drop).map(|(_, &v)| v));
                    known.contains(subset.as_slice())
                });
                if !all_frequent {
                    continue;
                }
                let joint: Vec<u64> = bits_a.iter().zip(bits_b).map(|(x, y)| x & y).collect();
                let count = popcount(&joint);
                if supported(count) {
                    next.push((candidate, joint));
                }
            }
        }
        for (items, joint) in &next {
            let count = popcount(joint);
            result.push(FrequentItemset {
                items: items.clone(),
                count,
                support: count as f64 / n,
            });
        }
        level = next;
        size += 1;
    }
    Ok(result)
}

fn popcount(bits: &[u64]) -> usize {
    bits.iter().map(|w| w.count_ones() as usize).sum()
}

/// All metrics of the rule A → C from the supports, with mlxtend's formulas and `num_itemsets` = `n`.
fn rule_metrics(s_ac: f64, s_a: f64, s_c: f64, n: f64) -> [f64; 12] {
    let confidence = (s_ac * n) / (s_a * n);
    let lift = confidence / s_c;
    let representativity = n / n;
    let leverage = s_ac - s_a * s_c;
    let conviction = if confidence < 1.0 {
        (1.0 - s_c) / (1.0 - confidence)
    } else {
        f64::INFINITY
    };
    let zhang_denominator = f64::max(s_ac * (1.0 - s_a), s_a * (s_c - s_ac));
    let zhangs_metric = if zhang_denominator == 0.0 {
        0.0
    } else {
        leverage / zhang_denominator
    };
    let jaccard = s_ac / (s_a + s_c - s_ac);
    let certainty_denominator = 1.0 - s_c;
    let certainty = if certainty_denominator == 0.0 {
        0.0
    } else {
        (confidence - s_c) / certainty_denominator
    };
    let confidence_ca = (s_ac * n) / (s_c * n);
    let kulczynski = (confidence + confidence_ca) / 2.0;
    [
        s_a,
        s_c,
        s_ac,
        confidence,
        lift,
        representativity,
        leverage,
        conviction,
        zhangs_metric,
        jaccard,
        certainty,
        kulczynski,
    ]
}

/// Calls `visit` with every combination of `size` positions out of `0..len`, in lexicographic order.
fn for_each_combination(len: usize, size: usize, mut visit: impl FnMut(&[usize])) {
    let mut idx: Vec<usize> = (0..size).collect();
    loop {
        visit(&idx);
        let Some(i) = (0..size).rev().find(|&i| idx[i] != i + len - size) else {
            return;
        };
        idx[i] += 1;
        for k in i + 1..size {
            idx[k] = idx[k - 1] + 1;
        }
    }
}

/// mlxtend `association_rules(itemsets, num_itemsets, metric, min_threshold)` over the output of [`apriori`];
/// `num_itemsets` is the number of transactions. Item names come from `items` (indexed by column).
pub fn association_rules(
    itemsets: &[FrequentItemset],
    items: &[String],
    num_itemsets: usize,
    metric: RuleMetric,
    min_threshold: f64,
) -> Result<Vec<Rule>> {
    if let Some(bad) = itemsets.iter().flat_map(|s| &s.items).find(|&&k| k >= items.len()) {
        return Err(AnalyticsError::InvalidInput {
            field: "itemsets".into(),
            reason: format!("item index {bad} but only {} item names", items.len()),
        });
    }
    let support_of: std::collections::HashMap<&[usize], f64> =
        itemsets.iter().map(|s| (s.items.as_slice(), s.support)).collect();
    let lookup = |set: &[usize]| {
        support_of.get(set).copied().ok_or_else(|| AnalyticsError::InvalidInput {
            field: "itemsets".into(),
            reason: format!("the subset {set:?} of a frequent itemset is missing"),
        })
    };
    let names = |set: &[usize]| set.iter().map(|&k| items[k].clone()).collect::<Vec<_>>();
    let n = num_itemsets as f64;
    let mut rules = Vec::new();
    let mut antecedent = Vec::new();
    let mut consequent = Vec::new();
    for set in itemsets.iter().filter(|s| s.items.len() >= 2) {
        let k = &set.items;
        for size in (1..k.len()).rev() {
            let mut failure = None;
            for_each_combination(k.len(), size, |positions| {
                if failure.is_some() {
                    return;
                }
                antecedent.clear();
                consequent.clear();
                let mut p = positions.iter().peekable();
                for (x, &item) in k.iter().enumerate() {
                    if p.peek() == Some(&&x) {
                        p.next();
                        antecedent.push(item);
                    } else {
                        consequent.push(item);
                    }
                }
                let (s_a, s_c) = match (lookup(&antecedent), lookup(&consequent)) {
                    (Ok(a), Ok(c)) => (a, c),
                    (Err(e), _) | (_, Err(e)) => {
                        failure = Some(e);
                        return;
                    }
                };
                let m = rule_metrics(set.support, s_a, s_c, n);
                let rule = Rule {
                    antecedents: names(&antecedent),
                    consequents: names(&consequent),
                    antecedent_support: m[0],
                    consequent_support: m[1],
                    support: m[2],
                    confidence: m[3],
                    lift: m[4],
                    representativity: m[5],
                    leverage: m[6],
                    conviction: m[7],
                    zhangs_metric: m[8],
                    jaccard: m[9],
                    certainty: m[10],
                    kulczynski: m[11],
                };
                if metric.of(&rule) >= min_threshold {
                    rules.push(rule);
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
        }
    }
    Ok(rules)
}

/// Frequent itemsets and association rules of a `rows × items` 0/1 table (`items` names the columns).
pub fn run_rules(present: ArrayView2<bool>, items: &[String], params: &RulesParams) -> Result<RulesResult> {
    if items.len() != present.ncols() {
        return Err(AnalyticsError::InvalidInput {
            field: "items".into(),
            reason: format!("{} names for {} item columns", items.len(), present.ncols()),
        });
    }
    if params.min_threshold.is_nan() {
        return Err(AnalyticsError::InvalidInput {
            field: "min_threshold".into(),
            reason: "is NaN".into(),
        });
    }
    let frequent = apriori(present, params.min_support, params.max_len)?;
    let rules = association_rules(&frequent, items, present.nrows(), params.metric, params.min_threshold)?;
    let itemsets = frequent
        .iter()
        .map(|s| Itemset {
            items: s.items.iter().map(|&k| items[k].clone()).collect(),
            support: s.support,
        })
        .collect();
    Ok(RulesResult { itemsets, rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_are_lexicographic() {
        let mut seen = Vec::new();
        for_each_combination(4, 2, |c| seen.push(c.to_vec()));
        assert_eq!(
            seen,
            vec![vec![0, 1], vec![0, 2], vec![0, 3], vec![1, 2], vec![1, 3], vec![2, 3]]
        );
    }

    #[test]
    fn metric_names_parse_both_spellings() {
        assert_eq!("antecedent support".parse::<RuleMetric>().unwrap(), RuleMetric::AntecedentSupport);
        assert_eq!("zhangs_metric".parse::<RuleMetric>().unwrap(), RuleMetric::ZhangsMetric);
        assert!("accuracy".parse::<RuleMetric>().is_err());
    }
}
