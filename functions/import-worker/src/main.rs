use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    glucolens_aws::telemetry::init();
    // Only the pool and the bucket: the worker verifies no tokens and sends no messages.
    let db = glucolens_aws::state::database_from_env().await?;
    let bucket = glucolens_aws::storage::UploadBucket::from_env().await?;
    let (db, bucket) = (&db, &bucket);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        import_worker::handle(db, bucket, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
