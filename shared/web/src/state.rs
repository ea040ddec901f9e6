//! What an HTTP function builds once per cold start and shares across invocations.

use aws_config::SdkConfig;
use glucolens_aws::config::Config;
use glucolens_aws::queue::AnalysisQueue;
use glucolens_aws::state::{analysis_queue, database, signing_key, StartupError};
use glucolens_credentials::tokens::TokenKeys;
use sqlx::PgPool;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: PgPool,
    pub tokens: TokenKeys,
    pub queue: AnalysisQueue,
    pub rate_limit_per_minute: u32,
    pub auth_attempts_per_client_per_minute: u32,
    /// How answers reach the client: streamed unless [`crate::lambda::run_http`] says otherwise.
    pub responses: Responses,
}

/// How this process's answers reach the client, which decides how a download too large for one response is
/// delivered (the account export).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Responses {
    /// The body goes out as it is produced (`glucolens serve`, tests).
    #[default]
    Streamed,
    /// Lambda behind API Gateway: the runtime buffers the whole body and API Gateway refuses one over 6 MB, so a
    /// large download is written to S3 and answered with a link to it.
    Buffered,
}

impl AppState {
    /// Reads the environment, loads secrets and builds the pool and clients. `AWS_ENDPOINT_URL` (a local emulator)
    /// is honoured by the SDK itself.
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let aws = aws_config::load_from_env().await;
        Self::from_config(&config, &aws).await
    }

    pub async fn from_config(config: &Config, aws: &SdkConfig) -> Result<Self, StartupError> {
        let db = database(config, aws).await?;
        Self::with_pool(db, config, aws).await
    }

    /// Builds the state around an existing pool (tests pass the fresh per-test database's pool).
    pub async fn with_pool(db: PgPool, config: &Config, aws: &SdkConfig) -> Result<Self, StartupError> {
        let signing_key = signing_key(config, aws).await?;
        let queue = analysis_queue(config, aws).await?;
        Ok(Self {
            db,
            tokens: TokenKeys::new(&signing_key),
            queue,
            rate_limit_per_minute: config.rate_limit_per_minute,
            auth_attempts_per_client_per_minute: config.auth_attempts_per_client_per_minute,
            responses: Responses::default(),
        })
    }
}
