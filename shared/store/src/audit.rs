//! The audit trail of health-data reads: who, what, when, request id. Never the data itself.

use sqlx::PgPool;
use uuid::Uuid;

/// Records that `user_id` performed `action` (e.g. `read`) on `resource` (e.g. `glucose_readings`).
pub async fn record(
    db: &PgPool,
    user_id: Uuid,
    action: &str,
    resource: &str,
    request_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit_log (user_id, action, resource, request_id) VALUES ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(action)
        .bind(resource)
        .bind(request_id)
        .execute(db)
        .await?;
    Ok(())
}
