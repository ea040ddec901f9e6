//! The analysis queue (SQS, with a dead-letter queue).

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;
use serde::Serialize;

/// Receives before a message moves to the dead-letter queue (the template sets the same for AWS).
pub const MAX_RECEIVES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue `{queue}`: {reason}")]
    Sqs { queue: String, reason: String },
    #[error("{failed} of {total} messages were not accepted by the queue")]
    PartialSend { failed: usize, total: usize },
}

#[derive(Clone, Debug)]
pub struct AnalysisQueue {
    client: Client,
    url: String,
}

fn sqs_error(queue: &str, error: impl std::error::Error + 'static) -> QueueError {
    QueueError::Sqs {
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
            });
        }
        let found = client.get_queue_url().queue_name(name_or_url).send().await;
        let url = match found {
            Ok(output) => output.queue_url.unwrap_or_default(),
            Err(_) if create_missing => create_with_dlq(&client, name_or_url).await?,
            Err(e) => return Err(sqs_error(name_or_url, e)),
        };
        Ok(Self { client, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends messages as JSON in batches of ten (SQS's maximum); fails if any message was not accepted.
    pub async fn send_all<T: Serialize>(&self, messages: &[T]) -> Result<usize, QueueError> {
        let mut failed = 0;
        for chunk in messages.chunks(10) {
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
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sqs_error(&self.url, e))?;
            failed += output.failed.len();
        }
        if failed > 0 {
            return Err(QueueError::PartialSend {
                failed,
                total: messages.len(),
            });
        }
        Ok(messages.len())
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
