//! Edge cases: iglu-python outputs (and numpy AGP percentiles) on small synthetic traces (jittered and duplicate timestamps, off-grid start,
//! 15-minute sampling, a 20-reading trace; made by bench/reference/metrics_edge_golden.py), plus a single reading,
//! a constant series and time-zone semantics.

use chrono::{DateTime, Duration, FixedOffset};
use chrono_tz::{Tz, UTC};
use glucolens_analytics::cgm::{parse_cgm_csv, CgmPoint};
use glucolens_analytics::metrics::{self, EpisodeStats, Metrics, MetricsReport};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-9;

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "nan" => f64::NAN,
        other => panic!("not a number: {other}"),
    }
}

fn err(ours: f64, theirs: f64) -> f64 {
    if ours.is_nan() && theirs.is_nan() {
        return 0.0;
    }
    if ours.is_nan() != theirs.is_nan() {
        return f64::INFINITY;
    }
    let d = (ours - theirs).abs();
    if theirs.abs() < ABS / REL {
        d / (ABS / REL)
    } else {
        d / theirs.abs()
    }
}

fn scalar_table(m: &Metrics) -> Vec<(&'static str, &'static str, f64)> {
    vec![
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
        ("below_percent", "below_54", m.below_54),
        ("below_percent", "below_70", m.below_70),
        ("above_percent", "above_140", m.above_140),
        ("above_percent", "above_180", m.above_180),
        ("above_percent", "above_250", m.above_250),
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
    ]
}

fn episode_rows(r: &MetricsReport) -> [(&'static str, &'static str, EpisodeStats); 7] {
    let e = &r.episodes;
    [
        ("hypo", "lv1", e.hypo_lv1),
        ("hypo", "lv2", e.hypo_lv2),
        ("hypo", "extended", e.hypo_extended),
        ("hyper", "lv1", e.hyper_lv1),
        ("hyper", "lv2", e.hyper_lv2),
        ("hypo", "lv1_excl", e.hypo_lv1_excl),
        ("hyper", "lv1_excl", e.hyper_lv1_excl),
    ]
}

fn check_trace(name: &str) {
    let golden: Value = serde_json::from_str(include_str!("golden/iglu_metrics_edge.json")).unwrap();
    assert_eq!(golden["TZ"], "UTC");
    let t = &golden["traces"][name];
    assert_eq!(t["failed"].as_object().unwrap().len(), 0, "{name}: iglu failed");
    let points = parse_cgm_csv(t["csv"].as_str().unwrap()).unwrap();
    let report = metrics::compute(&points, UTC).unwrap();
    let gm = &t["metrics"];
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    let mut check = |label: String, ours: f64, theirs: f64| {
        let e = err(ours, theirs);
        worst = worst.max(e);
        if e > REL {
            failures.push(format!("{label}: ours {ours:?} vs iglu {theirs:?}"));
        }
    };
    for (metric, key, ours) in scalar_table(&report.metrics) {
        check(format!("{metric}.{key}"), ours, num(&gm[metric][key]));
    }
    let rows = gm["episode_calculation"].as_array().unwrap();
    for ((ty, lvl, ours), row) in episode_rows(&report).into_iter().zip(rows) {
        assert_eq!((row[0].as_str().unwrap(), row[1].as_str().unwrap()), (ty, lvl));
        check(format!("{ty}/{lvl} per day"), ours.avg_ep_per_day, num(&row[2]));
        check(format!("{ty}/{lvl} duration"), ours.avg_ep_duration, num(&row[3]));
        check(format!("{ty}/{lvl} gl"), ours.avg_ep_gl, num(&row[4]));
        check(format!("{ty}/{lvl} total"), ours.total_episodes as f64, num(&row[5]));
    }
    let gg = &gm["CGMS2DayByDay"];
    let grid = metrics::day_grid(&points, UTC, None).unwrap().unwrap();
    assert_eq!(grid.dt0 as f64, num(&gg["dt0"]), "{name}: dt0");
    assert_eq!(
        format!("{} 00:00:00", grid.first_day),
        gg["first_day"].as_str().unwrap()
    );
    let rows = gg["gd2d"].as_array().unwrap();
    assert_eq!(rows.len(), grid.n_days, "{name}: days");
    for (d, row) in rows.iter().enumerate() {
        for (c, v) in row.as_array().unwrap().iter().enumerate() {
            check(format!("gd2d[{d}][{c}]"), grid.row(d)[c], num(v));
        }
    }
    let agp = &gm["agp"];
    for (key, ours) in [
        ("p5", &report.agp.p5),
        ("p25", &report.agp.p25),
        ("p50", &report.agp.p50),
        ("p75", &report.agp.p75),
        ("p95", &report.agp.p95),
    ] {
        let theirs = agp[key].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{name}: agp {key} length");
        for (i, v) in theirs.iter().enumerate() {
            check(format!("agp.{key}[{i}]"), ours[i], num(v));
        }
    }
    eprintln!("[edge/{name}] max rel err {worst:e}");
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

#[test]
fn jittered_duplicated_gappy_trace_matches_iglu() {
    check_trace("jitter_dups_gaps");
}

#[test]
fn fifteen_minute_trace_matches_iglu() {
    check_trace("libre_15min");
}

#[test]
fn twenty_reading_trace_matches_iglu() {
    check_trace("short_20");
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

#[test]
fn single_reading_gives_raw_metrics_and_nan_grid_metrics() {
    let points = [CgmPoint {
        time: at("2025-03-01T10:00:00Z"),
        mg_dl: 120.0,
    }];
    let r = metrics::compute(&points, UTC).unwrap();
    let m = &r.metrics;
    assert_eq!(r.n, 1);
    assert_eq!(m.mean_glu, 120.0);
    assert_eq!(m.median_glu, 120.0);
    assert!(m.sd_glu.is_nan() && m.cv_glu.is_nan() && m.j_index.is_nan());
    assert_eq!(m.in_range_70_180, 100.0);
    assert_eq!(m.below_70, 0.0);
    assert!((m.gmi - (3.31 + 0.02392 * 120.0)).abs() < 1e-12);
    assert!(m.modd.is_nan() && m.conga_24.is_nan() && m.mage.is_nan() && m.gvp.is_nan());
    assert!(m.active_percent.is_nan());
    assert_eq!(r.episodes.hypo_lv1.total_episodes, 0);
    assert!(r.agp.p50.is_empty());
    // Serialises with NaN as null.
    let v = serde_json::to_value(&r).unwrap();
    assert!(v["metrics"]["sd_glu"].is_null());
    assert_eq!(v["metrics"]["mean_glu"], 120.0);
}

#[test]
fn empty_input_is_insufficient_data() {
    assert!(matches!(
        metrics::compute(&[], UTC),
        Err(glucolens_analytics::AnalyticsError::InsufficientData { .. })
    ));
}

fn series(start: &str, n: usize, step_min: i64, f: impl Fn(usize) -> f64) -> Vec<CgmPoint> {
    let t0 = at(start);
    (0..n)
        .map(|i| CgmPoint {
            time: t0 + Duration::minutes(step_min * i as i64),
            mg_dl: f(i),
        })
        .collect()
}

#[test]
fn constant_series() {
    let points = series("2025-01-01T00:00:00Z", 3 * 288, 5, |_| 100.0);
    let r = metrics::compute(&points, UTC).unwrap();
    let m = &r.metrics;
    assert_eq!(m.mean_glu, 100.0);
    assert_eq!(m.sd_glu, 0.0);
    assert_eq!(m.cv_glu, 0.0);
    assert_eq!(m.range, 0.0);
    assert_eq!(m.mad_glu, 0.0);
    assert_eq!(m.modd, 0.0);
    assert_eq!(m.conga_1, 0.0);
    assert_eq!(m.mag, 0.0);
    assert_eq!(m.gvp, 0.0);
    assert_eq!(m.in_range_70_180, 100.0);
    assert!(m.lbgi.is_finite() && m.hbgi.is_finite());
    assert!(m.mage.is_nan(), "MAGE needs SD ≥ 1");
    assert!(m.mage_naive.is_nan(), "no reading deviates by more than SD = 0");
    assert_eq!(m.active_percent, 100.0);
    assert_eq!(r.episodes.hyper_lv1.total_episodes, 0);
    assert!(r.agp.p5.iter().chain(&r.agp.p95).all(|&v| v == 100.0));
    assert_eq!(r.agp.minute_of_day.len(), 288);
    assert_eq!(r.agp.minute_of_day[0], 5);
    assert_eq!(r.agp.minute_of_day[287], 1440);
}

/// A zone is the same as writing the local wall-clock times as UTC: every metric must agree with that shifted
/// trace, and the day-based ones must differ from the UTC result.
#[test]
fn time_zone_uses_local_days() {
    let tz: Tz = metrics::parse_tz("Asia/Tokyo").unwrap();
    let text = include_str!("golden/cgm_adult001_gaps.csv");
    let points = parse_cgm_csv(text).unwrap();
    let shifted: Vec<CgmPoint> = points
        .iter()
        .map(|p| CgmPoint {
            time: (p.time + Duration::hours(9)).with_timezone(&FixedOffset::east_opt(0).unwrap()),
            mg_dl: p.mg_dl,
        })
        .collect();
    let local = metrics::compute(&points, tz).unwrap();
    let as_utc = metrics::compute(&shifted, UTC).unwrap();
    let utc = metrics::compute(&points, UTC).unwrap();
    let a = serde_json::to_value(&local).unwrap();
    let b = serde_json::to_value(&as_utc).unwrap();
    assert_eq!(a, b);
    assert_ne!(local.metrics.adrr, utc.metrics.adrr);
    assert_ne!(local.metrics.modd, utc.metrics.modd);
    assert_ne!(local.agp.p50, utc.agp.p50);
    assert_eq!(local.metrics.mean_glu, utc.metrics.mean_glu);
    // Tokyo days start 9 h earlier, so the grid has one more (partial) day.
    let g_local = metrics::day_grid(&points, tz, None).unwrap().unwrap();
    let g_utc = metrics::day_grid(&points, UTC, None).unwrap().unwrap();
    assert_eq!(g_local.n_days, g_utc.n_days + 1);
    assert_eq!(g_local.first_day, g_utc.first_day);
}

#[test]
fn adrr_groups_by_local_calendar_day() {
    // 23:00 and 01:00 UTC are one day in New York (18:00, 20:00 EST) but two days in UTC.
    let points = [
        CgmPoint {
            time: at("2025-01-10T23:00:00Z"),
            mg_dl: 50.0,
        },
        CgmPoint {
            time: at("2025-01-11T01:00:00Z"),
            mg_dl: 300.0,
        },
    ];
    let ny = metrics::parse_tz("America/New_York").unwrap();
    let f = |g: f64| g.ln().powf(1.084) - 5.381;
    let one_day = 22.77 * f(50.0).powi(2) + 22.77 * f(300.0).powi(2);
    let two_days = (22.77 * f(50.0).powi(2) + 22.77 * f(300.0).powi(2)) / 2.0;
    assert!((metrics::adrr(&points, ny) - one_day).abs() < 1e-9);
    assert!((metrics::adrr(&points, UTC) - two_days).abs() < 1e-9);
    assert!(metrics::parse_tz("Mars/Olympus").is_err());
}

#[test]
fn daily_summaries_and_range_percentages() {
    let points = series("2025-01-01T22:00:00Z", 6, 60, |i| {
        [40.0, 60.0, 70.0, 180.0, 250.0, 251.0][i]
    });
    let days = metrics::daily_summaries(&points, UTC);
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].stats.n, 2);
    assert_eq!(days[1].stats.n, 4);
    let r = metrics::range_percentages(&[40.0, 54.0, 69.9, 70.0, 180.0, 180.1, 250.0, 250.1]);
    assert_eq!(r.below_54, 12.5);
    assert_eq!(r.from_54_to_69, 25.0);
    assert_eq!(r.from_70_to_180, 25.0);
    assert_eq!(r.from_181_to_250, 25.0);
    assert_eq!(r.above_250, 12.5);
    let s = metrics::summary_stats(&[100.0, 200.0]);
    assert_eq!(s.mean, 150.0);
    assert!((s.sd - (5000.0f64).sqrt()).abs() < 1e-12);
    assert!((s.cv - 100.0 * (5000.0f64).sqrt() / 150.0).abs() < 1e-9);
}

#[test]
fn daylight_saving_days_use_the_wall_clock() {
    // 2025-03-09 (spring forward) .. 2025-11-02 (fall back) in New York, 5-minute readings in real time.
    let ny = metrics::parse_tz("America/New_York").unwrap();
    let spring = series("2025-03-08T05:00:00Z", 3 * 288, 5, |i| 100.0 + (i % 50) as f64);
    let r = metrics::compute(&spring, ny).unwrap();
    assert!(r.metrics.modd.is_finite() && r.metrics.mage.is_finite());
    let grid = metrics::day_grid(&spring, ny, None).unwrap().unwrap();
    assert_eq!(grid.first_day.to_string(), "2025-03-08");
    let day = grid.row(1); // 2025-03-09: wall clock jumps 01:55 -> 03:00
    let at = |minute: usize| day[minute / 5 - 1];
    assert!(at(120).is_nan() && at(150).is_nan() && at(175).is_nan());
    assert!(at(115).is_finite() && at(180).is_finite());

    // Reading 300 is 01:00 EDT (first pass), reading 312 is 01:00 EST (second pass).
    let fall = series(
        "2025-11-01T04:00:00Z",
        3 * 288,
        5,
        |i| if i < 312 { 100.0 } else { 200.0 },
    );
    let grid = metrics::day_grid(&fall, ny, None).unwrap().unwrap();
    assert_eq!(grid.first_day.to_string(), "2025-11-01");
    // 01:00-01:55 happens twice on 2025-11-02; the grid keeps the later pass.
    let day = grid.row(1);
    assert_eq!(day[55 / 5 - 1], 100.0);
    assert_eq!(day[60 / 5 - 1], 200.0);
    assert_eq!(day[90 / 5 - 1], 200.0);
    assert!(day.iter().all(|v| v.is_finite()));
    assert!(metrics::compute(&fall, ny).unwrap().metrics.adrr.is_finite());
}
