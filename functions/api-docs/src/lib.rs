//! Health check, the OpenAPI document and its offline docs page.

pub mod document;
mod page;

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use glucolens_core::http::{with_api_layers, ApiError};
use glucolens_core::AppState;
use serde::Serialize;

pub use document::openapi;

/// The document and its page never change while a function instance lives: built on first use, then reused.
static DOCUMENT_JSON: LazyLock<String> =
    LazyLock::new(|| openapi().to_pretty_json().expect("the OpenAPI document serialises"));
static DOCS_PAGE: LazyLock<String> =
    LazyLock::new(|| page::render(&serde_json::from_str(&DOCUMENT_JSON).expect("the OpenAPI document is valid JSON")));

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page));
    with_api_layers(routes, state)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Reports whether the database answers
#[utoipa::path(
    get, path = "/api/v1/health", tag = "meta", security(()),
    responses(
        (status = 200, description = "The service and its database answer", body = Health),
        (status = 503, description = "The database does not answer", body = glucolens_core::http::problem::Problem,
            content_type = "application/problem+json"),
    )
)]
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    glucolens_core::db::ping(&state.db).await?;
    Ok(Json(Health { status: "ok" }))
}

/// This OpenAPI 3.1 document
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of the whole API", content_type = "application/json",
        body = Object))
)]
async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT_JSON.as_str())
}

/// The API reference as a self-contained HTML page
#[utoipa::path(
    get, path = "/docs", tag = "meta", security(()),
    responses((status = 200, description = "HTML rendering of the OpenAPI document; works offline", content_type = "text/html",
        body = String))
)]
async fn docs_page() -> Html<&'static str> {
    Html(DOCS_PAGE.as_str())
}
