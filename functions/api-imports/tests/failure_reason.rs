//! An import that fails on the database shows its owner a reason to act on, never the database's own text, and the
//! request answers 503 naming the database (a serialization failure that persists through the retries).

use axum::http::StatusCode;
use glucolens_testing as testing;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const NIGHTSCOUT: &str = r#"[{"type":"sgv","sgv":120,"date":1735689600000,"device":"xdrip"}]"#;

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_database_failure_is_503_and_the_import_shows_no_database_text(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    // Every insert of a reading now fails the way a conflicting concurrent transaction would, with text that must
    // not reach the client.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'internal-detail relation glucose_readings' USING ERRCODE = '40001'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON glucose_readings FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(&db)
    .await
    .unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/v1/imports?format=nightscout_entries")
        .header("authorization", testing::bearer(&state, user))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(NIGHTSCOUT))
        .unwrap();
    let response = api_imports::router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(problem["code"], "database_busy", "{problem}");
    assert!(!problem.to_string().contains("internal-detail"), "{problem}");

    let failed: Vec<(uuid::Uuid, Option<String>)> =
        sqlx::query_as("SELECT id, error FROM imports WHERE user_id = $1 AND status = 'failed'")
            .bind(user)
            .fetch_all(&db)
            .await
            .unwrap();
    assert!(!failed.is_empty(), "each attempt is recorded as failed");
    let request = http::Request::builder()
        .uri(format!("/api/v1/imports/{}", failed[0].0))
        .header("authorization", testing::bearer(&state, user))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let response = api_imports::router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let import: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(import["status"], "failed");
    let reason = import["error"].as_str().unwrap();
    assert!(
        !reason.contains("internal-detail") && !reason.contains("glucose_readings"),
        "{reason}"
    );
    assert!(reason.contains("try again"), "{reason}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM glucose_readings WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
