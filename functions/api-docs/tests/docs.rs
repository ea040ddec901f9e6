use axum::http::StatusCode;
use glucolens_testing as testing;
use http_body_util::BodyExt;
use tower::ServiceExt;

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
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

async fn get(state: glucolens_web::AppState, path: &str) -> (StatusCode, String, String) {
    let request = http::Request::builder()
        .uri(path)
        .body(lambda_http::Body::Empty)
        .unwrap();
    let response = api_docs::router(state).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response.headers()[http::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8(body.to_vec()).unwrap())
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_openapi_document_covers_every_route_with_bearer_auth_and_problems(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let (status, content_type, body) = get(state, "/api/v1/openapi.json").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/json"));
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(document["servers"][0]["url"], "/");
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(document["security"][0]["bearer"], serde_json::json!([]));
    assert!(document["components"]["schemas"]["Problem"].is_object());

    let undocumented: Vec<String> = glucolens_web::routes::ROUTES
        .iter()
        .filter(|route| document["paths"][route.path][route.method.to_lowercase()].is_null())
        .map(|route| format!("{} {}", route.method, route.path))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );

    let register = &document["paths"]["/api/v1/auth/register"]["post"];
    assert_eq!(register["security"], serde_json::json!([{}]), "sign-up needs no token");
    assert_eq!(
        register["responses"]["409"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_docs_page_is_self_contained_html(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let (status, content_type, page) = get(state, "/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"));
    assert!(page.contains("<code>/api/v1/auth/login</code>"));
    assert!(page.contains("id=\"schema-Problem\""));
    assert!(!page.contains("<script") && !page.contains("src=\"http") && !page.contains("href=\"http"));
}
