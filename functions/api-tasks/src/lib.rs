//! The tasks endpoint group: start aggregation or pattern discovery for the caller, and follow a task's status.
//! Starting returns 202 with the task; while one of the same kind is pending, that pending task is returned instead
//! of starting another. A task is visible only to its owner: anyone else gets 404, as for a task that never existed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use glucolens_core::http::problem::Problem;
use glucolens_core::http::{with_api_layers, ApiError, ApiJson, AuthUser};
use glucolens_core::jobs;
use glucolens_core::store::tasks::{self, Task, TaskKind, TaskStatus};
use glucolens_core::AppState;
use utoipa::OpenApi;
use uuid::Uuid;

/// Every route this function serves (see `glucolens_core::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/api/v1/tasks/aggregate-daily", post(aggregate_daily))
        .route("/api/v1/tasks/discover-patterns", post(discover_patterns))
        .route("/api/v1/tasks/status/{task_id}", get(status));
    with_api_layers(routes, state)
}

#[derive(OpenApi)]
#[openapi(
    paths(aggregate_daily, discover_patterns, status),
    components(schemas(Task, TaskKind, TaskStatus, Problem)),
    tags((name = "tasks", description = "On-demand background work and its status"))
)]
struct TasksApi;

/// This function's part of the OpenAPI document (merged by the docs function).
pub fn openapi() -> utoipa::openapi::OpenApi {
    TasksApi::openapi()
}

async fn start(state: &AppState, user: AuthUser, kind: TaskKind) -> Result<(StatusCode, ApiJson<Task>), ApiError> {
    let task = jobs::enqueue_task(state, user.id, kind).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(task)))
}

#[utoipa::path(
    post, path = "/api/v1/tasks/aggregate-daily", tag = "tasks",
    responses(
        (status = 202, description = "Aggregation of the caller's changed days is queued (or already pending: that task is returned)", body = Task),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The queue or database is unavailable; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn aggregate_daily(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, ApiJson<Task>), ApiError> {
    start(&state, user, TaskKind::AggregateDaily).await
}

#[utoipa::path(
    post, path = "/api/v1/tasks/discover-patterns", tag = "tasks",
    responses(
        (status = 202, description = "Pattern discovery (after aggregation) is queued (or already pending: that task is returned)", body = Task),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The queue or database is unavailable; retry", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn discover_patterns(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, ApiJson<Task>), ApiError> {
    start(&state, user, TaskKind::DiscoverPatterns).await
}

#[utoipa::path(
    get, path = "/api/v1/tasks/status/{task_id}", tag = "tasks",
    params(("task_id" = Uuid, Path, description = "The id returned when the task was started")),
    responses(
        (status = 200, description = "The task: queued, running, succeeded or failed, with progress and timestamps", body = Task),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task for the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn status(
    State(state): State<AppState>,
    user: AuthUser,
    Path(task_id): Path<String>,
) -> Result<ApiJson<Task>, ApiError> {
    // A malformed id names no task of the caller's: the same 404 as any other unknown id.
    let task_id = Uuid::parse_str(&task_id).map_err(|_| ApiError::NotFound)?;
    tasks::get(&state.db, user.id, task_id)
        .await?
        .map(ApiJson)
        .ok_or(ApiError::NotFound)
}
