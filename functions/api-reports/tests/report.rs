//! `GET /api/v1/reports/agp` against a fresh PostgreSQL database per test and moto: the report's numbers equal the
//! dashboard's for the same readings, short data gets the note, the owner's zone and unit are used, another
//! owner's data never appears, and every report is audited.

use axum::http::StatusCode;
use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use glucolens_app::report::{agp_report, ReportPeriod};
use glucolens_domain::local_day::{local_midnight, today};
use glucolens_report::model::glucose_text;
use glucolens_report::AgpReport;
use glucolens_testing as testing;
use glucolens_web::AppState;
use http::HeaderMap;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

const REPORT: &str = "/api/v1/reports/agp";

/// GETs `uri` through `router` as `user` and returns the status, headers and body.
async fn get(router: axum::Router, state: &AppState, uri: &str, user: Uuid) -> (StatusCode, HeaderMap, Vec<u8>) {
    let request = http::Request::builder()
        .uri(uri)
        .header("x-request-id", "req-report-test")
        .header("authorization", testing::bearer(state, user))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

async fn report_svg(state: &AppState, query: &str, user: Uuid) -> String {
    let (status, headers, body) = get(
        api_reports::router(state.clone()),
        state,
        &format!("{REPORT}?format=svg{query}"),
        user,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "image/svg+xml");
    String::from_utf8(body).unwrap()
}

/// The texts of the SVG group `id`.
fn texts(svg: &str, id: &str) -> Vec<String> {
    let group = svg
        .split(&format!(r#"<g id="{id}">"#))
        .nth(1)
        .unwrap_or_else(|| panic!("no group {id}"))
        .split("</g>")
        .next()
        .unwrap();
    group
        .split("<text ")
        .skip(1)
        .map(|t| t.split_once('>').unwrap().1.split("</text>").next().unwrap().to_owned())
        .collect()
}

/// Readings every 5 minutes over the local days `first..=last` of `tz_name`, cycling between 60 and 200 mg/dL.
async fn readings_over(db: &PgPool, user: Uuid, tz_name: &str, first: NaiveDate, last: NaiveDate) {
    let tz = tz_name.parse().unwrap();
    let (start, end) = (local_midnight(tz, first), local_midnight(tz, last + Days::new(1)));
    testing::cgm_trace(db, user, "dexcom", start, (end - start).num_minutes() / 5, 0.0).await;
}

fn yesterday(tz_name: &str) -> NaiveDate {
    today(tz_name.parse().unwrap(), Utc::now()) - Days::new(1)
}

async fn model(db: &PgPool, user: Uuid, period: ReportPeriod) -> AgpReport {
    agp_report(db, user, period, Utc::now()).await.unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_report_shows_the_dashboards_numbers_for_the_same_readings(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let zone = "America/New_York";
    let user = testing::user(&db, zone).await;
    // Fourteen full local days ending yesterday: the report's default period, and inside the dashboard's 30 days.
    let last = yesterday(zone);
    readings_over(&db, user, zone, last - Days::new(13), last).await;

    let svg = report_svg(&state, "", user).await;
    let (status, _, body) = get(
        api_retrieval::router(state.clone()),
        &state,
        "/api/v1/dashboard/summary?days=30",
        user,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let dashboard: Value = serde_json::from_slice(&body).unwrap();
    let metrics = &dashboard["current"]["glucose"];

    let report = model(&db, user, ReportPeriod::default()).await;
    assert_eq!((report.first_day, report.last_day), (last - Days::new(13), last));
    let glucose = report.glucose.unwrap();
    assert_eq!(glucose.readings as i64, metrics["reading_count"].as_i64().unwrap());
    // The dashboard rounds (mean and percentages to 0.1, GMI to 0.01); the report's values round to them.
    let close = |value: f64, shown: &Value, decimals: i32| {
        let scale = 10f64.powi(decimals);
        assert_eq!(
            (value * scale).round() / scale,
            shown.as_f64().unwrap(),
            "{value} vs {shown}"
        );
    };
    close(glucose.mean_mg_dl, &metrics["mean"], 1);
    close(glucose.cv_percent, &metrics["cv_percent"], 1);
    close(glucose.gmi_percent, &metrics["gmi_percent"], 2);
    let tir = &metrics["time_in_ranges"];
    close(glucose.ranges.very_low, &tir["very_low"], 1);
    close(glucose.ranges.low, &tir["low"], 1);
    close(glucose.ranges.in_range, &tir["in_range"], 1);
    close(glucose.ranges.high, &tir["high"], 1);
    close(glucose.ranges.very_high, &tir["very_high"], 1);
    assert!(
        glucose.ranges.low > 0.0 && glucose.ranges.high > 0.0,
        "the trace crosses the ranges"
    );

    // The page prints those numbers.
    assert!(texts(&svg, "metric-mean").contains(&format!("{} mg/dL", glucose_text(report.unit, glucose.mean_mg_dl))));
    assert!(texts(&svg, "metric-gmi").contains(&format!("{:.1} %", glucose.gmi_percent)));
    assert!(texts(&svg, "metric-cv").contains(&format!("{:.1} %", glucose.cv_percent)));
    assert!(texts(&svg, "tir-in-range").contains(&format!("{:.1} %", glucose.ranges.in_range)));
    assert!(texts(&svg, "tir-low").contains(&format!("{:.1} %", glucose.ranges.low)));
    assert!(texts(&svg, "metric-days").contains(&"14 of 14".to_owned()));
    assert!(texts(&svg, "metric-active").contains(&"100.0 %".to_owned()));
    assert!(!svg.contains("not-enough-data"));
    for id in ["band-5-95", "band-25-75", "median", "episodes", &format!("day-{last}")] {
        assert!(svg.contains(&format!(r#"<g id="{id}">"#)), "{id}");
    }

    // The default format is a one-page PDF with the same numbers as text.
    let (status, headers, pdf) = get(api_reports::router(state.clone()), &state, REPORT, user).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        format!("inline; filename=\"agp-report-{}-{last}.pdf\"", last - Days::new(13)).as_str()
    );
    let pdf = String::from_utf8_lossy(&pdf);
    assert!(pdf.starts_with("%PDF-"));
    assert_eq!(pdf.lines().filter(|l| l.trim() == "/Type /Page").count(), 1);
    assert!(pdf.contains(&format!("({:.1} %) Tj", glucose.ranges.in_range)));
    assert!(pdf.contains("(14 of 14) Tj"));

    // Each report read is audited in the owner's log.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE user_id = $1 AND action = 'read' AND resource = 'agp_report'
           AND request_id = 'req-report-test'",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(audited, 2);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn short_data_gets_the_note_instead_of_a_plain_page(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let last = yesterday("UTC");
    readings_over(&db, user, "UTC", last - Days::new(2), last).await;
    let svg = report_svg(&state, "", user).await;
    let note = texts(&svg, "not-enough-data").join(" ");
    assert!(note.starts_with("Not enough data"), "{note}");
    assert!(note.contains("3 days with CGM data"), "{note}");
    assert!(texts(&svg, "metric-days").contains(&"3 of 14".to_owned()));
    // Three days of data over five: too little of the time as well.
    let svg = report_svg(&state, "&days=5", user).await;
    assert!(texts(&svg, "not-enough-data").join(" ").contains("CGM active 60.0 %"));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_owners_unit_and_local_days_are_used(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let zone = "Asia/Tokyo";
    let user = testing::user(&db, zone).await;
    testing::use_mmol_l(&db, user).await;
    // One Tokyo day of readings: 15:00 UTC to 15:00 UTC, two UTC dates.
    let last = yesterday(zone);
    readings_over(&db, user, zone, last, last).await;

    let svg = report_svg(&state, "&days=2", user).await;
    assert!(texts(&svg, "header")
        .iter()
        .any(|t| t.contains("Glucose in mmol/L") && t.contains("Asia/Tokyo")));
    let report = model(
        &db,
        user,
        ReportPeriod {
            days: 2,
            last_day: None,
        },
    )
    .await;
    let mean = report.glucose.unwrap().mean_mg_dl;
    assert!(texts(&svg, "metric-mean").contains(&format!("{:.1} mmol/L", mean / glucolens_domain::MG_DL_PER_MMOL_L)));
    assert!(texts(&svg, "tir-in-range").contains(&"3.9–10.0 mmol/L".to_owned()));
    // The whole trace lies on the Tokyo day, none on the day before.
    assert_eq!(report.days_with_data, 1);
    let day = &report.days[1];
    assert_eq!(day.date, last);
    assert_eq!(day.segments.len(), 1);
    assert_eq!(day.segments[0].len(), 288);
    assert_eq!(day.segments[0][0].0, 0.0);
    assert!(report.days[0].segments.is_empty());
    assert!(texts(&svg, "metric-days").contains(&"1 of 2".to_owned()));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn another_owners_data_never_appears(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let (alice, bob) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    let last = yesterday("UTC");
    readings_over(&db, alice, "UTC", last - Days::new(13), last).await;
    let svg = report_svg(&state, "", bob).await;
    assert!(texts(&svg, "metric-days").contains(&"0 of 14".to_owned()));
    assert!(texts(&svg, "metric-mean").contains(&"–".to_owned()));
    assert!(svg.contains("Too few readings for a profile"));
    assert!(!svg.contains(r#"<g id="band-5-95">"#));
    let alice_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE user_id = $1")
        .bind(alice)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(alice_rows, 0, "bob's report is logged in bob's log only");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bad_parameters_are_problems_and_not_audited(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Berlin").await;
    let tomorrow: DateTime<Utc> = Utc::now() + Duration::days(2);
    for (query, fields) in [
        ("days=0&format=png", vec!["days", "format"]),
        ("days=91", vec!["days"]),
        ("end=2026-02-30", vec!["end"]),
        (&format!("end={}", tomorrow.date_naive()) as &str, vec!["end"]),
    ] {
        let (status, headers, body) = get(
            api_reports::router(state.clone()),
            &state,
            &format!("{REPORT}?{query}"),
            user,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let problem: Value = serde_json::from_slice(&body).unwrap();
        let named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{query}");
    }
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 0);
}
