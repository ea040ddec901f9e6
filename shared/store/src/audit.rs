//! The audit trail of health-data reads: whose data, who read it (the owner, an account through a grant, or a share
//! link), what, when, request id. Never the data itself. Rows belong to the data's owner, who lists them as their
//! access log ([`access_log`]).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::{FromRow, PgPool, Postgres};
use uuid::Uuid;

use crate::records::PagePosition;

/// Who reads a user's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The owner, reading their own data.
    Owner,
    /// Another account, through the grant `share_id`.
    Account { account_id: Uuid, share_id: Uuid },
    /// Whoever holds the link of the grant `share_id`.
    Link { share_id: Uuid },
}

impl Actor {
    /// The `audit_log.actor_kind` value.
    pub fn kind(self) -> &'static str {
        match self {
            Actor::Owner => "owner",
            Actor::Account { .. } => "account",
            Actor::Link { .. } => "link",
        }
    }

    /// The reading account other than the owner.
    pub fn account_id(self) -> Option<Uuid> {
        match self {
            Actor::Account { account_id, .. } => Some(account_id),
            Actor::Owner | Actor::Link { .. } => None,
        }
    }

    /// The grant the read went through.
    pub fn share_id(self) -> Option<Uuid> {
        match self {
            Actor::Account { share_id, .. } | Actor::Link { share_id } => Some(share_id),
            Actor::Owner => None,
        }
    }
}

/// A read to record with the statement that reads the data ([`read_cte`]): what is read (e.g.
/// `dashboard_summary`), the request's id and who reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read<'a> {
    pub resource: &'a str,
    pub request_id: &'a str,
    pub actor: Actor,
}

/// How many parameters [`read_cte`] takes ([`bind_read`] binds them).
pub const READ_PARAMS: usize = 5;

/// The insert of one audit row, in a statement whose `$1` is the owner's user id; the other values are SQL
/// expressions.
fn insert_sql(action: &str, [resource, request_id, kind, actor_id, share_id]: [String; 5]) -> String {
    format!(
        "INSERT INTO audit_log (user_id, action, resource, request_id, actor_kind, actor_id, share_id)
         VALUES ($1, {action}, {resource}, {request_id}, {kind}, {actor_id}::uuid, {share_id}::uuid)"
    )
}

/// `$first`, `$first + 1`, ... as `N` SQL parameters.
fn params<const N: usize>(first: usize) -> [String; N] {
    std::array::from_fn(|i| format!("${}", first + i))
}

/// The `WITH` item `audit AS (...)` that inserts a read's audit row, for a statement that reads the data (its `$1`
/// is the owner's user id; the read's [`READ_PARAMS`] values are bound from `$first_param` on by [`bind_read`]).
/// PostgreSQL runs a data-modifying `WITH` item once and to completion whether or not the query reads it, and its
/// failure fails the whole statement: the data never leaves unaudited, and the audit costs no round trip of its own.
pub fn read_cte(first_param: usize) -> String {
    format!("audit AS ({})", insert_sql("'read'", params(first_param)))
}

/// Binds `read`'s values in the order [`read_cte`] numbers them.
pub fn bind_read<'q>(
    query: sqlx::query::Query<'q, Postgres, PgArguments>,
    read: Read<'q>,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    query
        .bind(read.resource)
        .bind(read.request_id)
        .bind(read.actor.kind())
        .bind(read.actor.account_id())
        .bind(read.actor.share_id())
}

/// Records that the owner `user_id` performed `action` (e.g. `read`) on `resource` (e.g. `glucose_readings`).
pub async fn record(
    db: &PgPool,
    user_id: Uuid,
    action: &str,
    resource: &str,
    request_id: &str,
) -> Result<(), sqlx::Error> {
    record_read_of(
        db,
        user_id,
        action,
        Read {
            resource,
            request_id,
            actor: Actor::Owner,
        },
    )
    .await
}

/// Records `read` of `owner_id`'s data, by whoever its actor is.
pub async fn record_read(db: &PgPool, owner_id: Uuid, read: Read<'_>) -> Result<(), sqlx::Error> {
    record_read_of(db, owner_id, "read", read).await
}

async fn record_read_of(db: &PgPool, owner_id: Uuid, action: &str, read: Read<'_>) -> Result<(), sqlx::Error> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let [action, rest @ ..] = params::<6>(2);
        insert_sql(&action, rest)
    });
    bind_read(sqlx::query(&SQL).bind(owner_id).bind(action), read)
        .execute(db)
        .await?;
    Ok(())
}

/// One entry of an owner's access log.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccessEntry {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub resource: String,
    pub request_id: Option<String>,
    /// `owner`, `account` or `link`.
    pub actor_kind: String,
    /// The reading account's current email (`account` reads whose account still exists).
    pub account_email: Option<String>,
    /// The grant used (unless it was erased since).
    pub share_id: Option<Uuid>,
    /// The grant's label, as its owner named it.
    pub label: Option<String>,
}

/// Up to `limit` entries of `owner_id`'s access log in `[start, end)`, newest first (by time, then id), before
/// `before` (the last entry of the previous page). The statement records `read` itself (the log is health
/// information too); its own entry appears in later reads.
pub async fn access_log(
    db: &PgPool,
    owner_id: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    before: Option<PagePosition>,
    limit: i64,
    read: Read<'_>,
) -> Result<Vec<AccessEntry>, sqlx::Error> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH {} SELECT a.id, a.occurred_at, a.action, a.resource, a.request_id, a.actor_kind,
                    reader.email AS account_email, a.share_id, s.label
             FROM audit_log a
             LEFT JOIN users reader ON reader.id = a.actor_id
             LEFT JOIN shares s ON s.id = a.share_id
             WHERE a.user_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3
               AND ($4::timestamptz IS NULL OR (a.occurred_at, a.id) < ($4::timestamptz, $5::bigint))
             ORDER BY a.occurred_at DESC, a.id DESC
             LIMIT $6",
            read_cte(7)
        )
    });
    let query = sqlx::query(&SQL)
        .bind(owner_id)
        .bind(start)
        .bind(end)
        .bind(before.map(|p| p.time))
        .bind(before.map(|p| p.id))
        .bind(limit);
    let rows = bind_read(query, read).fetch_all(db).await?;
    rows.iter().map(AccessEntry::from_row).collect()
}
