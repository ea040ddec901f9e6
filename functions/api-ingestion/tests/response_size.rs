//! A hostile batch cannot amplify itself: 20,000 invalid items (each with a long, unparseable timestamp) answer a
//! compact 422 — the first 100 errors, the total count, quoted values cut short — and nothing is written.

use axum::http::{header, StatusCode};
use glucolens_testing as testing;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn twenty_thousand_invalid_items_answer_in_under_256_kb(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let long_timestamp = "9".repeat(200);
    let readings: Vec<Value> = (0..20_000)
        .map(|_| json!({ "timestamp": long_timestamp, "value": 5000 }))
        .collect();
    let body = json!({ "readings": readings }).to_string();
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/v1/glucose/bulk")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, testing::bearer(&state, user))
        .body(lambda_http::Body::from(body))
        .unwrap();
    let response = api_ingestion::router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(bytes.len() < 256 * 1024, "a {} byte answer", bytes.len());
    let problem: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(problem["errors"].as_array().unwrap().len(), 100);
    assert_eq!(problem["error_count"], 40_000, "two errors per item, all counted");
    assert!(
        !problem.to_string().contains(&long_timestamp),
        "the long value is not echoed whole"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM glucose_readings WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
