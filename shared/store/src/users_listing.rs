//! Keyset-paginated user listings for the scheduled fan-out: stable under concurrent sign-ups and deletions, and
//! each page costs one index range scan however far the listing has gone (unlike OFFSET).

use sqlx::PgPool;
use uuid::Uuid;

/// Which users a scheduled job fans out to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// Users with at least one day waiting for aggregation.
    WithDirtyDays,
}

/// Up to `limit` user ids greater than `after`, in id order.
pub async fn page(db: &PgPool, audience: Audience, after: Option<Uuid>, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    let sql = match audience {
        Audience::Everyone => "SELECT id FROM users WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2",
        Audience::WithDirtyDays => {
            "SELECT DISTINCT user_id FROM dirty_days WHERE $1::uuid IS NULL OR user_id > $1 ORDER BY user_id LIMIT $2"
        }
    };
    sqlx::query_scalar(sql).bind(after).bind(limit).fetch_all(db).await
}
