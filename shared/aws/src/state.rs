//! What functions build once per cold start from the configuration: the pool, the analysis queue, the signing key.
//! Each function builds only what it uses (the workers only the pool).

use aws_config::SdkConfig;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::config::{Config, ConfigError, SecretSource};
use crate::queue::AnalysisQueue;
use crate::secrets::{self, SecretError};
use glucolens_app::queue::QueueError;

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

/// The access-token signing key. Against a local emulator it is created when missing; deployed, it belongs to the
/// template and must exist.
pub async fn signing_key(config: &Config, aws: &SdkConfig) -> Result<SecretString, StartupError> {
    let client = aws_sdk_secretsmanager::Client::new(aws);
    let key = if config.aws_endpoint_url.is_some() {
        secrets::read_or_create(&client, &config.signing_key_secret_id, secrets::random_signing_key).await?
    } else {
        secrets::read(&client, &config.signing_key_secret_id).await?
    };
    Ok(key)
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

pub async fn database(config: &Config, aws: &SdkConfig) -> Result<PgPool, StartupError> {
    let database_url = match &config.database {
        SecretSource::Env(url) => url.clone(),
        SecretSource::SecretsManager { secret_id } => {
            let client = aws_sdk_secretsmanager::Client::new(aws);
            database_url_from_secret(&secrets::read(&client, secret_id).await?, secret_id)?
        }
    };
    Ok(glucolens_store::db::connect(&database_url, config.db_max_connections, config.db_acquire_timeout).await?)
}

/// The analysis queue; against a local emulator it is created when missing.
pub async fn analysis_queue(config: &Config, aws: &SdkConfig) -> Result<AnalysisQueue, StartupError> {
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
