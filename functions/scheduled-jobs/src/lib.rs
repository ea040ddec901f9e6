//! The scheduled jobs (EventBridge): aggregate-daily (03:00), compute-correlations (04:00) and discover-patterns
//! (weekly, Sunday). Each binary is one of them; each run pages through the users and fans out one analysis-queue
//! message per user (`glucolens_app::jobs::fan_out`); the analysis worker does the work.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use glucolens_app::jobs::{self, FanOutReport, JobError};
use glucolens_aws::queue::AnalysisQueue;
use glucolens_domain::task::TaskKind;
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Serialize;
use sqlx::PgPool;

/// What a run returns (visible in `cargo lambda invoke` and the Lambda console).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub job: &'static str,
    pub users: usize,
    pub messages_sent: usize,
}

/// One scheduled run of `kind`. The event's content is not needed: the schedule itself is the instruction.
pub async fn handle(db: &PgPool, queue: &AnalysisQueue, kind: TaskKind) -> Result<RunSummary, JobError> {
    let FanOutReport { users, messages_sent } = jobs::fan_out(db, queue, kind).await?;
    Ok(RunSummary {
        job: kind.as_str(),
        users,
        messages_sent,
    })
}

/// The Lambda entry point shared by the three binaries.
pub async fn run(kind: TaskKind) -> Result<(), lambda_runtime::Error> {
    glucolens_aws::telemetry::init();
    // The pool and the queue only: a job verifies no tokens, so it neither needs nor may read the signing key.
    let (db, queue) = glucolens_aws::state::database_and_queue_from_env().await?;
    let (db, queue) = (&db, &queue);
    lambda_runtime::run(service_fn(
        move |_event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
            handle(db, queue, kind).await.map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
