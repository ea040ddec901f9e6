//! Glucose readings: batch insert (one statement per batch, idempotent on `(user_id, "timestamp", source)`).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::batch::{distinct_count, InsertCounts};
pub use glucolens_domain::records::GlucoseRecord;

/// Inserts `records` for `user_id`, skipping readings already stored. Pass `&mut *transaction` to run it inside a
/// transaction (ingestion marks dirty days in the same one), or a pool.
pub async fn insert_batch(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    records: &[GlucoseRecord],
) -> Result<InsertCounts, sqlx::Error> {
    if records.is_empty() {
        return Ok(InsertCounts::default());
    }
    let n = records.len();
    let (mut times, mut sources, mut values, mut trends, mut devices, mut clipped) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in records {
        times.push(r.time);
        sources.push(r.source.as_str());
        values.push(r.value.get());
        trends.push(r.trend.as_deref());
        devices.push(r.device.as_deref());
        clipped.push(r.clipped);
    }
    let inserted = sqlx::query(
        r#"INSERT INTO glucose_readings (user_id, "timestamp", source, value, trend, device_id, clipped)
         SELECT $1, b.* FROM UNNEST($2::timestamptz[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::bool[])
              AS b("timestamp", source, value, trend, device_id, clipped)
         ORDER BY b."timestamp", b.source
         ON CONFLICT (user_id, "timestamp", source) DO NOTHING"#,
    )
    .bind(user_id)
    .bind(&times)
    .bind(&sources)
    .bind(&values)
    .bind(&trends)
    .bind(&devices)
    .bind(&clipped)
    .execute(db)
    .await?
    .rows_affected();
    let distinct = distinct_count(records.iter().map(|r| (r.time, r.source.as_str())));
    Ok(InsertCounts::of(distinct, inserted))
}
