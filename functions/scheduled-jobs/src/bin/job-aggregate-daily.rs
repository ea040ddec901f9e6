#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    scheduled_jobs::run(glucolens_core::store::tasks::TaskKind::AggregateDaily).await
}
