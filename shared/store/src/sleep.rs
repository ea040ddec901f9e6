//! Sleep sessions: batch insert (one statement per batch, idempotent on `(user_id, sleep_start, source)`).

use sqlx::{Acquire, Postgres};
use uuid::Uuid;

use crate::batch::{self, distinct_count, InsertCounts, Table};
use crate::copy::Value;
pub use glucolens_domain::records::SleepRecord;

static TABLE: Table<8> = Table {
    name: "sleep_data",
    columns: [
        "sleep_start",
        "sleep_end",
        "source",
        "deep_sleep_minutes",
        "light_sleep_minutes",
        "rem_sleep_minutes",
        "awake_minutes",
        "quality_score",
    ],
    key: "sleep_start, source",
};

fn row(r: &SleepRecord) -> [Value<'_>; 8] {
    [
        r.start_time.into(),
        r.end_time.into(),
        r.source.as_str().into(),
        r.deep_minutes.into(),
        r.light_minutes.into(),
        r.rem_minutes.into(),
        r.awake_minutes.into(),
        // `numeric(3,1)`: tenths / 10 as float8 converts back to the exact tenths.
        r.quality.map(|q| q.get()).into(),
    ]
}

/// Inserts `records` for `user_id`, skipping sessions already stored. Runs on a pool or `&mut *transaction`.
pub async fn insert_batch<'a>(
    db: impl Acquire<'a, Database = Postgres> + Send + 'a,
    user_id: Uuid,
    records: &'a [SleepRecord],
) -> Result<InsertCounts, sqlx::Error> {
    let inserted = batch::insert(db, &TABLE, user_id, records, row).await?;
    let distinct = distinct_count(records.iter().map(|r| (r.start_time, r.source.as_str())));
    Ok(InsertCounts::of(distinct, inserted))
}
