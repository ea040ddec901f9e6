//! Hostile text and dates on every ingestion route: NUL in any text field is 422 `invalid_text` naming it and
//! writes nothing; the documented mmol/L bounds are exactly what is accepted; repeated natural keys in a batch
//! collapse when identical and are 422 `duplicate_key` naming both indices otherwise; leap seconds are refused;
//! a huge value is not echoed whole.

use axum::http::StatusCode;
use glucolens_domain::MgDl;
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

async fn post(state: &AppState, user: Uuid, path: &str, body: Value) -> Reply {
    let request = testing::json_request("POST", path, Some(&testing::bearer(state, user)), &body);
    testing::respond(api_ingestion::router(state.clone()), request).await
}

fn errors(reply: &Reply) -> Vec<(String, String)> {
    reply.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {}", reply.body))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn stored_rows(db: &sqlx::PgPool, user: Uuid) -> i64 {
    let mut total = 0;
    for table in ["glucose_readings", "sleep_data", "activities", "meals", "dirty_days"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
            .bind(user)
            .fetch_one(db)
            .await
            .unwrap();
        total += n;
    }
    total
}

fn reading(timestamp: &str, value: f64) -> Value {
    json!({"timestamp": timestamp, "value": value, "source": "dexcom", "trend": "flat", "device": "G7"})
}

fn sleep() -> Value {
    json!({"start_time": "2025-01-01T23:00:00Z", "end_time": "2025-01-02T07:00:00Z", "source": "oura"})
}

fn activity() -> Value {
    json!({"start_time": "2025-01-01T18:00:00Z", "activity_type": "running", "duration_minutes": 45,
           "source": "garmin"})
}

fn meal() -> Value {
    json!({"timestamp": "2025-01-01T12:30:00Z", "carbs_g": 60, "description": "pasta", "source": "mfp"})
}

fn with(mut item: Value, field: &str, value: &str) -> Value {
    item[field] = json!(value);
    item
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn nul_in_any_text_field_of_any_route_is_422_naming_it(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let good = reading("2025-01-01T08:00:00Z", 120.0);
    let cases = [
        (
            "/api/v1/glucose/readings",
            with(good.clone(), "source", "dex\u{0}com"),
            "source",
        ),
        (
            "/api/v1/glucose/readings",
            with(good.clone(), "trend", "\u{0}"),
            "trend",
        ),
        (
            "/api/v1/glucose/readings",
            with(good.clone(), "device", "G7\u{0}"),
            "device_id",
        ),
        (
            "/api/v1/glucose/bulk",
            json!({"readings": [good.clone(), with(reading("2025-01-01T08:05:00Z", 121.0), "device", "\u{0}")]}),
            "readings[1].device_id",
        ),
        ("/api/v1/sleep", with(sleep(), "source", "oura\u{0}"), "source"),
        (
            "/api/v1/activities",
            with(activity(), "activity_type", "run\u{0}"),
            "activity_type",
        ),
        (
            "/api/v1/activities",
            with(activity(), "source", "\u{0}garmin"),
            "source",
        ),
        (
            "/api/v1/meals",
            with(meal(), "description", "pasta\u{0}"),
            "description",
        ),
        ("/api/v1/meals", with(meal(), "source", "mfp\u{0}"), "source"),
        (
            "/api/v1/integrations/apple-health",
            json!({"glucose": [with(good.clone(), "trend", "\u{0}")]}),
            "glucose_readings[0].trend",
        ),
        (
            "/api/v1/integrations/apple-health",
            json!({"glucose": [good.clone()], "sleep": [with(sleep(), "source", "\u{0}")]}),
            "sleep_sessions[0].source",
        ),
        (
            "/api/v1/integrations/apple-health",
            json!({"activities": [with(activity(), "activity_type", "\u{0}")]}),
            "activities[0].activity_type",
        ),
        (
            "/api/v1/integrations/apple-health",
            json!({"meals": [meal(), with(meal(), "description", "x\u{0}")]}),
            "meals[1].description",
        ),
    ];
    for (path, body, field) in cases {
        let reply = post(&state, user, path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {field}: {}",
            reply.body
        );
        assert_eq!(
            errors(&reply),
            [(field.to_owned(), "invalid_text".to_owned())],
            "{path}"
        );
    }
    assert_eq!(stored_rows(&db, user).await, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_documented_mmol_bounds_are_accepted_and_just_outside_refused(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let mmol = |t: &str, v: f64| json!({"timestamp": t, "value": v, "unit": "mmol/L"});
    for (t, value, expected) in [
        ("2025-01-01T08:00:00Z", MgDl::MIN_MMOL_L, StatusCode::CREATED),
        ("2025-01-01T08:05:00Z", MgDl::MAX_MMOL_L, StatusCode::CREATED),
        (
            "2025-01-01T08:10:00Z",
            MgDl::MIN_MMOL_L - 0.01,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "2025-01-01T08:15:00Z",
            MgDl::MAX_MMOL_L + 0.01,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("2025-01-01T08:20:00Z", 1.1, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let reply = post(&state, user, "/api/v1/glucose/readings", mmol(t, value)).await;
        assert_eq!(reply.status, expected, "{value} mmol/L: {}", reply.body);
    }
    // The schema documents the same bounds.
    let schema = serde_json::to_string(&api_ingestion::openapi()).unwrap();
    assert!(
        schema.contains("1.11–33.3 mmol/L"),
        "the OpenAPI text states the accepted range"
    );
    assert!(!schema.contains("1.1–33.3"));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn repeated_keys_in_a_batch_collapse_or_are_422_naming_both_indices(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let same = reading("2025-01-01T08:00:00Z", 120.0);
    let reply = post(
        &state,
        user,
        "/api/v1/glucose/bulk",
        json!({"readings": [same, reading("2025-01-01T08:05:00Z", 121.0), same]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body, json!({"inserted": 2, "already_present": 0}));

    let batch: Vec<Value> = (0..8)
        .map(|i| reading(&format!("2025-01-02T08:{:02}:00Z", 5 * i), 100.0 + i as f64))
        .chain([reading("2025-01-02T09:15:00+01:00", 180.0)])
        .collect();
    let reply = post(&state, user, "/api/v1/glucose/bulk", json!({ "readings": batch })).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(
        errors(&reply),
        [("readings[8].timestamp".to_owned(), "duplicate_key".to_owned())]
    );
    assert_eq!(reply.body["errors"][0]["index"], 8);
    let reason = reply.body["errors"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("item 3"), "{reason}");

    let reply = post(
        &state,
        user,
        "/api/v1/integrations/apple-health",
        json!({"meals": [meal(), with(meal(), "description", "salad")],
               "activities": [activity(), activity()]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(
        errors(&reply),
        [("meals[1].timestamp".to_owned(), "duplicate_key".to_owned())]
    );
    assert_eq!(stored_rows(&db, user).await, 2 + 1, "two readings and their dirty day");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn leap_seconds_are_422_leap_second(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let reply = post(
        &state,
        user,
        "/api/v1/glucose/bulk",
        json!({"readings": [reading("2016-12-31T23:59:59Z", 100.0), reading("2016-12-31T23:59:60Z", 101.0)]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(
        errors(&reply),
        [("readings[1].timestamp".to_owned(), "leap_second".to_owned())]
    );
    let reply = post(
        &state,
        user,
        "/api/v1/sleep",
        json!({"start_time": "2016-12-31T22:00:00Z", "end_time": "2016-12-31T23:59:60Z"}),
    )
    .await;
    assert_eq!(errors(&reply), [("sleep_end".to_owned(), "leap_second".to_owned())]);
    assert_eq!(stored_rows(&db, user).await, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_huge_value_is_not_echoed_whole(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let huge = "9".repeat(100_000);
    let reply = post(
        &state,
        user,
        "/api/v1/glucose/readings",
        json!({"timestamp": huge, "value": 100, "unit": huge}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(
        errors(&reply),
        [
            ("timestamp".to_owned(), "invalid_timestamp".to_owned()),
            ("unit".to_owned(), "invalid_unit".to_owned())
        ]
    );
    assert!(reply.bytes < 2_000, "{} bytes", reply.bytes);
    assert!(!reply.body.to_string().contains(&"9".repeat(41)));
}
