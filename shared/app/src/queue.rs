//! The analysis queue as the application sees it: the message ([`JobMessage`]) and somewhere to put it
//! ([`JobQueue`]). The SQS implementation (and its dead-letter queue) is `glucolens_aws::queue`; the pipeline
//! (`crate::jobs`) never names an AWS type.

use std::future::Future;

use glucolens_domain::task::TaskKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Receives before a message moves to the dead-letter queue (the template and the local queue set the same). The
/// worker gives up on a failing message on its last receive.
pub const MAX_RECEIVES: u32 = 3;

/// One unit of work for one user, as JSON on the analysis queue:
/// `{"kind":"aggregate_daily","user_id":"…","task_id":"…"}` (`task_id` only for on-demand work).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    pub kind: TaskKind,
    pub user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<Uuid>,
    /// Recompute every day rather than only the dirty ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_recompute: bool,
}

/// A send the queue did not accept; the API answers 503 naming the queue, the worker retries.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue `{queue}`: {reason}")]
    Unreachable { queue: String, reason: String },
    #[error("{failed} of {total} messages were not accepted by the queue")]
    PartialSend { failed: usize, total: usize },
}

/// Where the pipeline puts work: all of `messages` are accepted, or the send fails. A failed send may still have
/// delivered some of them (batches go out concurrently); whoever sends them again relies on processing being
/// idempotent (`crate::jobs`).
pub trait JobQueue: Sync {
    fn send_jobs(&self, messages: &[JobMessage]) -> impl Future<Output = Result<usize, QueueError>> + Send;
}
