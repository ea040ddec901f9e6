//! Background tasks a user started (or an import): their lifecycle queued → running → succeeded / failed, with
//! progress and timestamps. At most one pending task per user and kind (a partial unique index), so a second trigger
//! while one is pending gets the pending one back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use glucolens_domain::task::{TaskKind, TaskStatus};

/// A task as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub kind: TaskKind,
    pub status: TaskStatus,
    /// 0–100.
    pub progress: i16,
    /// Why it failed, in words safe to show (never internal error text).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: Uuid,
    kind: String,
    status: String,
    progress: i16,
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<TaskRow> for Task {
    type Error = sqlx::Error;

    fn try_from(row: TaskRow) -> Result<Self, Self::Error> {
        Ok(Task {
            id: row.id,
            kind: decode("kind", &row.kind)?,
            status: decode("status", &row.status)?,
            progress: row.progress,
            error: row.error,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            updated_at: row.updated_at,
        })
    }
}

/// Decodes a text column holding one of an enum's snake_case names. The table's CHECK constraints admit exactly
/// those names, so a failure means schema/code skew.
fn decode<T: serde::de::DeserializeOwned>(column: &str, raw: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.into(),
        source: Box::new(e),
    })
}

const COLUMNS: &str = "id, kind, status, progress, error, created_at, started_at, finished_at, updated_at";

/// Creates a queued task, or returns the user's pending one of the same kind. `true` when newly created.
pub async fn create_or_pending(db: &PgPool, user_id: Uuid, kind: TaskKind) -> Result<(Task, bool), sqlx::Error> {
    // Two concurrent triggers: one insert wins, the other finds its row; loop once more if that pending task
    // finished in between.
    loop {
        let created: Option<TaskRow> = sqlx::query_as(&format!(
            "INSERT INTO tasks (id, user_id, kind) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, kind) WHERE status IN ('queued', 'running') DO NOTHING
             RETURNING {COLUMNS}"
        ))
        .bind(Uuid::new_v4())
        .bind(user_id)
        .bind(kind.as_str())
        .fetch_optional(db)
        .await?;
        if let Some(row) = created {
            return Ok((row.try_into()?, true));
        }
        let pending: Option<TaskRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM tasks WHERE user_id = $1 AND kind = $2 AND status IN ('queued', 'running')"
        ))
        .bind(user_id)
        .bind(kind.as_str())
        .fetch_optional(db)
        .await?;
        if let Some(row) = pending {
            return Ok((row.try_into()?, false));
        }
    }
}

/// The task `task_id` if it belongs to `user_id`.
pub async fn get(db: &PgPool, user_id: Uuid, task_id: Uuid) -> Result<Option<Task>, sqlx::Error> {
    let row: Option<TaskRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"))
        .bind(task_id)
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    row.map(Task::try_from).transpose()
}

/// Marks the task running (again, on a redelivery). Finished tasks are left alone: `false` then, and the caller
/// skips work a previous delivery already completed.
pub async fn start(db: &PgPool, user_id: Uuid, task_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE tasks SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now()
         WHERE id = $1 AND user_id = $2 AND status IN ('queued', 'running')",
    )
    .bind(task_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_progress(db: &PgPool, user_id: Uuid, task_id: Uuid, progress: u8) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tasks SET progress = $3, updated_at = now() WHERE id = $1 AND user_id = $2 AND status = 'running'",
    )
    .bind(task_id)
    .bind(user_id)
    .bind(i16::from(progress.min(100)))
    .execute(db)
    .await?;
    Ok(())
}

/// Finishes a pending task: succeeded (progress 100) when `error` is `None`, else failed with that public reason.
pub async fn finish(db: &PgPool, user_id: Uuid, task_id: Uuid, error: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tasks SET status = CASE WHEN $3::text IS NULL THEN 'succeeded' ELSE 'failed' END,
                progress = CASE WHEN $3::text IS NULL THEN 100 ELSE progress END,
                error = $3, finished_at = now(), updated_at = now()
         WHERE id = $1 AND user_id = $2 AND status IN ('queued', 'running')",
    )
    .bind(task_id)
    .bind(user_id)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}
