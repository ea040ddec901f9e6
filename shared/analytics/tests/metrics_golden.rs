//! Golden tests: our metrics against iglu-python 0.4.3 (`TZ=UTC`, R-compatible) on the 90-day simulated trace
//! and the same trace with sensor gaps. Tolerance 1e-6 relative (1e-9 absolute near zero).

use chrono_tz::UTC;
use glucolens_analytics::cgm::parse_cgm_csv;
use glucolens_analytics::metrics::{self, stats, variability, Episodes, MetricsReport};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-9;

struct Case {
    golden: Value,
    report: MetricsReport,
    points: Vec<glucolens_analytics::cgm::CgmPoint>,
}

fn case(csv: &str, json: &str) -> Case {
    let points = parse_cgm_csv(csv).unwrap();
    let golden: Value = serde_json::from_str(json).unwrap();
    assert_eq!(golden["TZ"], "UTC");
    assert_eq!(golden["iglu_r_compatible"], true);
    assert_eq!(golden["failed"].as_object().map(|o| o.len()), Some(0));
    let report = metrics::compute(&points, UTC).unwrap();
    Case { golden, report, points }
}

fn full() -> Case {
    case(
        include_str!("golden/cgm_adult001.csv"),
        include_str!("golden/iglu_cgm_adult001.json"),
    )
}

fn gaps() -> Case {
    case(
        include_str!("golden/cgm_adult001_gaps.csv"),
        include_str!("golden/iglu_cgm_adult001_gaps.json"),
    )
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

/// Relative error (absolute near zero); 0 when both are NaN, infinite when only one is.
fn err(ours: f64, theirs: f64) -> f64 {
    if ours.is_nan() && theirs.is_nan() {
        return 0.0;
    }
    if ours.is_nan() != theirs.is_nan() {
        return f64::INFINITY;
    }
    let d = (ours - theirs).abs();
    if theirs.abs() < ABS / REL {
        d / (ABS / REL) // absolute tolerance ABS near zero
    } else {
        d / theirs.abs()
    }
}

struct Checker {
    label: &'static str,
    worst: f64,
    count: usize,
    failures: Vec<String>,
}

impl Checker {
    fn new(label: &'static str) -> Self {
        Self {
            label,
            worst: 0.0,
            count: 0,
            failures: Vec::new(),
        }
    }
    fn check(&mut self, name: &str, ours: f64, theirs: f64) {
        let e = err(ours, theirs);
        self.count += 1;
        if e > self.worst {
            self.worst = e;
        }
        if e > REL {
            self.failures
                .push(format!("{name}: ours {ours:?} vs iglu {theirs:?} (rel err {e:e})"));
        }
    }
    fn finish(self) {
        eprintln!(
            "[{}] {} values compared, max rel err {:e}",
            self.label, self.count, self.worst
        );
        assert!(
            self.failures.is_empty(),
            "{}:\n{}",
            self.label,
            self.failures.join("\n")
        );
    }
}

fn g<'a>(c: &'a Case, metric: &str) -> &'a Value {
    let v = &c.golden["metrics"][metric]["value"];
    assert!(!v.is_null(), "golden file lacks {metric}");
    v
}

fn scalar_metrics(c: &Case, label: &'static str) {
    let m = &c.report.metrics;
    let mut k = Checker::new(label);
    let pairs: Vec<(&str, &str, f64)> = vec![
        ("mean_glu", "mean", m.mean_glu),
        ("median_glu", "median", m.median_glu),
        ("sd_glu", "SD", m.sd_glu),
        ("cv_glu", "CV", m.cv_glu),
        ("range_glu", "range", m.range),
        ("iqr_glu", "IQR", m.iqr),
        ("quantile_glu", "0", m.quantiles.min),
        ("quantile_glu", "25", m.quantiles.q25),
        ("quantile_glu", "50", m.quantiles.median),
        ("quantile_glu", "75", m.quantiles.q75),
        ("quantile_glu", "100", m.quantiles.max),
        ("mad_glu", "MAD", m.mad_glu),
        ("gmi", "GMI", m.gmi),
        ("ea1c", "eA1C", m.ea1c),
        ("in_range_percent", "in_range_70_180", m.in_range_70_180),
        ("in_range_percent", "in_range_70_140", m.in_range_70_140),
        ("in_range_percent", "in_range_54_250", m.in_range_54_250),
        ("in_range_percent", "in_range_63_140", m.in_range_63_140),
        ("in_range_percent_default", "in_range_70_180", m.in_range_70_180),
        ("in_range_percent_default", "in_range_63_140", m.in_range_63_140),
        ("below_percent", "below_54", m.below_54),
        ("below_percent", "below_70", m.below_70),
        ("above_percent", "above_180", m.above_180),
        ("above_percent", "above_250", m.above_250),
        ("above_percent_default", "above_140", m.above_140),
        ("above_percent_default", "above_180", m.above_180),
        ("above_percent_default", "above_250", m.above_250),
        ("active_percent", "active_percent", m.active_percent),
        ("active_percent", "ndays", m.ndays),
        ("mage", "MAGE", m.mage),
        ("mage_naive", "MAGE", m.mage_naive),
        ("modd", "MODD", m.modd),
        ("conga_24", "CONGA", m.conga_24),
        ("conga_1", "CONGA", m.conga_1),
        ("lbgi", "LBGI", m.lbgi),
        ("hbgi", "HBGI", m.hbgi),
        ("adrr", "ADRR", m.adrr),
        ("j_index", "J_index", m.j_index),
        ("grade", "GRADE", m.grade),
        ("grade_eugly", "GRADE_eugly", m.grade_eugly),
        ("grade_hyper", "GRADE_hyper", m.grade_hyper),
        ("grade_hypo", "GRADE_hypo", m.grade_hypo),
        ("gri", "GRI", m.gri),
        ("gvp", "GVP", m.gvp),
        ("hyper_index", "hyper_index", m.hyper_index),
        ("hypo_index", "hypo_index", m.hypo_index),
        ("igc", "IGC", m.igc),
        ("m_value", "M_value", m.m_value),
        ("mag", "MAG", m.mag),
        ("cogi", "COGI", m.cogi),
        ("pgs", "PGS", m.pgs),
        ("auc", "hourly_auc", m.hourly_auc),
        ("cv_measures", "CVmean", m.cv_mean),
        ("cv_measures", "CVsd", m.cv_sd),
        ("sd_measures", "SDw", m.sdw),
        ("sd_measures", "SDhhmm", m.sdhhmm),
        ("sd_measures", "SDwsh", m.sdwsh),
        ("sd_measures", "SDdm", m.sddm),
        ("sd_measures", "SDb", m.sdb),
        ("sd_measures", "SDbdm", m.sdbdm),
        ("sd_roc", "sd_roc", m.sd_roc),
    ];
    for (metric, key, ours) in pairs {
        k.check(&format!("{metric}.{key}"), ours, num(&g(c, metric)[key]));
    }
    // summary_glu: the same order statistics and mean through the reusable helpers.
    let values: Vec<f64> = c.points.iter().map(|p| p.mg_dl).collect();
    let q = stats::quantiles(&values);
    let s = g(c, "summary_glu");
    for (key, ours) in [
        ("Min.", q.min),
        ("1st Qu.", q.q25),
        ("Median", q.median),
        ("Mean", stats::summary_stats(&values).mean),
        ("3rd Qu.", q.q75),
        ("Max.", q.max),
    ] {
        k.check(&format!("summary_glu.{key}"), ours, num(&s[key]));
    }
    // Every metric in the golden file is covered above or in the dedicated tests below.
    let covered = [
        "mean_glu",
        "median_glu",
        "sd_glu",
        "cv_glu",
        "range_glu",
        "iqr_glu",
        "quantile_glu",
        "mad_glu",
        "summary_glu",
        "gmi",
        "ea1c",
        "in_range_percent",
        "below_percent",
        "above_percent",
        "above_percent_default",
        "in_range_percent_default",
        "active_percent",
        "mage",
        "mage_naive",
        "modd",
        "conga_24",
        "conga_1",
        "lbgi",
        "hbgi",
        "adrr",
        "j_index",
        "grade",
        "grade_eugly",
        "grade_hyper",
        "grade_hypo",
        "gri",
        "gvp",
        "hyper_index",
        "hypo_index",
        "igc",
        "m_value",
        "mag",
        "cogi",
        "pgs",
        "auc",
        "cv_measures",
        "sd_measures",
        "sd_roc",
        "roc",
        "episode_calculation",
    ];
    for name in c.golden["metrics"].as_object().unwrap().keys() {
        assert!(covered.contains(&name.as_str()), "golden metric {name} is not tested");
    }
    k.finish();
}

fn episode_table(c: &Case, label: &'static str) {
    let mut k = Checker::new(label);
    let e: &Episodes = &c.report.episodes;
    let v = g(c, "episode_calculation");
    let cols: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(
        cols,
        [
            "type",
            "level",
            "avg_ep_per_day",
            "avg_ep_duration",
            "avg_ep_gl",
            "total_episodes"
        ]
    );
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    for row in rows {
        let (ty, lvl) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
        let ours = match (ty, lvl) {
            ("hypo", "lv1") => e.hypo_lv1,
            ("hypo", "lv2") => e.hypo_lv2,
            ("hypo", "extended") => e.hypo_extended,
            ("hyper", "lv1") => e.hyper_lv1,
            ("hyper", "lv2") => e.hyper_lv2,
            ("hypo", "lv1_excl") => e.hypo_lv1_excl,
            ("hyper", "lv1_excl") => e.hyper_lv1_excl,
            other => panic!("unexpected row {other:?}"),
        };
        k.check(&format!("{ty}/{lvl} per day"), ours.avg_ep_per_day, num(&row[2]));
        k.check(&format!("{ty}/{lvl} duration"), ours.avg_ep_duration, num(&row[3]));
        k.check(&format!("{ty}/{lvl} gl"), ours.avg_ep_gl, num(&row[4]));
        assert_eq!(ours.total_episodes as f64, num(&row[5]), "{ty}/{lvl} total");
    }
    k.finish();
}

fn grid_matches(c: &Case, label: &'static str) {
    let golden = &c.golden["CGMS2DayByDay"];
    let grid = metrics::day_grid(&c.points, UTC, None).unwrap().unwrap();
    assert_eq!(grid.dt0 as f64, num(&golden["dt0"]));
    let dates = golden["dates"].as_array().unwrap();
    assert_eq!(grid.n_days, dates.len());
    assert_eq!(format!("{} 00:00:00", grid.first_day), dates[0].as_str().unwrap());
    let rows = golden["gd2d"].as_array().unwrap();
    assert_eq!(rows.len(), grid.n_days);
    let mut k = Checker::new(label);
    let mut nan = 0;
    for (d, row) in rows.iter().enumerate() {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), grid.per_day());
        for (c_, v) in row.iter().enumerate() {
            let ours = grid.row(d)[c_];
            nan += ours.is_nan() as usize;
            k.check(&format!("gd2d[{d}][{c_}]"), ours, num(v));
        }
    }
    assert_eq!(nan as f64, num(&golden["n_nan"]));
    k.finish();
}

fn roc_matches(c: &Case, label: &'static str) {
    let v = g(c, "roc");
    let rows = v["rows"].as_array().unwrap();
    let grid5 = metrics::day_grid(&c.points, UTC, Some(5)).unwrap().unwrap();
    let roc = variability::roc(&grid5, 15);
    assert_eq!(roc.len(), rows.len());
    let mut k = Checker::new(label);
    for (i, row) in rows.iter().enumerate() {
        k.check(&format!("roc[{i}]"), roc[i], num(&row[1]));
    }
    k.finish();
}

#[test]
fn scalar_metrics_match_iglu_full_trace() {
    scalar_metrics(&full(), "scalars/full");
}

#[test]
fn scalar_metrics_match_iglu_with_gaps() {
    scalar_metrics(&gaps(), "scalars/gaps");
}

#[test]
fn episodes_match_iglu_full_trace() {
    episode_table(&full(), "episodes/full");
}

#[test]
fn episodes_match_iglu_with_gaps() {
    episode_table(&gaps(), "episodes/gaps");
}

#[test]
fn day_by_day_grid_matches_iglu_full_trace() {
    grid_matches(&full(), "grid/full");
}

#[test]
fn day_by_day_grid_matches_iglu_with_gaps() {
    grid_matches(&gaps(), "grid/gaps");
}

#[test]
fn rate_of_change_matches_iglu_full_trace() {
    roc_matches(&full(), "roc/full");
}

#[test]
fn rate_of_change_matches_iglu_with_gaps() {
    roc_matches(&gaps(), "roc/gaps");
}
