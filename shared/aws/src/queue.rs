//! The analysis queue on SQS, with a dead-letter queue after [`MAX_RECEIVES`] receives.

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;
use futures_util::stream::{self, StreamExt};
use glucolens_app::queue::JobMessage;
use glucolens_app::queue::{JobQueue, QueueError, MAX_RECEIVES};
use serde::Serialize;

/// `SendMessageBatch` calls one send keeps in flight. Each call waits on a network round trip (tens of ms on SQS),
/// so one call at a time caps a fan-out at ~10 messages per round trip: 100,000 users neared the jobs' 300 s
/// timeout. A standard queue takes far more than 32 concurrent calls; 32 keeps one instance's connections and
/// memory small, and a fan-out page (1,000 users, 100 calls) still fills about three rounds.
pub const SEND_CONCURRENCY: usize = 32;

#[derive(Clone, Debug)]
pub struct AnalysisQueue {
    client: Client,
    url: String,
    /// Against a local emulator: the queue's name, to recreate it (and its DLQ) when the emulator restarted empty.
    recreate_as: Option<String>,
    send_concurrency: usize,
}

fn sqs_error(queue: &str, error: impl std::error::Error + 'static) -> QueueError {
    QueueError::Unreachable {
        queue: queue.into(),
        reason: aws_sdk_sqs::error::DisplayErrorContext(error).to_string(),
    }
}

impl AnalysisQueue {
    /// `name_or_url` is a queue URL (deployed) or a name (local). With `create_missing` (a local emulator only) the
    /// queue and its dead-letter queue are created when absent.
    pub async fn resolve(client: Client, name_or_url: &str, create_missing: bool) -> Result<Self, QueueError> {
        if name_or_url.starts_with("http://") || name_or_url.starts_with("https://") {
            return Ok(Self {
                client,
                url: name_or_url.into(),
                recreate_as: None,
                send_concurrency: SEND_CONCURRENCY,
            });
        }
        let found = client.get_queue_url().queue_name(name_or_url).send().await;
        let url = match found {
            Ok(output) => output.queue_url.unwrap_or_default(),
            Err(_) if create_missing => create_with_dlq(&client, name_or_url).await?,
            Err(e) => return Err(sqs_error(name_or_url, e)),
        };
        Ok(Self {
            client,
            url,
            recreate_as: create_missing.then(|| name_or_url.to_owned()),
            send_concurrency: SEND_CONCURRENCY,
        })
    }

    /// The same queue with at most `calls` (at least one) `SendMessageBatch` calls in flight per send; the fan-out
    /// bench measures one at a time, the former sequential sending, against [`SEND_CONCURRENCY`].
    pub fn with_send_concurrency(self, calls: usize) -> Self {
        Self {
            send_concurrency: calls.max(1),
            ..self
        }
    }

    /// Local emulator only: creates the queue and its DLQ again if they are gone (the emulator restarted empty).
    /// Deployed queues are never created here; they belong to the template. Returns whether it had to recreate.
    pub async fn ensure_exists(&self) -> Result<bool, QueueError> {
        let Some(name) = &self.recreate_as else {
            return Ok(false);
        };
        if self.client.get_queue_url().queue_name(name).send().await.is_ok() {
            return Ok(false);
        }
        let url = create_with_dlq(&self.client, name).await?;
        if url != self.url {
            tracing::warn!(%url, "the recreated emulator queue has a new URL; restart to use it");
        }
        Ok(true)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends messages as JSON in batches of ten (SQS's maximum), up to the queue's concurrency at once; fails if any
    /// message was not accepted (the other batches are still sent, so the count is complete), or at the first call
    /// that fails outright (those still in flight are dropped). Against a local emulator that lost the queue, the
    /// queue is recreated and the whole send tried once more.
    pub async fn send_all<T: Serialize + Sync>(&self, messages: &[T]) -> Result<usize, QueueError> {
        match self.send_batches(messages).await {
            Err(QueueError::Unreachable { .. }) if self.ensure_exists().await.unwrap_or(false) => {
                self.send_batches(messages).await
            }
            outcome => outcome,
        }
    }

    async fn send_batches<T: Serialize + Sync>(&self, messages: &[T]) -> Result<usize, QueueError> {
        // A function rather than a closure: a stream holding a closure over borrowed chunks is not `Send` for every
        // lifetime, which `JobQueue` needs (a rustc limitation); the calls are still created lazily, as slots free.
        let calls = std::iter::repeat(self).zip(messages.chunks(10)).map(Self::send_batch);
        let mut calls = stream::iter(calls).buffer_unordered(self.send_concurrency);
        let mut failed = 0;
        while let Some(batch_failed) = calls.next().await {
            failed += batch_failed?;
        }
        if failed > 0 {
            return Err(QueueError::PartialSend {
                failed,
                total: messages.len(),
            });
        }
        Ok(messages.len())
    }

    /// One `SendMessageBatch` call; returns how many of its entries SQS did not accept. Takes a pair, to map an
    /// iterator of them.
    async fn send_batch<T: Serialize>((queue, chunk): (&Self, &[T])) -> Result<usize, QueueError> {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, message)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(serde_json::to_string(message).expect("queue messages serialise"))
                    .build()
                    .expect("id and body are set")
            })
            .collect::<Vec<_>>();
        let output = queue
            .client
            .send_message_batch()
            .queue_url(&queue.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sqs_error(&queue.url, e))?;
        Ok(output.failed.len())
    }
}

impl JobQueue for AnalysisQueue {
    async fn send_jobs(&self, messages: &[JobMessage]) -> Result<usize, QueueError> {
        self.send_all(messages).await
    }
}

async fn create_with_dlq(client: &Client, name: &str) -> Result<String, QueueError> {
    let dlq_name = format!("{name}-dlq");
    let dlq_url = client
        .create_queue()
        .queue_name(&dlq_name)
        .send()
        .await
        .map_err(|e| sqs_error(&dlq_name, e))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sqs_error(&dlq_name, e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    let redrive = serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES }).to_string();
    let output = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .map_err(|e| sqs_error(name, e))?;
    Ok(output.queue_url.unwrap_or_default())
}
