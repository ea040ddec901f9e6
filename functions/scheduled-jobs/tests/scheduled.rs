//! Each scheduled job, driven by its EventBridge event from `events/`, fans out one message per user it concerns;
//! a run interrupted part-way resumes on the next invocation for the same event without resending what SQS
//! confirmed, and the next occurrence starts over. Everything goes through PostgreSQL and moto.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};
use glucolens_app::jobs::{self, JobError, Run};
use glucolens_app::queue::{JobMessage, JobQueue, QueueError};
use glucolens_aws::queue::AnalysisQueue;
use glucolens_domain::task::TaskKind;
use glucolens_testing as testing;
use scheduled_jobs::{handle, RunError, RunSummary};
use sqlx::PgPool;

const CORRELATIONS_EVENT: &str = include_str!("../../../events/job-compute-correlations.json");

fn event(json: &str) -> EventBridgeEvent<serde_json::Value> {
    serde_json::from_str(json).unwrap()
}

/// The same rule's event one day later: the next occurrence of the job.
fn next_night(json: &str) -> EventBridgeEvent<serde_json::Value> {
    let mut next = event(json);
    next.time = next.time.map(|time| time + chrono::Duration::days(1));
    next
}

/// A Lambda deadline comfortably far away.
fn later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(300)
}

/// `count` users in one statement.
async fn users(db: &PgPool, count: i64) {
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, timezone)
         SELECT gen_random_uuid(), 'fan-out-' || i || '@test.invalid', 'not-a-hash', 'UTC'
         FROM generate_series(1, $1) AS i",
    )
    .bind(count)
    .execute(db)
    .await
    .unwrap();
}

/// The users of every message on `queue`, in the order received, deleting them as it goes: moto's cost per call
/// grows with the messages a queue holds.
async fn received_users(queue: &AnalysisQueue) -> Vec<String> {
    let mut users = Vec::new();
    loop {
        let output = queue
            .client()
            .receive_message()
            .queue_url(queue.url())
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            return users;
        }
        let mut delete = queue.client().delete_message_batch().queue_url(queue.url());
        for (i, message) in messages.iter().enumerate() {
            let job: JobMessage = serde_json::from_str(message.body().unwrap()).unwrap();
            assert_eq!(job.kind, TaskKind::ComputeCorrelations);
            users.push(job.user_id.to_string());
            let entry = DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(message.receipt_handle().unwrap())
                .build()
                .unwrap();
            delete = delete.entries(entry);
        }
        delete.send().await.unwrap();
    }
}

/// Messages waiting on `queue` (one call; moto's count is exact).
async fn depth(queue: &AnalysisQueue) -> usize {
    let attributes = queue
        .client()
        .get_queue_attributes()
        .queue_url(queue.url())
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    attributes[&QueueAttributeName::ApproximateNumberOfMessages]
        .parse()
        .unwrap()
}

fn distinct(users: &[String]) -> HashSet<&str> {
    users.iter().map(String::as_str).collect()
}

async fn user_ids_in_order(db: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT id::text FROM users ORDER BY id")
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn each_job_accepts_its_event_and_fans_out_per_user(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let with_new_data = testing::user(&db, "Europe/Paris").await;
    testing::user(&db, "Asia/Kolkata").await;
    testing::cgm_trace(&db, with_new_data, "dexcom", chrono::Utc::now(), 3, 0.0).await;

    for (json, kind, users) in [
        (
            include_str!("../../../events/job-aggregate-daily.json"),
            TaskKind::AggregateDaily,
            1,
        ),
        (CORRELATIONS_EVENT, TaskKind::ComputeCorrelations, 2),
        (
            include_str!("../../../events/job-discover-patterns.json"),
            TaskKind::DiscoverPatterns,
            2,
        ),
    ] {
        let parsed = event(json);
        assert_eq!(parsed.detail_type, "Scheduled Event");
        let summary = handle(&state.db, &state.queue, kind, &parsed, later()).await.unwrap();
        assert_eq!(
            summary,
            RunSummary {
                job: kind.as_str(),
                run: "2026-11-25T03:00:00+00:00".into(),
                users,
                messages_sent: users,
                earlier_users: 0,
            }
        );
    }

    let mut untimed = event(CORRELATIONS_EVENT);
    untimed.time = None;
    let outcome = handle(
        &state.db,
        &state.queue,
        TaskKind::ComputeCorrelations,
        &untimed,
        later(),
    )
    .await;
    assert!(matches!(outcome, Err(RunError::NoRunKey)), "{outcome:?}");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_concurrent_fan_out_sends_exactly_one_message_per_user(db: PgPool) {
    let state = testing::state(db.clone()).await;
    users(&db, 1234).await;

    let summary = handle(
        &state.db,
        &state.queue,
        TaskKind::ComputeCorrelations,
        &event(CORRELATIONS_EVENT),
        later(),
    )
    .await
    .unwrap();
    assert_eq!((summary.users, summary.messages_sent), (1234, 1234));

    let received = received_users(&state.queue).await;
    assert_eq!(received.len(), 1234);
    let all = user_ids_in_order(&db).await;
    assert_eq!(distinct(&received), distinct(&all));
}

/// Forwards the first `pages` sends to the test's moto queue and every later one to a moto queue URL that does not
/// exist, so the fan-out crashes after `pages` pages on SQS's own error. (moto accepts every send to an existing
/// queue, and a queue deleted mid-run needs this same hook between pages, hence the wrapper.)
struct FailsAfter<'a> {
    queue: &'a AnalysisQueue,
    missing: AnalysisQueue,
    pages: usize,
    sent: AtomicUsize,
}

impl JobQueue for FailsAfter<'_> {
    async fn send_jobs(&self, messages: &[JobMessage]) -> Result<usize, QueueError> {
        if self.sent.fetch_add(1, Ordering::SeqCst) < self.pages {
            self.queue.send_jobs(messages).await
        } else {
            self.missing.send_jobs(messages).await
        }
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_crashed_run_resumes_after_the_confirmed_pages_and_the_next_night_starts_over(db: PgPool) {
    let state = testing::state(db.clone()).await;
    // Two pages: 1,000 users and 50.
    users(&db, 1050).await;
    let all = user_ids_in_order(&db).await;
    let tonight = event(CORRELATIONS_EVENT);
    let run_key = tonight.time.unwrap().to_rfc3339();

    // The first page reaches SQS, then the queue fails: the invocation errors, as on a crash.
    let missing_url = format!("{}-missing", state.queue.url());
    let failing = FailsAfter {
        queue: &state.queue,
        missing: AnalysisQueue::resolve(state.queue.client().clone(), &missing_url, false)
            .await
            .unwrap(),
        pages: 1,
        sent: AtomicUsize::new(0),
    };
    let run = Run {
        key: &run_key,
        stop_at: None,
    };
    let crashed = jobs::fan_out_run(&state.db, &failing, TaskKind::ComputeCorrelations, run).await;
    assert!(
        matches!(crashed, Err(JobError::Queue(QueueError::Unreachable { .. }))),
        "{crashed:?}"
    );
    assert_eq!(depth(&state.queue).await, 1000);
    let (cursor, users_sent, finished): (Option<String>, i64, bool) = sqlx::query_as(
        "SELECT last_user_id::text, users_sent, finished_at IS NOT NULL FROM fan_out_runs
         WHERE kind = 'compute_correlations' AND run_key = $1",
    )
    .bind(&run_key)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (cursor.as_deref(), users_sent, finished),
        (Some(all[999].as_str()), 1000, false)
    );

    // Lambda retries the same event: only the unconfirmed page is sent, so the queue ends with one message per user.
    let resumed = handle(
        &state.db,
        &state.queue,
        TaskKind::ComputeCorrelations,
        &tonight,
        later(),
    )
    .await
    .unwrap();
    assert_eq!(
        (resumed.users, resumed.messages_sent, resumed.earlier_users),
        (50, 50, 1000)
    );
    assert_eq!(depth(&state.queue).await, 1050);

    // The same event delivered once more sends nothing: the run is finished.
    let again = handle(
        &state.db,
        &state.queue,
        TaskKind::ComputeCorrelations,
        &tonight,
        later(),
    )
    .await
    .unwrap();
    assert_eq!((again.users, again.earlier_users), (0, 1050));
    assert_eq!(depth(&state.queue).await, 1050);

    // The next night is a new run from the first user (into a queue of its own, to count it alone).
    let next_name = format!("{}-next", state.queue.url().rsplit('/').next().unwrap());
    let next_queue = AnalysisQueue::resolve(state.queue.client().clone(), &next_name, true)
        .await
        .unwrap();
    let next = handle(
        &state.db,
        &next_queue,
        TaskKind::ComputeCorrelations,
        &next_night(CORRELATIONS_EVENT),
        later(),
    )
    .await
    .unwrap();
    assert_eq!((next.users, next.earlier_users), (1050, 0));
    assert_eq!(depth(&next_queue).await, 1050);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn near_the_deadline_no_page_starts_and_the_retry_resumes(db: PgPool) {
    let state = testing::state(db.clone()).await;
    users(&db, 15).await;
    let tonight = event(CORRELATIONS_EVENT);

    // Less than the margin is left: the invocation fails as resumable before sending anything.
    let near = SystemTime::now() + Duration::from_secs(5);
    let stopped = handle(&state.db, &state.queue, TaskKind::ComputeCorrelations, &tonight, near).await;
    assert!(
        matches!(stopped, Err(RunError::Unfinished { users: 0, .. })),
        "{stopped:?}"
    );
    assert_eq!(depth(&state.queue).await, 0);

    let retried = handle(
        &state.db,
        &state.queue,
        TaskKind::ComputeCorrelations,
        &tonight,
        later(),
    )
    .await
    .unwrap();
    assert_eq!((retried.users, retried.earlier_users), (15, 0));
    assert_eq!(received_users(&state.queue).await.len(), 15);
}
