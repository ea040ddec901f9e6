//! Sleep sessions: batch insert (one statement per batch, idempotent on `(user_id, sleep_start, source)`).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::batch::{distinct_count, InsertCounts};
pub use glucolens_domain::records::SleepRecord;

/// Inserts `records` for `user_id`, skipping sessions already stored. Runs on a pool or `&mut *transaction`.
pub async fn insert_batch(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    records: &[SleepRecord],
) -> Result<InsertCounts, sqlx::Error> {
    if records.is_empty() {
        return Ok(InsertCounts::default());
    }
    let column = |f: fn(&SleepRecord) -> Option<i32>| records.iter().map(f).collect::<Vec<_>>();
    let starts: Vec<_> = records.iter().map(|r| r.start_time).collect();
    let ends: Vec<_> = records.iter().map(|r| r.end_time).collect();
    let sources: Vec<_> = records.iter().map(|r| r.source.as_str()).collect();
    // `numeric(3,1)`: the score's tenths divided by ten are exact in `numeric`.
    let quality_tenths: Vec<_> = records.iter().map(|r| r.quality.map(|q| q.tenths())).collect();
    let inserted = sqlx::query(
        "INSERT INTO sleep_data (user_id, sleep_start, sleep_end, source, deep_sleep_minutes, light_sleep_minutes,
                                 rem_sleep_minutes, awake_minutes, quality_score)
         SELECT $1, b.sleep_start, b.sleep_end, b.source, b.deep, b.light, b.rem, b.awake, b.quality_tenths / 10.0
         FROM UNNEST($2::timestamptz[], $3::timestamptz[], $4::text[], $5::int4[], $6::int4[], $7::int4[],
                     $8::int4[], $9::int2[])
              AS b(sleep_start, sleep_end, source, deep, light, rem, awake, quality_tenths)
         ORDER BY b.sleep_start, b.source
         ON CONFLICT (user_id, sleep_start, source) DO NOTHING",
    )
    .bind(user_id)
    .bind(&starts)
    .bind(&ends)
    .bind(&sources)
    .bind(column(|r| r.deep_minutes))
    .bind(column(|r| r.light_minutes))
    .bind(column(|r| r.rem_minutes))
    .bind(column(|r| r.awake_minutes))
    .bind(&quality_tenths)
    .execute(db)
    .await?
    .rows_affected();
    let distinct = distinct_count(records.iter().map(|r| (r.start_time, r.source.as_str())));
    Ok(InsertCounts::of(distinct, inserted))
}
