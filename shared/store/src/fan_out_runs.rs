//! How far each scheduled fan-out run got (one row per job kind and run key), so an interrupted run resumes after
//! the last user whose message was confirmed sent. Not user data: no query here is scoped to a user.

use glucolens_domain::task::TaskKind;
use sqlx::PgPool;
use uuid::Uuid;

/// What earlier attempts of a run achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Resume after this user (id order); `None`: start at the first.
    pub last_user_id: Option<Uuid>,
    /// Users messaged by all attempts so far.
    pub users_sent: i64,
    /// This attempt included.
    pub attempts: i32,
    pub finished: bool,
}

/// Starts run `run_key` of `kind`, or counts one more attempt of it, and returns its progress so far.
pub async fn start(db: &PgPool, kind: TaskKind, run_key: &str) -> Result<Progress, sqlx::Error> {
    let (last_user_id, users_sent, attempts, finished) = sqlx::query_as(
        "INSERT INTO fan_out_runs (kind, run_key) VALUES ($1, $2)
         ON CONFLICT (kind, run_key) DO UPDATE SET attempts = fan_out_runs.attempts + 1, updated_at = now()
         RETURNING last_user_id, users_sent, attempts, finished_at IS NOT NULL",
    )
    .bind(kind.as_str())
    .bind(run_key)
    .fetch_one(db)
    .await?;
    Ok(Progress {
        last_user_id,
        users_sent,
        attempts,
        finished,
    })
}

/// Records that `users` more users, up to `last_user_id`, were sent their messages. The cursor only moves forward,
/// so an overlapping attempt (a duplicate event) that is behind cannot move it back.
pub async fn advance(
    db: &PgPool,
    kind: TaskKind,
    run_key: &str,
    last_user_id: Uuid,
    users: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE fan_out_runs
         SET last_user_id = GREATEST(last_user_id, $3), users_sent = users_sent + $4, updated_at = now()
         WHERE kind = $1 AND run_key = $2",
    )
    .bind(kind.as_str())
    .bind(run_key)
    .bind(last_user_id)
    .bind(users)
    .execute(db)
    .await
    .map(drop)
}

/// Marks the run done: every user was messaged.
pub async fn finish(db: &PgPool, kind: TaskKind, run_key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE fan_out_runs SET finished_at = now(), updated_at = now()
         WHERE kind = $1 AND run_key = $2 AND finished_at IS NULL",
    )
    .bind(kind.as_str())
    .bind(run_key)
    .execute(db)
    .await
    .map(drop)
}
