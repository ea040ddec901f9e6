//! Meals: batch insert (one statement per batch, idempotent on `(user_id, "timestamp", source)`).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::batch::{distinct_count, InsertCounts};
pub use glucolens_domain::records::MealRecord;

/// Inserts `records` for `user_id`, skipping meals already stored. Runs on a pool or `&mut *transaction`.
pub async fn insert_batch(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    records: &[MealRecord],
) -> Result<InsertCounts, sqlx::Error> {
    if records.is_empty() {
        return Ok(InsertCounts::default());
    }
    let grams = |f: fn(&MealRecord) -> Option<f64>| records.iter().map(f).collect::<Vec<_>>();
    let times: Vec<_> = records.iter().map(|r| r.eaten_at).collect();
    let sources: Vec<_> = records.iter().map(|r| r.source.as_str()).collect();
    let meal_types: Vec<_> = records.iter().map(|r| r.meal_type.map(|m| m.as_str())).collect();
    let carbs: Vec<_> = records.iter().map(|r| r.carbs_g).collect();
    let descriptions: Vec<_> = records.iter().map(|r| r.description.as_deref()).collect();
    let photo_urls: Vec<_> = records.iter().map(|r| r.photo_url.as_deref()).collect();
    let inserted = sqlx::query(
        r#"INSERT INTO meals (user_id, "timestamp", source, meal_type, carbs_grams, protein_grams, fat_grams,
                            fiber_grams, calories, glycemic_load, description, photo_url)
         SELECT $1, b.* FROM UNNEST($2::timestamptz[], $3::text[], $4::text[], $5::float8[], $6::float8[],
                                    $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::text[],
                                    $12::text[])
              AS b("timestamp", source, meal_type, carbs_grams, protein_grams, fat_grams, fiber_grams, calories,
                   glycemic_load, description, photo_url)
         ORDER BY b."timestamp", b.source
         ON CONFLICT (user_id, "timestamp", source) DO NOTHING"#,
    )
    .bind(user_id)
    .bind(&times)
    .bind(&sources)
    .bind(&meal_types)
    .bind(&carbs)
    .bind(grams(|r| r.protein_g))
    .bind(grams(|r| r.fat_g))
    .bind(grams(|r| r.fiber_g))
    .bind(grams(|r| r.calories))
    .bind(grams(|r| r.glycemic_load))
    .bind(&descriptions)
    .bind(&photo_urls)
    .execute(db)
    .await?
    .rows_affected();
    let distinct = distinct_count(records.iter().map(|r| (r.eaten_at, r.source.as_str())));
    Ok(InsertCounts::of(distinct, inserted))
}
