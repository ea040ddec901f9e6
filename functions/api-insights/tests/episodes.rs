//! `GET /api/v1/insights/episodes` against a real database: constructed readings give the expected episodes in
//! mg/dL and in mmol/L, nesting and extended hypoglycaemia are shown as documented, a range cuts an episode, another
//! user's readings never appear, bad input is a problem document, and a read is audited. Constructed meals,
//! activities and sleep (some before the range) give each episode its context and the period its explanations;
//! another user's records never explain this user's episodes.

use axum::http::{header, StatusCode};
use chrono::{DateTime, Duration, Utc};
use glucolens_domain::records::{ActivityRecord, Intensity, MealRecord, MealType, SleepRecord};
use glucolens_testing as testing;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const URI: &str = "/api/v1/insights/episodes";

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

/// Inserts readings every 5 minutes from `from`, given as runs of (mg/dL, count).
async fn readings(db: &PgPool, user_id: Uuid, from: &str, runs: &[(f64, usize)]) {
    let from = at(from);
    let values: Vec<f64> = runs
        .iter()
        .flat_map(|&(value, count)| std::iter::repeat_n(value, count))
        .collect();
    let times: Vec<DateTime<Utc>> = (0..values.len())
        .map(|k| from + Duration::minutes(5 * k as i64))
        .collect();
    sqlx::query(
        r#"INSERT INTO glucose_readings (user_id, "timestamp", source, value)
           SELECT $1, t, 'dexcom', v FROM UNNEST($2::timestamptz[], $3::float8[]) AS r(t, v)"#,
    )
    .bind(user_id)
    .bind(times)
    .bind(values)
    .execute(db)
    .await
    .unwrap();
}

/// 1 March: a level-1 hypo with a level-2 hypo inside, then a level-1 hyper; 2 March: an extended hypo (125
/// minutes below 70) and a 10-minute low that is no episode.
async fn planted(db: &PgPool, user_id: Uuid) {
    readings(
        db,
        user_id,
        "2025-03-01T09:30:00Z",
        &[
            (100.0, 6),
            (65.0, 3),
            (50.4, 3),
            (65.0, 3),
            (100.0, 6),
            (190.0, 4),
            (150.0, 6),
        ],
    )
    .await;
    readings(
        db,
        user_id,
        "2025-03-02T00:00:00Z",
        &[(100.0, 3), (60.0, 25), (100.0, 6), (65.0, 2), (100.0, 6)],
    )
    .await;
}

async fn get(state: &glucolens_web::AppState, uri: &str, user: Option<Uuid>) -> testing::Reply {
    let mut request = http::Request::builder().method("GET").uri(uri);
    if let Some(user) = user {
        request = request.header(header::AUTHORIZATION, testing::bearer(state, user));
    }
    let request = request.body(lambda_http::Body::Empty).unwrap();
    testing::respond(api_insights::router(state.clone()), request).await
}

fn range(start: &str, end: &str) -> String {
    format!("{URI}?start={start}&end={end}")
}

/// The planted episodes with nadir and peak in the given unit; no meals, exercise or sleep are recorded.
fn expected(hypo_nadir: f64, hyper_peak: f64, extended_nadir: f64) -> Value {
    let none = json!({"last_meal": null, "exercise": [], "during_sleep": null});
    json!([
        {"type": "hypo", "level": 1, "start": "2025-03-01T10:00:00Z", "end": "2025-03-01T10:45:00Z",
         "duration_minutes": 45, "nadir": hypo_nadir, "extended": false, "contains_level_2": true, "context": none},
        {"type": "hypo", "level": 2, "start": "2025-03-01T10:15:00Z", "end": "2025-03-01T10:30:00Z",
         "duration_minutes": 15, "nadir": hypo_nadir, "extended": false, "contains_level_2": false, "context": none},
        {"type": "hyper", "level": 1, "start": "2025-03-01T11:15:00Z", "end": "2025-03-01T11:35:00Z",
         "duration_minutes": 20, "peak": hyper_peak, "extended": false, "contains_level_2": false, "context": none},
        {"type": "hypo", "level": 1, "start": "2025-03-02T00:15:00Z", "end": "2025-03-02T02:20:00Z",
         "duration_minutes": 125, "nadir": extended_nadir, "extended": true, "contains_level_2": false,
         "context": none},
    ])
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn episodes_are_listed_in_mg_dl_and_audited(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Berlin").await;
    planted(&db, user).await;

    let reply = get(
        &state,
        &range("2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z"),
        Some(user),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.body;
    assert_eq!(body["start"], "2025-03-01T00:00:00Z");
    assert_eq!(body["end"], "2025-03-03T00:00:00Z");
    assert_eq!(body["unit"], "mg/dL");
    assert_eq!(body["episodes"], expected(50.4, 190.0, 60.0));
    assert_eq!(
        body["summary"],
        json!({"hypo_level_1": 2, "hypo_level_2": 1, "hypo_extended": 1, "hyper_level_1": 1, "hyper_level_2": 0})
    );
    assert_eq!(testing::audited_reads(&db, user, "glucose_episodes").await, 1);

    // An offset in the range is honoured; an episode under way at the range's start is cut there.
    let cut = get(
        &state,
        &range("2025-03-01T11:20:00%2B01:00", "2025-03-01T12:00:00Z"),
        Some(user),
    )
    .await;
    assert_eq!(cut.status, StatusCode::OK, "{}", cut.body);
    let episodes = cut.body["episodes"].as_array().unwrap().clone();
    assert_eq!(episodes.len(), 2, "{episodes:?}");
    assert_eq!(
        (&episodes[0]["start"], &episodes[0]["end"], &episodes[0]["level"]),
        (
            &json!("2025-03-01T10:20:00Z"),
            &json!("2025-03-01T10:45:00Z"),
            &json!(1)
        )
    );
    assert_eq!(episodes[1]["type"], "hyper");

    // A range without readings has no episodes.
    let empty = get(
        &state,
        &range("2025-04-01T00:00:00Z", "2025-04-02T00:00:00Z"),
        Some(user),
    )
    .await;
    assert_eq!(empty.body["episodes"], json!([]));
    assert_eq!(empty.body["summary"]["hypo_level_1"], 0);
    assert_eq!(testing::audited_reads(&db, user, "glucose_episodes").await, 3);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_mmol_user_sees_mmol(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    testing::use_mmol_l(&db, user).await;
    planted(&db, user).await;

    let reply = get(
        &state,
        &range("2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z"),
        Some(user),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["unit"], "mmol/L");
    // 50.4 / 18.0156 = 2.798, 190 / 18.0156 = 10.546, 60 / 18.0156 = 3.330.
    assert_eq!(reply.body["episodes"], expected(2.8, 10.55, 3.33));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn another_users_readings_never_appear(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let (owner, other) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    planted(&db, owner).await;
    // The other user: a level-2 hyper and a low on 1 March, after the owner's readings end.
    readings(
        &db,
        other,
        "2025-03-01T12:00:00Z",
        &[(150.0, 3), (300.0, 6), (150.0, 3), (55.0, 6), (150.0, 3)],
    )
    .await;

    let uri = range("2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z");
    let mine = get(&state, &uri, Some(owner)).await;
    assert_eq!(mine.body["episodes"], expected(50.4, 190.0, 60.0));
    let theirs = get(&state, &uri, Some(other)).await;
    let kinds: Vec<(Value, Value, Value)> = theirs.body["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].clone(), e["level"].clone(), e["start"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!("hyper"), json!(1), json!("2025-03-01T12:15:00Z")),
            (json!("hyper"), json!(2), json!("2025-03-01T12:15:00Z")),
            (json!("hypo"), json!(1), json!("2025-03-01T13:00:00Z")),
        ]
    );
    assert_eq!(
        (
            testing::audited_reads(&db, owner, "glucose_episodes").await,
            testing::audited_reads(&db, other, "glucose_episodes").await
        ),
        (1, 1)
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bad_input_is_a_problem_and_not_audited(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    planted(&db, user).await;

    let cases: [(String, &[&str]); 5] = [
        (URI.to_string(), &["required", "required"]),
        (
            range("2025-03-02", "yesterday"),
            &["invalid_timestamp", "invalid_timestamp"],
        ),
        (
            range("2025-03-02T00:00:00", "2025-03-03T00:00:00Z"),
            &["invalid_timestamp"],
        ),
        (
            range("2025-03-02T00:00:00Z", "2025-03-02T00:00:00Z"),
            &["invalid_range"],
        ),
        (
            range("2025-01-01T00:00:00Z", "2025-04-03T00:00:01Z"),
            &["range_too_long"],
        ),
    ];
    for (uri, codes) in cases {
        let reply = get(&state, &uri, Some(user)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {}", reply.body);
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(reply.body["code"], "validation_failed");
        let found: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert_eq!(found, codes, "{uri}");
    }
    // Exactly 92 days is accepted.
    let longest = get(
        &state,
        &range("2025-01-01T00:00:00Z", "2025-04-03T00:00:00Z"),
        Some(user),
    )
    .await;
    assert_eq!(longest.status, StatusCode::OK, "{}", longest.body);

    // A query string that cannot be read is a 400.
    let garbled = get(&state, &format!("{URI}?start=a&start=b&end=c"), Some(user)).await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST, "{}", garbled.body);
    assert_eq!(garbled.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(garbled.body["code"], "invalid_query");

    let anonymous = get(&state, &range("2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers[header::CONTENT_TYPE], "application/problem+json");

    assert_eq!(
        testing::audited_reads(&db, user, "glucose_episodes").await,
        1,
        "only the accepted request was audited"
    );
}

#[test]
fn the_openapi_document_explains_nesting_and_requires_the_range() {
    let document = serde_json::to_value(api_insights::openapi()).unwrap();
    let operation = &document["paths"][URI]["get"];
    let description = operation["description"].as_str().unwrap();
    assert!(description.contains("`contains_level_2: true`"), "{description}");
    assert!(
        description.contains("more than 120 consecutive minutes"),
        "{description}"
    );
    let parameters = operation["parameters"].as_array().unwrap();
    for name in ["start", "end"] {
        assert!(
            parameters.iter().any(|p| p["name"] == name && p["required"] == true),
            "{name}: {parameters:?}"
        );
    }
    let episode = &document["components"]["schemas"]["GlucoseEpisode"]["properties"];
    assert!(episode["type"].is_object() && episode["nadir"].is_object() && episode["peak"].is_object());
}

fn activity(start: &str, activity_type: &str, duration_minutes: i32, intensity: Intensity) -> ActivityRecord {
    ActivityRecord {
        start_time: at(start),
        activity_type: activity_type.into(),
        source: "garmin".into(),
        duration_minutes,
        intensity: Some(intensity),
        calories: None,
        steps: None,
        avg_heart_rate: None,
    }
}

fn meal(eaten_at: &str, meal_type: MealType, carbs_g: f64, description: &str) -> MealRecord {
    MealRecord {
        eaten_at: at(eaten_at),
        source: "app".into(),
        meal_type: Some(meal_type),
        carbs_g,
        protein_g: None,
        fat_g: None,
        fiber_g: None,
        calories: None,
        glycemic_load: None,
        description: Some(description.into()),
        photo_url: None,
    }
}

fn sleep(start: &str, end: &str) -> SleepRecord {
    SleepRecord {
        start_time: at(start),
        end_time: at(end),
        source: "oura".into(),
        deep_minutes: None,
        light_minutes: None,
        rem_minutes: None,
        awake_minutes: None,
        quality: None,
    }
}

async fn record(
    db: &PgPool,
    user_id: Uuid,
    meals: &[MealRecord],
    activities: &[ActivityRecord],
    nights: &[SleepRecord],
) {
    glucolens_store::meals::insert_batch(db, user_id, meals).await.unwrap();
    glucolens_store::activities::insert_batch(db, user_id, activities)
        .await
        .unwrap();
    glucolens_store::sleep::insert_batch(db, user_id, nights).await.unwrap();
}

/// 10 March 2025 for a user in Berlin (UTC+1), times in UTC: asleep 22:00 (9 March)–06:00 and from 22:30 on; a
/// ride at 20:00 and a yoghurt at 21:00 on 9 March, before the range; a run 10:00–10:45 and pasta at 12:00. Lows at
/// 02:00 (asleep, 5.5 h after the ride), 14:30 (3.75 h after the run, 2.5 h after the pasta) and 20:00 (nothing in
/// the 6 hours before, awake); a high at 13:00 (an hour after the pasta).
async fn day_with_context(db: &PgPool, user_id: Uuid) {
    readings(
        db,
        user_id,
        "2025-03-10T01:00:00Z",
        &[
            (100.0, 12),
            (60.0, 6),
            (100.0, 126),
            (200.0, 6),
            (100.0, 12),
            (60.0, 6),
            (100.0, 60),
            (60.0, 6),
            (100.0, 6),
        ],
    )
    .await;
    record(
        db,
        user_id,
        &[
            meal("2025-03-09T21:00:00Z", MealType::Snack, 20.0, "yoghurt"),
            meal("2025-03-10T12:00:00Z", MealType::Lunch, 90.0, "pasta"),
        ],
        &[
            activity("2025-03-09T20:00:00Z", "cycling", 30, Intensity::Moderate),
            activity("2025-03-10T10:00:00Z", "running", 45, Intensity::High),
        ],
        &[
            sleep("2025-03-09T22:00:00Z", "2025-03-10T06:00:00Z"),
            sleep("2025-03-10T22:30:00Z", "2025-03-11T06:00:00Z"),
        ],
    )
    .await;
}

fn context_expected() -> Value {
    let yoghurt = json!({"timestamp": "2025-03-09T21:00:00Z", "minutes_since": 300, "carbs_grams": 20.0,
                         "meal_type": "snack", "description": "yoghurt"});
    let pasta = |minutes_since: i64| {
        json!({"timestamp": "2025-03-10T12:00:00Z", "minutes_since": minutes_since, "carbs_grams": 90.0,
               "meal_type": "lunch", "description": "pasta"})
    };
    let ride = json!({"timestamp": "2025-03-09T20:00:00Z", "activity_type": "cycling", "duration_minutes": 30,
                      "intensity": "moderate", "minutes_since_end": 330});
    let run = |minutes_since_end: i64| {
        json!({"timestamp": "2025-03-10T10:00:00Z", "activity_type": "running", "duration_minutes": 45,
               "intensity": "high", "minutes_since_end": minutes_since_end})
    };
    json!([
        ["hypo", "2025-03-10T02:00:00Z", {"last_meal": yoghurt, "exercise": [ride], "during_sleep": true}],
        ["hyper", "2025-03-10T13:00:00Z", {"last_meal": pasta(60), "exercise": [run(135)], "during_sleep": false}],
        ["hypo", "2025-03-10T14:30:00Z", {"last_meal": pasta(150), "exercise": [run(225)], "during_sleep": false}],
        ["hypo", "2025-03-10T20:00:00Z", {"last_meal": null, "exercise": [], "during_sleep": false}],
    ])
}

fn explanations_expected() -> Value {
    json!([
        {"type": "hypo", "factor": "exercise", "window_minutes": 360, "count": 2, "total": 3,
         "text": "2 of 3 lows began within 6 h after exercise"},
        {"type": "hypo", "factor": "meal", "window_minutes": 240, "count": 1, "total": 3,
         "text": "1 of 3 lows began within 4 h after a meal"},
        {"type": "hypo", "factor": "sleep", "window_minutes": null, "count": 1, "total": 3, "unknown": 0,
         "text": "1 of 3 lows began during sleep"},
        {"type": "hyper", "factor": "meal", "window_minutes": 180, "count": 1, "total": 1,
         "text": "1 of 1 high began within 3 h after a meal"},
        {"type": "hyper", "factor": "sleep", "window_minutes": null, "count": 0, "total": 1, "unknown": 0,
         "text": "0 of 1 high began during sleep"},
    ])
}

/// Each episode as `[type, start, context]`.
fn contexts(body: &Value) -> Value {
    body["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["type"], e["start"], e["context"]]))
        .collect()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn episodes_carry_what_preceded_them_and_the_period_is_explained(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Berlin").await;
    day_with_context(&db, user).await;

    let reply = get(
        &state,
        &range("2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z"),
        Some(user),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(contexts(&reply.body), context_expected());
    assert_eq!(reply.body["explanations"], explanations_expected());
    assert_eq!(reply.body["summary"]["hypo_level_1"], 3);
    assert_eq!(testing::audited_reads(&db, user, "glucose_episodes").await, 1);

    // Without sleep recorded for the night of 10 March, the day's episodes after it are unknown, not "awake".
    sqlx::query("DELETE FROM sleep_data WHERE user_id = $1 AND sleep_start > '2025-03-10T12:00:00Z'")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    let reply = get(
        &state,
        &range("2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z"),
        Some(user),
    )
    .await;
    let during: Vec<Value> = reply.body["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["context"]["during_sleep"].clone())
        .collect();
    assert_eq!(during, [json!(true), Value::Null, Value::Null, Value::Null]);
    assert_eq!(
        reply.body["explanations"][2]["text"],
        "1 of 3 lows began during sleep (2 on nights with no sleep recorded)"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn another_users_records_never_explain_an_episode(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let (owner, other) = (
        testing::user(&db, "Europe/Berlin").await,
        testing::user(&db, "Europe/Berlin").await,
    );
    day_with_context(&db, owner).await;
    // The other user ran and ate just before the owner's 20:00 low and was asleep when it began.
    record(
        &db,
        other,
        &[meal("2025-03-10T19:00:00Z", MealType::Dinner, 70.0, "rice")],
        &[activity("2025-03-10T18:00:00Z", "running", 60, Intensity::High)],
        &[sleep("2025-03-10T19:30:00Z", "2025-03-11T05:00:00Z")],
    )
    .await;

    let uri = range("2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z");
    let mine = get(&state, &uri, Some(owner)).await;
    assert_eq!(contexts(&mine.body), context_expected());
    assert_eq!(mine.body["explanations"], explanations_expected());
    // The other user has no readings, so no episodes and nothing to explain.
    let theirs = get(&state, &uri, Some(other)).await;
    assert_eq!(theirs.body["episodes"], json!([]));
    assert_eq!(theirs.body["explanations"], json!([]));
}

#[test]
fn the_openapi_document_describes_the_context_and_explanations() {
    let document = serde_json::to_value(api_insights::openapi()).unwrap();
    let description = document["paths"][URI]["get"]["description"].as_str().unwrap();
    for phrase in ["`last_meal`", "`during_sleep`", "**`explanations`**", "not a cause"] {
        assert!(description.contains(phrase), "{phrase}: {description}");
    }
    let schemas = &document["components"]["schemas"];
    for name in [
        "ExplainedEpisode",
        "EpisodeContext",
        "PrecedingMeal",
        "PrecedingExercise",
        "EpisodeExplanation",
        "MealType",
        "Intensity",
    ] {
        assert!(schemas[name].is_object(), "{name}");
    }
}
