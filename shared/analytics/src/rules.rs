//! Association rules over daily 0/1 items: a pure-Rust port of mlxtend 0.25 `apriori` + `association_rules`.
//!
//! * Frequent itemsets: level-wise Apriori (mlxtend's `_apriori_gen` join of itemsets sharing all but their last
//!   item; its prune step is implied by the support test), support =
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
//! No frequent itemsets (or no rows) gives empty lists, not an error. A frequent itemset of more than 24 items (over
//! 16 million rules) is refused with `InvalidInput`: raise `min_support` or set `max_len`.

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

fn check_apriori_params(min_support: f64, max_len: Option<usize>) -> Result<()> {
    if max_len == Some(0) {
        return Err(AnalyticsError::InvalidInput {
            field: "max_len".into(),
            reason: "must be at least 1".into(),
        });
    }
    check_min_support(min_support)
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

/// The table as one bitset per item (`words` u64 per item, flat) plus `count / rows` for every possible count, so
/// supports are table look-ups with exactly the value of the division.
struct Bitsets {
    bits: Vec<u64>,
    words: usize,
    rows: usize,
    items: usize,
    support_of_count: Vec<f64>,
}

impl Bitsets {
    fn new(present: ArrayView2<bool>) -> Self {
        let (rows, items) = present.dim();
        let words = rows.div_ceil(64).max(1);
        let mut bits = vec![0u64; words * items];
        for (t, row) in present.outer_iter().enumerate() {
            let (word, bit) = (t / 64, 1u64 << (t % 64));
            for (k, &p) in row.iter().enumerate() {
                if p {
                    bits[k * words + word] |= bit;
                }
            }
        }
        let n = rows as f64;
        Bitsets {
            bits,
            words,
            rows,
            items,
            support_of_count: (0..=rows).map(|c| c as f64 / n).collect(),
        }
    }

    fn item(&self, k: usize) -> &[u64] {
        &self.bits[k * self.words..(k + 1) * self.words]
    }
}

/// mlxtend `apriori(df, min_support, use_colnames=False, max_len)`: frequent itemsets of the `rows × items` 0/1
/// table, in mlxtend's order (by size, then lexicographic column indices).
pub fn apriori(present: ArrayView2<bool>, min_support: f64, max_len: Option<usize>) -> Result<Vec<FrequentItemset>> {
    check_apriori_params(min_support, max_len)?;
    Ok(apriori_on(&Bitsets::new(present), min_support, max_len))
}

fn apriori_on(table: &Bitsets, min_support: f64, max_len: Option<usize>) -> Vec<FrequentItemset> {
    let words = table.words;
    let support = |count: usize| table.support_of_count[count];
    // `count / rows >= min_support` is monotone in `count`: find the smallest passing count once (same float test).
    let min_count = (0..=table.rows)
        .find(|&c| support(c) >= min_support)
        .unwrap_or(table.rows + 1);
    let supported = |count: usize| count >= min_count;

    let mut result = Vec::new();
    // The current level, flat: itemset `x` is `items[x*size..][..size]` with transactions `sets[x*words..][..words]`,
    // sorted lexicographically by items.
    let mut size = 1;
    let mut items: Vec<usize> = Vec::new();
    let mut sets: Vec<u64> = Vec::new();
    for k in 0..table.items {
        let b = table.item(k);
        let count = popcount(b);
        if supported(count) {
            result.push(FrequentItemset {
                items: vec![k],
                count,
                support: support(count),
            });
            items.push(k);
            sets.extend_from_slice(b);
        }
    }
    let mut candidate = Vec::new();
    let mut joint = vec![0u64; words];
    while !items.is_empty() && max_len.is_none_or(|m| size < m) {
        let len = items.len() / size;
        let item_of = |x: usize| &items[x * size..(x + 1) * size];
        let mut next_items = Vec::new();
        let mut next_sets = Vec::new();
        for i in 0..len {
            let a = item_of(i);
            for j in i + 1..len {
                let b = item_of(j);
                if a[..size - 1] != b[..size - 1] {
                    break;
                }
                candidate.clear();
                candidate.extend_from_slice(a);
                candidate.push(b[size - 1]);
                // mlxtend's prune step (every (size)-subset frequent) is skipped: a candidate it would prune has an
                // infrequent subset, so its own count fails the support test below just the same.
                let (sa, sb) = (&sets[i * words..(i + 1) * words], &sets[j * words..(j + 1) * words]);
                let mut count = 0;
                for ((o, x), y) in joint.iter_mut().zip(sa).zip(sb) {
                    *o = x & y;
                    count += o.count_ones() as usize;
                }
                if supported(count) {
                    result.push(FrequentItemset {
                        items: candidate.clone(),
                        count,
                        support: support(count),
                    });
                    next_items.extend_from_slice(&candidate);
                    next_sets.extend_from_slice(&joint);
                }
            }
        }
        items = next_items;
        sets = next_sets;
        size += 1;
    }
    result
}

fn popcount(bits: &[u64]) -> usize {
    bits.iter().map(|w| w.count_ones() as usize).sum()
}

/// One metric of the rule A → C from the supports, with mlxtend's formula and `num_itemsets` = `n`.
#[inline]
fn metric_value(metric: RuleMetric, s_ac: f64, s_a: f64, s_c: f64, n: f64) -> f64 {
    let confidence = || (s_ac * n) / (s_a * n);
    let leverage = || s_ac - s_a * s_c;
    match metric {
        RuleMetric::AntecedentSupport => s_a,
        RuleMetric::ConsequentSupport => s_c,
        RuleMetric::Support => s_ac,
        RuleMetric::Confidence => confidence(),
        RuleMetric::Lift => confidence() / s_c,
        // (N − disAC)/N with no disabled (missing) cells.
        RuleMetric::Representativity => 1.0,
        RuleMetric::Leverage => leverage(),
        RuleMetric::Conviction => {
            let c = confidence();
            if c < 1.0 {
                (1.0 - s_c) / (1.0 - c)
            } else {
                f64::INFINITY
            }
        }
        RuleMetric::ZhangsMetric => {
            let denominator = f64::max(s_ac * (1.0 - s_a), s_a * (s_c - s_ac));
            if denominator == 0.0 {
                0.0
            } else {
                leverage() / denominator
            }
        }
        RuleMetric::Jaccard => s_ac / (s_a + s_c - s_ac),
        RuleMetric::Certainty => {
            let denominator = 1.0 - s_c;
            if denominator == 0.0 {
                0.0
            } else {
                (confidence() - s_c) / denominator
            }
        }
        RuleMetric::Kulczynski => (confidence() + (s_ac * n) / (s_c * n)) / 2.0,
    }
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

/// mlxtend `association_rules(itemsets, num_itemsets=rows, metric, min_threshold)` for the output of [`apriori`] on
/// the same `rows × items` table (`items` names its columns). Antecedent and consequent supports are recounted from
/// the table's bitsets (`count / rows`, the very values apriori reports, since every subset of a frequent itemset
/// is frequent).
pub fn association_rules(
    present: ArrayView2<bool>,
    items: &[String],
    itemsets: &[FrequentItemset],
    metric: RuleMetric,
    min_threshold: f64,
) -> Result<Vec<Rule>> {
    check_rule_inputs(present.ncols(), items, itemsets)?;
    Ok(rules_on(&Bitsets::new(present), items, itemsets, metric, min_threshold))
}

fn check_rule_inputs(n_columns: usize, items: &[String], itemsets: &[FrequentItemset]) -> Result<()> {
    if items.len() != n_columns {
        return Err(AnalyticsError::InvalidInput {
            field: "items".into(),
            reason: format!("{} names for {} item columns", items.len(), n_columns),
        });
    }
    if let Some(bad) = itemsets.iter().flat_map(|s| &s.items).find(|&&k| k >= items.len()) {
        return Err(AnalyticsError::InvalidInput {
            field: "itemsets".into(),
            reason: format!("item index {bad} but only {} items", items.len()),
        });
    }
    if let Some(big) = itemsets.iter().find(|s| s.items.len() > 24) {
        return Err(AnalyticsError::InvalidInput {
            field: "itemsets".into(),
            reason: format!(
                "an itemset of {} items would give {} rules; raise min_support or set max_len",
                big.items.len(),
                (1u64 << big.items.len().min(63)) - 2
            ),
        });
    }
    Ok(())
}

fn rules_on(
    table: &Bitsets,
    items: &[String],
    itemsets: &[FrequentItemset],
    metric: RuleMetric,
    min_threshold: f64,
) -> Vec<Rule> {
    let (bits, words) = (&table.bits, table.words);
    let n = table.rows as f64;
    let names = |set: &[usize]| set.iter().map(|&k| items[k].clone()).collect::<Vec<_>>();
    let mut rules = Vec::new();
    // Antecedent masks (bit p = position p in the itemset) in rule order, per itemset size: decreasing antecedent
    // size, then lexicographic positions.
    let mut orders: Vec<Vec<usize>> = Vec::new();
    // Per itemset: transactions and support of all its subsets, indexed by mask.
    let mut subset_bits: Vec<u64> = Vec::new();
    let mut subset_support: Vec<f64> = Vec::new();
    let mut antecedent = Vec::new();
    let mut consequent = Vec::new();
    for set in itemsets.iter().filter(|s| s.items.len() >= 2) {
        let k = set.items.len();
        let full = (1usize << k) - 1;
        while orders.len() <= k {
            let len = orders.len();
            let mut order = Vec::new();
            for size in (1..len).rev() {
                for_each_combination(len, size, |positions| {
                    order.push(positions.iter().map(|&p| 1usize << p).sum());
                });
            }
            orders.push(order);
        }
        subset_bits.clear();
        subset_bits.resize((full + 1) * words, u64::MAX);
        subset_support.clear();
        subset_support.resize(full + 1, 0.0);
        for mask in 1..=full {
            let low = mask.trailing_zeros() as usize;
            let rest = mask & (mask - 1);
            let item = set.items[low];
            let mut count = 0;
            for w in 0..words {
                let v = subset_bits[rest * words + w] & bits[item * words + w];
                subset_bits[mask * words + w] = v;
                count += v.count_ones() as usize;
            }
            subset_support[mask] = table.support_of_count[count];
        }
        for &a_mask in &orders[k] {
            let s_a = subset_support[a_mask];
            let s_c = subset_support[full ^ a_mask];
            let score = metric_value(metric, set.support, s_a, s_c, n);
            if score.is_nan() || score < min_threshold {
                continue;
            }
            let m = RuleMetric::ALL.map(|(which, _)| metric_value(which, set.support, s_a, s_c, n));
            antecedent.clear();
            consequent.clear();
            for (p, &item) in set.items.iter().enumerate() {
                if a_mask & (1 << p) != 0 {
                    antecedent.push(item);
                } else {
                    consequent.push(item);
                }
            }
            rules.push(Rule {
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
            });
        }
    }
    rules
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
    check_apriori_params(params.min_support, params.max_len)?;
    let table = Bitsets::new(present);
    let frequent = apriori_on(&table, params.min_support, params.max_len);
    check_rule_inputs(present.ncols(), items, &frequent)?;
    let rules = rules_on(&table, items, &frequent, params.metric, params.min_threshold);
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
        assert_eq!(
            "antecedent support".parse::<RuleMetric>().unwrap(),
            RuleMetric::AntecedentSupport
        );
        assert_eq!("zhangs_metric".parse::<RuleMetric>().unwrap(), RuleMetric::ZhangsMetric);
        assert!("accuracy".parse::<RuleMetric>().is_err());
    }
}
