//! Activities: batch insert (one statement per batch, idempotent on `(user_id, "timestamp", activity_type, source)`).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::batch::{distinct_count, InsertCounts};
pub use glucolens_domain::records::ActivityRecord;

/// Inserts `records` for `user_id`, skipping activities already stored. Runs on a pool or `&mut *transaction`.
pub async fn insert_batch(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    records: &[ActivityRecord],
) -> Result<InsertCounts, sqlx::Error> {
    if records.is_empty() {
        return Ok(InsertCounts::default());
    }
    let starts: Vec<_> = records.iter().map(|r| r.start_time).collect();
    let types: Vec<_> = records.iter().map(|r| r.activity_type.as_str()).collect();
    let sources: Vec<_> = records.iter().map(|r| r.source.as_str()).collect();
    let durations: Vec<_> = records.iter().map(|r| r.duration_minutes).collect();
    let intensities: Vec<_> = records.iter().map(|r| r.intensity.map(|i| i.as_str())).collect();
    let calories: Vec<_> = records.iter().map(|r| r.calories).collect();
    let steps: Vec<_> = records.iter().map(|r| r.steps).collect();
    let heart_rates: Vec<_> = records.iter().map(|r| r.avg_heart_rate).collect();
    let inserted = sqlx::query(
        r#"INSERT INTO activities (user_id, "timestamp", activity_type, source, duration_minutes, intensity,
                                 calories_burned, steps, heart_rate_avg)
         SELECT $1, b.* FROM UNNEST($2::timestamptz[], $3::text[], $4::text[], $5::int4[], $6::text[],
                                    $7::float8[], $8::int4[], $9::int2[])
              AS b("timestamp", activity_type, source, duration_minutes, intensity, calories_burned, steps,
                   heart_rate_avg)
         ORDER BY b."timestamp", b.activity_type, b.source
         ON CONFLICT (user_id, "timestamp", activity_type, source) DO NOTHING"#,
    )
    .bind(user_id)
    .bind(&starts)
    .bind(&types)
    .bind(&sources)
    .bind(&durations)
    .bind(&intensities)
    .bind(&calories)
    .bind(&steps)
    .bind(&heart_rates)
    .execute(db)
    .await?
    .rows_affected();
    let distinct = distinct_count(
        records
            .iter()
            .map(|r| (r.start_time, r.activity_type.as_str(), r.source.as_str())),
    );
    Ok(InsertCounts::of(distinct, inserted))
}
