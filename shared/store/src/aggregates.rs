//! Queries behind the daily aggregation (`glucolens_app::aggregation`): the raw rows of a window, the dirty-day marks, and the
//! idempotent upsert of `daily_aggregates`. All run on the caller's transaction and are scoped to one user.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use glucolens_domain::aggregate::DailyAggregate;

/// A half-open UTC window `[from, to)`; `None` where the caller wants everything the user has.
pub type Window = Option<(DateTime<Utc>, DateTime<Utc>)>;

/// Deletes the user's dirty marks on dates outside `first..=last` (no accepted row can fall on them; only rows
/// written before the accepted range was enforced, or by hand, could have marked them). Returns how many.
pub async fn discard_dirty_days_outside(
    conn: &mut PgConnection,
    user_id: Uuid,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM dirty_days WHERE user_id = $1 AND (local_date < $2 OR local_date > $3)")
        .bind(user_id)
        .bind(first)
        .bind(last)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Rows of the user's four raw tables in `window` but outside `accepted` (`[from, to)`), which the aggregation
/// ignores: every query here is bounded by the caller's window, which it cuts to the accepted range.
pub async fn rows_outside(
    conn: &mut PgConnection,
    user_id: Uuid,
    window: Window,
    accepted: (DateTime<Utc>, DateTime<Utc>),
) -> Result<i64, sqlx::Error> {
    let (from, to) = window.unzip();
    let count = |column: &str, table: &str| {
        format!(
            "(SELECT count(*) FROM {table} WHERE user_id = $1 AND ({column} < $2 OR {column} >= $3)
               AND ($4::timestamptz IS NULL OR {column} >= $4) AND ($5::timestamptz IS NULL OR {column} < $5))"
        )
    };
    let sql = format!(
        "SELECT {} + {} + {} + {}",
        count(r#""timestamp""#, "glucose_readings"),
        count("sleep_start", "sleep_data"),
        count(r#""timestamp""#, "activities"),
        count(r#""timestamp""#, "meals")
    );
    sqlx::query_scalar(&sql)
        .bind(user_id)
        .bind(accepted.0)
        .bind(accepted.1)
        .bind(from)
        .bind(to)
        .fetch_one(conn)
        .await
}

/// The user's dirty days with their mark times, locked until the transaction ends: a concurrent ingestion that marks
/// the same day again waits, then re-inserts its mark after ours is deleted, so no mark is lost.
pub async fn lock_dirty_days(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<(NaiveDate, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as("SELECT local_date, marked_at FROM dirty_days WHERE user_id = $1 ORDER BY local_date FOR UPDATE")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

/// Deletes the marks that were processed: a day re-marked after it was read (a later `marked_at`) stays dirty.
pub async fn clear_dirty_days(
    conn: &mut PgConnection,
    user_id: Uuid,
    processed: &[(NaiveDate, DateTime<Utc>)],
) -> Result<u64, sqlx::Error> {
    let (dates, marked): (Vec<NaiveDate>, Vec<DateTime<Utc>>) = processed.iter().copied().unzip();
    let done = sqlx::query(
        "DELETE FROM dirty_days d USING UNNEST($2::date[], $3::timestamptz[]) AS p(local_date, marked_at)
         WHERE d.user_id = $1 AND d.local_date = p.local_date AND d.marked_at <= p.marked_at",
    )
    .bind(user_id)
    .bind(dates)
    .bind(marked)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Glucose readings in `window`, one per 5-minute slot: where several sources (or re-sends) fall in the same slot,
/// the source earliest in `preference` wins (sources not listed rank first), then the earlier reading. Sorted by time.
pub async fn readings(
    conn: &mut PgConnection,
    user_id: Uuid,
    window: Window,
    low_preference_sources: &[&str],
) -> Result<Vec<(DateTime<Utc>, f64)>, sqlx::Error> {
    let (from, to) = window.unzip();
    sqlx::query_as(
        r#"SELECT "timestamp", value FROM (
             SELECT DISTINCT ON (date_bin('5 minutes', "timestamp", TIMESTAMPTZ '2000-01-01 00:00:00+00'))
                    "timestamp", value::float8 AS value
             FROM glucose_readings
             WHERE user_id = $1 AND ($2::timestamptz IS NULL OR "timestamp" >= $2)
               AND ($3::timestamptz IS NULL OR "timestamp" < $3)
             ORDER BY date_bin('5 minutes', "timestamp", TIMESTAMPTZ '2000-01-01 00:00:00+00'),
                      coalesce(array_position($4::text[], source), 0), source, "timestamp"
         ) deduplicated ORDER BY "timestamp""#,
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(low_preference_sources)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SleepRow {
    pub sleep_start: DateTime<Utc>,
    pub sleep_end: DateTime<Utc>,
    pub source: String,
    pub deep_sleep_minutes: Option<i32>,
    pub rem_sleep_minutes: Option<i32>,
    pub awake_minutes: Option<i32>,
    /// 0–10 with one decimal.
    pub quality_score: Option<f64>,
}

impl glucolens_domain::local_day::SleepSession for SleepRow {
    fn start(&self) -> DateTime<Utc> {
        self.sleep_start
    }
    fn end(&self) -> DateTime<Utc> {
        self.sleep_end
    }
    fn source(&self) -> &str {
        &self.source
    }
}

pub async fn sleep(conn: &mut PgConnection, user_id: Uuid, window: Window) -> Result<Vec<SleepRow>, sqlx::Error> {
    let (from, to) = window.unzip();
    sqlx::query_as(
        "SELECT sleep_start, sleep_end, source, deep_sleep_minutes, rem_sleep_minutes, awake_minutes,
                quality_score::float8 AS quality_score
         FROM sleep_data
         WHERE user_id = $1 AND ($2::timestamptz IS NULL OR sleep_start >= $2)
           AND ($3::timestamptz IS NULL OR sleep_start < $3)",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub timestamp: DateTime<Utc>,
    pub duration_minutes: i32,
    pub calories_burned: Option<f64>,
    pub steps: Option<i32>,
}

pub async fn activities(
    conn: &mut PgConnection,
    user_id: Uuid,
    window: Window,
) -> Result<Vec<ActivityRow>, sqlx::Error> {
    let (from, to) = window.unzip();
    sqlx::query_as(
        r#"SELECT "timestamp", duration_minutes, calories_burned::float8 AS calories_burned, steps FROM activities
         WHERE user_id = $1 AND ($2::timestamptz IS NULL OR "timestamp" >= $2)
           AND ($3::timestamptz IS NULL OR "timestamp" < $3)"#,
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MealRow {
    pub timestamp: DateTime<Utc>,
    pub carbs_grams: f64,
    pub protein_grams: Option<f64>,
    pub fat_grams: Option<f64>,
    pub calories: Option<f64>,
}

pub async fn meals(conn: &mut PgConnection, user_id: Uuid, window: Window) -> Result<Vec<MealRow>, sqlx::Error> {
    let (from, to) = window.unzip();
    sqlx::query_as(
        r#"SELECT "timestamp", carbs_grams::float8 AS carbs_grams, protein_grams::float8 AS protein_grams,
                fat_grams::float8 AS fat_grams, calories::float8 AS calories
         FROM meals
         WHERE user_id = $1 AND ($2::timestamptz IS NULL OR "timestamp" >= $2)
           AND ($3::timestamptz IS NULL OR "timestamp" < $3)"#,
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// Dates that already have an aggregate row (a full recompute deletes those whose data is gone).
pub async fn existing_dates(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT date FROM daily_aggregates WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

/// The stored values, in one place, as (the name the domain gives it, its column): the domain's names are
/// `DailyAggregate`'s fields and the insights' factor names (`glucolens_domain::variables`). The upsert's insert
/// list, its update list and its change check follow it.
const COLUMNS: &[(&str, &str)] = &[
    ("reading_count", "reading_count"),
    ("expected_readings", "expected_readings"),
    ("coverage_percent", "coverage_percent"),
    ("sufficient_data", "sufficient_data"),
    ("mean_glucose", "avg_glucose"),
    ("median_glucose", "median_glucose"),
    ("sd_glucose", "std_glucose"),
    ("cv_percent", "cv_percent"),
    ("gmi_percent", "gmi_percent"),
    ("min_glucose", "min_glucose"),
    ("max_glucose", "max_glucose"),
    ("pct_below_54", "pct_below_54"),
    ("pct_54_69", "pct_54_69"),
    ("pct_70_180", "time_in_range_percent"),
    ("pct_181_250", "pct_181_250"),
    ("pct_above_250", "pct_above_250"),
    ("pct_below_70", "time_below_range_percent"),
    ("pct_above_180", "time_above_range_percent"),
    ("pct_in_user_target", "pct_in_user_target"),
    ("hypo_events", "hypo_events"),
    ("sleep_minutes", "total_sleep_minutes"),
    ("deep_sleep_minutes", "deep_sleep_minutes"),
    ("rem_sleep_minutes", "rem_sleep_minutes"),
    ("sleep_quality", "sleep_quality_score"),
    ("exercise_minutes", "total_exercise_minutes"),
    ("active_calories", "active_calories"),
    ("steps", "steps"),
    ("carbs_g", "total_carbs_grams"),
    ("calories", "total_calories"),
    ("protein_g", "protein_g"),
    ("fat_g", "fat_g"),
    ("meal_count", "meal_count"),
];

/// The `daily_aggregates` column that stores the value the domain calls `name` (a `DailyAggregate` field or an
/// insights factor name), or `None` for a name the table does not store.
pub fn column(name: &str) -> Option<&'static str> {
    match name {
        "local_date" => Some("date"),
        _ => COLUMNS
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, column)| *column),
    }
}

fn upsert_sql() -> String {
    let list = COLUMNS.iter().map(|(_, c)| *c).collect::<Vec<_>>().join(", ");
    let updates = COLUMNS
        .iter()
        .map(|(_, c)| format!("{c} = EXCLUDED.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let current = COLUMNS
        .iter()
        .map(|(_, c)| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let incoming = COLUMNS
        .iter()
        .map(|(_, c)| format!("EXCLUDED.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    // Rows arrive as one JSON array (one round trip however many days); an unchanged day is not rewritten, so a
    // redelivered message leaves even `computed_at` as it was.
    format!(
        "INSERT INTO daily_aggregates AS a (user_id, date, {list})
         SELECT $1, date, {list} FROM jsonb_populate_recordset(NULL::daily_aggregates, $2)
         ON CONFLICT (user_id, date) DO UPDATE SET {updates}, computed_at = now()
         WHERE ({current}) IS DISTINCT FROM ({incoming})"
    )
}

/// `rows` as the JSON array `jsonb_populate_recordset` reads: one object per day, keyed by column.
fn to_columns(rows: &[DailyAggregate]) -> Result<serde_json::Value, serde_json::Error> {
    rows.iter()
        .map(|row| match serde_json::to_value(row)? {
            serde_json::Value::Object(fields) => Ok(fields
                .into_iter()
                .map(|(name, value)| (column(&name).map_or(name, str::to_owned), value))
                .collect()),
            other => Ok(other),
        })
        .collect()
}

/// Inserts or updates `rows` (all of `user_id`); returns the rows actually written.
pub async fn upsert(conn: &mut PgConnection, user_id: Uuid, rows: &[DailyAggregate]) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let json = to_columns(rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let done = sqlx::query(&upsert_sql())
        .bind(user_id)
        .bind(json)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Removes the aggregates of days that no longer have any data.
pub async fn delete_days(conn: &mut PgConnection, user_id: Uuid, dates: &[NaiveDate]) -> Result<u64, sqlx::Error> {
    if dates.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query("DELETE FROM daily_aggregates WHERE user_id = $1 AND date = ANY($2)")
        .bind(user_id)
        .bind(dates)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
