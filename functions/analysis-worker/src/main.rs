use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    glucolens_aws::telemetry::init();
    // Only the pool: the worker verifies no tokens and sends no messages (and its role may read nothing else).
    let db = &glucolens_aws::state::database_from_env().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(analysis_worker::handle_batch(db, event.payload).await)
    }))
    .await
}
