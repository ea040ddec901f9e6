//! Health check, the OpenAPI document and its offline docs page.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use glucolens_core::http::{with_api_layers, ApiError};
use glucolens_core::AppState;
use serde_json::{json, Value};

pub fn router(state: AppState) -> Router {
    with_api_layers(Router::new().route("/api/v1/health", get(health)), state)
}

/// Reports whether the database answers.
async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    glucolens_core::db::ping(&state.db).await?;
    Ok(Json(json!({ "status": "ok" })))
}
