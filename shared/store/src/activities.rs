//! Activities: batch insert (one statement per batch, idempotent on `(user_id, "timestamp", activity_type, source)`).

use sqlx::{Acquire, Postgres};
use uuid::Uuid;

use crate::batch::{self, distinct_count, InsertCounts, Table};
use crate::copy::Value;
pub use glucolens_domain::records::ActivityRecord;

static TABLE: Table<8> = Table {
    name: "activities",
    columns: [
        r#""timestamp""#,
        "activity_type",
        "source",
        "duration_minutes",
        "intensity",
        "calories_burned",
        "steps",
        "heart_rate_avg",
    ],
    key: r#""timestamp", activity_type, source"#,
};

fn row(r: &ActivityRecord) -> [Value<'_>; 8] {
    [
        r.start_time.into(),
        r.activity_type.as_str().into(),
        r.source.as_str().into(),
        r.duration_minutes.into(),
        r.intensity.map(|i| i.as_str()).into(),
        r.calories.into(),
        r.steps.into(),
        r.avg_heart_rate.into(),
    ]
}

/// Inserts `records` for `user_id`, skipping activities already stored. Runs on a pool or `&mut *transaction`.
pub async fn insert_batch<'a>(
    db: impl Acquire<'a, Database = Postgres> + Send + 'a,
    user_id: Uuid,
    records: &'a [ActivityRecord],
) -> Result<InsertCounts, sqlx::Error> {
    let inserted = batch::insert(db, &TABLE, user_id, records, row).await?;
    let distinct = distinct_count(
        records
            .iter()
            .map(|r| (r.start_time, r.activity_type.as_str(), r.source.as_str())),
    );
    Ok(InsertCounts::of(distinct, inserted))
}
