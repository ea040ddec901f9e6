//! Glucose readings: batch insert (one statement per batch, idempotent on `(user_id, "timestamp", source)`).

use sqlx::{Acquire, Postgres};
use uuid::Uuid;

use crate::batch::{self, distinct_count, InsertCounts, Table};
use crate::copy::Value;
pub use glucolens_domain::records::GlucoseRecord;

static TABLE: Table<6> = Table {
    name: "glucose_readings",
    columns: [r#""timestamp""#, "source", "value", "trend", "device_id", "clipped"],
    key: r#""timestamp", source"#,
};

fn row(r: &GlucoseRecord) -> [Value<'_>; 6] {
    [
        r.time.into(),
        r.source.as_str().into(),
        r.value.get().into(),
        r.trend.as_deref().into(),
        r.device.as_deref().into(),
        r.clipped.into(),
    ]
}

/// Inserts `records` for `user_id`, skipping readings already stored. Pass `&mut *transaction` to run it inside a
/// transaction (ingestion marks dirty days in the same one), or a pool.
pub async fn insert_batch<'a>(
    db: impl Acquire<'a, Database = Postgres> + Send + 'a,
    user_id: Uuid,
    records: &'a [GlucoseRecord],
) -> Result<InsertCounts, sqlx::Error> {
    let inserted = batch::insert(db, &TABLE, user_id, records, row).await?;
    let distinct = distinct_count(records.iter().map(|r| (r.time, r.source.as_str())));
    Ok(InsertCounts::of(distinct, inserted))
}
