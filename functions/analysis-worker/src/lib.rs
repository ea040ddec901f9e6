//! The analysis worker: the SQS event source mapping hands it batches of [`glucolens_app::queue::JobMessage`]s.
//! Each record is processed on its own; only the failed ones are returned as `batchItemFailures`
//! (`ReportBatchItemFailures`), so one bad message neither redoes nor loses its neighbours. Which errors are
//! retried and which are dropped is decided in `glucolens_app::jobs` (see its module documentation).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use glucolens_app::jobs::{self, Disposition};
use sqlx::PgPool;

/// Processes a batch; records are handled one after another, which keeps one worker's database load to one
/// connection (the template caps the worker's concurrency for the same reason).
pub async fn handle_batch(db: &PgPool, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        if handle_record(db, &record).await == Disposition::Retry {
            response.add_failure(record.message_id.unwrap_or_default());
        }
    }
    response
}

async fn handle_record(db: &PgPool, record: &SqsMessage) -> Disposition {
    let message_id = record.message_id.as_deref().unwrap_or("");
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let body = record.body.as_deref().unwrap_or("");
    match jobs::process_body(db, body, receive_count).await {
        Ok(()) => Disposition::Acknowledge,
        Err(error) => {
            let disposition = error.disposition();
            // The error text names no health values (bodies hold only ids and kinds).
            tracing::warn!(message_id, receive_count, %error, ?disposition, "job message failed");
            disposition
        }
    }
}

/// What one local poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollOutcome {
    pub received: usize,
    pub failed: usize,
}

/// Plays the Lambda SQS event source mapping once, for local runs (`glucolens serve`, `glucolens job --drain`) and
/// tests: long-polls up to ten messages, hands them to [`handle_batch`] as an `SqsEvent`, and deletes those not
/// reported as failures. Failures stay in the queue, reappear after `visibility_timeout_secs` (the queue's own
/// when `None`) and move to the DLQ after `MAX_RECEIVES` receives, as on AWS.
pub async fn poll_once(
    db: &PgPool,
    queue: &glucolens_aws::queue::AnalysisQueue,
    wait_secs: i32,
    visibility_timeout_secs: Option<i32>,
) -> Result<PollOutcome, glucolens_app::queue::QueueError> {
    use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

    let sqs_error = |error: &dyn std::fmt::Display| glucolens_app::queue::QueueError::Unreachable {
        queue: queue.url().into(),
        reason: error.to_string(),
    };
    let received = queue
        .client()
        .receive_message()
        .queue_url(queue.url())
        .max_number_of_messages(10)
        .wait_time_seconds(wait_secs)
        .set_visibility_timeout(visibility_timeout_secs)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .map_err(|e| sqs_error(&aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .messages
        .unwrap_or_default();
    if received.is_empty() {
        return Ok(PollOutcome::default());
    }
    let mut event = SqsEvent::default();
    let mut receipts = std::collections::HashMap::new();
    for message in received {
        let mut record = SqsMessage::default();
        record.message_id = message.message_id.clone();
        record.body = message.body;
        record.attributes = message
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name.as_str().to_owned(), value))
            .collect();
        receipts.insert(message.message_id.unwrap_or_default(), message.receipt_handle);
        event.records.push(record);
    }
    let outcome_received = event.records.len();
    let response = handle_batch(db, event).await;
    for failure in &response.batch_item_failures {
        receipts.remove(&failure.item_identifier);
    }
    let deletions: Vec<DeleteMessageBatchRequestEntry> = receipts
        .into_iter()
        .filter_map(|(id, receipt)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(id)
                .set_receipt_handle(receipt)
                .build()
                .ok()
        })
        .collect();
    if !deletions.is_empty() {
        queue
            .client()
            .delete_message_batch()
            .queue_url(queue.url())
            .set_entries(Some(deletions))
            .send()
            .await
            .map_err(|e| sqs_error(&aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    }
    Ok(PollOutcome {
        received: outcome_received,
        failed: response.batch_item_failures.len(),
    })
}
