//! The design's API contract (`original-design.md`): its own request examples are stored as sent, its field names
//! are the primary ones, and every kind has a bulk route with the semantics of `POST /api/v1/glucose/bulk`.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

/// The design's examples: `glucose_bulk` and `sleep` verbatim, the others in its field names (see `_source`).
const EXAMPLES: &str = include_str!("fixtures/design-examples.json");

async fn post_with(state: &AppState, authorization: &str, path: &str, body: &Value) -> Reply {
    let request = testing::json_request("POST", path, Some(authorization), body);
    testing::respond(api_ingestion::router(state.clone()), request).await
}

async fn post(state: &AppState, user: Uuid, path: &str, body: &Value) -> Reply {
    post_with(state, &testing::bearer(state, user), path, body).await
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

async fn stored_rows(db: &sqlx::PgPool, user: Uuid) -> i64 {
    let mut total = 0;
    for table in ["glucose_readings", "sleep_data", "activities", "meals", "dirty_days"] {
        total += row_count(db, table, user).await;
    }
    total
}

/// The `(field, code)` pairs of a 422 problem.
fn field_errors(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
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

fn example(name: &str) -> (String, Value) {
    let examples: Value = serde_json::from_str(EXAMPLES).unwrap();
    let example = &examples[name];
    (example["path"].as_str().unwrap().to_owned(), example["body"].clone())
}

fn instant(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_designs_examples_are_stored_as_sent(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Berlin").await;
    let examples: Value = serde_json::from_str(EXAMPLES).unwrap();
    let names: Vec<&String> = examples
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with('_'))
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    for name in names {
        let (path, body) = example(name);
        let reply = post(&state, user, &path, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        let again = post(&state, user, &path, &body).await;
        assert_eq!(again.status, StatusCode::OK, "{name} re-sent: {}", again.body);
    }

    // CGM Upload Example.
    let readings: Vec<(DateTime<Utc>, f64, String, Option<String>)> = sqlx::query_as(
        r#"SELECT "timestamp", value::float8, source, device_id FROM glucose_readings
         WHERE user_id = $1 AND source = 'dexcom_g7' ORDER BY "timestamp""#,
    )
    .bind(user)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        readings,
        [
            (instant("2025-01-15T08:00:00Z"), 95.0, "dexcom_g7".into(), None),
            (instant("2025-01-15T08:05:00Z"), 98.0, "dexcom_g7".into(), None),
        ]
    );

    // Sleep Data Example: 480 minutes asleep in an 8-hour session leave no awake minutes; 8.5 stays 8.5.
    type SleepRow = (
        DateTime<Utc>,
        DateTime<Utc>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<f64>,
        String,
    );
    let sleep: SleepRow = sqlx::query_as(
        "SELECT sleep_start, sleep_end, deep_sleep_minutes, light_sleep_minutes, rem_sleep_minutes, awake_minutes,
                quality_score::float8, source
         FROM sleep_data WHERE user_id = $1 AND source = 'apple_watch'",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        sleep,
        (
            instant("2025-01-14T23:00:00Z"),
            instant("2025-01-15T07:00:00Z"),
            Some(120),
            None,
            None,
            Some(0),
            Some(8.5),
            "apple_watch".into()
        )
    );
    let quality_text: String =
        sqlx::query_scalar("SELECT quality_score::text FROM sleep_data WHERE user_id = $1 AND source = 'apple_watch'")
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(quality_text, "8.5");

    // The activity: `vigorous` is stored in the stored spelling, `high`.
    type ActivityRow = (
        DateTime<Utc>,
        String,
        i32,
        Option<String>,
        Option<f64>,
        Option<i16>,
        String,
    );
    let activity: ActivityRow = sqlx::query_as(
        r#"SELECT "timestamp", activity_type, duration_minutes, intensity, calories_burned::float8, heart_rate_avg,
                source
         FROM activities WHERE user_id = $1 AND source = 'apple_watch'"#,
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        activity,
        (
            instant("2025-01-15T18:00:00Z"),
            "running".into(),
            45,
            Some("high".into()),
            Some(420.0),
            Some(148),
            "apple_watch".into()
        )
    );

    // The meal, its `photo_url` included.
    type MealRow = (
        DateTime<Utc>,
        Option<String>,
        f64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<String>,
        Option<String>,
    );
    let meal: MealRow = sqlx::query_as(
        r#"SELECT "timestamp", meal_type, carbs_grams::float8, protein_grams::float8, fat_grams::float8,
                calories::float8, glycemic_load::float8, description, photo_url
         FROM meals WHERE user_id = $1 AND source = 'manual'"#,
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        meal,
        (
            instant("2025-01-15T12:30:00Z"),
            Some("lunch".into()),
            65.5,
            Some(30.0),
            Some(20.0),
            Some(560.0),
            Some(22.5),
            Some("pasta with salad".into()),
            Some("https://example.com/meals/lunch.jpg".into())
        )
    );

    // The Apple Health sync's rows.
    let apple: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'glucose', count(*) FROM glucose_readings WHERE user_id = $1 AND source = 'apple_health'
         UNION ALL SELECT 'sleep', count(*) FROM sleep_data WHERE user_id = $1 AND source = 'apple_health'
         UNION ALL SELECT 'activities', count(*) FROM activities WHERE user_id = $1 AND source = 'apple_health'
         UNION ALL SELECT 'meals', count(*) FROM meals WHERE user_id = $1 AND source = 'apple_health'",
    )
    .bind(user)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        apple,
        [
            ("glucose".into(), 2),
            ("sleep".into(), 1),
            ("activities".into(), 1),
            ("meals".into(), 1)
        ]
    );
    let (awake, quality, intensity): (Option<i32>, Option<f64>, Option<String>) = sqlx::query_as(
        "SELECT s.awake_minutes, s.quality_score::float8, a.intensity FROM sleep_data s JOIN activities a USING (user_id)
         WHERE user_id = $1 AND s.source = 'apple_health' AND a.source = 'apple_health'",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (awake, quality, intensity.as_deref()),
        (Some(30), Some(7.5), Some("low"))
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_apple_health_sync_answers_as_the_design_says(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let (path, body) = example("apple_health_sync");
    let first = post(&state, user, &path, &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(
        first.body,
        json!({"status": "success", "records_synced": 5, "glucose": counts(2, 0), "sleep": counts(1, 0),
            "activities": counts(1, 0), "meals": counts(1, 0), "inserted": 5, "already_present": 0})
    );
    // A re-send stores nothing new, and every record of it is synced.
    let again = post(&state, user, &path, &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        (
            &again.body["status"],
            &again.body["records_synced"],
            &again.body["already_present"]
        ),
        (&json!("success"), &json!(5), &json!(5))
    );
    // Errors name the design's lists and fields.
    let mut bad = body.clone();
    bad["glucose_readings"][1]["value"] = json!(700);
    bad["sleep_sessions"][0]["quality_score"] = json!(10.5);
    bad["activities"][0]["calories_burned"] = json!(-1);
    bad["meals"][0]["carbs_grams"] = json!(2500);
    let other = testing::user(&db, "UTC").await;
    assert_eq!(
        field_errors(&post(&state, other, &path, &bad).await),
        pairs(&[
            ("glucose_readings[1].value", "out_of_range"),
            ("sleep_sessions[0].quality_score", "out_of_range"),
            ("activities[0].calories_burned", "out_of_range"),
            ("meals[0].carbs_grams", "out_of_range"),
        ])
    );
    assert_eq!(stored_rows(&db, other).await, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_sleep_date_is_checked_against_the_accounts_zone(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "America/Los_Angeles").await;
    // 23:00 to 07:00 in Los Angeles: both instants fall on the 15th in UTC, the night is the 14th's.
    let night = |date: &str| {
        json!({"date": date, "sleep_start": "2025-01-15T07:00:00Z", "sleep_end": "2025-01-15T15:00:00Z",
               "duration_minutes": 420, "source": "oura"})
    };
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/sleep", &night("2025-01-12")).await),
        pairs(&[("date", "date_mismatch")])
    );
    let reply = post(&state, user, "/api/v1/sleep", &night("2025-01-14")).await;
    assert_eq!((reply.status, reply.body), (StatusCode::CREATED, counts(1, 0)));
    let awake: Option<i32> = sqlx::query_scalar("SELECT awake_minutes FROM sleep_data WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(awake, Some(60), "8 hours in bed, 7 asleep");
    let too_long = json!({"sleep_start": "2025-01-16T07:00:00Z", "sleep_end": "2025-01-16T08:00:00Z",
        "duration_minutes": 90});
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/sleep", &too_long).await),
        pairs(&[("duration_minutes", "duration_exceeds_session")])
    );
}

/// A bulk route, its list's name, three valid items, the table they land in.
fn bulk_cases() -> Vec<(&'static str, &'static str, Vec<Value>, &'static str)> {
    let sleep = |day: u32| {
        json!({"sleep_start": format!("2025-01-{day:02}T23:00:00Z"),
               "sleep_end": format!("2025-01-{:02}T07:00:00Z", day + 1),
               "duration_minutes": 450, "deep_sleep_minutes": 90, "quality_score": 7.5, "source": "oura"})
    };
    let activity = |hour: u32| {
        json!({"timestamp": format!("2025-01-01T{hour:02}:00:00Z"), "activity_type": "walking",
               "duration_minutes": 30, "intensity": "light", "calories_burned": 120, "source": "garmin"})
    };
    let meal = |hour: u32| {
        json!({"timestamp": format!("2025-01-01T{hour:02}:00:00Z"), "meal_type": "snack", "carbs_grams": 20.5,
               "source": "mfp"})
    };
    vec![
        (
            "/api/v1/sleep/bulk",
            "sleep_sessions",
            vec![sleep(1), sleep(2), sleep(3)],
            "sleep_data",
        ),
        (
            "/api/v1/activities/bulk",
            "activities",
            vec![activity(8), activity(12), activity(18)],
            "activities",
        ),
        (
            "/api/v1/meals/bulk",
            "meals",
            vec![meal(8), meal(12), meal(18)],
            "meals",
        ),
    ]
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bulk_routes_store_once_and_a_resend_is_200(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    for (path, list, items, table) in bulk_cases() {
        // The first two, the second repeated identically within the batch: counted once.
        let first = json!({ list: [items[0].clone(), items[1].clone(), items[1].clone()] });
        let reply = post(&state, user, path, &first).await;
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::CREATED, counts(2, 0)),
            "{path}"
        );
        let all = json!({ list: items });
        let reply = post(&state, user, path, &all).await;
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::CREATED, counts(1, 2)),
            "{path}"
        );
        let reply = post(&state, user, path, &all).await;
        assert_eq!((reply.status, reply.body), (StatusCode::OK, counts(0, 3)), "{path}");
        assert_eq!(row_count(&db, table, user).await, 3, "{table}");
        let reply = post(&state, user, path, &json!({ list: [] })).await;
        assert_eq!((reply.status, reply.body), (StatusCode::OK, counts(0, 0)), "{path}");
    }
    // The earlier list name of the sleep route is an alias.
    let (_, _, nights, _) = bulk_cases().swap_remove(0);
    let reply = post(&state, user, "/api/v1/sleep/bulk", &json!({ "sleep": nights })).await;
    assert_eq!((reply.status, reply.body), (StatusCode::OK, counts(0, 3)));
    let quality: Vec<f64> = sqlx::query_scalar("SELECT quality_score::float8 FROM sleep_data WHERE user_id = $1")
        .bind(user)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(quality, [7.5, 7.5, 7.5]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bulk_routes_are_all_or_nothing(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let cases = bulk_cases();
    let mut meals = cases[2].2.clone();
    meals[1]["carbs_grams"] = json!(2500);
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/meals/bulk", &json!({ "meals": meals })).await),
        pairs(&[("meals[1].carbs_grams", "out_of_range")])
    );
    let mut nights = cases[0].2.clone();
    nights[2]["date"] = json!("2024-12-25");
    nights[0]["sleep_end"] = json!("2025-01-01T22:00:00Z");
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/sleep/bulk", &json!({ "sleep_sessions": nights })).await),
        pairs(&[
            ("sleep_sessions[0].sleep_end", "end_before_start"),
            ("sleep_sessions[2].date", "date_mismatch")
        ])
    );
    let mut activities = cases[1].2.clone();
    activities[2]["intensity"] = json!("extreme");
    activities[0]["heart_rate_avg"] = json!(300);
    assert_eq!(
        field_errors(
            &post(
                &state,
                user,
                "/api/v1/activities/bulk",
                &json!({ "activities": activities })
            )
            .await
        ),
        pairs(&[
            ("activities[0].heart_rate_avg", "out_of_range"),
            ("activities[2].intensity", "invalid_choice")
        ])
    );
    // The same natural key with other values names both items.
    let mut conflicting = cases[2].2.clone();
    conflicting[2]["timestamp"] = conflicting[0]["timestamp"].clone();
    conflicting[2]["carbs_grams"] = json!(30);
    let reply = post(&state, user, "/api/v1/meals/bulk", &json!({ "meals": conflicting })).await;
    assert_eq!(field_errors(&reply), pairs(&[("meals[2].timestamp", "duplicate_key")]));
    assert!(reply.body["errors"][0]["reason"].as_str().unwrap().contains("item 0"));
    // At most 50,000 items.
    let meal = cases[2].2[0].clone();
    let too_many = json!({ "meals": vec![meal; 50_001] });
    assert_eq!(
        field_errors(&post(&state, user, "/api/v1/meals/bulk", &too_many).await),
        pairs(&[("meals", "batch_too_large")])
    );
    assert_eq!(stored_rows(&db, user).await, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bulk_rows_belong_to_the_caller_only(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let (alice, bob) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    for (path, list, items, table) in bulk_cases() {
        let items: Vec<Value> = items
            .into_iter()
            .map(|mut item| {
                item["user_id"] = json!(alice);
                item
            })
            .collect();
        let body = json!({ list: items, "user_id": alice });
        assert_eq!(post(&state, alice, path, &body).await.body, counts(3, 0), "{path}");
        // Bob sending the very same records gets his own rows; Alice's are neither found nor touched.
        assert_eq!(post(&state, bob, path, &body).await.body, counts(3, 0), "{path}");
        assert_eq!(row_count(&db, table, alice).await, 3, "{table}");
        assert_eq!(row_count(&db, table, bob).await, 3, "{table}");
    }
    let unauthenticated = post_with(
        &state,
        "Bearer not-a-token",
        "/api/v1/meals/bulk",
        &json!({"meals": []}),
    )
    .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_bulk_request_counts_once_against_the_rate_limit(db: sqlx::PgPool) {
    let mut state = testing::state(db.clone()).await;
    state.rate_limit_per_minute = 2;
    let user = testing::user(&db, "UTC").await;
    let meals: Vec<Value> = (0..200)
        .map(|i| json!({"timestamp": format!("2025-01-01T{:02}:{:02}:00Z", i / 60, i % 60), "carbs_grams": 10}))
        .collect();
    let body = json!({ "meals": meals });
    testing::rate_window_with_room(&db).await;
    assert_eq!(
        post(&state, user, "/api/v1/meals/bulk", &body).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&state, user, "/api/v1/meals/bulk", &body).await.status,
        StatusCode::OK
    );
    let limited = post(&state, user, "/api/v1/meals/bulk", &body).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.body);
    assert_eq!(row_count(&db, "meals", user).await, 200);
}
