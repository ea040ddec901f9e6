//! Import jobs: one row per imported file, scoped to its owner. The worker finds a row by its S3 object key and
//! claims it once, so a repeated S3 notification imports nothing twice.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    AwaitingUpload,
    Running,
    Succeeded,
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::AwaitingUpload => "awaiting_upload",
            ImportStatus::Running => "running",
            ImportStatus::Succeeded => "succeeded",
            ImportStatus::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Self {
        match raw {
            "awaiting_upload" => ImportStatus::AwaitingUpload,
            "running" => ImportStatus::Running,
            "succeeded" => ImportStatus::Succeeded,
            _ => ImportStatus::Failed,
        }
    }
}

/// One import as stored.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Import {
    pub id: Uuid,
    #[serde(skip)]
    pub user_id: Uuid,
    /// `dexcom_clarity`, `libreview`, `nightscout_entries` or `apple_health`.
    pub format: String,
    pub status: ImportStatus,
    /// The outcome's counts (see the import report), once finished successfully.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Why the import failed (e.g. the line where the file is cut off).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    user_id: Uuid,
    format: String,
    status: String,
    report: Option<serde_json::Value>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<Row> for Import {
    fn from(row: Row) -> Self {
        Import {
            id: row.id,
            user_id: row.user_id,
            format: row.format,
            status: ImportStatus::parse(&row.status),
            report: row.report,
            error: row.error,
            created_at: row.created_at,
            finished_at: row.finished_at,
        }
    }
}

const COLUMNS: &str = "id, user_id, format, status, report, error, created_at, finished_at";

/// Records a new import `id` for `user_id`. `object_key` is set for uploads through S3.
pub async fn create(
    db: impl PgExecutor<'_>,
    id: Uuid,
    user_id: Uuid,
    format: &str,
    status: ImportStatus,
    object_key: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO imports (id, user_id, format, status, object_key) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(user_id)
        .bind(format)
        .bind(status.as_str())
        .bind(object_key)
        .execute(db)
        .await?;
    Ok(())
}

/// The caller's import `id`; another user's is `None`, exactly like a missing one.
pub async fn get(db: &PgPool, user_id: Uuid, id: Uuid) -> Result<Option<Import>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports WHERE id = $1 AND user_id = $2"))
        .bind(id)
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(Import::from))
}

/// Moves the import uploaded as `object_key` from `awaiting_upload` to `running` and returns it; `None` when there
/// is no such import or another delivery of the same S3 event already claimed it.
pub async fn claim_upload(db: &PgPool, object_key: &str) -> Result<Option<Import>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "UPDATE imports SET status = 'running' WHERE object_key = $1 AND status = 'awaiting_upload'
         RETURNING {COLUMNS}"
    ))
    .bind(object_key)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Import::from))
}

/// Records how import `id` of `user_id` ended: its report, or the error that stopped it.
pub async fn finish(
    db: &PgPool,
    user_id: Uuid,
    id: Uuid,
    outcome: Result<&serde_json::Value, &str>,
) -> Result<(), sqlx::Error> {
    let (status, report, error) = match outcome {
        Ok(report) => (ImportStatus::Succeeded, Some(report), None),
        Err(error) => (
            ImportStatus::Failed,
            None,
            Some(error.chars().take(2000).collect::<String>()),
        ),
    };
    sqlx::query(
        "UPDATE imports SET status = $3, report = $4, error = $5, finished_at = now() WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .bind(status.as_str())
    .bind(report)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}
