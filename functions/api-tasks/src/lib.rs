//! The tasks endpoint group: start aggregation or pattern discovery for the caller, and follow a task's status.
//! Starting returns 202 with the task; while one of the same kind is pending, that pending task is returned instead
//! of starting another. A task is visible only to its owner: anyone else gets 404, as for a task that never existed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use glucolens_app::jobs;
use glucolens_domain::task::{TaskKind, TaskStatus};
use glucolens_store::tasks::{self, Task};
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, ApiJson, AuthUser};
use utoipa::OpenApi;
use uuid::Uuid;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
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
    components(schemas(Task, TaskKind, TaskStatus)),
    tags((name = "tasks", description = "On-demand background work and its status"))
)]
struct TasksApi;

/// This function's part of the OpenAPI document (merged into the served one by `glucolens openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = TasksApi::openapi();
    openapi::add_shared_components(&mut api);
    api
}

glucolens_web::problem_responses! {
    /// The problems of starting a task.
    StartProblems = [
        openapi::UNAUTHORIZED,
        openapi::RATE_LIMITED,
        ("503", "The queue or database is unavailable; retry after `Retry-After`"),
    ];
    /// The problems of reading a task's status.
    StatusProblems = [
        openapi::UNAUTHORIZED,
        ("404", "No such task for the caller"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
}

async fn start(state: &AppState, user: AuthUser, kind: TaskKind) -> Result<(StatusCode, ApiJson<Task>), ApiError> {
    let task = jobs::enqueue_task(&state.db, &state.queue, user.id, kind).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(task)))
}

#[utoipa::path(
    post, path = "/api/v1/tasks/aggregate-daily", tag = "tasks",
    responses(
        (status = 202, description = "Aggregation of the caller's changed days is queued (or already pending: that task is returned)", body = Task),
        StartProblems,
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
        StartProblems,
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
        StatusProblems,
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
