//! Local days whose daily aggregate must be recomputed. Ingestion marks them in the same transaction that writes
//! the data; the aggregation job consumes them. Days are the user's *local* calendar dates.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use glucolens_domain::{rules, UserTimeZone};

/// Every UTC offset in use since 2000 is a multiple of 15 minutes, so all instants of one 15-minute UTC slot share
/// one local date in every zone: one instant per slot is enough to find the dates.
const SLOT_SECONDS: i64 = 15 * 60;

/// Marks the local dates (in `time_zone`) of every instant in `times` dirty for `user_id`; a day already marked
/// gets a fresh `marked_at`, so a job that started before this write can tell it must run again. Returns the number
/// of distinct days marked. Dates are upserted in order, so concurrent transactions lock them in the same order and
/// cannot deadlock. Instants outside the accepted range ([`rules::check_time`]; callers have already refused them)
/// mark nothing, so no impossible local date is ever marked.
pub async fn mark(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    time_zone: UserTimeZone,
    times: &[DateTime<Utc>],
) -> Result<u64, sqlx::Error> {
    if times.is_empty() {
        return Ok(0);
    }
    // 90 days of 5-minute readings shrink from 25,920 instants to 8,640 slots before the database converts them.
    let now = Utc::now();
    let mut slots: Vec<DateTime<Utc>> = times
        .iter()
        .filter(|t| rules::check_time(**t, now).is_ok())
        .filter_map(|t| DateTime::from_timestamp(t.timestamp().div_euclid(SLOT_SECONDS) * SLOT_SECONDS, 0))
        .collect();
    slots.sort_unstable();
    slots.dedup();
    if slots.is_empty() {
        return Ok(0);
    }
    let marked = sqlx::query(
        "INSERT INTO dirty_days (user_id, local_date)
         SELECT DISTINCT $1::uuid, (t AT TIME ZONE $2)::date FROM UNNEST($3::timestamptz[]) AS t ORDER BY 2
         ON CONFLICT (user_id, local_date) DO UPDATE SET marked_at = EXCLUDED.marked_at",
    )
    .bind(user_id)
    .bind(time_zone.name())
    .bind(&slots)
    .execute(db)
    .await?
    .rows_affected();
    Ok(marked)
}
