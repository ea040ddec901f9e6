//! Logging setup. Log lines carry ids, counts and timings, never health values, emails or tokens.

use tracing_subscriber::{fmt, EnvFilter};

/// Initialises the global subscriber once: JSON lines under Lambda (CloudWatch adds timestamps), human-readable text
/// locally. The level comes from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`, else `info`.
pub fn init() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| EnvFilter::new(level.to_lowercase()))
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,sqlx=warn"));
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = fmt().with_env_filter(filter).with_target(false);
    let result = if on_lambda {
        builder.json().without_time().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests, the local server hosting several handlers) keeps the first subscriber.
    drop(result);
}
