//! Fixed one-minute windows counted in PostgreSQL, so the limit holds across every Lambda instance.

use sqlx::PgPool;
use uuid::Uuid;

use crate::users::StoredSettings;

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
#[derive(Debug, Clone, PartialEq)]
pub enum SessionOutcome {
    /// Counted and let through, with the account's settings (what [`crate::users::settings`] reads), so a request that
    /// needs them does not ask again.
    Allowed(StoredSettings),
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
        SessionOutcome::Allowed(_) => Outcome::Allowed,
        SessionOutcome::Limited { retry_after_secs } => Outcome::Limited { retry_after_secs },
        // Without a session nothing can be revoked; an impossible answer is treated as no account.
        SessionOutcome::UnknownUser | SessionOutcome::Revoked => Outcome::UnknownUser,
    })
}

#[derive(sqlx::FromRow)]
struct Hit {
    revoked: bool,
    hits: Option<i32>,
    seconds_left: Option<f64>,
    time_zone: Option<String>,
    target_low_mg_dl: Option<f64>,
    target_high_mg_dl: Option<f64>,
    display_unit: Option<String>,
}

/// Counts one request by `user_id` holding a token of `session` (a refresh-token family; `None` for tokens bound to
/// no session). One round trip confirms the account exists, that no token of the session has been revoked (a
/// sign-out or a detected re-use revokes the whole family, so one revoked row means the session is over), counts
/// the hit, which is only recorded when the caller is let through, and reads the account's settings.
pub async fn hit_session(
    db: &PgPool,
    user_id: Uuid,
    session: Option<Uuid>,
    limit_per_minute: u32,
) -> Result<SessionOutcome, sqlx::Error> {
    // The settings columns are `users::settings`'s.
    let hit: Hit = sqlx::query_as(
        "WITH caller AS (
             SELECT u.id IS NOT NULL AS user_exists,
                    $2::uuid IS NOT NULL AND EXISTS (
                        SELECT 1 FROM refresh_tokens WHERE family_id = $2 AND revoked_at IS NOT NULL
                    ) AS revoked,
                    u.timezone AS time_zone, u.target_glucose_min::float8 AS target_low_mg_dl,
                    u.target_glucose_max::float8 AS target_high_mg_dl, u.display_unit
             FROM (VALUES (1)) AS one LEFT JOIN users u ON u.id = $1
         ), hit AS (
             INSERT INTO rate_limit_windows (bucket, window_start, hits)
             SELECT 'api:' || $1::text, date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01'), 1
             FROM caller WHERE user_exists AND NOT revoked
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
             RETURNING hits, EXTRACT(EPOCH FROM (window_start + interval '1 minute' - now()))::float8 AS seconds_left
         )
         SELECT caller.*, hit.hits, hit.seconds_left FROM caller LEFT JOIN hit ON true",
    )
    .bind(user_id)
    .bind(session)
    .fetch_one(db)
    .await?;
    // The columns are NOT NULL, so they are all present exactly when the account exists.
    let settings = (|| {
        Some(StoredSettings {
            time_zone: hit.time_zone?,
            target_low_mg_dl: hit.target_low_mg_dl?,
            target_high_mg_dl: hit.target_high_mg_dl?,
            display_unit: hit.display_unit?,
        })
    })();
    Ok(match (settings, hit.hits) {
        (None, _) => SessionOutcome::UnknownUser,
        _ if hit.revoked => SessionOutcome::Revoked,
        (Some(settings), Some(hits)) if hits as i64 <= limit_per_minute as i64 => SessionOutcome::Allowed(settings),
        _ => SessionOutcome::Limited {
            retry_after_secs: hit.seconds_left.unwrap_or(60.0).ceil().max(1.0) as u64,
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

/// Seconds until the database clock's current one-minute window ends (tests that spend a whole budget wait for a
/// fresh window rather than fail when a boundary falls between their requests).
pub async fn seconds_left_in_window(db: &PgPool) -> Result<f64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01') + interval '1 minute' - now())::float8",
    )
    .fetch_one(db)
    .await
}
