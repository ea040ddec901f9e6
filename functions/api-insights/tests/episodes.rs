//! `GET /api/v1/insights/episodes` against a real database: constructed readings give the expected episodes in
//! mg/dL and in mmol/L, nesting and extended hypoglycaemia are shown as documented, a range cuts an episode, another
//! user's readings never appear, bad input is a problem document, and a read is audited.

use axum::http::{header, StatusCode};
use chrono::{DateTime, Duration, Utc};
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

/// The planted episodes with nadir and peak in the given unit.
fn expected(hypo_nadir: f64, hyper_peak: f64, extended_nadir: f64) -> Value {
    json!([
        {"type": "hypo", "level": 1, "start": "2025-03-01T10:00:00Z", "end": "2025-03-01T10:45:00Z",
         "duration_minutes": 45, "nadir": hypo_nadir, "extended": false, "contains_level_2": true},
        {"type": "hypo", "level": 2, "start": "2025-03-01T10:15:00Z", "end": "2025-03-01T10:30:00Z",
         "duration_minutes": 15, "nadir": hypo_nadir, "extended": false, "contains_level_2": false},
        {"type": "hyper", "level": 1, "start": "2025-03-01T11:15:00Z", "end": "2025-03-01T11:35:00Z",
         "duration_minutes": 20, "peak": hyper_peak, "extended": false, "contains_level_2": false},
        {"type": "hypo", "level": 1, "start": "2025-03-02T00:15:00Z", "end": "2025-03-02T02:20:00Z",
         "duration_minutes": 125, "nadir": extended_nadir, "extended": true, "contains_level_2": false},
    ])
}

async fn audited_reads(db: &PgPool, user_id: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE user_id = $1 AND action = 'read' AND resource = 'glucose_episodes'",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
    .unwrap()
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
    assert_eq!(audited_reads(&db, user).await, 1);

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
    assert_eq!(audited_reads(&db, user).await, 3);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_mmol_user_sees_mmol(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    sqlx::query("UPDATE users SET display_unit = 'mmol/L' WHERE id = $1")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
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
        (audited_reads(&db, owner).await, audited_reads(&db, other).await),
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
        audited_reads(&db, user).await,
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
