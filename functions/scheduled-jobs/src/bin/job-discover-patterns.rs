#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    scheduled_jobs::run(glucolens_core::domain::task::TaskKind::DiscoverPatterns).await
}
