//! Queries behind the daily aggregation (`glucolens_app::aggregation`): the raw rows of some days, the dirty-day marks,
//! the idempotent upsert of `daily_aggregates`, and the read of stored days for the summaries. All run on the
//! caller's connection or transaction and are scoped to one user.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, Postgres, Row};
use uuid::Uuid;

use crate::audit;
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

/// Where the rows of some local days lie, in UTC: readings, activities and meals in `[from, to)`; sleep starting in
/// `[nights_from, nights_to)`, since a day's night may begin after its midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaysSpan {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub nights_from: DateTime<Utc>,
    pub nights_to: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Deserialize)]
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

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ActivityRow {
    pub timestamp: DateTime<Utc>,
    pub duration_minutes: i32,
    pub calories_burned: Option<f64>,
    pub steps: Option<i32>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct MealRow {
    pub timestamp: DateTime<Utc>,
    pub carbs_grams: f64,
    pub protein_grams: Option<f64>,
    pub fat_grams: Option<f64>,
    pub calories: Option<f64>,
}

/// The raw rows of some days, as the aggregation reads them.
#[derive(Debug, Default)]
pub struct DayRows {
    /// One reading per 5-minute slot (see [`day_rows`]), sorted by time, mg/dL.
    pub readings: Vec<(DateTime<Utc>, f64)>,
    pub sleep: Vec<SleepRow>,
    pub activities: Vec<ActivityRow>,
    pub meals: Vec<MealRow>,
}

#[derive(sqlx::FromRow)]
struct DayRowsColumns {
    reading_times: Vec<DateTime<Utc>>,
    reading_values: Vec<f64>,
    sleep: Option<Json<Vec<SleepRow>>>,
    activities: Option<Json<Vec<ActivityRow>>>,
    meals: Option<Json<Vec<MealRow>>>,
}

/// The `WITH` item `span(lo, hi, nights_lo, nights_hi)` holding `count` spans, bound four parameters each from
/// `$first_param` on ([`bind_spans`]). A `VALUES` list of parameters, unlike `UNNEST` of array parameters, tells the
/// planner how many spans there are even in a generic plan, so PostgreSQL settles on the prepared statement's generic
/// plan instead of planning it again at every execution (measured: planning took three times the execution).
fn span_cte(count: usize, first_param: usize) -> String {
    if count == 0 {
        return "span(lo, hi, nights_lo, nights_hi) AS (
                    SELECT NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz WHERE false)"
            .to_owned();
    }
    let rows: Vec<String> = (0..count)
        .map(|i| {
            let p = first_param + 4 * i;
            format!(
                "(${p}::timestamptz, ${}::timestamptz, ${}::timestamptz, ${}::timestamptz)",
                p + 1,
                p + 2,
                p + 3
            )
        })
        .collect();
    format!("span(lo, hi, nights_lo, nights_hi) AS (VALUES {})", rows.join(", "))
}

/// Binds the parameters of [`span_cte`].
fn bind_spans<'q>(
    mut query: sqlx::query::Query<'q, Postgres, PgArguments>,
    spans: &[DaysSpan],
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    for span in spans {
        query = query
            .bind(span.from)
            .bind(span.to)
            .bind(span.nights_from)
            .bind(span.nights_to);
    }
    query
}

/// The raw rows in the `span` rows as one row: the readings as two arrays (a full recompute reads a year of them),
/// the few sleep, activity and meal rows as JSON. `$1` is the user, `$2` the low-preference sources.
const DAY_ROWS_SELECT: &str = r#"SELECT reading.times AS reading_times, reading.vals AS reading_values,
         (SELECT json_agg(x) FROM (
             SELECT s.sleep_start, s.sleep_end, s.source, s.deep_sleep_minutes, s.rem_sleep_minutes,
                    s.awake_minutes, s.quality_score::float8 AS quality_score
             FROM span JOIN sleep_data s
               ON s.user_id = $1 AND s.sleep_start >= span.nights_lo AND s.sleep_start < span.nights_hi
         ) x) AS sleep,
         (SELECT json_agg(x) FROM (
             SELECT a."timestamp", a.duration_minutes, a.calories_burned::float8 AS calories_burned, a.steps
             FROM span JOIN activities a
               ON a.user_id = $1 AND a."timestamp" >= span.lo AND a."timestamp" < span.hi
         ) x) AS activities,
         (SELECT json_agg(x) FROM (
             SELECT m."timestamp", m.carbs_grams::float8 AS carbs_grams, m.protein_grams::float8 AS protein_grams,
                    m.fat_grams::float8 AS fat_grams, m.calories::float8 AS calories
             FROM span JOIN meals m
               ON m.user_id = $1 AND m."timestamp" >= span.lo AND m."timestamp" < span.hi
         ) x) AS meals
     FROM (
         -- One aggregation over the deduplicated readings feeds both arrays the same rows in the same order.
         SELECT coalesce(array_agg("timestamp"), '{}') AS times, coalesce(array_agg(value), '{}') AS vals
         FROM (
             SELECT DISTINCT ON (date_bin('5 minutes', g."timestamp", TIMESTAMPTZ '2000-01-01 00:00:00+00'))
                    g."timestamp", g.value::float8 AS value
             FROM span JOIN glucose_readings g
               ON g.user_id = $1 AND g."timestamp" >= span.lo AND g."timestamp" < span.hi
             ORDER BY date_bin('5 minutes', g."timestamp", TIMESTAMPTZ '2000-01-01 00:00:00+00'),
                      coalesce(array_position($2::text[], g.source), 0), g.source, g."timestamp"
         ) deduplicated
     ) reading"#;

/// The four raw tables' rows in `spans` (disjoint) in one round trip. Readings come one per 5-minute slot: where
/// several sources (or re-sends) fall in one slot, a source not in `low_preference_sources` wins, then the one
/// earliest in that list, then the lexically first source, then the earlier reading.
pub async fn day_rows(
    conn: &mut PgConnection,
    user_id: Uuid,
    spans: &[DaysSpan],
    low_preference_sources: &[&str],
) -> Result<DayRows, sqlx::Error> {
    if spans.is_empty() {
        return Ok(DayRows::default());
    }
    let sql = format!("WITH {} {DAY_ROWS_SELECT}", span_cte(spans.len(), 3));
    let query = sqlx::query(&sql).bind(user_id).bind(low_preference_sources);
    let row = bind_spans(query, spans).fetch_one(conn).await?;
    Ok(DayRowsColumns::from_row(&row)?.into())
}

impl From<DayRowsColumns> for DayRows {
    fn from(columns: DayRowsColumns) -> Self {
        // Sorted here rather than by two ordered aggregates in the database.
        let mut readings: Vec<(DateTime<Utc>, f64)> =
            columns.reading_times.into_iter().zip(columns.reading_values).collect();
        readings.sort_unstable_by_key(|&(time, _)| time);
        Self {
            readings,
            sleep: json_rows(columns.sleep),
            activities: json_rows(columns.activities),
            meals: json_rows(columns.meals),
        }
    }
}

/// `json_agg` of no rows is NULL.
fn json_rows<T>(json: Option<Json<Vec<T>>>) -> Vec<T> {
    json.map(|Json(rows)| rows).unwrap_or_default()
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
    ("activity_count", "activity_count"),
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

/// A stored day and its dirty marks.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDay {
    pub day: DailyAggregate,
    /// The day is marked dirty: its row is stale.
    pub dirty: bool,
    /// The next day is marked: the night of this day may have changed (a night begun after midnight marks the
    /// next day), nothing else of it.
    pub next_dirty: bool,
}

/// What [`read_days`] finds.
#[derive(Debug, Default)]
pub struct ReadDays {
    pub stored: Vec<StoredDay>,
    /// The raw rows of the spans asked for, as [`day_rows`] reads them.
    pub rows: DayRows,
}

/// In one statement, so one round trip: records `audit` (a read that cannot be audited fails, and no row leaves),
/// reads the user's stored days in `first..=last` with their dirty marks, and the raw rows of `spans` (days the
/// caller computes live whatever is stored, such as today) as [`day_rows`] does. The stored days come as rows and
/// the raw rows as one more row whose date is null.
pub async fn read_days(
    conn: &mut PgConnection,
    user_id: Uuid,
    (first, last): (NaiveDate, NaiveDate),
    spans: &[DaysSpan],
    low_preference_sources: &[&str],
    audit: audit::Read<'_>,
) -> Result<ReadDays, sqlx::Error> {
    static STORED: LazyLock<String> = LazyLock::new(|| {
        let columns = COLUMNS
            .iter()
            .map(|(_, c)| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let nulls = vec!["NULL"; COLUMNS.len()].join(", ");
        let marked =
            |date: &str| format!("EXISTS (SELECT 1 FROM dirty_days d WHERE d.user_id = $1 AND d.local_date = {date})");
        format!(
            "SELECT a.date, {columns}, {} AS dirty, {} AS next_dirty,
                    NULL::timestamptz[] AS reading_times, NULL::float8[] AS reading_values, NULL::json AS sleep,
                    NULL::json AS activities, NULL::json AS meals
             FROM daily_aggregates a WHERE a.user_id = $1 AND a.date BETWEEN $3 AND $4
             UNION ALL
             SELECT NULL, {nulls}, NULL, NULL, raw.* FROM ({DAY_ROWS_SELECT}) raw",
            marked("a.date"),
            marked("a.date + 1"),
        )
    });
    let spans_from = 5 + audit::READ_PARAMS;
    let sql = format!(
        "WITH {}, {} {}",
        audit::read_cte(5),
        span_cte(spans.len(), spans_from),
        *STORED
    );
    let query = sqlx::query(&sql)
        .bind(user_id)
        .bind(low_preference_sources)
        .bind(first)
        .bind(last);
    let query = audit::bind_read(query, audit);
    let mut read = ReadDays::default();
    for row in bind_spans(query, spans).fetch_all(conn).await? {
        if row.try_get::<Option<NaiveDate>, _>("date")?.is_some() {
            read.stored.push(StoredDay {
                day: stored_day(&row)?,
                dirty: row.try_get("dirty")?,
                next_dirty: row.try_get("next_dirty")?,
            });
        } else {
            read.rows = DayRowsColumns::from_row(&row)?.into();
        }
    }
    Ok(read)
}

/// A `daily_aggregates` row as the domain's day, each field read from its column ([`column`]).
fn stored_day(row: &PgRow) -> Result<DailyAggregate, sqlx::Error> {
    fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
        row: &'r PgRow,
        field: &str,
    ) -> Result<T, sqlx::Error> {
        row.try_get(column(field).unwrap_or(field))
    }
    Ok(DailyAggregate {
        local_date: get(row, "local_date")?,
        reading_count: get(row, "reading_count")?,
        expected_readings: get(row, "expected_readings")?,
        coverage_percent: get(row, "coverage_percent")?,
        sufficient_data: get(row, "sufficient_data")?,
        mean_glucose: get(row, "mean_glucose")?,
        median_glucose: get(row, "median_glucose")?,
        sd_glucose: get(row, "sd_glucose")?,
        cv_percent: get(row, "cv_percent")?,
        gmi_percent: get(row, "gmi_percent")?,
        min_glucose: get(row, "min_glucose")?,
        max_glucose: get(row, "max_glucose")?,
        pct_below_54: get(row, "pct_below_54")?,
        pct_54_69: get(row, "pct_54_69")?,
        pct_70_180: get(row, "pct_70_180")?,
        pct_181_250: get(row, "pct_181_250")?,
        pct_above_250: get(row, "pct_above_250")?,
        pct_below_70: get(row, "pct_below_70")?,
        pct_above_180: get(row, "pct_above_180")?,
        pct_in_user_target: get(row, "pct_in_user_target")?,
        hypo_events: get(row, "hypo_events")?,
        sleep_minutes: get(row, "sleep_minutes")?,
        deep_sleep_minutes: get(row, "deep_sleep_minutes")?,
        rem_sleep_minutes: get(row, "rem_sleep_minutes")?,
        sleep_quality: get(row, "sleep_quality")?,
        exercise_minutes: get(row, "exercise_minutes")?,
        activity_count: get(row, "activity_count")?,
        active_calories: get(row, "active_calories")?,
        steps: get(row, "steps")?,
        carbs_g: get(row, "carbs_g")?,
        calories: get(row, "calories")?,
        protein_g: get(row, "protein_g")?,
        fat_g: get(row, "fat_g")?,
        meal_count: get(row, "meal_count")?,
    })
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
