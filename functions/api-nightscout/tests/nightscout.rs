//! The Nightscout-compatible API, replayed from recorded uploader requests (events/api-nightscout-*.json: xDrip+
//! entries, AndroidAPS treatments, a Loop status check) and the real iAPS treatments sample.

use axum::http::StatusCode;
use glucolens_testing as testing;
use glucolens_web::AppState;
use serde_json::Value;
use sha1::Digest;
use sqlx::PgPool;
use uuid::Uuid;

/// The secret the recorded events' `api-secret` header (its SHA-1 hex) was made from.
const REPLAY_SECRET: &str = "glucolens-replay-secret";

async fn call(state: &AppState, request: lambda_http::Request) -> (StatusCode, Value) {
    let reply = testing::respond(api_nightscout::router(state.clone()), request).await;
    (reply.status, reply.body)
}

fn event(json: &str) -> lambda_http::Request {
    lambda_http::request::from_str(json).unwrap()
}

/// The recorded event with its `api-secret` header replaced.
fn with_secret(json: &str, api_secret: &str) -> lambda_http::Request {
    let mut request = event(json);
    request.headers_mut().insert("api-secret", api_secret.parse().unwrap());
    request
}

fn sha1_hex(secret: &str) -> String {
    hex::encode(sha1::Sha1::digest(secret.as_bytes()))
}

/// A user holding the replay secret, stored as the API stores secrets.
async fn replay_user(db: &PgPool) -> Uuid {
    let user = testing::user(db, "Europe/Berlin").await;
    let hash = sha2::Sha256::digest(sha1_hex(REPLAY_SECRET).as_bytes());
    glucolens_store::nightscout::replace_secret(db, user, &hash)
        .await
        .unwrap();
    user
}

async fn count(db: &PgPool, table: &str, user: Uuid) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

const ENTRIES_XDRIP: &str = include_str!("../../../events/api-nightscout-entries-xdrip.json");
const TREATMENTS_AAPS: &str = include_str!("../../../events/api-nightscout-treatments-aaps.json");
const STATUS: &str = include_str!("../../../events/api-nightscout-status.json");
const ENTRIES_GET: &str = include_str!("../../../events/api-nightscout-entries-get.json");

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn xdrip_entries_land_as_readings_once(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = replay_user(&db).await;
    let (status, body) = call(&state, event(ENTRIES_XDRIP)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body.as_array().unwrap().len(),
        3,
        "the sgv entries are accepted, mbg and cal are not"
    );
    let rows: Vec<(f64, Option<String>, String, String)> = sqlx::query_as(
        r#"SELECT value::float8, trend, source, to_char("timestamp" AT TIME ZONE 'UTC', 'HH24:MI:SS')
         FROM glucose_readings WHERE user_id = $1 ORDER BY "timestamp""#,
    )
    .bind(user)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (167.0, Some("Flat".into()), "nightscout".into(), "20:25:28".into()),
            (
                171.0,
                Some("FortyFiveUp".into()),
                "nightscout".into(),
                "20:30:28".into()
            ),
            (178.0, Some("SingleUp".into()), "nightscout".into(), "20:35:28".into()),
        ]
    );
    assert!(count(&db, "dirty_days", user).await > 0);
    // Uploaders re-send; the same time and type is stored once.
    let (status, _) = call(&state, event(ENTRIES_XDRIP)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&db, "glucose_readings", user).await, 3);

    let (status, latest) = call(&state, event(ENTRIES_GET)).await;
    assert_eq!(status, StatusCode::OK);
    let latest = latest.as_array().unwrap();
    assert_eq!(latest.len(), 2, "count=2");
    assert_eq!(
        (latest[0]["sgv"].as_i64(), latest[0]["type"].as_str()),
        (Some(178), Some("sgv"))
    );
    assert_eq!(latest[0]["date"], 1775421328000_i64);
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT resource FROM audit_log WHERE user_id = $1 AND action = 'read'")
            .bind(user)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        audited,
        ["nightscout_entries"],
        "the uploader's read is in the owner's log"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn androidaps_treatments_become_meals_and_activities(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = replay_user(&db).await;
    let (status, body) = call(&state, event(TREATMENTS_AAPS)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let meals: Vec<(f64, String)> =
        sqlx::query_as(r#"SELECT carbs_grams::float8, source FROM meals WHERE user_id = $1 ORDER BY "timestamp""#)
            .bind(user)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(meals, [(45.0, "nightscout".into()), (15.0, "nightscout".into())]);
    let activities: Vec<(String, i32)> =
        sqlx::query_as("SELECT activity_type, duration_minutes FROM activities WHERE user_id = $1")
            .bind(user)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(activities, [("exercise".into(), 45)]);
    call(&state, event(TREATMENTS_AAPS)).await;
    assert_eq!(count(&db, "meals", user).await, 2);
    assert_eq!(count(&db, "activities", user).await, 1);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn iaps_treatments_sample_stores_its_carb_corrections(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = replay_user(&db).await;
    let sample = include_str!("../../../shared/importers/tests/data/treatments_iaps_excerpt_cgm_format.json");
    let expected = serde_json::from_str::<Vec<Value>>(sample)
        .unwrap()
        .iter()
        .filter(|t| t["carbs"].as_f64().is_some_and(|c| c > 0.0))
        .count() as i64;
    assert_eq!(expected, 6);
    let mut request = event(TREATMENTS_AAPS);
    *request.body_mut() = lambda_http::Body::from(sample.to_owned());
    let (status, _) = call(&state, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&db, "meals", user).await, expected);
    // The back-dated carb correction is stored at its event time (created_at), not its entry time.
    let at: i64 = sqlx::query_scalar(
        r#"SELECT count(*) FROM meals WHERE user_id = $1 AND "timestamp" = '2026-04-05T16:56:00Z' AND carbs_grams = 25"#,
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(at, 1);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn wrong_or_missing_api_secret_is_401_and_writes_nothing(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = replay_user(&db).await;
    for request in [
        with_secret(ENTRIES_XDRIP, &sha1_hex("not-the-secret")),
        with_secret(TREATMENTS_AAPS, "0000000000000000000000000000000000000000"),
        with_secret(STATUS, &sha1_hex("not-the-secret")),
    ] {
        let (status, body) = call(&state, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "invalid_api_secret");
    }
    let mut missing = event(ENTRIES_XDRIP);
    missing.headers_mut().remove("api-secret");
    assert_eq!(call(&state, missing).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&db, "glucose_readings", user).await, 0);
    assert_eq!(count(&db, "meals", user).await, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn status_answers_uploaders_and_accepts_the_plain_secret_too(db: PgPool) {
    let state = testing::state(db.clone()).await;
    replay_user(&db).await;
    let (status, body) = call(&state, event(STATUS)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["apiEnabled"], true);
    assert!(body["serverTimeEpoch"].as_i64().unwrap() > 0);
    let (status, _) = call(&state, with_secret(STATUS, REPLAY_SECRET)).await;
    assert_eq!(status, StatusCode::OK, "a plain secret is hashed first");
    let mut anonymous = event(STATUS);
    anonymous.headers_mut().remove("api-secret");
    assert_eq!(call(&state, anonymous).await.0, StatusCode::OK);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_user_creates_uses_replaces_and_revokes_an_upload_secret(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let secret_request = |method: &str| {
        http::Request::builder()
            .method(method)
            .uri("/api/v1/integrations/nightscout/secret")
            .header("authorization", testing::bearer(&state, user))
            .body(lambda_http::Body::Empty)
            .unwrap()
    };
    let (status, created) = call(&state, secret_request("POST")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 12);
    assert_eq!(created["api_secret_sha1"], sha1_hex(&secret));
    let stored: Vec<u8> = sqlx::query_scalar("SELECT api_secret_hash FROM nightscout_secrets WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_ne!(stored, secret.as_bytes(), "only a hash is stored");

    let (status, _) = call(&state, with_secret(ENTRIES_XDRIP, &sha1_hex(&secret))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&db, "glucose_readings", user).await, 3);

    let (_, replaced) = call(&state, secret_request("POST")).await;
    assert_eq!(
        call(&state, with_secret(STATUS, &sha1_hex(&secret))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let new_secret = replaced["secret"].as_str().unwrap();
    assert_eq!(
        call(&state, with_secret(STATUS, &sha1_hex(new_secret))).await.0,
        StatusCode::OK
    );

    assert_eq!(call(&state, secret_request("DELETE")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&state, with_secret(STATUS, &sha1_hex(new_secret))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(call(&state, secret_request("DELETE")).await.0, StatusCode::NOT_FOUND);

    let unauthenticated = http::Request::builder()
        .method("POST")
        .uri("/api/v1/integrations/nightscout/secret")
        .body(lambda_http::Body::Empty)
        .unwrap();
    assert_eq!(call(&state, unauthenticated).await.0, StatusCode::UNAUTHORIZED);
}
