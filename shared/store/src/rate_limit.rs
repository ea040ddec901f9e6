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

/// What counting a bearer's request found, for tokens bound to a session ([`hit_session`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOutcome {
    Allowed,
    Limited {
        retry_after_secs: u64,
    },
    /// The token is valid but its account was deleted.
    UnknownUser,
    /// The token's session (refresh-token family) was signed out or revoked for re-use.
    Revoked,
}

/// Counts one request by `user_id`; one round trip that also confirms the account still exists.
pub async fn hit_user(db: &PgPool, user_id: Uuid, limit_per_minute: u32) -> Result<Outcome, sqlx::Error> {
    Ok(match hit_session(db, user_id, None, limit_per_minute).await? {
        SessionOutcome::Allowed => Outcome::Allowed,
        SessionOutcome::Limited { retry_after_secs } => Outcome::Limited { retry_after_secs },
        // Without a session nothing can be revoked; an impossible answer is treated as no account.
        SessionOutcome::UnknownUser | SessionOutcome::Revoked => Outcome::UnknownUser,
    })
}

/// Counts one request by `user_id` holding a token of `session` (a refresh-token family; `None` for tokens bound to
/// no session). One round trip confirms the account exists, that no token of the session has been revoked (a
/// sign-out or a detected re-use revokes the whole family, so one revoked row means the session is over), and counts
/// the hit, which is only recorded when the caller is let through.
pub async fn hit_session(
    db: &PgPool,
    user_id: Uuid,
    session: Option<Uuid>,
    limit_per_minute: u32,
) -> Result<SessionOutcome, sqlx::Error> {
    let (user_exists, revoked, hits, seconds_left): (bool, bool, Option<i32>, Option<f64>) = sqlx::query_as(
        "WITH caller AS (
             SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) AS user_exists,
                    $2::uuid IS NOT NULL AND EXISTS (
                        SELECT 1 FROM refresh_tokens WHERE family_id = $2 AND revoked_at IS NOT NULL
                    ) AS revoked
         ), hit AS (
             INSERT INTO rate_limit_windows (bucket, window_start, hits)
             SELECT 'api:' || $1::text, date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01'), 1
             FROM caller WHERE user_exists AND NOT revoked
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
             RETURNING hits, EXTRACT(EPOCH FROM (window_start + interval '1 minute' - now()))::float8 AS seconds_left
         )
         SELECT caller.user_exists, caller.revoked, hit.hits, hit.seconds_left FROM caller LEFT JOIN hit ON true",
    )
    .bind(user_id)
    .bind(session)
    .fetch_one(db)
    .await?;
    Ok(match (hits, seconds_left) {
        _ if !user_exists => SessionOutcome::UnknownUser,
        _ if revoked => SessionOutcome::Revoked,
        (Some(hits), _) if hits as i64 <= limit_per_minute as i64 => SessionOutcome::Allowed,
        (_, seconds_left) => SessionOutcome::Limited {
            retry_after_secs: seconds_left.unwrap_or(60.0).ceil().max(1.0) as u64,
        },
    })
}

/// Counts one event in `bucket` and says whether it is within `limit_per_minute`; when not, how many seconds remain
/// in the current window (for `Retry-After`).
pub async fn hit_limited(db: &PgPool, bucket: &str, limit_per_minute: u32) -> Result<Option<u64>, sqlx::Error> {
    let (hits, seconds_left): (i32, f64) = sqlx::query_as(
        "INSERT INTO rate_limit_windows (bucket, window_start, hits)
         VALUES ($1, date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01'), 1)
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
         RETURNING hits, EXTRACT(EPOCH FROM (window_start + interval '1 minute' - now()))::float8",
    )
    .bind(bucket)
    .fetch_one(db)
    .await?;
    Ok((hits as i64 > limit_per_minute as i64).then(|| seconds_left.ceil().max(1.0) as u64))
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
