//! Typed configuration, read from the environment once per cold start.

use std::time::Duration;

use secrecy::SecretString;

/// Where a secret comes from: a Secrets Manager id (production and local emulator) or, for the database URL only,
/// a plain environment variable for local development and tests.
#[derive(Debug, Clone)]
pub enum SecretSource {
    SecretsManager { secret_id: String },
    Env(SecretString),
}

/// Registration and sign-in attempts allowed per client address per (fixed) minute, together, by default.
pub const AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE: u32 = 20;

#[derive(Debug, Clone)]
pub struct Config {
    pub database: SecretSource,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    /// Secrets Manager id of the access-token signing key.
    pub signing_key_secret_id: String,
    /// URL (or, against a local emulator, name) of the analysis queue.
    pub analysis_queue: String,
    /// Requests a user may make per minute, across all Lambda instances.
    pub rate_limit_per_minute: u32,
    /// Registration and sign-in attempts per client address per minute (`AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE`).
    pub auth_attempts_per_client_per_minute: u32,
    /// Set when talking to a local AWS emulator (moto): missing queues and secrets are then created on demand.
    pub aws_endpoint_url: Option<String>,
}

/// A required variable is missing or malformed; functions fail at cold start rather than per request.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can supply variables without touching the process env.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database = match (lookup("DATABASE_SECRET_ID"), lookup("DATABASE_URL")) {
            (Some(secret_id), _) => SecretSource::SecretsManager { secret_id },
            (None, Some(url)) => SecretSource::Env(SecretString::from(url)),
            (None, None) => return Err(ConfigError("set DATABASE_URL or DATABASE_SECRET_ID".into())),
        };
        Ok(Self {
            database,
            db_max_connections: parse_or(&lookup, "DB_MAX_CONNECTIONS", 4)?,
            db_acquire_timeout: Duration::from_secs(parse_or(&lookup, "DB_ACQUIRE_TIMEOUT_SECS", 5)?),
            signing_key_secret_id: lookup("SIGNING_KEY_SECRET_ID").unwrap_or_else(|| "glucolens/signing-key".into()),
            analysis_queue: lookup("ANALYSIS_QUEUE_URL").unwrap_or_else(|| "glucolens-analysis".into()),
            rate_limit_per_minute: parse_or(&lookup, "RATE_LIMIT_PER_MINUTE", 100)?,
            auth_attempts_per_client_per_minute: parse_or(
                &lookup,
                "AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE",
                AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE,
            )?,
            aws_endpoint_url: lookup("AWS_ENDPOINT_URL"),
        })
    }
}

fn parse_or<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match lookup(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a number, got `{raw}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_secret_id_wins_over_url_and_numbers_are_checked() {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_SECRET_ID" => Some("db".into()),
            "DATABASE_URL" => Some("postgres://x".into()),
            _ => None,
        })
        .unwrap();
        assert!(matches!(config.database, SecretSource::SecretsManager { .. }));
        assert_eq!(config.rate_limit_per_minute, 100);

        let error = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("postgres://x".into()),
            "RATE_LIMIT_PER_MINUTE" => Some("many".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(error.0.contains("RATE_LIMIT_PER_MINUTE"));
        assert!(Config::from_lookup(|_| None).is_err());
    }
}
