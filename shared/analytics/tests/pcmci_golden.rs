//! Golden tests: tigramite 5.2 `PCMCI(ParCorr(significance='analytic')).run_pcmci(tau_max=3, pc_alpha=…,
//! alpha_level=0.05)` on the 90-day daily table of adult#001, for pc_alpha = 0.05 and pc_alpha = None.

use glucolens_analytics::pcmci::{run_pcmci, PcmciParams, PcmciReport};
use glucolens_analytics::table::parse_daily_csv;
use serde_json::Value;

const TOL: f64 = 1e-8;

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        other => other.as_f64().expect("number"),
    }
}

fn max_err(ours: &[Vec<Vec<f64>>], golden: &Value, what: &str) -> f64 {
    let mut worst: f64 = 0.0;
    for (i, row) in ours.iter().enumerate() {
        for (j, cell) in row.iter().enumerate() {
            for (tau, &v) in cell.iter().enumerate() {
                let want = num(&golden[i][j][tau]);
                let err = (v - want).abs();
                assert!(err <= TOL, "{what}[{i}][{j}][{tau}]: ours {v}, tigramite {want}");
                worst = worst.max(err);
            }
        }
    }
    worst
}

fn check(golden_text: &str, pc_alpha: Option<f64>) {
    let golden: Value = serde_json::from_str(golden_text).unwrap();
    let table = parse_daily_csv(include_str!("golden/daily_adult001_90d.csv")).unwrap();
    table.check_consecutive_days().unwrap();
    let names: Vec<String> = golden["var_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(table.variables, names);
    let params = PcmciParams {
        tau_min: 0,
        tau_max: 3,
        pc_alpha,
        alpha_level: 0.05,
        ..PcmciParams::default()
    };
    let result = run_pcmci(table.values.view(), &params).unwrap();

    // Parents (PC1 output, strongest first) and the selected pc_alpha.
    for (j, name) in names.iter().enumerate() {
        let want: Vec<(String, i64)> = golden["pc_parents"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_i64().unwrap()))
            .collect();
        let ours: Vec<(String, i64)> = result.parents[j]
            .iter()
            .map(|p| (names[p.var].clone(), -(p.lag as i64)))
            .collect();
        assert_eq!(ours, want, "parents of {name}");
    }
    match pc_alpha {
        None => {
            let chosen = result.optimal_pc_alpha.as_ref().unwrap();
            for (j, name) in names.iter().enumerate() {
                assert_eq!(chosen[j], num(&golden["optimal_pc_alpha"][name]), "pc_alpha of {name}");
            }
        }
        Some(_) => assert!(result.optimal_pc_alpha.is_none()),
    }

    let e_val = max_err(&result.val_matrix, &golden["val_matrix"], "val");
    let e_p = max_err(&result.p_matrix, &golden["p_matrix"], "p");
    let e_q = max_err(&result.q_matrix, &golden["q_matrix_fdr_bh"], "q");
    let e_q_all = max_err(
        &result.q_matrix_incl_contemporaneous,
        &golden["q_matrix_fdr_bh_incl_contemporaneous"],
        "q_incl_contemporaneous",
    );
    eprintln!("pc_alpha {pc_alpha:?}: max abs error val {e_val:e}, p {e_p:e}, q {e_q:e}, q_all {e_q_all:e}");

    // Graph strings.
    for (i, row) in result.graph.iter().enumerate() {
        for (j, cell) in row.iter().enumerate() {
            for (tau, edge) in cell.iter().enumerate() {
                assert_eq!(
                    edge,
                    golden["graph"][i][j][tau].as_str().unwrap(),
                    "graph[{i}][{j}][{tau}]"
                );
            }
        }
    }

    // Significant links, in tigramite's order (effect, cause, lag).
    let report = PcmciReport::new(result, names.clone()).unwrap();
    let want = golden["significant_links"].as_array().unwrap();
    assert_eq!(report.links.len(), want.len());
    for (ours, want) in report.links.iter().zip(want) {
        assert_eq!(ours.cause, want["cause"].as_str().unwrap());
        assert_eq!(ours.effect, want["effect"].as_str().unwrap());
        assert_eq!(ours.lag as u64, want["lag"].as_u64().unwrap());
        assert_eq!(ours.edge, want["edge"].as_str().unwrap());
        assert!((ours.val - num(&want["val"])).abs() <= TOL);
        assert!((ours.p - num(&want["p"])).abs() <= TOL);
        assert!((ours.q - num(&want["q_fdr_bh"])).abs() <= TOL);
    }
}

#[test]
fn golden_tigramite_pc_alpha_005() {
    check(
        include_str!("golden/tigramite_daily_adult001_90d_pcalpha-0.05.json"),
        Some(0.05),
    );
}

#[test]
fn golden_tigramite_pc_alpha_none() {
    check(
        include_str!("golden/tigramite_daily_adult001_90d_pcalpha-None.json"),
        None,
    );
}

#[test]
fn report_serialises_with_cli_field_names() {
    let table = parse_daily_csv(include_str!("golden/daily_adult001_90d.csv")).unwrap();
    let params = PcmciParams {
        tau_max: 2,
        ..PcmciParams::default()
    };
    let result = run_pcmci(table.values.view(), &params).unwrap();
    let json = serde_json::to_value(PcmciReport::new(result, table.variables.clone()).unwrap()).unwrap();
    for key in [
        "variables",
        "tau_max",
        "val_matrix",
        "p_matrix",
        "q_matrix",
        "graph",
        "links",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let link = &json["links"][0];
    for key in ["cause", "effect", "lag", "val", "p", "q"] {
        assert!(link.get(key).is_some(), "link misses {key}");
    }
    assert_eq!(json["val_matrix"].as_array().unwrap().len(), 5);
    assert_eq!(json["val_matrix"][0][0].as_array().unwrap().len(), 3);
}
