#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    scheduled_jobs::run(glucolens_domain::task::TaskKind::DiscoverPatterns).await
}
