//! The scheduled jobs (EventBridge): aggregate-daily (03:00), compute-correlations (04:00) and discover-patterns
//! (weekly, Sunday). Each binary is one of them; each run pages through the users and fans out one analysis-queue
//! message per user (`glucolens_app::jobs::fan_out_run`); the analysis worker does the work.
//!
//! A run is resumable. Its key is the event's `time` (the scheduled occurrence): Lambda's retries of the event
//! carry the same time and continue after the last page SQS confirmed; the next occurrence starts from the first
//! user; an event delivered twice sends once. When less than [`DEADLINE_MARGIN`] of the invocation is left, no
//! new page starts and the handler fails with [`RunError::Unfinished`]. Failing, rather than re-enqueueing itself,
//! is deliberate: EventBridge invokes the function asynchronously, so Lambda retries a failed invocation with the
//! same event (twice, a minute and then two later; `EventInvokeConfig` in the template), and a timeout or a crash
//! is retried the same way, so every interruption takes the one path back, and no extra permission or message
//! type is needed. After the last retry the run stays unfinished in `fan_out_runs` and the failure shows in the
//! function's error metrics; the users it missed are visited by the next occurrence (dirty days wait for it).

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use glucolens_app::jobs::{self, FanOutReport, JobError, Run};
use glucolens_aws::queue::AnalysisQueue;
use glucolens_domain::task::TaskKind;
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Serialize;
use sqlx::PgPool;

/// Time kept in hand at the invocation's deadline: a page (1,000 users, 100 SQS calls) takes well under a second
/// on SQS, so stopping 20 s early ends a run between pages, its progress recorded, instead of being killed inside
/// one, with room for SDK retries of a slow call.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(20);

/// What a finished run returns (visible in `cargo lambda invoke` and the Lambda console).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub job: &'static str,
    pub run: String,
    /// Users messaged by this invocation.
    pub users: usize,
    pub messages_sent: usize,
    /// Users earlier invocations of the same run had messaged.
    pub earlier_users: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("the event has no `time`, which names the run")]
    NoRunKey,
    #[error("{job} run {run}: stopped before the deadline after {users} users; a retry of this event resumes")]
    Unfinished {
        job: &'static str,
        run: String,
        users: usize,
    },
}

/// One invocation for a scheduled `event` of `kind`, which must stop starting pages [`DEADLINE_MARGIN`] before
/// `deadline`. Only the event's `time` is read: the schedule itself is the instruction.
pub async fn handle(
    db: &PgPool,
    queue: &AnalysisQueue,
    kind: TaskKind,
    event: &EventBridgeEvent<serde_json::Value>,
    deadline: SystemTime,
) -> Result<RunSummary, RunError> {
    let run = event.time.ok_or(RunError::NoRunKey)?.to_rfc3339();
    let left = deadline.duration_since(SystemTime::now()).unwrap_or_default();
    let stop_at = Instant::now() + left.saturating_sub(DEADLINE_MARGIN);
    let FanOutReport {
        users,
        messages_sent,
        earlier_users,
        finished,
    } = jobs::fan_out_run(
        db,
        queue,
        kind,
        Run {
            key: &run,
            stop_at: Some(stop_at),
        },
    )
    .await?;
    if !finished {
        return Err(RunError::Unfinished {
            job: kind.as_str(),
            run,
            users,
        });
    }
    Ok(RunSummary {
        job: kind.as_str(),
        run,
        users,
        messages_sent,
        earlier_users,
    })
}

/// The Lambda entry point shared by the three binaries.
pub async fn run(kind: TaskKind) -> Result<(), lambda_runtime::Error> {
    glucolens_aws::telemetry::init();
    // The pool and the queue only: a job verifies no tokens, so it neither needs nor may read the signing key.
    let (db, queue) = glucolens_aws::state::database_and_queue_from_env().await?;
    let (db, queue) = (&db, &queue);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
            let outcome = handle(db, queue, kind, &event.payload, event.context.deadline()).await;
            if let Err(error) = &outcome {
                tracing::warn!(%error, "run not finished");
            }
            outcome.map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
