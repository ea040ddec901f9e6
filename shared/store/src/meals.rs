//! Meals: batch insert (one statement per batch, idempotent on `(user_id, "timestamp", source)`).

use sqlx::{Acquire, Postgres};
use uuid::Uuid;

use crate::batch::{self, distinct_count, InsertCounts, Table};
use crate::copy::Value;
pub use glucolens_domain::records::MealRecord;

static TABLE: Table<11> = Table {
    name: "meals",
    columns: [
        r#""timestamp""#,
        "source",
        "meal_type",
        "carbs_grams",
        "protein_grams",
        "fat_grams",
        "fiber_grams",
        "calories",
        "glycemic_load",
        "description",
        "photo_url",
    ],
    key: r#""timestamp", source"#,
};

fn row(r: &MealRecord) -> [Value<'_>; 11] {
    [
        r.eaten_at.into(),
        r.source.as_str().into(),
        r.meal_type.map(|m| m.as_str()).into(),
        r.carbs_g.into(),
        r.protein_g.into(),
        r.fat_g.into(),
        r.fiber_g.into(),
        r.calories.into(),
        r.glycemic_load.into(),
        r.description.as_deref().into(),
        r.photo_url.as_deref().into(),
    ]
}

/// Inserts `records` for `user_id`, skipping meals already stored. Runs on a pool or `&mut *transaction`.
pub async fn insert_batch<'a>(
    db: impl Acquire<'a, Database = Postgres> + Send + 'a,
    user_id: Uuid,
    records: &'a [MealRecord],
) -> Result<InsertCounts, sqlx::Error> {
    let inserted = batch::insert(db, &TABLE, user_id, records, row).await?;
    let distinct = distinct_count(records.iter().map(|r| (r.eaten_at, r.source.as_str())));
    Ok(InsertCounts::of(distinct, inserted))
}
