use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    glucolens_core::telemetry::init();
    let state = glucolens_core::AppState::from_env().await?;
    let db = &state.db;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(analysis_worker::handle_batch(db, event.payload).await)
    }))
    .await
}
