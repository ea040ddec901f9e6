//! The analysis pipeline's orchestration: queue messages, on-demand enqueueing (tasks), the scheduled fan-out and
//! the worker's per-message processing with its retry classification.
//!
//! Flow: a scheduled job (EventBridge) or an API trigger puts one [`JobMessage`] per user on the analysis queue; the
//! worker (SQS event source mapping, `ReportBatchItemFailures`) processes each message on its own.
//!
//! Retry policy ([`JobError::is_retryable`]):
//! - Database errors are **retryable**: the message is reported as a batch item failure, SQS redelivers it after the
//!   visibility timeout, and after [`MAX_RECEIVES`] receives it moves to the dead-letter queue (alarmed).
//! - A **malformed message** (not JSON, unknown kind) is also reported as a failure: retrying cannot fix it, but it
//!   must not vanish silently, and the DLQ is where an operator inspects it. Its batch neighbours still succeed.
//! - A message for a **user that no longer exists** (the account was deleted after enqueueing) is logged and
//!   acknowledged: nothing is left to compute and nobody to tell, so it would only trip the DLQ alarm.
//! - **Unusable data** (the analysis rejects the user's data as it is) is logged and acknowledged, and its task, if
//!   any, fails with a public reason: the same data would fail the same way, and new data brings a new message.
//!
//! Processing is idempotent: aggregation upserts by (user, local day) and skips unchanged rows, the analyses replace
//! a user's results, and a task that already finished is not run again. So a duplicate delivery, or the page a
//! resumed fan-out sends again ([`fan_out_run`]), costs work but changes no result.

use std::time::Instant;

use sqlx::PgPool;
use uuid::Uuid;

use crate::aggregation::{self, AggregationError, Mode};
use crate::insights::{self, InsightsError};
use crate::queue::{JobMessage, JobQueue, QueueError, MAX_RECEIVES};
use glucolens_domain::task::TaskKind;
use glucolens_store::analysis_inputs::{self, Analysis};
use glucolens_store::fan_out_runs;
use glucolens_store::tasks::{self, Task};
use glucolens_store::users_listing::{self, Audience};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("user not found")]
    UnknownUser,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("queue: {0}")]
    Queue(#[from] QueueError),
    /// The user's data cannot be analysed (e.g. an invalid stored time zone); retrying would fail the same way.
    #[error("unusable data: {0}")]
    Unprocessable(String),
}

impl From<AggregationError> for JobError {
    fn from(error: AggregationError) -> Self {
        match error {
            AggregationError::UnknownUser => JobError::UnknownUser,
            AggregationError::Database(e) => JobError::Database(e),
            AggregationError::InvalidTimeZone => JobError::Unprocessable(error.to_string()),
        }
    }
}

impl From<InsightsError> for JobError {
    fn from(error: InsightsError) -> Self {
        match error {
            InsightsError::Database(e) => JobError::Database(e),
            // A vanished user or unusable data: acknowledged either way (see the policy above).
            other => JobError::Unprocessable(other.to_string()),
        }
    }
}

/// What the worker should do with a message after processing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Delete it from the queue (done, or nothing left to do).
    Acknowledge,
    /// Report it as a batch item failure: SQS redelivers it, and after `MAX_RECEIVES` moves it to the DLQ.
    Retry,
}

impl JobError {
    /// See the module documentation for the policy.
    pub fn disposition(&self) -> Disposition {
        match self {
            JobError::UnknownUser | JobError::Unprocessable(_) => Disposition::Acknowledge,
            JobError::Malformed(_) | JobError::Database(_) | JobError::Queue(_) => Disposition::Retry,
        }
    }
}

/// Enqueues `kind` for `user_id` as a task, or returns the user's pending task of that kind without enqueueing again.
pub async fn enqueue_task(db: &PgPool, queue: &impl JobQueue, user_id: Uuid, kind: TaskKind) -> Result<Task, JobError> {
    let (task, created) = tasks::create_or_pending(db, user_id, kind).await?;
    if created {
        let message = JobMessage {
            kind,
            user_id,
            task_id: Some(task.id),
            full_recompute: false,
        };
        if let Err(error) = queue.send_jobs(&[message]).await {
            // Leave no task pending forever: a later trigger can then start a new one.
            tasks::finish(db, user_id, task.id, Some("could not be queued; please try again")).await?;
            return Err(error.into());
        }
    }
    Ok(task)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutReport {
    /// Users messaged by this call.
    pub users: usize,
    pub messages_sent: usize,
    /// Users an earlier attempt of the same run had messaged; this call went on after them.
    pub earlier_users: u64,
    /// Every user was messaged (by this call or earlier attempts). `false`: it stopped at the run's `stop_at`, and
    /// the next call for the same run resumes.
    pub finished: bool,
}

/// One scheduled occurrence of a job, for [`fan_out_run`].
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Names the occurrence: calls with the same key continue one run, a new key starts at the first user.
    pub key: &'a str,
    /// No page starts at or after this instant (the caller's deadline minus what it needs to finish cleanly).
    pub stop_at: Option<Instant>,
}

/// Users per listing page. A page's messages are sent together (the queue overlaps its batches) and then recorded
/// as the run's progress, so an interrupted run resends at most one page, and at most this many message bodies are
/// held in memory.
const FAN_OUT_PAGE: i64 = 1000;

/// A one-off fan-out (the CLI's `job`): one `kind` message per user, from the first user to the last, recorded
/// nowhere. Users are not processed here.
pub async fn fan_out(db: &PgPool, queue: &impl JobQueue, kind: TaskKind) -> Result<FanOutReport, JobError> {
    send_pages(db, queue, kind, None).await
}

/// A scheduled run's fan-out: like [`fan_out`], but resumable. It continues after the last user an earlier call
/// with the same `run.key` confirmed (a run already finished sends nothing), records its progress after each page,
/// and stops between pages once `run.stop_at` has passed, reporting `finished: false`.
pub async fn fan_out_run(
    db: &PgPool,
    queue: &impl JobQueue,
    kind: TaskKind,
    run: Run<'_>,
) -> Result<FanOutReport, JobError> {
    send_pages(db, queue, kind, Some(run)).await
}

/// Both fan-outs, with or without a run to resume and record. The aggregation job only visits users with dirty days,
/// and also prunes expired rate-limit windows.
async fn send_pages(
    db: &PgPool,
    queue: &impl JobQueue,
    kind: TaskKind,
    run: Option<Run<'_>>,
) -> Result<FanOutReport, JobError> {
    let audience = match kind {
        TaskKind::AggregateDaily => {
            let pruned = glucolens_store::rate_limit::prune(db).await?;
            tracing::info!(pruned, "pruned expired rate-limit windows");
            Audience::WithDirtyDays
        }
        TaskKind::Import => return Err(JobError::Malformed("imports are not scheduled".into())),
        _ => Audience::Everyone,
    };
    let mut report = FanOutReport::default();
    let mut after = None;
    if let Some(run) = run {
        let progress = fan_out_runs::start(db, kind, run.key).await?;
        report.earlier_users = u64::try_from(progress.users_sent).unwrap_or_default();
        if progress.finished {
            tracing::info!(
                kind = kind.as_str(),
                run = run.key,
                "this run already finished; nothing to send"
            );
            report.finished = true;
            return Ok(report);
        }
        if progress.attempts > 1 {
            let after = progress.last_user_id;
            tracing::info!(
                kind = kind.as_str(),
                run = run.key,
                attempt = progress.attempts,
                ?after,
                "resuming"
            );
        }
        after = progress.last_user_id;
    }
    loop {
        let page = users_listing::page(db, audience, after, FAN_OUT_PAGE).await?;
        let Some(&last) = page.last() else {
            report.finished = true;
            break;
        };
        if run.and_then(|r| r.stop_at).is_some_and(|at| Instant::now() >= at) {
            break;
        }
        let messages: Vec<JobMessage> = page
            .iter()
            .map(|&user_id| JobMessage {
                kind,
                user_id,
                task_id: None,
                full_recompute: false,
            })
            .collect();
        report.messages_sent += queue.send_jobs(&messages).await?;
        report.users += page.len();
        if let Some(run) = run {
            fan_out_runs::advance(db, kind, run.key, last, page.len() as i64).await?;
        }
        after = Some(last);
    }
    if let (Some(run), true) = (run, report.finished) {
        fan_out_runs::finish(db, kind, run.key).await?;
    }
    tracing::info!(
        kind = kind.as_str(),
        run = run.map(|r| r.key),
        users = report.users,
        earlier_users = report.earlier_users,
        finished = report.finished,
        "fan-out done"
    );
    Ok(report)
}

/// The analyses a message kind runs after aggregation, so the worker and the CLI agree on what each kind means.
fn steps(kind: TaskKind) -> (bool, bool) {
    // (correlations, patterns)
    match kind {
        TaskKind::AggregateDaily | TaskKind::Import => (false, false),
        TaskKind::ComputeCorrelations => (true, false),
        TaskKind::DiscoverPatterns => (false, true),
        TaskKind::FullAnalysis => (true, true),
    }
}

/// Parses and processes one message body; the worker turns the outcome into a [`Disposition`].
pub async fn process_body(db: &PgPool, body: &str, receive_count: u32) -> Result<(), JobError> {
    let message: JobMessage = serde_json::from_str(body).map_err(|e| JobError::Malformed(e.to_string()))?;
    process(db, &message, receive_count).await
}

/// Runs one message. With a task, the task follows queued → running → succeeded, or → failed once the last
/// delivery (`receive_count` = `MAX_RECEIVES`) fails.
pub async fn process(db: &PgPool, message: &JobMessage, receive_count: u32) -> Result<(), JobError> {
    if message.kind == TaskKind::Import {
        return Err(JobError::Malformed("imports belong to the import queue".into()));
    }
    let user_id = message.user_id;
    if let Some(task_id) = message.task_id {
        if !tasks::start(db, user_id, task_id).await? {
            // Finished by an earlier delivery (or the user is gone): nothing to redo.
            return Ok(());
        }
    }
    let outcome = run_steps(db, message).await;
    if let Some(task_id) = message.task_id {
        match &outcome {
            Ok(()) => tasks::finish(db, user_id, task_id, None).await?,
            Err(e) if e.disposition() == Disposition::Acknowledge || receive_count >= MAX_RECEIVES => {
                tasks::finish(
                    db,
                    user_id,
                    task_id,
                    Some("the analysis failed; please try again later"),
                )
                .await?
            }
            Err(_) => {}
        }
    }
    outcome
}

async fn run_steps(db: &PgPool, message: &JobMessage) -> Result<(), JobError> {
    let (user_id, task_id) = (message.user_id, message.task_id);
    let progress = |percent: u8| async move {
        match task_id {
            Some(task_id) => tasks::set_progress(db, user_id, task_id, percent).await,
            None => Ok(()),
        }
    };
    let mode = if message.full_recompute {
        Mode::Full
    } else {
        Mode::Incremental
    };
    let report = aggregation::aggregate_user(db, user_id, mode).await?;
    tracing::info!(%user_id, days = report.days_recomputed, written = report.rows_written, "aggregated");
    let (correlations, patterns) = steps(message.kind);
    // A scheduled message analyses only users whose aggregates changed since the analysis last ran; a person's
    // trigger or a full recompute always runs.
    let scheduled = task_id.is_none() && !message.full_recompute;
    let unchanged = |analysis| async move {
        Ok::<_, JobError>(scheduled && analysis_inputs::is_current(db, user_id, analysis).await?)
    };
    if correlations && unchanged(Analysis::Correlations).await? {
        tracing::info!(%user_id, "correlations skipped: no aggregate changed since the last run");
    } else if correlations {
        progress(40).await?;
        let outcome = insights::compute_correlations(db, user_id).await?;
        tracing::info!(%user_id, ?outcome, "correlations computed");
    }
    if patterns && unchanged(Analysis::Patterns).await? {
        tracing::info!(%user_id, "patterns skipped: no aggregate changed since the last run");
    } else if patterns {
        progress(70).await?;
        let outcome = insights::discover_patterns(db, user_id).await?;
        tracing::info!(%user_id, ?outcome, "patterns discovered");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json_and_unknown_kinds_are_malformed() {
        let user_id = Uuid::nil();
        let message = JobMessage {
            kind: TaskKind::AggregateDaily,
            user_id,
            task_id: None,
            full_recompute: false,
        };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(json, format!(r#"{{"kind":"aggregate_daily","user_id":"{user_id}"}}"#));
        assert_eq!(serde_json::from_str::<JobMessage>(&json).unwrap(), message);
        assert!(serde_json::from_str::<JobMessage>(r#"{"kind":"explode","user_id":"x"}"#).is_err());
    }

    #[test]
    fn only_vanished_users_are_dropped() {
        assert_eq!(JobError::UnknownUser.disposition(), Disposition::Acknowledge);
        assert_eq!(JobError::Malformed("x".into()).disposition(), Disposition::Retry);
        assert_eq!(
            JobError::Database(sqlx::Error::PoolTimedOut).disposition(),
            Disposition::Retry
        );
    }
}
