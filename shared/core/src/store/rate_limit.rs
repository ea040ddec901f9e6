//! Fixed one-minute windows counted in PostgreSQL, so the limit holds across every Lambda instance.

use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Limited {
        retry_after_secs: u64,
    },
    /// The token is valid but its account was deleted.
    UnknownUser,
}

/// Counts one request by `user_id`; one round trip that also confirms the account still exists.
pub async fn hit_user(db: &PgPool, user_id: Uuid, limit_per_minute: u32) -> Result<Outcome, sqlx::Error> {
    let row: Option<(i32, f64)> = sqlx::query_as(
        "INSERT INTO rate_limit_windows (bucket, window_start, hits)
         SELECT 'api:' || $1::text, date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01'), 1
         WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
         RETURNING hits, EXTRACT(EPOCH FROM (window_start + interval '1 minute' - now()))::float8",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Outcome::UnknownUser,
        Some((hits, _)) if hits as i64 <= limit_per_minute as i64 => Outcome::Allowed,
        Some((_, seconds_left)) => Outcome::Limited {
            retry_after_secs: seconds_left.ceil().max(1.0) as u64,
        },
    })
}

/// Counts one event in `bucket` (an opaque key, never an email in clear) and returns the hits in this minute.
pub async fn hit(db: &PgPool, bucket: &str) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO rate_limit_windows (bucket, window_start, hits)
         VALUES ($1, date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01'), 1)
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
         RETURNING hits",
    )
    .bind(bucket)
    .fetch_one(db)
    .await
}

/// Deletes windows older than an hour (run by the daily job).
pub async fn prune(db: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM rate_limit_windows WHERE window_start < now() - interval '1 hour'")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
