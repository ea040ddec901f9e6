//! Secrets Manager access. Secrets live only in memory as `SecretString`; they are never logged or templated.

use aws_sdk_secretsmanager::Client;
use rand::RngCore;
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret `{id}` could not be read: {reason}")]
    Read { id: String, reason: String },
    #[error("secret `{id}` has no string value")]
    Empty { id: String },
}

/// Reads a secret's string value.
pub async fn read(client: &Client, id: &str) -> Result<SecretString, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| SecretError::Read {
            id: id.into(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    output
        .secret_string
        .map(SecretString::from)
        .ok_or_else(|| SecretError::Empty { id: id.into() })
}

/// Local emulator only: reads the secret, creating it with `initial` if it does not exist yet.
pub async fn read_or_create(
    client: &Client,
    id: &str,
    initial: impl FnOnce() -> String,
) -> Result<SecretString, SecretError> {
    match read(client, id).await {
        Ok(value) => Ok(value),
        Err(SecretError::Read { .. }) => {
            let created = client.create_secret().name(id).secret_string(initial()).send().await;
            if let Err(e) = created {
                // Another process may have created it between our read and create; read again either way.
                tracing::debug!(error = %aws_sdk_secretsmanager::error::DisplayErrorContext(e), "create_secret");
            }
            read(client, id).await
        }
        Err(other) => Err(other),
    }
}

/// 64 random bytes, hex-encoded: a fresh HMAC signing key for a local emulator.
pub fn random_signing_key() -> String {
    let mut bytes = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Local emulator only: makes secret `id` hold `value` again — created if the emulator restarted empty, put back if
/// another process created a different one meanwhile — so the key a running server signs with outlives the
/// emulator. Returns whether anything had to change.
pub async fn restore(client: &Client, id: &str, value: &SecretString) -> Result<bool, SecretError> {
    use aws_sdk_secretsmanager::error::DisplayErrorContext;
    use secrecy::ExposeSecret;
    let written = match read(client, id).await {
        Ok(stored) if stored.expose_secret() == value.expose_secret() => return Ok(false),
        Ok(_) => client
            .put_secret_value()
            .secret_id(id)
            .secret_string(value.expose_secret())
            .send()
            .await
            .map(drop)
            .map_err(|e| DisplayErrorContext(e).to_string()),
        Err(_) => client
            .create_secret()
            .name(id)
            .secret_string(value.expose_secret())
            .send()
            .await
            .map(drop)
            .map_err(|e| DisplayErrorContext(e).to_string()),
    };
    written
        .map(|()| true)
        .map_err(|reason| SecretError::Read { id: id.into(), reason })
}
