//! The retrieval endpoint group.

use axum::Router;
use glucolens_core::http::with_api_layers;
use glucolens_core::AppState;

/// Every route this function serves (see `glucolens_core::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    with_api_layers(Router::new(), state)
}

/// This function's part of the OpenAPI document (merged by the docs function).
pub fn openapi() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
