//! The analysis pipeline against PostgreSQL and moto SQS: fan-out → queue → worker → rows, redelivery, a poison
//! message in a batch, and a task's lifecycle.

use analysis_worker::{poll_once, PollOutcome};
use chrono::{TimeZone, Utc};
use glucolens_app::jobs;
use glucolens_app::queue::JobMessage;
use glucolens_app::queue::MAX_RECEIVES;
use glucolens_domain::task::{TaskKind, TaskStatus};
use glucolens_store::tasks;
use glucolens_testing as testing;
use glucolens_web::AppState;
use sqlx::PgPool;
use uuid::Uuid;

/// Polls (messages reappear at once: visibility timeout 0) until the queue is empty; returns the sum of outcomes.
async fn drain(state: &AppState) -> PollOutcome {
    let mut total = PollOutcome::default();
    loop {
        let outcome = poll_once(&state.db, &state.queue, 0, Some(0)).await.unwrap();
        if outcome.received == 0 {
            return total;
        }
        total.received += outcome.received;
        total.failed += outcome.failed;
    }
}

async fn aggregate_rows(db: &PgPool, user_id: Uuid) -> Vec<serde_json::Value> {
    sqlx::query_scalar("SELECT to_jsonb(a) FROM daily_aggregates a WHERE user_id = $1 ORDER BY date")
        .bind(user_id)
        .fetch_all(db)
        .await
        .unwrap()
}

async fn user_with_two_days(db: &PgPool, time_zone: &str) -> Uuid {
    let user = testing::user(db, time_zone).await;
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    testing::cgm_trace(db, user, "dexcom", start, 288 * 2, 0.0).await;
    user
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn scheduled_fan_out_sends_one_message_per_user_and_the_worker_aggregates_them(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let users = [
        user_with_two_days(&db, "UTC").await,
        user_with_two_days(&db, "Asia/Kolkata").await,
        user_with_two_days(&db, "America/New_York").await,
    ];
    let idle = testing::user(&db, "UTC").await;

    let report = jobs::fan_out(&state.db, &state.queue, TaskKind::AggregateDaily)
        .await
        .unwrap();
    assert_eq!(
        (report.users, report.messages_sent),
        (3, 3),
        "only users with dirty days"
    );
    assert_eq!(drain(&state).await, PollOutcome { received: 3, failed: 0 });
    for user in users {
        assert!(aggregate_rows(&db, user).await.len() >= 2);
    }
    assert!(aggregate_rows(&db, idle).await.is_empty());
    let dirty: i64 = sqlx::query_scalar("SELECT count(*) FROM dirty_days")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(dirty, 0);

    // The analysis jobs visit everyone.
    let report = jobs::fan_out(&state.db, &state.queue, TaskKind::DiscoverPatterns)
        .await
        .unwrap();
    assert_eq!(report.users, 4);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_redelivered_message_changes_nothing(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = user_with_two_days(&db, "Europe/Berlin").await;
    let message = JobMessage {
        kind: TaskKind::AggregateDaily,
        user_id: user,
        task_id: None,
        full_recompute: true,
    };
    state.queue.send_all(std::slice::from_ref(&message)).await.unwrap();
    drain(&state).await;
    let first = aggregate_rows(&db, user).await;
    assert!(!first.is_empty());
    // The same message again (SQS delivers at least once), through the queue and directly.
    state.queue.send_all(&[message.clone(), message.clone()]).await.unwrap();
    assert_eq!(drain(&state).await.failed, 0);
    jobs::process(&db, &message, 1).await.unwrap();
    assert_eq!(
        aggregate_rows(&db, user).await,
        first,
        "same rows, computed_at included"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_poison_message_fails_alone_and_ends_in_the_dead_letter_queue(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let good = [
        user_with_two_days(&db, "UTC").await,
        user_with_two_days(&db, "UTC").await,
    ];
    let vanished = Uuid::new_v4();
    let bodies = vec![
        serde_json::json!({"kind": "aggregate_daily", "user_id": good[0]}),
        serde_json::json!({"kind": "self_destruct", "user_id": good[0]}),
        serde_json::json!({"kind": "aggregate_daily", "user_id": good[1]}),
        serde_json::json!({"kind": "aggregate_daily", "user_id": vanished}),
    ];
    state.queue.send_all(&bodies).await.unwrap();

    let first = poll_once(&state.db, &state.queue, 0, Some(0)).await.unwrap();
    assert_eq!(first, PollOutcome { received: 4, failed: 1 });
    for user in good {
        assert!(!aggregate_rows(&db, user).await.is_empty());
    }
    // The poison message comes back until it has been received MAX_RECEIVES times, then moves to the DLQ.
    let rest = drain(&state).await;
    assert_eq!(
        rest,
        PollOutcome {
            received: MAX_RECEIVES as usize - 1,
            failed: MAX_RECEIVES as usize - 1
        }
    );

    let client = state.queue.client();
    let dlq_name = format!("{}-dlq", state.queue.url().rsplit('/').next().unwrap());
    let dlq_url = client
        .get_queue_url()
        .queue_name(dlq_name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let in_dlq = client
        .receive_message()
        .queue_url(dlq_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(in_dlq.len(), 1);
    assert!(in_dlq[0].body.as_deref().unwrap().contains("self_destruct"));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_task_goes_from_queued_to_succeeded_and_a_second_trigger_returns_the_pending_one(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = user_with_two_days(&db, "UTC").await;
    let task = jobs::enqueue_task(&state.db, &state.queue, user, TaskKind::AggregateDaily)
        .await
        .unwrap();
    assert_eq!((task.status, task.progress), (TaskStatus::Queued, 0));
    assert!(task.started_at.is_none());
    let again = jobs::enqueue_task(&state.db, &state.queue, user, TaskKind::AggregateDaily)
        .await
        .unwrap();
    assert_eq!(again.id, task.id);

    assert_eq!(
        drain(&state).await,
        PollOutcome { received: 1, failed: 0 },
        "one message for both triggers"
    );
    let done = tasks::get(&db, user, task.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.progress), (TaskStatus::Succeeded, 100));
    assert!(done.started_at.is_some() && done.finished_at >= done.started_at);
    assert!(!aggregate_rows(&db, user).await.is_empty());

    // Redelivering the finished task's message does not run it again; a new trigger starts a new task.
    let message = JobMessage {
        kind: TaskKind::AggregateDaily,
        user_id: user,
        task_id: Some(task.id),
        full_recompute: false,
    };
    jobs::process(&db, &message, 2).await.unwrap();
    assert_eq!(tasks::get(&db, user, task.id).await.unwrap().unwrap(), done);
    let next = jobs::enqueue_task(&state.db, &state.queue, user, TaskKind::AggregateDaily)
        .await
        .unwrap();
    assert_ne!(next.id, task.id);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_task_fails_when_its_last_delivery_fails(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let task = jobs::enqueue_task(&state.db, &state.queue, user, TaskKind::AggregateDaily)
        .await
        .unwrap();
    // Break the user's stored time zone so the aggregation rejects the data: not retryable, the task fails.
    sqlx::query("UPDATE users SET timezone = 'Mars/Olympus_Mons' WHERE id = $1")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(drain(&state).await, PollOutcome { received: 1, failed: 0 });
    let failed = tasks::get(&db, user, task.id).await.unwrap().unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    assert!(failed.error.is_some() && failed.finished_at.is_some());
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_sample_event_reports_only_its_malformed_record(db: PgPool) {
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(include_str!("../../../events/worker-analysis-batch.json")).unwrap();
    // The first record names a user this database does not have: acknowledged. The second is not a job message.
    let response = analysis_worker::handle_batch(&db, event).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["0c1f5d6e-8a51-4c35-9a1e-3f0f1d2b7a02"]);
}

/// When the user's last correlation and pattern runs happened.
async fn run_times(db: &PgPool, user_id: Uuid) -> (Option<chrono::DateTime<Utc>>, Option<chrono::DateTime<Utc>>) {
    let at = |table: &'static str| async move {
        sqlx::query_scalar(&format!("SELECT computed_at FROM {table} WHERE user_id = $1"))
            .bind(user_id)
            .fetch_optional(db)
            .await
            .unwrap()
    };
    (at("correlation_runs").await, at("pattern_runs").await)
}

/// Runs a correlations and a patterns message for the user (scheduled: no task) and returns the run times.
async fn analyse(
    db: &PgPool,
    user_id: Uuid,
    full_recompute: bool,
) -> (Option<chrono::DateTime<Utc>>, Option<chrono::DateTime<Utc>>) {
    for kind in [TaskKind::ComputeCorrelations, TaskKind::DiscoverPatterns] {
        let message = JobMessage {
            kind,
            user_id,
            task_id: None,
            full_recompute,
        };
        jobs::process(db, &message, 1).await.unwrap();
    }
    run_times(db, user_id).await
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn scheduled_analyses_run_only_where_the_data_changed(db: PgPool) {
    let user = user_with_two_days(&db, "UTC").await;
    let first = analyse(&db, user, false).await;
    assert!(first.0.is_some() && first.1.is_some(), "{first:?}");
    // Nothing changed: the next scheduled run leaves both analyses as they were.
    assert_eq!(analyse(&db, user, false).await, first);
    // A third day of readings: the message's aggregation changes the aggregates, so both run again.
    let third_day = Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap();
    testing::cgm_trace(&db, user, "dexcom", third_day, 288, 0.0).await;
    let second = analyse(&db, user, false).await;
    assert!(second.0 > first.0 && second.1 > first.1, "{first:?} → {second:?}");
    assert_eq!(analyse(&db, user, false).await, second);
    // A full recompute (as a person's trigger) always runs.
    let third = analyse(&db, user, true).await;
    assert!(third.0 > second.0 && third.1 > second.1, "{second:?} → {third:?}");
}
