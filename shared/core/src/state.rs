//! Everything a function builds once per cold start and shares across invocations.

use aws_config::SdkConfig;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::config::{Config, ConfigError, SecretSource};
use crate::queue::{AnalysisQueue, QueueError};
use crate::secrets::{self, SecretError};
use crate::tokens::TokenKeys;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: PgPool,
    pub tokens: TokenKeys,
    pub queue: AnalysisQueue,
    pub rate_limit_per_minute: u32,
    pub auth_attempts_per_client_per_minute: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Queue(#[from] QueueError),
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
        let emulator = config.aws_endpoint_url.is_some();
        let secrets_client = aws_sdk_secretsmanager::Client::new(aws);
        let signing_key = if emulator {
            secrets::read_or_create(
                &secrets_client,
                &config.signing_key_secret_id,
                secrets::random_signing_key,
            )
            .await?
        } else {
            secrets::read(&secrets_client, &config.signing_key_secret_id).await?
        };
        let queue = analysis_queue(config, aws).await?;
        Ok(Self {
            db,
            tokens: TokenKeys::new(&signing_key),
            queue,
            rate_limit_per_minute: config.rate_limit_per_minute,
            auth_attempts_per_client_per_minute: config.auth_attempts_per_client_per_minute,
        })
    }
}

/// The database pool alone, from the environment: for functions that verify no tokens and send no messages (the
/// workers), so they neither need nor are granted the signing key or the queue.
pub async fn database_from_env() -> Result<PgPool, StartupError> {
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    database(&config, &aws).await
}

/// The pool and the analysis queue, from the environment: for the scheduled jobs, which fan out work but verify no
/// tokens.
pub async fn database_and_queue_from_env() -> Result<(PgPool, AnalysisQueue), StartupError> {
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    Ok((database(&config, &aws).await?, analysis_queue(&config, &aws).await?))
}

async fn database(config: &Config, aws: &SdkConfig) -> Result<PgPool, StartupError> {
    let database_url = match &config.database {
        SecretSource::Env(url) => url.clone(),
        SecretSource::SecretsManager { secret_id } => {
            let client = aws_sdk_secretsmanager::Client::new(aws);
            database_url_from_secret(&secrets::read(&client, secret_id).await?, secret_id)?
        }
    };
    Ok(crate::db::connect(&database_url, config.db_max_connections, config.db_acquire_timeout).await?)
}

/// The analysis queue; against a local emulator it is created when missing.
async fn analysis_queue(config: &Config, aws: &SdkConfig) -> Result<AnalysisQueue, StartupError> {
    let emulator = config.aws_endpoint_url.is_some();
    Ok(AnalysisQueue::resolve(aws_sdk_sqs::Client::new(aws), &config.analysis_queue, emulator).await?)
}

/// Accepts either a plain `postgres://` URL or the JSON document RDS-managed secrets hold
/// (`{"username","password","host","port","dbname"}`).
fn database_url_from_secret(secret: &SecretString, secret_id: &str) -> Result<SecretString, SecretError> {
    let raw = secret.expose_secret().trim();
    if !raw.starts_with('{') {
        return Ok(SecretString::from(raw.to_owned()));
    }
    #[derive(serde::Deserialize)]
    struct RdsSecret {
        username: String,
        password: String,
        host: String,
        port: Option<u16>,
        dbname: Option<String>,
    }
    let rds: RdsSecret = serde_json::from_str(raw).map_err(|_| SecretError::Read {
        id: secret_id.into(),
        reason: "not a URL nor an RDS secret document".into(),
    })?;
    let encode = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    Ok(SecretString::from(format!(
        "postgres://{}:{}@{}:{}/{}?sslmode=require",
        encode(&rds.username),
        encode(&rds.password),
        rds.host,
        rds.port.unwrap_or(5432),
        rds.dbname.as_deref().unwrap_or("glucolens")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rds_secret_documents_become_urls_with_escaped_credentials() {
        let secret = SecretString::from(
            r#"{"username":"app","password":"p@ss/w:rd","host":"db.internal","port":5433,"dbname":"gl"}"#,
        );
        let url = database_url_from_secret(&secret, "id").unwrap();
        assert_eq!(
            url.expose_secret(),
            "postgres://app:p%40ss%2Fw%3Ard@db.internal:5433/gl?sslmode=require"
        );
        let plain = database_url_from_secret(&SecretString::from("postgres://a@b/c"), "id").unwrap();
        assert_eq!(plain.expose_secret(), "postgres://a@b/c");
    }
}
