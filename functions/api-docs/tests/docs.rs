use axum::http::StatusCode;
use glucolens_core::testing;
use http_body_util::BodyExt;
use tower::ServiceExt;

#[sqlx::test(migrator = "glucolens_core::db::MIGRATOR")]
async fn health_reports_ok_from_an_api_gateway_event(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let request = lambda_http::request::from_str(include_str!("../../../events/api-health.json")).unwrap();
    let response = api_docs::router(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["status"],
        "ok"
    );
}
