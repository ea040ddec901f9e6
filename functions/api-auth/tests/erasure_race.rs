//! Erasing an account while the analysis pipeline works on it: the erasure always succeeds and leaves nothing, and
//! the job either finishes first or finds no user — neither side deadlocks (this used to answer 500
//! `deadlock detected` and keep the account). Repeated at staggered start times to hit the race.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{TimeZone, Utc};
use glucolens_app::aggregation::{self, AggregationError, Mode};
use glucolens_testing as testing;
use sqlx::PgPool;
use tower::ServiceExt;

async fn count(db: &PgPool, table: &str, user: uuid::Uuid) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn erasure_during_a_running_aggregation_succeeds_and_leaves_nothing(db: PgPool) {
    let state = testing::state(db.clone()).await;
    for round in 0..12u64 {
        let user = testing::user(&db, "America/New_York").await;
        // 20 days of readings, every day dirty: an aggregation of a few hundred milliseconds.
        let from = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
        testing::cgm_trace(&db, user, "dexcom", from, 20 * 288, 0.0).await;
        let pool = db.clone();
        let job = tokio::spawn(async move { aggregation::aggregate_user(&pool, user, Mode::Incremental).await });
        // Staggered so that some rounds erase before, some during and some after the aggregation's writes.
        tokio::time::sleep(Duration::from_millis(round * 15)).await;
        let request = http::Request::builder()
            .method(Method::DELETE)
            .uri("/api/v1/users/me")
            .header("authorization", testing::bearer(&state, user))
            .body(lambda_http::Body::Empty)
            .unwrap();
        let response = api_auth::router(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "round {round}");
        match job.await.unwrap() {
            Ok(_) | Err(AggregationError::UnknownUser) => {}
            Err(other) => panic!("round {round}: the aggregation failed instead of yielding: {other}"),
        }
        for table in ["glucose_readings", "daily_aggregates", "dirty_days"] {
            assert_eq!(count(&db, table, user).await, 0, "round {round}: {table} emptied");
        }
        let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(users, 0, "round {round}");
    }
}
