#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    glucolens_web::lambda::run_http(api_reports::router).await
}
