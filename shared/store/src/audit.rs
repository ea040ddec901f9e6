//! The audit trail of health-data reads: who, what, when, request id. Never the data itself.

use std::sync::LazyLock;

use sqlx::PgPool;
use uuid::Uuid;

/// A read to record with the statement that reads the data ([`read_cte`]): what is read (e.g.
/// `dashboard_summary`) and the request's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read<'a> {
    pub resource: &'a str,
    pub request_id: &'a str,
}

/// The insert of one audit row, in a statement whose `$1` is the user id; the other values are SQL expressions.
fn insert_sql(action: &str, resource: &str, request_id: &str) -> String {
    format!(
        "INSERT INTO audit_log (user_id, action, resource, request_id) VALUES ($1, {action}, {resource}, {request_id})"
    )
}

/// The `WITH` item `audit AS (...)` that inserts a read's audit row, for a statement that reads the data (its `$1`
/// is the reader's user id; the resource and request id are bound as `$resource_param` and the parameter after it).
/// PostgreSQL runs a data-modifying `WITH` item once and to completion whether or not the query reads it, and its
/// failure fails the whole statement: the data never leaves unaudited, and the audit costs no round trip of its own.
pub fn read_cte(resource_param: usize) -> String {
    let insert = insert_sql(
        "'read'",
        &format!("${resource_param}"),
        &format!("${}", resource_param + 1),
    );
    format!("audit AS ({insert})")
}

/// Records that `user_id` performed `action` (e.g. `read`) on `resource` (e.g. `glucose_readings`).
pub async fn record(
    db: &PgPool,
    user_id: Uuid,
    action: &str,
    resource: &str,
    request_id: &str,
) -> Result<(), sqlx::Error> {
    static SQL: LazyLock<String> = LazyLock::new(|| insert_sql("$2", "$3", "$4"));
    sqlx::query(&SQL)
        .bind(user_id)
        .bind(action)
        .bind(resource)
        .bind(request_id)
        .execute(db)
        .await?;
    Ok(())
}
