//! Test support for every crate's tests: application state wired to the per-test database (`#[sqlx::test]`) and
//! to the AWS emulator named by `AWS_ENDPOINT_URL` (moto, started by the README test command), with a queue of
//! its own per test so tests never see each other's messages; and sending requests through a function's router.

use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

use glucolens_aws::config::Config;
use glucolens_web::AppState;

/// State for one test: its own analysis queue (and DLQ) in the emulator, the emulator's signing key.
pub async fn state(db: sqlx::PgPool) -> AppState {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("tests need AWS_ENDPOINT_URL pointing at moto: run them through the README test command");
    let queue_name = format!("test-{}", Uuid::new_v4().simple());
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://unused-the-pool-is-given".into()),
        "AWS_ENDPOINT_URL" => Some(endpoint.clone()),
        "ANALYSIS_QUEUE_URL" => Some(queue_name.clone()),
        "SIGNING_KEY_SECRET_ID" => Some("glucolens/test-signing-key".into()),
        _ => std::env::var(name).ok(),
    })
    .expect("test configuration is complete");
    let aws = aws_config::from_env().endpoint_url(&endpoint).load().await;
    AppState::with_pool(db, &config, &aws)
        .await
        .expect("test state builds against moto")
}

/// Inserts a user directly (no password hashing, for speed) in `time_zone`, and returns its id.
pub async fn user(db: &sqlx::PgPool, time_zone: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, password_hash, timezone) VALUES ($1, $2, 'not-a-hash', $3)")
        .bind(id)
        .bind(format!("{}@test.invalid", id.simple()))
        .bind(time_zone)
        .execute(db)
        .await
        .expect("insert test user");
    id
}

/// Makes mmol/L the user's display unit.
pub async fn use_mmol_l(db: &sqlx::PgPool, user_id: Uuid) {
    sqlx::query("UPDATE users SET display_unit = 'mmol/L' WHERE id = $1")
        .bind(user_id)
        .execute(db)
        .await
        .expect("set the display unit");
}

/// How many reads of `resource` the user's audit log holds.
pub async fn audited_reads(db: &sqlx::PgPool, user_id: Uuid, resource: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE user_id = $1 AND action = 'read' AND resource = $2")
        .bind(user_id)
        .bind(resource)
        .fetch_one(db)
        .await
        .expect("count audited reads")
}

/// `Authorization` header value for `user_id`.
pub fn bearer(state: &AppState, user_id: Uuid) -> String {
    format!("Bearer {}", state.tokens.issue(user_id).access_token)
}

/// Inserts `count` CGM readings from `source`, every 5 minutes from `from`, with values cycling smoothly between
/// 60 and 200 mg/dL (plus `offset_mg_dl`), and marks their local days dirty as ingestion would.
pub async fn cgm_trace(
    db: &sqlx::PgPool,
    user_id: Uuid,
    source: &str,
    from: chrono::DateTime<chrono::Utc>,
    count: i64,
    offset_mg_dl: f64,
) {
    sqlx::query(
        r#"WITH trace AS (
             SELECT $3::timestamptz + i * interval '5 minutes' AS "timestamp",
                    round((130 + 70 * sin(i / 12.0) + $5)::numeric, 1) AS value
             FROM generate_series(0, $4 - 1) AS i
         ), inserted AS (
             INSERT INTO glucose_readings (user_id, "timestamp", source, value)
             SELECT $1, "timestamp", $2, value FROM trace ON CONFLICT DO NOTHING
         )
         INSERT INTO dirty_days (user_id, local_date)
         SELECT DISTINCT $1, ("timestamp" AT TIME ZONE (SELECT timezone FROM users WHERE id = $1))::date FROM trace
         ON CONFLICT (user_id, local_date) DO UPDATE SET marked_at = now()"#,
    )
    .bind(user_id)
    .bind(source)
    .bind(from)
    .bind(count)
    .bind(offset_mg_dl)
    .execute(db)
    .await
    .expect("insert test readings");
}

/// What a function answered, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Length of the body in bytes.
    pub bytes: usize,
    /// The body as JSON; `Null` when it is empty or not JSON.
    pub body: Value,
}

/// Sends `request` through `router`, as API Gateway hands it to the function, and reads the whole answer.
pub async fn respond(router: axum::Router, request: lambda_http::Request) -> Reply {
    let response = router.oneshot(request).await.expect("the router answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.expect("the body reads").to_bytes();
    Reply {
        status,
        headers,
        bytes: bytes.len(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// A request with a JSON `body` and, when given, an `Authorization` header value (e.g. from [`bearer`]).
pub fn json_request(method: &str, path: &str, authorization: Option<&str>, body: &Value) -> lambda_http::Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        builder = builder.header(http::header::AUTHORIZATION, value);
    }
    builder
        .body(lambda_http::Body::from(body.to_string()))
        .expect("a valid request")
}

/// Waits, when the database clock's current one-minute rate-limit window (`glucolens_store::rate_limit`) has less
/// than 45 seconds left, until the next one begins. A test that spends a whole per-minute budget and then expects
/// the next request refused calls this first: otherwise a window boundary falling between its requests resets the
/// count, and the test would fail on a correct tree.
pub async fn rate_window_with_room(db: &sqlx::PgPool) {
    let seconds_left = glucolens_store::rate_limit::seconds_left_in_window(db)
        .await
        .expect("read the database clock");
    if seconds_left < 45.0 {
        tokio::time::sleep(std::time::Duration::from_secs_f64(seconds_left + 0.2)).await;
    }
}
