//! Cold-start wiring shared by every function's `main`: tracing, configuration, pool and clients, built once.

use crate::state::Responses;
use crate::AppState;

/// Runs an HTTP function: `build` turns the state into the function's router.
pub async fn run_http(build: impl FnOnce(AppState) -> axum::Router) -> Result<(), lambda_http::Error> {
    glucolens_aws::telemetry::init();
    let mut state = AppState::from_env().await?;
    // `lambda_http::run` collects each response whole before API Gateway (at most 6 MB) gets it.
    state.responses = Responses::Buffered;
    lambda_http::run(build(state)).await
}
