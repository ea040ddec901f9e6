//! The tasks API against PostgreSQL and moto: 202 with a queued task, the pending task on a second trigger, and
//! status visible only to the task's owner.

use axum::http::StatusCode;
use glucolens_app::jobs;
use glucolens_domain::task::{TaskKind, TaskStatus};
use glucolens_store::tasks;
use glucolens_testing as testing;
use glucolens_web::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

/// Sends `request` with `user`'s bearer token in place of the event's placeholder.
async fn send(state: &AppState, mut request: lambda_http::Request, user: Uuid) -> (StatusCode, Value) {
    request
        .headers_mut()
        .insert("authorization", testing::bearer(state, user).parse().unwrap());
    let response = api_tasks::router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn status_request(task_id: &str) -> lambda_http::Request {
    let template = include_str!("../../../events/api-tasks-status.json");
    lambda_http::request::from_str(&template.replace("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", task_id)).unwrap()
}

fn start_request(path: &str) -> lambda_http::Request {
    let template = include_str!("../../../events/api-tasks-aggregate-daily.json");
    lambda_http::request::from_str(&template.replace("/api/v1/tasks/aggregate-daily", path)).unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn starting_returns_202_and_a_second_trigger_returns_the_pending_task(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    let (status, first) = send(&state, start_request("/api/v1/tasks/aggregate-daily"), user).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        (first["status"].as_str(), first["kind"].as_str()),
        (Some("queued"), Some("aggregate_daily"))
    );
    let (status, second) = send(&state, start_request("/api/v1/tasks/aggregate-daily"), user).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(second["id"], first["id"]);

    let (status, patterns) = send(&state, start_request("/api/v1/tasks/discover-patterns"), user).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(patterns["kind"], "discover_patterns");
    assert_ne!(patterns["id"], first["id"]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn status_follows_the_lifecycle_and_is_shown_only_to_its_owner(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let owner = testing::user(&db, "UTC").await;
    let other = testing::user(&db, "UTC").await;
    let task = jobs::enqueue_task(&state.db, &state.queue, owner, TaskKind::AggregateDaily)
        .await
        .unwrap();
    let id = task.id.to_string();

    let (status, body) = send(&state, status_request(&id), owner).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "queued");
    assert!(body["started_at"].is_null());

    assert!(tasks::start(&db, owner, task.id).await.unwrap());
    tasks::set_progress(&db, owner, task.id, 40).await.unwrap();
    let (_, body) = send(&state, status_request(&id), owner).await;
    assert_eq!(
        (body["status"].as_str(), body["progress"].as_i64()),
        (Some("running"), Some(40))
    );
    assert!(body["started_at"].is_string());

    tasks::finish(&db, owner, task.id, None).await.unwrap();
    let (_, body) = send(&state, status_request(&id), owner).await;
    assert_eq!(
        (body["status"].as_str(), body["progress"].as_i64()),
        (Some("succeeded"), Some(100))
    );
    assert!(body["finished_at"].is_string());
    assert_eq!(
        tasks::get(&db, owner, task.id).await.unwrap().unwrap().status,
        TaskStatus::Succeeded
    );

    // Another user's id, an unknown id and a malformed one all answer the same 404.
    for (request, user) in [
        (status_request(&id), other),
        (status_request(&Uuid::new_v4().to_string()), owner),
        (status_request("not-a-uuid"), owner),
    ] {
        let (status, body) = send(&state, request, user).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "not_found");
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn starting_needs_a_token(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let mut request = start_request("/api/v1/tasks/aggregate-daily");
    request.headers_mut().remove("authorization");
    let response = api_tasks::router(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
