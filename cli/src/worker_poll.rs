//! Locally, the CLI plays the Lambda SQS event source mapping: it polls the analysis queue and hands batches to the
//! worker's handler (`analysis_worker::poll_once`), in the background of `glucolens serve` or until the queue is
//! empty (`glucolens job ... --drain`).

use std::time::Duration;

use analysis_worker::{poll_once, PollOutcome};
use glucolens_web::AppState;

/// Long-poll wait per receive, within SQS's 0–20 s.
const WAIT_SECS: i32 = 5;

/// Processes messages until a receive comes back empty. Failed messages stay queued (and reappear after the
/// queue's visibility timeout), as on AWS.
pub async fn drain(state: &AppState) -> anyhow::Result<PollOutcome> {
    let mut total = PollOutcome::default();
    loop {
        let outcome = poll_once(&state.db, &state.queue, 1, None).await?;
        if outcome.received == 0 {
            return Ok(total);
        }
        total.received += outcome.received;
        total.failed += outcome.failed;
    }
}

/// Polls forever (until the task is aborted); a queue error is logged and retried after a pause.
pub async fn run(state: AppState) {
    loop {
        match poll_once(&state.db, &state.queue, WAIT_SECS, None).await {
            Ok(outcome) if outcome.received > 0 => {
                tracing::info!(
                    received = outcome.received,
                    failed = outcome.failed,
                    "processed analysis messages"
                )
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "polling the analysis queue failed; retrying");
                tokio::time::sleep(Duration::from_secs(WAIT_SECS as u64)).await;
            }
        }
    }
}
