//! Ingestion handlers against a real PostgreSQL (a fresh database per test) and moto.

use axum::http::{header, StatusCode};
use chrono::{Duration, NaiveDate, Utc};
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

async fn send_request(state: &AppState, request: lambda_http::Request) -> Reply {
    testing::respond(api_ingestion::router(state.clone()), request).await
}

/// POSTs `body` to `path` with `authorization` (a full header value) if given.
async fn post_raw(state: &AppState, path: &str, authorization: Option<&str>, body: String) -> Reply {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    send_request(state, builder.body(lambda_http::Body::from(body)).unwrap()).await
}

async fn post(state: &AppState, user: Uuid, path: &str, body: Value) -> Reply {
    post_raw(state, path, Some(&testing::bearer(state, user)), body.to_string()).await
}

/// `count` readings every 5 minutes from 2025-01-01T00:00Z, 100 + i mod 200 mg/dL.
fn readings(count: usize) -> Value {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    (0..count)
        .map(|i| {
            json!({
                "timestamp": (start + Duration::minutes(5 * i as i64)).to_rfc3339(),
                "value": 100 + (i % 200),
                "unit": "mg/dL",
                "source": "dexcom",
                "trend": "flat",
                "device": "G7",
            })
        })
        .collect()
}

fn counts(inserted: u64, already_present: u64) -> Value {
    json!({ "inserted": inserted, "already_present": already_present })
}

async fn row_count(db: &sqlx::PgPool, table: &str, user: Uuid) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

async fn stored_glucose(db: &sqlx::PgPool, user: Uuid) -> Vec<f64> {
    sqlx::query_scalar(r#"SELECT value::float8 FROM glucose_readings WHERE user_id = $1 ORDER BY "timestamp""#)
        .bind(user)
        .fetch_all(db)
        .await
        .unwrap()
}

async fn dirty_dates(db: &sqlx::PgPool, user: Uuid) -> Vec<NaiveDate> {
    sqlx::query_scalar("SELECT local_date FROM dirty_days WHERE user_id = $1 ORDER BY local_date")
        .bind(user)
        .fetch_all(db)
        .await
        .unwrap()
}

/// The `(field, code)` pairs of a 422 problem.
fn field_errors(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.body["code"], "validation_failed");
    reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn one_reading_is_stored_once_and_a_resend_reports_it_present(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    let reading = json!({"timestamp": "2025-01-01T07:30:00+01:00", "value": 142, "unit": "mg/dL",
        "source": "dexcom", "trend": "flat", "device": "G7"});
    let first = post(&state, user, "/api/v1/glucose/readings", reading.clone()).await;
    assert_eq!((first.status, first.body), (StatusCode::CREATED, counts(1, 0)));
    let again = post(&state, user, "/api/v1/glucose/readings", reading).await;
    assert_eq!((again.status, again.body), (StatusCode::OK, counts(0, 1)));
    let (time, source, trend, device): (chrono::DateTime<Utc>, String, String, String) =
        sqlx::query_as(r#"SELECT "timestamp", source, trend, device_id FROM glucose_readings WHERE user_id = $1"#)
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(time.to_rfc3339(), "2025-01-01T06:30:00+00:00");
    assert_eq!(
        (source.as_str(), trend.as_str(), device.as_str()),
        ("dexcom", "flat", "G7")
    );
    assert_eq!(stored_glucose(&db, user).await, [142.0]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn mmol_per_litre_is_stored_as_mg_per_decilitre(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let body = json!({"readings": [
        {"timestamp": "2025-01-01T08:00:00Z", "value": 5.5, "unit": "mmol/L"},
        {"timestamp": "2025-01-01T08:05:00Z", "value": 10.0, "unit": "mmol/L"},
        {"timestamp": "2025-01-01T08:10:00Z", "value": 99}
    ]});
    let reply = post(&state, user, "/api/v1/glucose/bulk", body).await;
    assert_eq!((reply.status, reply.body), (StatusCode::CREATED, counts(3, 0)));
    // 5.5 × 18.0156 = 99.09, 10 × 18.0156 = 180.16; a reading without a unit is mg/dL.
    assert_eq!(stored_glucose(&db, user).await, [99.1, 180.2, 99.0]);
    let source: String = sqlx::query_scalar("SELECT DISTINCT source FROM glucose_readings WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(source, "api");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bulk_counts_new_present_and_in_batch_duplicates_once(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let day = readings(288);
    let mut with_repeat = day.as_array().unwrap()[..100].to_vec();
    with_repeat.push(with_repeat[10].clone());
    let first = post(&state, user, "/api/v1/glucose/bulk", json!({ "readings": with_repeat })).await;
    assert_eq!((first.status, first.body), (StatusCode::CREATED, counts(100, 0)));
    let overlapping = post(&state, user, "/api/v1/glucose/bulk", json!({ "readings": day })).await;
    assert_eq!(
        (overlapping.status, overlapping.body),
        (StatusCode::CREATED, counts(188, 100))
    );
    let resend = post(&state, user, "/api/v1/glucose/bulk", json!({ "readings": day })).await;
    assert_eq!((resend.status, resend.body), (StatusCode::OK, counts(0, 288)));
    assert_eq!(row_count(&db, "glucose_readings", user).await, 288);
    let empty = post(&state, user, "/api/v1/glucose/bulk", json!({ "readings": [] })).await;
    assert_eq!((empty.status, empty.body), (StatusCode::OK, counts(0, 0)));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bulk_validation_lists_every_bad_item_and_writes_nothing(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let future = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let mut batch = readings(50).as_array().unwrap().clone();
    batch[3]["value"] = json!(601);
    batch[5]["timestamp"] = json!("2025-01-01T07:30:00");
    batch[7]["timestamp"] = json!(future);
    batch[8]["unit"] = json!("g/L");
    batch[9].as_object_mut().unwrap().remove("value");
    batch[11]["trend"] = json!("x".repeat(33));
    batch[12]["source"] = json!(" ");
    batch[13]["value"] = json!(1.0);
    batch[13]["unit"] = json!("mmol/L");
    batch[20]["timestamp"] = json!("1999-12-31T23:59:00Z");
    batch[21]["device"] = json!("d".repeat(129));
    let reply = post(&state, user, "/api/v1/glucose/bulk", json!({ "readings": batch })).await;
    assert_eq!(
        field_errors(&reply),
        pairs(&[
            ("readings[3].value", "out_of_range"),
            ("readings[5].timestamp", "invalid_timestamp"),
            ("readings[7].timestamp", "in_future"),
            ("readings[8].unit", "invalid_unit"),
            ("readings[9].value", "required"),
            ("readings[11].trend", "too_long"),
            ("readings[12].source", "empty"),
            ("readings[13].value", "out_of_range"),
            ("readings[20].timestamp", "too_early"),
            ("readings[21].device_id", "too_long"),
        ])
    );
    assert_eq!(reply.body["errors"][0]["index"], 3);
    assert_eq!(row_count(&db, "glucose_readings", user).await, 0);
    assert!(dirty_dates(&db, user).await.is_empty());
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_batch_with_one_bad_item_writes_nothing(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let mut batch = readings(500).as_array().unwrap().clone();
    batch[499]["value"] = json!(15);
    let reply = post(&state, user, "/api/v1/glucose/bulk", json!({ "readings": batch })).await;
    assert_eq!(field_errors(&reply), pairs(&[("readings[499].value", "out_of_range")]));
    assert_eq!(row_count(&db, "glucose_readings", user).await, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn oversized_batches_and_bodies_are_refused(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    // 50,001 short readings fit the body limit but not the batch limit.
    let reading = json!({"timestamp": "2025-01-01T00:00:00Z", "value": 100});
    let too_many = json!({ "readings": vec![reading; 50_001] });
    let reply = post(&state, user, "/api/v1/glucose/bulk", too_many).await;
    assert_eq!(field_errors(&reply), pairs(&[("readings", "batch_too_large")]));

    let filler = "x".repeat(glucolens_web::MAX_BODY_BYTES);
    let too_big = format!(r#"{{"readings":[],"padding":"{filler}"}}"#);
    let reply = post_raw(
        &state,
        "/api/v1/glucose/bulk",
        Some(&testing::bearer(&state, user)),
        too_big,
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body["code"], "payload_too_large");
    assert!(reply.body["detail"].as_str().unwrap().contains("5000000"));
    assert_eq!(row_count(&db, "glucose_readings", user).await, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn missing_or_invalid_tokens_are_401(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    // The API Gateway event carries no Authorization header.
    let event =
        lambda_http::request::from_str(include_str!("../../../events/api-ingestion-glucose-bulk.json")).unwrap();
    let reply = send_request(&state, event).await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_token"))
    );
    for path in [
        "/api/v1/glucose/readings",
        "/api/v1/sleep",
        "/api/v1/activities",
        "/api/v1/meals",
    ] {
        let reply = post_raw(&state, path, Some("Bearer not-a-token"), "{}".into()).await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token"))
        );
    }
    let reply = post_raw(&state, "/api/v1/integrations/apple-health", None, "{}".into()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM glucose_readings")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(total, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_api_gateway_event_stores_its_readings(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    let mut event =
        lambda_http::request::from_str(include_str!("../../../events/api-ingestion-glucose-bulk.json")).unwrap();
    event
        .headers_mut()
        .insert(header::AUTHORIZATION, testing::bearer(&state, user).parse().unwrap());
    let reply = send_request(&state, event).await;
    assert_eq!((reply.status, reply.body), (StatusCode::CREATED, counts(2, 0)));
    assert_eq!(stored_glucose(&db, user).await, [142.0, 142.3]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn concurrent_identical_bulk_uploads_never_duplicate(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let body = json!({ "readings": readings(2000) }).to_string();
    let authorization = testing::bearer(&state, user);
    let mut uploads = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (state, body, authorization) = (state.clone(), body.clone(), authorization.clone());
        uploads.spawn(async move { post_raw(&state, "/api/v1/glucose/bulk", Some(&authorization), body).await });
    }
    let (mut inserted, mut present) = (0, 0);
    while let Some(reply) = uploads.join_next().await {
        let reply = reply.unwrap();
        assert!(
            matches!(reply.status, StatusCode::CREATED | StatusCode::OK),
            "{}",
            reply.body
        );
        inserted += reply.body["inserted"].as_u64().unwrap();
        present += reply.body["already_present"].as_u64().unwrap();
    }
    assert_eq!((inserted, present), (2000, 5 * 2000));
    assert_eq!(row_count(&db, "glucose_readings", user).await, 2000);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn concurrent_overlapping_uploads_in_opposite_orders_all_succeed(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let forward = readings(3000).as_array().unwrap().clone();
    let backward: Vec<Value> = forward.iter().rev().cloned().collect();
    let authorization = testing::bearer(&state, user);
    let mut uploads = tokio::task::JoinSet::new();
    for batch in [&forward, &backward, &forward, &backward] {
        let (state, authorization) = (state.clone(), authorization.clone());
        let body = json!({ "readings": batch }).to_string();
        uploads.spawn(async move { post_raw(&state, "/api/v1/glucose/bulk", Some(&authorization), body).await });
    }
    let mut inserted = 0;
    while let Some(reply) = uploads.join_next().await {
        let reply = reply.unwrap();
        assert!(
            matches!(reply.status, StatusCode::CREATED | StatusCode::OK),
            "{}",
            reply.body
        );
        inserted += reply.body["inserted"].as_u64().unwrap();
    }
    assert_eq!(inserted, 3000);
    assert_eq!(row_count(&db, "glucose_readings", user).await, 3000);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn dirty_days_are_the_users_local_dates(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Asia/Kolkata").await;
    // 20:00Z is 01:30 on 2 January in Kolkata (UTC+05:30); 10:00Z is still 1 January there.
    let body = json!({"readings": [
        {"timestamp": "2025-01-01T10:00:00Z", "value": 120},
        {"timestamp": "2025-01-01T20:00:00Z", "value": 130}
    ]});
    assert_eq!(
        post(&state, user, "/api/v1/glucose/bulk", body).await.status,
        StatusCode::CREATED
    );
    let day = |d| NaiveDate::from_ymd_opt(2025, 1, d).unwrap();
    assert_eq!(dirty_dates(&db, user).await, [day(1), day(2)]);
    // A night from 23:00 on 4 January to 06:00 local touches both dates.
    let night = json!({"start_time": "2025-01-04T23:00:00+05:30", "end_time": "2025-01-05T06:00:00+05:30"});
    assert_eq!(
        post(&state, user, "/api/v1/sleep", night).await.status,
        StatusCode::CREATED
    );
    assert_eq!(dirty_dates(&db, user).await, [day(1), day(2), day(4), day(5)]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn sleep_activities_and_meals_are_stored_idempotently(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    let cases = [
        (
            "/api/v1/sleep",
            "sleep_data",
            json!({"start_time": "2025-01-01T23:10:00+01:00", "end_time": "2025-01-02T07:05:00+01:00",
                "deep_minutes": 85, "light_minutes": 250, "rem_minutes": 100, "awake_minutes": 40, "quality": 7,
                "source": "oura"}),
        ),
        (
            "/api/v1/activities",
            "activities",
            json!({"start_time": "2025-01-01T18:00:00+01:00", "activity_type": "running", "duration_minutes": 45,
                "intensity": "moderate", "calories": 420, "steps": 6100, "avg_heart_rate": 148, "source": "garmin"}),
        ),
        (
            "/api/v1/meals",
            "meals",
            json!({"timestamp": "2025-01-01T12:30:00+01:00", "meal_type": "lunch", "carbs_g": 65, "protein_g": 30,
                "fat_g": 20, "fiber_g": 8, "calories": 560, "glycemic_load": 22,
                "description": "pasta with salad", "source": "myfitnesspal"}),
        ),
    ];
    for (path, table, body) in cases {
        let first = post(&state, user, path, body.clone()).await;
        assert_eq!(
            (first.status, first.body),
            (StatusCode::CREATED, counts(1, 0)),
            "{path}"
        );
        let again = post(&state, user, path, body).await;
        assert_eq!((again.status, again.body), (StatusCode::OK, counts(0, 1)), "{path}");
        assert_eq!(row_count(&db, table, user).await, 1, "{table}");
    }
    let (deep, quality, intensity, carbs, meal_type): (i32, f64, String, f64, String) = sqlx::query_as(
        "SELECT s.deep_sleep_minutes, s.quality_score::float8, a.intensity, m.carbs_grams::float8, m.meal_type
         FROM sleep_data s JOIN activities a USING (user_id) JOIN meals m USING (user_id) WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (deep, quality, intensity.as_str(), carbs, meal_type.as_str()),
        (85, 7.0, "moderate", 65.0, "lunch")
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn sleep_activity_and_meal_validation_reports_every_field(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let sleep = json!({"start_time": "2025-01-02T07:00:00Z", "end_time": "2025-01-01T23:00:00Z",
        "deep_minutes": -5, "quality": 11});
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/sleep", sleep).await),
        pairs(&[
            ("deep_sleep_minutes", "out_of_range"),
            ("quality_score", "out_of_range"),
            ("sleep_end", "end_before_start")
        ])
    );
    let long_night = json!({"start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-02T01:00:00Z"});
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/sleep", long_night).await),
        pairs(&[("sleep_end", "too_long")])
    );
    let overfull = json!({"start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-01T01:00:00Z",
        "deep_minutes": 40, "rem_minutes": 40});
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/sleep", overfull).await),
        pairs(&[("deep_sleep_minutes", "stages_exceed_duration")])
    );
    let activity = json!({"start_time": "2025-01-01T18:00:00Z", "duration_minutes": 2000,
        "intensity": "extreme", "calories": -1, "steps": -3, "avg_heart_rate": 300});
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/activities", activity).await),
        pairs(&[
            ("activity_type", "required"),
            ("duration_minutes", "out_of_range"),
            ("intensity", "invalid_choice"),
            ("calories_burned", "out_of_range"),
            ("steps", "out_of_range"),
            ("heart_rate_avg", "out_of_range"),
        ])
    );
    let meal = json!({"timestamp": "yesterday", "meal_type": "brunch", "protein_g": 3000,
        "description": "d".repeat(501)});
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/meals", meal).await),
        pairs(&[
            ("timestamp", "invalid_timestamp"),
            ("meal_type", "invalid_choice"),
            ("carbs_grams", "required"),
            ("protein_grams", "out_of_range"),
            ("description", "too_long"),
        ])
    );
    for table in ["sleep_data", "activities", "meals"] {
        assert_eq!(row_count(&db, table, user).await, 0, "{table}");
    }
}

fn apple_health_sync() -> Value {
    json!({
        "glucose": [
            {"timestamp": "2025-01-01T12:30:00+01:00", "value": 4.59, "unit": "mmol/L"},
            {"timestamp": "2025-01-01T12:35:00+01:00", "value": 5.1, "unit": "mmol/L"}
        ],
        "sleep": [{"start_time": "2025-01-01T00:05:00+01:00", "end_time": "2025-01-01T07:30:00+01:00"}],
        "activities": [{"start_time": "2025-01-01T07:25:41-07:00", "activity_type": "running",
            "duration_minutes": 5, "calories": 48.7}],
        "meals": [{"timestamp": "2025-01-01T12:00:00+01:00", "carbs_g": 45}]
    })
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn apple_health_sync_stores_every_kind_in_one_go(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    let first = post(&state, user, "/api/v1/integrations/apple-health", apple_health_sync()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(
        first.body,
        json!({"status": "success", "records_synced": 5,
            "glucose": counts(2, 0), "sleep": counts(1, 0), "activities": counts(1, 0), "meals": counts(1, 0),
            "inserted": 5, "already_present": 0})
    );
    let again = post(&state, user, "/api/v1/integrations/apple-health", apple_health_sync()).await;
    assert_eq!(
        (again.status, &again.body["inserted"], &again.body["already_present"]),
        (StatusCode::OK, &json!(0), &json!(5))
    );
    assert_eq!(stored_glucose(&db, user).await, [82.7, 91.9]);
    let sources: Vec<String> = sqlx::query_scalar(
        "SELECT source FROM glucose_readings WHERE user_id = $1 UNION ALL SELECT source FROM meals WHERE user_id = $1",
    )
    .bind(user)
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(sources.iter().all(|s| s == "apple_health"), "{sources:?}");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn apple_health_sync_is_all_or_nothing_across_kinds(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let mut sync = apple_health_sync();
    sync["meals"][0]["carbs_g"] = json!(2500);
    sync["sleep"][0]["quality"] = json!(-1);
    let reply = post(&state, user, "/api/v1/integrations/apple-health", sync).await;
    assert_eq!(
        field_errors(&reply),
        pairs(&[
            ("sleep_sessions[0].quality_score", "out_of_range"),
            ("meals[0].carbs_grams", "out_of_range")
        ])
    );
    for table in ["glucose_readings", "sleep_data", "activities", "meals", "dirty_days"] {
        assert_eq!(row_count(&db, table, user).await, 0, "{table}");
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn inserts_always_go_to_the_caller(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let (alice, bob) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    let day = json!({ "readings": readings(50) });
    assert_eq!(
        post(&state, alice, "/api/v1/glucose/bulk", day.clone()).await.body,
        counts(50, 0)
    );
    // Bob sending the very same records gets his own rows; Alice's are neither found nor touched.
    assert_eq!(post(&state, bob, "/api/v1/glucose/bulk", day).await.body, counts(50, 0));
    let meal = json!({"timestamp": "2025-01-01T12:00:00Z", "carbs_g": 45, "user_id": alice});
    assert_eq!(
        post(&state, bob, "/api/v1/meals", meal).await.status,
        StatusCode::CREATED
    );
    assert_eq!(row_count(&db, "glucose_readings", alice).await, 50);
    assert_eq!(row_count(&db, "meals", alice).await, 0);
    assert_eq!(row_count(&db, "meals", bob).await, 1);
    assert_eq!(row_count(&db, "dirty_days", alice).await, 1);
}

#[test]
fn the_openapi_document_covers_every_ingestion_route() {
    use glucolens_web::routes::{Function, ROUTES};
    let document = serde_json::to_value(api_ingestion::openapi()).unwrap();
    let routes: Vec<_> = ROUTES.iter().filter(|r| r.function == Function::Ingestion).collect();
    assert_eq!(routes.len(), 18);
    for route in routes {
        let operation = &document["paths"][route.path][route.method.to_lowercase()];
        assert!(operation.is_object(), "{} {} is undocumented", route.method, route.path);
        let statuses: &[&str] = match (route.method, route.path.ends_with("{id}")) {
            ("POST", _) => &["200", "201", "401", "413", "422"],
            ("PATCH", _) => &["200", "401", "404", "409", "422"],
            ("DELETE", true) => &["204", "401", "404"],
            _ => &["200", "401", "422"],
        };
        for status in statuses {
            assert!(
                operation["responses"][status].is_object(),
                "{} lacks {status}",
                route.path
            );
        }
        assert_eq!(operation["security"][0]["bearer"], json!([]));
    }
    let schemas = &document["components"]["schemas"];
    assert!(schemas["InsertCounts"].is_object());
    let reading = &schemas["GlucoseReadingInput"];
    assert_eq!(reading["required"], json!(["timestamp", "value"]));
    assert_eq!(reading["properties"]["timestamp"]["format"], "date-time");
}
