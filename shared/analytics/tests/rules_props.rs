//! Property and edge-case tests for association rules: apriori against brute-force enumeration of every itemset on
//! seeded random tables, rule metrics against their textbook definitions, and the documented edge cases.

use glucolens_analytics::rules::{apriori, run_rules, RuleMetric, RulesParams};
use glucolens_analytics::table::parse_items_csv;
use glucolens_analytics::AnalyticsError;
use ndarray::Array2;

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
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn random_table(seed: u64, rows: usize, items: usize) -> Array2<bool> {
    let mut rng = SplitMix(seed);
    let probs: Vec<f64> = (0..items).map(|_| 0.2 + 0.6 * rng.unit()).collect();
    // A shared latent "good day" makes items co-occur so there are multi-item itemsets and rules.
    let mut table = Array2::from_elem((rows, items), false);
    for t in 0..rows {
        let good = rng.unit() < 0.5;
        for k in 0..items {
            let p = if good {
                (probs[k] + 0.3).min(0.95)
            } else {
                probs[k] * 0.5
            };
            table[[t, k]] = rng.unit() < p;
        }
    }
    table
}

fn brute_support(table: &Array2<bool>, set: &[usize]) -> usize {
    (0..table.nrows())
        .filter(|&t| set.iter().all(|&k| table[[t, k]]))
        .count()
}

#[test]
fn apriori_matches_brute_force_enumeration() {
    for seed in 1..=12u64 {
        let rows = 30 + (seed as usize * 37) % 170; // includes row counts that are not multiples of 64
        let items = 5 + (seed as usize) % 4;
        let table = random_table(seed, rows, items);
        for &min_support in &[0.1, 0.25, 0.4] {
            let got = apriori(table.view(), min_support, None).unwrap();
            let mut want = Vec::new();
            for mask in 1u32..(1 << items) {
                let set: Vec<usize> = (0..items).filter(|&k| mask & (1 << k) != 0).collect();
                let count = brute_support(&table, &set);
                if count as f64 / rows as f64 >= min_support {
                    want.push((set, count));
                }
            }
            want.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(&b.0)));
            let got_pairs: Vec<(Vec<usize>, usize)> = got.iter().map(|s| (s.items.clone(), s.count)).collect();
            assert_eq!(got_pairs, want, "seed {seed} min_support {min_support}");
            for s in &got {
                assert_eq!(s.support, s.count as f64 / rows as f64);
            }
            // max_len truncates exactly.
            let short = apriori(table.view(), min_support, Some(2)).unwrap();
            assert_eq!(short.len(), want.iter().filter(|(s, _)| s.len() <= 2).count());
        }
    }
}

#[test]
fn rules_metrics_follow_their_definitions_and_cover_all_splits() {
    let table = random_table(99, 200, 6);
    let names: Vec<String> = (0..6).map(|k| format!("i{k}")).collect();
    let params = RulesParams {
        min_support: 0.1,
        max_len: None,
        metric: RuleMetric::Support,
        min_threshold: 0.0,
    };
    let result = run_rules(table.view(), &names, &params).unwrap();
    let index = |name: &String| names.iter().position(|n| n == name).unwrap();
    // Every split of every frequent itemset of size >= 2 is a rule when the threshold is 0 on support.
    let expected: usize = result
        .itemsets
        .iter()
        .map(|s| (1usize << s.items.len()) - 2)
        .filter(|&n| n > 0)
        .sum();
    assert_eq!(result.rules.len(), expected);
    let n = table.nrows() as f64;
    for r in &result.rules {
        let a: Vec<usize> = r.antecedents.iter().map(index).collect();
        let c: Vec<usize> = r.consequents.iter().map(index).collect();
        let ac: Vec<usize> = {
            let mut v = [a.clone(), c.clone()].concat();
            v.sort();
            v
        };
        let (s_a, s_c, s_ac) = (
            brute_support(&table, &a) as f64 / n,
            brute_support(&table, &c) as f64 / n,
            brute_support(&table, &ac) as f64 / n,
        );
        let conf = s_ac / s_a;
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * (1.0 + y.abs());
        assert!(close(r.antecedent_support, s_a) && close(r.consequent_support, s_c) && close(r.support, s_ac));
        assert!(close(r.confidence, conf));
        assert!(close(r.lift, conf / s_c));
        assert!(close(r.leverage, s_ac - s_a * s_c));
        assert_eq!(r.representativity, 1.0);
        if conf < 1.0 {
            assert!(close(r.conviction, (1.0 - s_c) / (1.0 - conf)));
        } else {
            assert!(r.conviction.is_infinite());
        }
        assert!(close(r.jaccard, s_ac / (s_a + s_c - s_ac)));
        assert!(close(r.kulczynski, 0.5 * (s_ac / s_a + s_ac / s_c)));
        assert!(close(r.certainty, (conf - s_c) / (1.0 - s_c)));
        let lev = s_ac - s_a * s_c;
        assert!(close(
            r.zhangs_metric,
            lev / f64::max(s_ac * (1.0 - s_a), s_a * (s_c - s_ac))
        ));
    }
    // Filtering by another metric keeps exactly the rules meeting the threshold.
    let lifted = run_rules(
        table.view(),
        &names,
        &RulesParams {
            metric: RuleMetric::Lift,
            min_threshold: 1.2,
            ..params.clone()
        },
    )
    .unwrap();
    let want: Vec<_> = result.rules.iter().filter(|r| r.lift >= 1.2).cloned().collect();
    assert_eq!(lifted.rules, want);
}

#[test]
fn conviction_is_infinite_when_confidence_is_one() {
    let table = parse_items_csv("a,b\n1,1\n1,1\n0,1\n0,0\n").unwrap();
    let result = run_rules(
        table.present.view(),
        &table.items,
        &RulesParams {
            min_support: 0.25,
            min_threshold: 0.0,
            ..RulesParams::default()
        },
    )
    .unwrap();
    let a_to_b = result.rules.iter().find(|r| r.antecedents == ["a"]).unwrap();
    assert_eq!(a_to_b.confidence, 1.0);
    assert!(a_to_b.conviction.is_infinite());
    let json = serde_json::to_value(a_to_b).unwrap();
    assert!(json["conviction"].is_null());
}

#[test]
fn edge_cases() {
    // No frequent itemsets: empty lists, not an error.
    let table = parse_items_csv("date,a,b\n2025-01-01,1,0\n2025-01-02,0,1\n2025-01-03,0,0\n").unwrap();
    let result = run_rules(
        table.present.view(),
        &table.items,
        &RulesParams {
            min_support: 0.9,
            ..RulesParams::default()
        },
    )
    .unwrap();
    assert!(result.itemsets.is_empty() && result.rules.is_empty());
    // Frequent single items but no rules.
    let result = run_rules(
        table.present.view(),
        &table.items,
        &RulesParams {
            min_support: 0.3,
            ..RulesParams::default()
        },
    )
    .unwrap();
    assert_eq!(result.itemsets.len(), 2);
    assert!(result.rules.is_empty());
    // A header without rows: nothing is frequent.
    let empty = parse_items_csv("a,b\n").unwrap();
    let result = run_rules(empty.present.view(), &empty.items, &RulesParams::default()).unwrap();
    assert!(result.itemsets.is_empty() && result.rules.is_empty());
    // Bad parameters.
    for bad in [0.0, -0.1, 1.5, f64::NAN] {
        assert!(matches!(
            apriori(table.present.view(), bad, None),
            Err(AnalyticsError::InvalidInput { .. })
        ));
    }
    assert!(matches!(
        apriori(table.present.view(), 0.5, Some(0)),
        Err(AnalyticsError::InvalidInput { .. })
    ));
    // Non-0/1 cell: Parse error with line and column.
    match parse_items_csv("date,a,b\n2025-01-01,1,0\n2025-01-02,0,yes\n") {
        Err(AnalyticsError::Parse { line, reason }) => {
            assert_eq!(line, 3);
            assert!(reason.contains("column 3") && reason.contains("`b`"), "{reason}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}
