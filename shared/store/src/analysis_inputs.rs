//! Which version of a user's daily aggregates each analysis last read, so the scheduled analyses run only where the
//! data changed (migration `20261130000070_analysis_inputs_version.sql`).

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The analyses that record the version they read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analysis {
    Correlations,
    Patterns,
}

impl Analysis {
    fn runs_table(self) -> &'static str {
        match self {
            Analysis::Correlations => "correlation_runs",
            Analysis::Patterns => "pattern_runs",
        }
    }
}

/// Counts an aggregation that changed the user's daily aggregates (inside its transaction).
pub async fn bump(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET aggregates_version = aggregates_version + 1 WHERE id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The user's current version; `None` for an unknown user.
pub async fn version(db: &PgPool, user_id: Uuid) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT aggregates_version FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Records the version an analysis read (taken before reading its inputs) on its run row.
pub async fn record(db: &PgPool, user_id: Uuid, analysis: Analysis, version: i64) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE {} SET aggregates_version = $2 WHERE user_id = $1",
        analysis.runs_table()
    ))
    .bind(user_id)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the analysis's last run read the user's current version (nothing changed since).
pub async fn is_current(db: &PgPool, user_id: Uuid, analysis: Analysis) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM {} r JOIN users u ON u.id = r.user_id
                        WHERE r.user_id = $1 AND r.aggregates_version = u.aggregates_version)",
        analysis.runs_table()
    ))
    .bind(user_id)
    .fetch_one(db)
    .await
}
