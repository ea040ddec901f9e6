//! Nightscout uploader access: the per-user upload secret (stored as the SHA-256 of the `api-secret` header value
//! uploaders send, itself the SHA-1 hex of the secret) and the latest readings `GET /api/v1/entries` returns.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Sets `user_id`'s upload secret hash, replacing (and so revoking) any previous one.
pub async fn replace_secret(db: &PgPool, user_id: Uuid, api_secret_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO nightscout_secrets (user_id, api_secret_hash) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET api_secret_hash = EXCLUDED.api_secret_hash, created_at = now()",
    )
    .bind(user_id)
    .bind(api_secret_hash)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes `user_id`'s upload secret; `false` when there was none.
pub async fn revoke_secret(db: &PgPool, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM nightscout_secrets WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

/// The user whose secret hash is one of `candidates`.
pub async fn user_for_secret(db: &PgPool, candidates: &[Vec<u8>]) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM nightscout_secrets WHERE api_secret_hash = ANY($1::bytea[]) LIMIT 1")
        .bind(candidates)
        .fetch_optional(db)
        .await
}

/// One stored reading as Nightscout lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reading {
    pub timestamp: DateTime<Utc>,
    /// mg/dL.
    pub value: f64,
    pub trend: Option<String>,
    pub device_id: Option<String>,
    pub source: String,
}

/// `user_id`'s latest `count` readings, newest first.
pub async fn latest_readings(db: &PgPool, user_id: Uuid, count: i64) -> Result<Vec<Reading>, sqlx::Error> {
    sqlx::query_as(
        r#"SELECT "timestamp", value::float8 AS value, trend, device_id, source FROM glucose_readings
         WHERE user_id = $1 ORDER BY "timestamp" DESC LIMIT $2"#,
    )
    .bind(user_id)
    .bind(count)
    .fetch_all(db)
    .await
}
