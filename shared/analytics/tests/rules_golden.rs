//! Golden test: mlxtend 0.25 `apriori(min_support=0.3)` + `association_rules(num_itemsets=90, metric='confidence',
//! min_threshold=0.7)` on the binarised daily table of adult#001 (90 days).

use glucolens_analytics::rules::{run_rules, RuleMetric, RulesParams};
use glucolens_analytics::table::parse_items_csv;
use serde_json::Value;

const TOL: f64 = 1e-12;

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        other => other.as_f64().expect("number"),
    }
}

fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut out = v.to_vec();
    out.sort();
    out
}

fn close(a: f64, b: f64) -> bool {
    (a.is_infinite() && a == b) || (a - b).abs() <= TOL
}

#[test]
fn golden_mlxtend_itemsets_and_rules() {
    let golden: Value = serde_json::from_str(include_str!("golden/mlxtend_daily_adult001_90d.json")).unwrap();
    let table = parse_items_csv(include_str!("golden/items_adult001_90d.csv")).unwrap();
    assert_eq!(table.present.nrows(), 90);
    let params = RulesParams {
        min_support: 0.3,
        max_len: None,
        metric: RuleMetric::Confidence,
        min_threshold: 0.7,
    };
    let result = run_rules(table.present.view(), &table.items, &params).unwrap();

    // Itemsets: same order as mlxtend (size, then column order), items compared as sorted name lists.
    let want = golden["itemsets"].as_array().unwrap();
    assert_eq!(result.itemsets.len(), want.len());
    let mut max_err: f64 = 0.0;
    for (got, want) in result.itemsets.iter().zip(want) {
        assert_eq!(sorted(&got.items), names(&want["itemset"]));
        let err = (got.support - num(&want["support"])).abs();
        max_err = max_err.max(err);
        assert!(
            err <= TOL,
            "support {:?}: {} vs {}",
            got.items,
            got.support,
            want["support"]
        );
    }

    // Rules: the golden file sorts rules; match each golden rule to ours by (antecedents, consequents).
    let want = golden["rules"].as_array().unwrap();
    assert_eq!(result.rules.len(), want.len());
    let columns = [
        ("antecedent support", RuleMetric::AntecedentSupport),
        ("consequent support", RuleMetric::ConsequentSupport),
        ("support", RuleMetric::Support),
        ("confidence", RuleMetric::Confidence),
        ("lift", RuleMetric::Lift),
        ("representativity", RuleMetric::Representativity),
        ("leverage", RuleMetric::Leverage),
        ("conviction", RuleMetric::Conviction),
        ("zhangs_metric", RuleMetric::ZhangsMetric),
        ("jaccard", RuleMetric::Jaccard),
        ("certainty", RuleMetric::Certainty),
        ("kulczynski", RuleMetric::Kulczynski),
    ];
    for w in want {
        let (a, c) = (names(&w["antecedents"]), names(&w["consequents"]));
        let got = result
            .rules
            .iter()
            .find(|r| sorted(&r.antecedents) == a && sorted(&r.consequents) == c)
            .unwrap_or_else(|| panic!("rule {a:?} -> {c:?} missing"));
        for (column, metric) in columns {
            let (g, e) = (metric.of(got), num(&w[column]));
            if e.is_finite() {
                max_err = max_err.max((g - e).abs());
            }
            assert!(close(g, e), "{a:?} -> {c:?} {column}: {g} vs {e}");
        }
    }
    eprintln!("mlxtend golden max abs error: {max_err:e}");
}

#[test]
fn golden_rules_serialise_with_cli_field_names() {
    let table = parse_items_csv(include_str!("golden/items_adult001_90d.csv")).unwrap();
    let params = RulesParams {
        min_support: 0.3,
        min_threshold: 0.7,
        ..RulesParams::default()
    };
    let result = run_rules(table.present.view(), &table.items, &params).unwrap();
    let json = serde_json::to_value(&result).unwrap();
    let rule = &json["rules"][0];
    for key in [
        "antecedents",
        "consequents",
        "antecedent_support",
        "consequent_support",
        "support",
        "confidence",
        "lift",
        "representativity",
        "leverage",
        "conviction",
        "zhangs_metric",
        "jaccard",
        "certainty",
        "kulczynski",
    ] {
        assert!(rule.get(key).is_some(), "missing {key}");
    }
    assert!(json["itemsets"][0]["items"].is_array() && json["itemsets"][0]["support"].is_number());
}
