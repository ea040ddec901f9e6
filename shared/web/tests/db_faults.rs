//! Database faults through the API plumbing, against a real PostgreSQL: a real deadlock is retried inside the server
//! and otherwise answered 503 with `Retry-After`; a connection killed mid-request and an unreachable server are 503s
//! that name the database; the pool recovers by itself; no database text reaches the client.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use glucolens_testing as testing;
use glucolens_web::AppState;
use glucolens_web::{with_api_layers, ApiError};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

/// Provokes a real deadlock between two transactions and returns the error of the one PostgreSQL aborted (40P01).
async fn real_deadlock(db: &PgPool) -> sqlx::Error {
    sqlx::query("CREATE TABLE IF NOT EXISTS deadlock_rows (id int PRIMARY KEY)")
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO deadlock_rows VALUES (1), (2) ON CONFLICT DO NOTHING")
        .execute(db)
        .await
        .unwrap();
    let mut first = db.begin().await.unwrap();
    let mut second = db.begin().await.unwrap();
    for (tx, id) in [(&mut first, 1), (&mut second, 2)] {
        sqlx::query("SET LOCAL deadlock_timeout = '50ms'")
            .execute(&mut **tx)
            .await
            .unwrap();
        sqlx::query("UPDATE deadlock_rows SET id = id WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await
            .unwrap();
    }
    let cross = |id: i32| sqlx::query("UPDATE deadlock_rows SET id = id WHERE id = $1").bind(id);
    let (a, b) = tokio::join!(cross(2).execute(&mut *first), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        cross(1).execute(&mut *second).await
    });
    let error = a.err().or(b.err()).expect("PostgreSQL aborts one side of the deadlock");
    let code = match &error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    };
    assert_eq!(code.as_deref(), Some("40P01"), "{error}");
    error
}

async fn call(router: Router, path: &str) -> (StatusCode, Option<String>, Value) {
    let response = router
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = response.headers().get("content-type").cloned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(content_type.unwrap(), "application/problem+json");
    }
    (
        status,
        retry_after,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// A route that deadlocks for real on its first `failures` attempts, then succeeds.
fn deadlocking_router(state: AppState, failures: u32) -> (Router, Arc<AtomicU32>) {
    let attempts = Arc::new(AtomicU32::new(0));
    let counter = attempts.clone();
    let router = Router::new().route(
        "/work",
        get(move |State(state): State<AppState>| {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) < failures {
                    return Err(ApiError::from(real_deadlock(&state.db).await));
                }
                Ok("done")
            }
        }),
    );
    (with_api_layers(router, state), attempts)
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_deadlock_is_retried_inside_the_server(db: PgPool) {
    let state = testing::state(db).await;
    let (router, attempts) = deadlocking_router(state, 2);
    let (status, _, _) = call(router, "/work").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "two aborted attempts, then the one that succeeded"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_deadlock_that_persists_is_a_503_with_retry_after(db: PgPool) {
    let state = testing::state(db).await;
    let (router, attempts) = deadlocking_router(state, u32::MAX);
    let (status, retry_after, problem) = call(router, "/work").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["code"], "database_busy", "{problem}");
    assert!(retry_after.is_some());
    assert!(!problem.to_string().contains("deadlock"), "no database text: {problem}");
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        4,
        "bounded: the first attempt and three retries"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_connection_killed_mid_request_is_a_503_and_the_next_request_recovers(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let router = with_api_layers(
        Router::new()
            .route(
                "/slow",
                get(|State(state): State<AppState>| async move {
                    sqlx::query("SELECT pg_sleep(30) /* killed by the test */")
                        .execute(&state.db)
                        .await?;
                    Ok::<_, ApiError>("finished")
                }),
            )
            .route(
                "/quick",
                get(|State(state): State<AppState>| async move {
                    glucolens_store::db::ping(&state.db).await?;
                    Ok::<_, ApiError>("ok")
                }),
            ),
        state,
    );
    let killer = tokio::spawn(async move {
        // What `pg_ctl -m fast stop` does to every session: terminate its backend ("administrator command").
        for _ in 0..200 {
            let killed: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE query LIKE 'SELECT pg_sleep(30) /* killed%' AND pid <> pg_backend_pid()",
            )
            .fetch_all(&db)
            .await
            .unwrap();
            if !killed.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the slow query never started");
    });
    let (status, retry_after, problem) = call(router.clone(), "/slow").await;
    killer.await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["code"], "database_unavailable");
    assert!(retry_after.is_some());
    assert!(
        !problem.to_string().contains("terminating"),
        "no database text: {problem}"
    );
    let (status, _, _) = call(router, "/quick").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the pool replaced the dead connection by itself"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn an_unreachable_database_is_a_503_naming_it(db: PgPool) {
    let mut state = testing::state(db).await;
    // A port nothing listens on: the server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    state.db = glucolens_store::db::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/none").into(),
        1,
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    let router = with_api_layers(
        Router::new().route(
            "/quick",
            get(|State(state): State<AppState>| async move {
                glucolens_store::db::ping(&state.db).await?;
                Ok::<_, ApiError>("ok")
            }),
        ),
        state,
    );
    let (status, _, problem) = call(router, "/quick").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["code"], "database_unavailable");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn router_level_errors_are_problem_documents(db: PgPool) {
    let state = testing::state(db).await;
    let router = with_api_layers(Router::new().route("/only-get", get(|| async { "ok" })), state);
    let send = |method: &str, path: &str| {
        router
            .clone()
            .oneshot(Request::builder().method(method).uri(path).body(Body::empty()).unwrap())
    };
    let response = send("PUT", "/only-get").await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert!(response.headers().contains_key("allow"), "the Allow header survives");
    let problem: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        (problem["status"].as_u64(), problem["code"].as_str()),
        (Some(405), Some("method_not_allowed"))
    );

    let response = send("GET", "/nowhere").await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}
