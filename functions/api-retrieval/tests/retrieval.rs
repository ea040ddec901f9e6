//! Handler tests against a fresh PostgreSQL database per test and moto.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use glucolens_domain::records::{ActivityRecord, GlucoseRecord, MealRecord, SleepQuality, SleepRecord};
use glucolens_domain::{GlucoseUnit, MgDl};
use glucolens_store as store;
use glucolens_testing as testing;
use glucolens_web::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

const READINGS: &str = "/api/v1/glucose/readings";
const DAILY: &str = "/api/v1/glucose/daily-summary";
const DASHBOARD: &str = "/api/v1/dashboard/summary";

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().expect("test timestamp")
}

/// GETs `uri` as `user` (no Authorization header when `None`) and returns the status and JSON body.
async fn get(state: &AppState, uri: &str, user: Option<Uuid>) -> (StatusCode, Value) {
    let mut request = http::Request::builder()
        .uri(uri)
        .header("x-request-id", "req-retrieval-test");
    if let Some(user) = user {
        request = request.header("authorization", testing::bearer(state, user));
    }
    let request = request.body(lambda_http::Body::Empty).unwrap();
    let response = api_retrieval::router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// `uri?start=..&end=..` with the `+` of offsets escaped.
fn range_uri(start: &str, end: &str, extra: &str) -> String {
    let escape = |t: &str| t.replace('+', "%2B");
    format!("{READINGS}?start={}&end={}{extra}", escape(start), escape(end))
}

async fn insert_readings(db: &PgPool, user: Uuid, readings: &[(DateTime<Utc>, f64, &str)]) {
    let records: Vec<_> = readings
        .iter()
        .map(|&(time, value, source)| GlucoseRecord {
            time,
            source: source.to_owned(),
            value: MgDl::parse("value", value, GlucoseUnit::MgDl).unwrap(),
            trend: Some("flat".into()),
            device: None,
            clipped: false,
        })
        .collect();
    store::glucose::insert_batch(db, user, &records).await.unwrap();
}

/// A reading every 5 minutes in `[start, end)`, all at `value`.
async fn insert_every_five_minutes(db: &PgPool, user: Uuid, start: DateTime<Utc>, end: DateTime<Utc>, value: f64) {
    let times = std::iter::successors(Some(start), |t| Some(*t + TimeDelta::minutes(5))).take_while(|t| *t < end);
    let readings: Vec<_> = times.map(|t| (t, value, "cgm")).collect();
    insert_readings(db, user, &readings).await;
}

async fn set_display_unit(db: &PgPool, user: Uuid, unit: &str) {
    sqlx::query("UPDATE users SET display_unit = $2 WHERE id = $1")
        .bind(user)
        .bind(unit)
        .execute(db)
        .await
        .unwrap();
}

async fn insert_sleep(db: &PgPool, user: Uuid, start: &str, end: &str, source: &str) {
    let session = SleepRecord {
        start_time: at(start),
        end_time: at(end),
        source: source.into(),
        deep_minutes: None,
        light_minutes: None,
        rem_minutes: None,
        awake_minutes: None,
        quality: None,
    };
    store::sleep::insert_batch(db, user, &[session]).await.unwrap();
}

async fn insert_activity(db: &PgPool, user: Uuid, start_time: DateTime<Utc>, duration_minutes: i32) {
    let activity = ActivityRecord {
        start_time,
        activity_type: "walking".into(),
        source: "watch".into(),
        duration_minutes,
        intensity: None,
        calories: None,
        steps: None,
        avg_heart_rate: None,
    };
    store::activities::insert_batch(db, user, &[activity]).await.unwrap();
}

async fn insert_meal(db: &PgPool, user: Uuid, eaten_at: DateTime<Utc>, carbs_g: f64) {
    let meal = MealRecord {
        eaten_at,
        source: "app".into(),
        meal_type: None,
        carbs_g,
        protein_g: None,
        fat_g: None,
        fiber_g: None,
        calories: None,
        glycemic_load: None,
        description: None,
        photo_url: None,
    };
    store::meals::insert_batch(db, user, &[meal]).await.unwrap();
}

fn error_codes(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn readings_come_back_in_order_in_the_display_unit(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    insert_readings(
        &db,
        user,
        &[
            (at("2025-03-01T10:05:00Z"), 180.0, "cgm"),
            (at("2025-03-01T10:00:00Z"), 99.1, "cgm"),
            (at("2025-03-01T10:00:00Z"), 101.0, "meter"),
            (at("2025-03-02T10:00:00Z"), 150.0, "cgm"),
        ],
    )
    .await;

    let uri = range_uri("2025-03-01T11:00:00+01:00", "2025-03-02T00:00:00Z", "");
    let (status, body) = get(&state, &uri, Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unit"], "mg/dL");
    let values: Vec<_> = body["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].clone())
        .collect();
    assert_eq!(values, [99.1, 101.0, 180.0]);
    assert_eq!(body["readings"][0]["timestamp"], "2025-03-01T10:00:00Z");
    assert_eq!(body["readings"][1]["source"], "meter");
    assert_eq!(body["readings"][0]["trend"], "flat");
    assert_eq!(body["next_cursor"], Value::Null);

    set_display_unit(&db, user, "mmol/L").await;
    let (_, body) = get(&state, &uri, Some(user)).await;
    assert_eq!(body["unit"], "mmol/L");
    let values: Vec<_> = body["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].clone())
        .collect();
    assert_eq!(values, [5.5, 5.61, 9.99]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn pagination_walks_every_reading_exactly_once(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let (start, end) = (at("2025-05-01T00:00:00Z"), at("2025-05-02T00:00:00Z"));
    insert_every_five_minutes(&db, user, start, end, 120.0).await;
    // A second source at the same instants: pages must split ties on time by source without losing any.
    let shadow: Vec<_> = (0..288)
        .map(|i| (start + TimeDelta::minutes(5 * i), 121.0, "meter"))
        .collect();
    insert_readings(&db, user, &shadow).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let extra = match &cursor {
            Some(c) => format!("&limit=100&cursor={c}"),
            None => "&limit=100".into(),
        };
        let (status, body) = get(
            &state,
            &range_uri("2025-05-01T00:00:00Z", "2025-05-02T00:00:00Z", &extra),
            Some(user),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        let readings = body["readings"].as_array().unwrap();
        assert!(readings.len() <= 100);
        seen.extend(readings.iter().map(|r| {
            (
                r["timestamp"].as_str().unwrap().to_owned(),
                r["source"].as_str().unwrap().to_owned(),
            )
        }));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(seen.len(), 576);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 576, "no reading twice");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "key order across pages");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn invalid_parameters_are_422_with_every_field(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let cases: [(String, &[&str]); 7] = [
        (
            range_uri("2025-03-02", "yesterday", ""),
            &["invalid_timestamp", "invalid_timestamp"],
        ),
        (
            range_uri("2025-03-02T00:00:00Z", "2025-03-02T00:00:00Z", ""),
            &["invalid_range"],
        ),
        (
            range_uri("2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z", "&limit=9000"),
            &["range_too_long", "out_of_range"],
        ),
        (
            range_uri("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "&cursor=bm9wZQ"),
            &["invalid_cursor"],
        ),
        (format!("{DAILY}?date=2025-13-01"), &["invalid_date"]),
        (format!("{DAILY}?date=2999-01-01"), &["date_in_future"]),
        (format!("{DASHBOARD}?days=9"), &["invalid_days"]),
    ];
    for (uri, codes) in cases {
        let (status, body) = get(&state, &uri, Some(user)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(error_codes(&body), codes, "{uri}");
    }
    let (status, body) = get(&state, READINGS, Some(user)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_codes(&body), ["required", "required"]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn every_route_needs_a_token(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let readings = range_uri("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "");
    for uri in [readings.as_str(), &format!("{DAILY}?date=2025-01-01"), DASHBOARD] {
        let (status, body) = get(&state, uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(body["code"], "missing_token");
    }
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_user_never_sees_another_users_rows_and_every_read_is_audited(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let (alice, bob) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    let yesterday = Utc::now() - TimeDelta::days(1);
    let day = yesterday.date_naive();
    let day_start = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    insert_every_five_minutes(&db, alice, day_start, day_start + TimeDelta::hours(2), 140.0).await;
    insert_meal(&db, alice, day_start + TimeDelta::hours(1), 45.0).await;
    insert_activity(&db, alice, day_start + TimeDelta::hours(1), 30).await;

    let readings = range_uri(
        &day_start.to_rfc3339(),
        &(day_start + TimeDelta::days(1)).to_rfc3339(),
        "",
    );
    let daily = format!("{DAILY}?date={day}");
    let (_, alices) = get(&state, &readings, Some(alice)).await;
    assert_eq!(alices["readings"].as_array().unwrap().len(), 24);
    let (_, alices) = get(&state, &daily, Some(alice)).await;
    assert_eq!(alices["glucose"]["reading_count"], 24);
    let (_, alices) = get(&state, DASHBOARD, Some(alice)).await;
    assert_eq!(alices["current"]["glucose"]["reading_count"], 24);

    let (status, bobs) = get(&state, &readings, Some(bob)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bobs["readings"], serde_json::json!([]));
    let (_, bobs) = get(&state, &daily, Some(bob)).await;
    assert_eq!(bobs["glucose"]["reading_count"], 0);
    assert_eq!(bobs["glucose"]["mean"], Value::Null);
    assert_eq!(bobs["lifestyle"]["carbs_g"], Value::Null);
    assert_eq!(bobs["lifestyle"]["exercise_minutes"], 0);
    let (_, bobs) = get(&state, DASHBOARD, Some(bob)).await;
    assert_eq!(bobs["current"]["glucose"]["reading_count"], 0);
    assert_eq!(bobs["current"]["lifestyle"]["carbs_g_per_day"], Value::Null);

    let audit: Vec<(Uuid, String, String, String)> =
        sqlx::query_as("SELECT user_id, action, resource, request_id FROM audit_log ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    let expected = |user| {
        ["glucose_readings", "glucose_daily_summary", "dashboard_summary"].map(|resource| {
            (
                user,
                "read".to_owned(),
                resource.to_owned(),
                "req-retrieval-test".to_owned(),
            )
        })
    };
    assert_eq!(audit, [expected(alice), expected(bob)].concat());
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn new_york_dst_days_have_23_and_25_hours_of_expected_readings(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "America/New_York").await;
    // 2025-03-09 starts at 05:00Z (EST) and ends at 04:00Z (EDT); 2025-11-02 runs 04:00Z to 05:00Z next day.
    insert_every_five_minutes(&db, user, at("2025-03-09T05:00:00Z"), at("2025-03-10T04:00:00Z"), 100.0).await;
    insert_every_five_minutes(&db, user, at("2025-11-02T04:00:00Z"), at("2025-11-03T05:00:00Z"), 100.0).await;
    // Neighbours just outside each day.
    insert_readings(
        &db,
        user,
        &[
            (at("2025-03-09T04:55:00Z"), 300.0, "cgm"),
            (at("2025-11-03T05:00:00Z"), 300.0, "cgm"),
        ],
    )
    .await;

    for (date, hours, expected) in [("2025-03-09", 23.0, 276), ("2025-11-02", 25.0, 300)] {
        let (status, body) = get(&state, &format!("{DAILY}?date={date}"), Some(user)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["hours"], hours, "{date}");
        assert_eq!(body["glucose"]["reading_count"], expected, "{date}");
        assert_eq!(body["glucose"]["expected_readings"], expected, "{date}");
        assert_eq!(body["glucose"]["coverage_percent"], 100.0, "{date}");
        assert_eq!(body["glucose"]["max"], 100.0, "{date}: the neighbours stay out");
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn kolkata_local_day_bounds_glucose_sleep_exercise_and_meals(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Asia/Kolkata").await;
    // 2025-01-15 in Kolkata (UTC+05:30) is [2025-01-14T18:30Z, 2025-01-15T18:30Z).
    insert_readings(
        &db,
        user,
        &[
            (at("2025-01-14T18:25:00Z"), 300.0, "cgm"),
            (at("2025-01-14T18:30:00Z"), 50.0, "cgm"),
            (at("2025-01-15T02:00:00Z"), 60.0, "cgm"),
            (at("2025-01-15T06:00:00Z"), 100.0, "cgm"),
            (at("2025-01-15T12:00:00Z"), 200.0, "cgm"),
            (at("2025-01-15T18:25:00Z"), 300.0, "cgm"),
            (at("2025-01-15T18:30:00Z"), 400.0, "cgm"),
        ],
    )
    .await;
    // Two overlapping records of the night that began on the 14th (counted once: 22:30–06:30 local = 480 min, on
    // the 14th, the day of its evening), and a 40-minute nap that began at 23:30 on the 15th.
    insert_sleep(&db, user, "2025-01-14T17:00:00Z", "2025-01-15T01:00:00Z", "watch").await;
    insert_sleep(&db, user, "2025-01-14T18:00:00Z", "2025-01-15T00:00:00Z", "phone").await;
    insert_sleep(&db, user, "2025-01-15T18:00:00Z", "2025-01-15T18:40:00Z", "watch").await;
    insert_activity(&db, user, at("2025-01-14T18:30:00Z"), 30).await;
    insert_activity(&db, user, at("2025-01-15T18:31:00Z"), 60).await;
    insert_meal(&db, user, at("2025-01-14T18:29:00Z"), 80.0).await;
    insert_meal(&db, user, at("2025-01-15T03:00:00Z"), 40.5).await;
    insert_meal(&db, user, at("2025-01-15T13:00:00Z"), 60.0).await;

    let (status, body) = get(&state, &format!("{DAILY}?date=2025-01-15"), Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["start"], "2025-01-14T18:30:00Z");
    let glucose = &body["glucose"];
    assert_eq!(glucose["reading_count"], 5);
    assert_eq!(
        (glucose["min"].clone(), glucose["max"].clone()),
        (50.0.into(), 300.0.into())
    );
    assert_eq!(glucose["mean"], 142.0);
    assert_eq!(glucose["gmi_percent"], 6.71);
    assert_eq!(
        glucose["time_in_ranges"],
        serde_json::json!({"very_low": 20.0, "low": 20.0, "in_range": 20.0, "high": 20.0, "very_high": 20.0})
    );
    let lifestyle = &body["lifestyle"];
    assert_eq!(lifestyle["sleep_minutes"], 40.0);
    assert_eq!(lifestyle["exercise_minutes"], 30);
    assert_eq!(lifestyle["carbs_g"], 100.5);
    assert_eq!(lifestyle["meal_count"], 2);
    let (_, before) = get(&state, &format!("{DAILY}?date=2025-01-14"), Some(user)).await;
    assert_eq!(before["lifestyle"]["sleep_minutes"], 480.0, "{before}");
}

/// The one definition of a day: on New York's 23-hour spring-forward day, with a second sensor worn in the
/// afternoon, Apple Health re-publishing some readings and a night across midnight recorded twice, the daily
/// summary a person sees equals, field by field, the `daily_aggregates` row the analyses use.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_daily_summary_equals_the_daily_aggregate_on_a_dst_day_with_two_sensors(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "America/New_York").await;
    // 2025-03-09 in New York: [05:00Z, next day 04:00Z), 23 hours.
    let day_start = at("2025-03-09T05:00:00Z");
    let mut readings = Vec::new();
    for i in 0..276 {
        let time = day_start + TimeDelta::minutes(5 * i);
        // A full day from the main sensor, with a dip below 70 and a rise above 250.
        let value = 140.0 + 90.0 * ((i as f64) / 20.0).sin() + if i % 50 == 0 { -80.0 } else { 0.0 };
        readings.push((time, value.clamp(40.0, 400.0), "dexcom"));
        // Apple Health re-publishes every fourth reading a second later, 10 mg/dL off: its copy must lose.
        if i % 4 == 0 {
            readings.push((
                time + TimeDelta::seconds(1),
                value.clamp(40.0, 400.0) + 10.0,
                "apple_health",
            ));
        }
    }
    // A second sensor in the afternoon (13:00–17:00 local = 17:00Z–21:00Z), two minutes off the first, 40 higher.
    for i in 0..48 {
        let time = at("2025-03-09T17:02:00Z") + TimeDelta::minutes(5 * i);
        readings.push((time, 180.0, "libre"));
    }
    // The neighbouring days' edges stay out.
    readings.push((at("2025-03-09T04:55:00Z"), 400.0, "dexcom"));
    readings.push((at("2025-03-10T04:00:00Z"), 400.0, "dexcom"));
    insert_readings(&db, user, &readings).await;
    // The night that began on the 8th (ends on the 9th) and the night that begins on the 9th, recorded by a watch
    // and a phone; the watch notes 20 awake minutes.
    let night = |start: &str, end: &str, source: &str, awake: Option<i32>| SleepRecord {
        start_time: at(start),
        end_time: at(end),
        source: source.into(),
        deep_minutes: Some(60),
        light_minutes: None,
        rem_minutes: Some(90),
        awake_minutes: awake,
        quality: SleepQuality::parse(7.0),
    };
    let nights = [
        night("2025-03-09T04:00:00Z", "2025-03-09T11:00:00Z", "watch", Some(10)),
        night("2025-03-10T02:30:00Z", "2025-03-10T10:30:00Z", "watch", Some(20)),
        night("2025-03-10T03:00:00Z", "2025-03-10T10:00:00Z", "phone", None),
    ];
    store::sleep::insert_batch(&db, user, &nights).await.unwrap();
    insert_activity(&db, user, at("2025-03-09T22:00:00Z"), 45).await;
    insert_meal(&db, user, at("2025-03-09T12:30:00Z"), 55.0).await;
    insert_meal(&db, user, at("2025-03-10T03:30:00Z"), 20.0).await;

    glucolens_app::aggregation::aggregate_user(&db, user, glucolens_app::aggregation::Mode::Full)
        .await
        .unwrap();
    let row: (i32, i32, f64, f64, f64, f64, f64, f64, f64) = sqlx::query_as(
        "SELECT reading_count, expected_readings, coverage_percent, avg_glucose, std_glucose, cv_percent,
                gmi_percent, min_glucose, max_glucose
         FROM daily_aggregates WHERE user_id = $1 AND date = '2025-03-09'",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    let ranges: (f64, f64, f64, f64, f64) = sqlx::query_as(
        "SELECT pct_below_54, pct_54_69, time_in_range_percent, pct_181_250, pct_above_250
         FROM daily_aggregates WHERE user_id = $1 AND date = '2025-03-09'",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    let lifestyle: (f64, f64, f64, i32) = sqlx::query_as(
        "SELECT total_sleep_minutes, total_exercise_minutes, total_carbs_grams, meal_count
         FROM daily_aggregates WHERE user_id = $1 AND date = '2025-03-09'",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();

    let (status, body) = get(&state, &format!("{DAILY}?date=2025-03-09"), Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hours"], 23.0);
    let round = |v: f64, d: i32| (v * 10f64.powi(d)).round() / 10f64.powi(d);
    let glucose = &body["glucose"];
    assert_eq!(
        glucose["reading_count"], row.0,
        "one reading per slot: the second sensor and the copies lose"
    );
    assert_eq!(row.0, 276);
    assert_eq!(glucose["expected_readings"], row.1);
    assert_eq!(glucose["coverage_percent"], round(row.2, 1));
    assert_eq!(glucose["mean"], round(row.3, 1));
    assert_eq!(glucose["sd"], round(row.4, 1));
    assert_eq!(glucose["cv_percent"], round(row.5, 1));
    assert_eq!(glucose["gmi_percent"], round(row.6, 2));
    assert_eq!(glucose["min"], round(row.7, 1));
    assert_eq!(glucose["max"], round(row.8, 1));
    let tir = &glucose["time_in_ranges"];
    assert_eq!(
        [
            &tir["very_low"],
            &tir["low"],
            &tir["in_range"],
            &tir["high"],
            &tir["very_high"]
        ],
        [ranges.0, ranges.1, ranges.2, ranges.3, ranges.4]
            .map(|p| serde_json::json!(round(p, 1)))
            .each_ref()
    );
    let day_life = &body["lifestyle"];
    // The night that began on the 9th, counted once, awake minutes subtracted: 480 − 20.
    assert_eq!(lifestyle.0, 460.0);
    assert_eq!(day_life["sleep_minutes"], lifestyle.0);
    assert_eq!(day_life["exercise_minutes"], lifestyle.1 as i64);
    assert_eq!(day_life["carbs_g"], lifestyle.2);
    assert_eq!(day_life["meal_count"], lifestyle.3);
    assert_eq!(
        lifestyle.3, 2,
        "the meal at 03:30Z on the 10th is 23:30 on the 9th in New York"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn dashboard_compares_with_the_previous_period(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    set_display_unit(&db, user, "mmol/L").await;
    let now = Utc::now();
    let recent = now - TimeDelta::days(1);
    let earlier = now - TimeDelta::days(8);
    insert_every_five_minutes(&db, user, recent - TimeDelta::hours(1), recent, 180.0).await;
    insert_every_five_minutes(&db, user, earlier - TimeDelta::hours(1), earlier, 90.0).await;
    insert_activity(&db, user, recent, 70).await;
    insert_activity(&db, user, earlier, 35).await;
    insert_meal(&db, user, recent, 120.0).await;

    let (status, body) = get(&state, &format!("{DASHBOARD}?days=7"), Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["days"].clone(), body["unit"].clone()),
        (7.into(), "mmol/L".into())
    );
    assert_eq!(body["current"]["glucose"]["reading_count"], 12);
    assert_eq!(body["current"]["glucose"]["mean"], 9.99);
    assert_eq!(body["previous"]["glucose"]["mean"], 5.0);
    assert_eq!(body["change"]["mean"], 4.99);
    assert_eq!(body["change"]["time_in_ranges"]["in_range"], 0.0);
    assert_eq!(body["current"]["lifestyle"]["exercise_minutes_per_day"], 10.0);
    assert_eq!(body["change"]["exercise_minutes_per_day"], 5.0);
    assert_eq!(body["current"]["lifestyle"]["carbs_g_per_day"], 120.0);
    assert_eq!(body["change"]["carbs_g_per_day"], Value::Null, "no meals before");

    let (status, body) = get(&state, &format!("{DASHBOARD}?days=30"), Some(user)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["current"]["glucose"]["reading_count"], 24);
    assert_eq!(body["previous"]["glucose"]["reading_count"], 0);
    assert_eq!(body["change"]["mean"], Value::Null);
    assert_eq!(body["change"]["coverage_percent"], Value::Null);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn api_gateway_events_reach_the_dashboard_and_audit_their_request_id(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let mut request =
        lambda_http::request::from_str(include_str!("../../../events/api-retrieval-dashboard.json")).unwrap();
    request
        .headers_mut()
        .insert("authorization", testing::bearer(&state, user).parse().unwrap());
    let response = api_retrieval::router(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["days"], 30);
    let request_id: String = sqlx::query_scalar("SELECT request_id FROM audit_log WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(request_id, "req-retrieval-dashboard-1");
}

#[test]
fn the_openapi_document_describes_every_route_with_its_problems() {
    let document = serde_json::to_value(api_retrieval::openapi()).unwrap();
    for path in [READINGS, DAILY, DASHBOARD] {
        let get = &document["paths"][path]["get"];
        assert!(get.is_object(), "{path} is documented");
        assert!(get["responses"]["200"].is_object());
        assert!(get["responses"]["422"]["content"]["application/problem+json"].is_object());
        assert_eq!(get["security"][0]["bearer"], serde_json::json!([]));
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    assert!(document["components"]["schemas"]["DashboardSummary"].is_object());
}
