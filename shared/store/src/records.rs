//! The four kinds of stored records (glucose readings, sleep sessions, activities, meals) read back by range or
//! by id, corrected, deleted, and followed through a change feed. One generic implementation over
//! [`RecordTable`]; each kind only names its table, its time column and its columns, and writes its own UPDATE.
//!
//! Rows carry the design's column names, which are also their JSON names. `id` is what clients address a record
//! by; every query is scoped to the caller's user id, so another user's id is simply not found.
//!
//! # The change feed
//! A write stamps `updated_at = now()`, the writing transaction's *start*; a deletion leaves a tombstone in
//! `deleted_records`. A client that has synced up to an anchor `H` asks for changes stamped at or after `H`.
//! A transaction still running when a feed is read may later commit rows stamped *before* the moment of the read,
//! so the anchor handed out is not "now" but [`sync_horizon`]: the start of the oldest transaction still running
//! (or now). Everything stamped before it is committed and was visible; what is stamped after it comes again in
//! the next sync, so a client may see a record twice (it applies changes by id) but never misses one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use glucolens_domain::records::{
    ActivityRecord, GlucoseRecord, Intensity, MealRecord, MealType, SleepQuality, SleepRecord,
};
use glucolens_domain::MgDl;

/// A kind of record: its table and how its rows are read and rewritten.
pub trait RecordTable: for<'r> FromRow<'r, PgRow> + Serialize + Send + Unpin + 'static {
    /// The kind's name in `deleted_records.record_type`.
    const RECORD_TYPE: &'static str;
    const TABLE: &'static str;
    /// The instant records are ordered and ranged by.
    const TIME_COLUMN: &'static str;
    /// The select list, every column under its JSON name.
    const COLUMNS: &'static str;
    /// The validated record a correction replaces the row with.
    type Record: Send + Sync;

    fn id(&self) -> i64;
    fn time(&self) -> DateTime<Utc>;
    fn updated_at(&self) -> DateTime<Utc>;
    /// The row as the record it was written from (for the days it touches).
    fn record(&self) -> Self::Record;

    /// Replaces every written field of row `id` with `record`'s and stamps `updated_at`; `None` when the user has
    /// no such row. A correction that moves the record onto another stored record's natural key fails with a
    /// unique violation (23505).
    fn update(
        db: &mut PgConnection,
        user_id: Uuid,
        id: i64,
        record: &Self::Record,
    ) -> impl std::future::Future<Output = Result<Option<Self>, sqlx::Error>> + Send;
}

/// Where a range page ended: records are ordered by `(time, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePosition {
    pub time: DateTime<Utc>,
    pub id: i64,
}

/// Up to `limit` records of `user_id` whose time is in `[start, end)`, after `after`, ordered by `(time, id)`.
pub async fn page<T: RecordTable>(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    after: Option<PagePosition>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error> {
    // Without a position, `(time, id) > (start, -1)` admits every record at `start` (ids are positive).
    let after = after.unwrap_or(PagePosition { time: start, id: -1 });
    let sql = format!(
        "SELECT {columns} FROM {table}
         WHERE user_id = $1 AND {time} >= $2 AND {time} < $3 AND ({time}, id) > ($4, $5)
         ORDER BY {time}, id LIMIT $6",
        columns = T::COLUMNS,
        table = T::TABLE,
        time = T::TIME_COLUMN,
    );
    sqlx::query_as(&sql)
        .bind(user_id)
        .bind(start)
        .bind(end)
        .bind(after.time)
        .bind(after.id)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// The user's record `id`, locked against concurrent corrections when `for_update`.
pub async fn get<T: RecordTable>(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: i64,
    for_update: bool,
) -> Result<Option<T>, sqlx::Error> {
    let lock = if for_update { "FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE user_id = $1 AND id = $2 {lock}",
        columns = T::COLUMNS,
        table = T::TABLE
    );
    sqlx::query_as(&sql).bind(user_id).bind(id).fetch_optional(db).await
}

/// Deletes the user's record `id` and leaves its tombstone; returns the row as it was, `None` if there was none.
/// Run it in a transaction so the row and the tombstone go together.
pub async fn delete<T: RecordTable>(db: &mut PgConnection, user_id: Uuid, id: i64) -> Result<Option<T>, sqlx::Error> {
    let sql = format!(
        "DELETE FROM {table} WHERE user_id = $1 AND id = $2 RETURNING {columns}",
        columns = T::COLUMNS,
        table = T::TABLE
    );
    let Some(row) = sqlx::query_as::<_, T>(&sql)
        .bind(user_id)
        .bind(id)
        .fetch_optional(&mut *db)
        .await?
    else {
        return Ok(None);
    };
    bury(db, user_id, T::RECORD_TYPE, &[id]).await?;
    Ok(Some(row))
}

/// Deletes the user's glucose readings in `[start, end)` (of `source` only, when given), leaving tombstones;
/// returns the instants of the deleted readings. Run it in a transaction.
pub async fn delete_glucose_range(
    db: &mut PgConnection,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    source: Option<&str>,
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    let deleted: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "DELETE FROM glucose_readings
         WHERE user_id = $1 AND \"timestamp\" >= $2 AND \"timestamp\" < $3 AND ($4::text IS NULL OR source = $4)
         RETURNING id, \"timestamp\"",
    )
    .bind(user_id)
    .bind(start)
    .bind(end)
    .bind(source)
    .fetch_all(&mut *db)
    .await?;
    let ids: Vec<i64> = deleted.iter().map(|(id, _)| *id).collect();
    bury(db, user_id, GlucoseRow::RECORD_TYPE, &ids).await?;
    Ok(deleted.into_iter().map(|(_, time)| time).collect())
}

/// Leaves tombstones for deleted records.
async fn bury(db: &mut PgConnection, user_id: Uuid, record_type: &str, ids: &[i64]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO deleted_records (user_id, record_type, record_id)
         SELECT $1, $2, id FROM UNNEST($3::int8[]) AS id ORDER BY id
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(record_type)
    .bind(ids)
    .execute(db)
    .await?;
    Ok(())
}

/// The anchor a completed sync may resume from (see the module comment): the start of the oldest transaction
/// still running in this database, or now. Only transactions of sessions this role may see count, so every
/// writer must connect as the same role as the API (it does: one role per deployment).
pub async fn sync_horizon(db: impl PgExecutor<'_>) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT least(now(), min(xact_start)) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
    )
    .fetch_one(db)
    .await
}

/// One entry of a change feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    /// Added or corrected since the anchor: the record as it is now.
    Upserted(T),
    Deleted {
        id: i64,
        deleted_at: DateTime<Utc>,
    },
}

impl<T: RecordTable> Change<T> {
    /// The feed's order: `(changed at, id)`.
    pub fn position(&self) -> PagePosition {
        match self {
            Change::Upserted(row) => PagePosition {
                time: row.updated_at(),
                id: row.id(),
            },
            Change::Deleted { id, deleted_at } => PagePosition {
                time: *deleted_at,
                id: *id,
            },
        }
    }
}

/// Up to `limit` changes of the user's records of kind `T` stamped at or after `since`, after `after`, in
/// `(changed at, id)` order. Ids are never reused, so a record and a tombstone never share a position.
pub async fn changes<T: RecordTable>(
    db: &mut PgConnection,
    user_id: Uuid,
    since: DateTime<Utc>,
    after: Option<PagePosition>,
    limit: i64,
) -> Result<Vec<Change<T>>, sqlx::Error> {
    let after = after.unwrap_or(PagePosition { time: since, id: -1 });
    let sql = format!(
        "SELECT {columns} FROM {table}
         WHERE user_id = $1 AND updated_at >= $2 AND (updated_at, id) > ($3, $4)
         ORDER BY updated_at, id LIMIT $5",
        columns = T::COLUMNS,
        table = T::TABLE
    );
    let upserted: Vec<T> = sqlx::query_as(&sql)
        .bind(user_id)
        .bind(since)
        .bind(after.time)
        .bind(after.id)
        .bind(limit)
        .fetch_all(&mut *db)
        .await?;
    let deleted: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT record_id, deleted_at FROM deleted_records
         WHERE user_id = $1 AND record_type = $2 AND deleted_at >= $3 AND (deleted_at, record_id) > ($4, $5)
         ORDER BY deleted_at, record_id LIMIT $6",
    )
    .bind(user_id)
    .bind(T::RECORD_TYPE)
    .bind(since)
    .bind(after.time)
    .bind(after.id)
    .bind(limit)
    .fetch_all(&mut *db)
    .await?;
    let mut all: Vec<Change<T>> = upserted
        .into_iter()
        .map(Change::Upserted)
        .chain(
            deleted
                .into_iter()
                .map(|(id, deleted_at)| Change::Deleted { id, deleted_at }),
        )
        .collect();
    all.sort_by_key(|change| (change.position().time, change.position().id));
    all.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(all)
}

/// A stored glucose reading, in mg/dL.
#[derive(Debug, Clone, PartialEq, FromRow, Serialize, utoipa::ToSchema)]
pub struct GlucoseRow {
    pub id: i64,
    pub timestamp: DateTime<Utc>,
    /// mg/dL.
    pub value: f64,
    pub source: String,
    pub trend: Option<String>,
    pub device_id: Option<String>,
    /// The device reported an out-of-range marker (e.g. Dexcom `High`) mapped to the range's limit.
    pub clipped: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RecordTable for GlucoseRow {
    const RECORD_TYPE: &'static str = "glucose";
    const TABLE: &'static str = "glucose_readings";
    const TIME_COLUMN: &'static str = "\"timestamp\"";
    const COLUMNS: &'static str = "id, \"timestamp\", value::float8 AS value, source, trend, device_id, clipped, \
                                   created_at, updated_at";
    type Record = GlucoseRecord;

    fn id(&self) -> i64 {
        self.id
    }
    fn time(&self) -> DateTime<Utc> {
        self.timestamp
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    fn record(&self) -> GlucoseRecord {
        GlucoseRecord {
            time: self.timestamp,
            source: self.source.clone(),
            value: MgDl::from_stored(self.value),
            trend: self.trend.clone(),
            device: self.device_id.clone(),
            clipped: self.clipped,
        }
    }

    async fn update(
        db: &mut PgConnection,
        user_id: Uuid,
        id: i64,
        r: &GlucoseRecord,
    ) -> Result<Option<Self>, sqlx::Error> {
        let sql = format!(
            "UPDATE glucose_readings SET \"timestamp\" = $3, source = $4, value = $5, trend = $6, device_id = $7,
                    clipped = $8, updated_at = now()
             WHERE user_id = $1 AND id = $2 RETURNING {}",
            Self::COLUMNS
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(id)
            .bind(r.time)
            .bind(&r.source)
            .bind(r.value.get())
            .bind(&r.trend)
            .bind(&r.device)
            .bind(r.clipped)
            .fetch_optional(db)
            .await
    }
}

/// A stored sleep session.
#[derive(Debug, Clone, PartialEq, FromRow, Serialize, utoipa::ToSchema)]
pub struct SleepRow {
    pub id: i64,
    pub sleep_start: DateTime<Utc>,
    pub sleep_end: DateTime<Utc>,
    /// Minutes asleep: the session's length minus its awake minutes.
    pub duration_minutes: Option<i32>,
    pub deep_sleep_minutes: Option<i32>,
    pub rem_sleep_minutes: Option<i32>,
    pub light_sleep_minutes: Option<i32>,
    pub awake_minutes: Option<i32>,
    /// 0–10, one decimal.
    pub quality_score: Option<f64>,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RecordTable for SleepRow {
    const RECORD_TYPE: &'static str = "sleep";
    const TABLE: &'static str = "sleep_data";
    const TIME_COLUMN: &'static str = "sleep_start";
    const COLUMNS: &'static str = "id, sleep_start, sleep_end, duration_minutes, deep_sleep_minutes, \
                                   rem_sleep_minutes, light_sleep_minutes, awake_minutes, \
                                   quality_score::float8 AS quality_score, source, created_at, updated_at";
    type Record = SleepRecord;

    fn id(&self) -> i64 {
        self.id
    }
    fn time(&self) -> DateTime<Utc> {
        self.sleep_start
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    fn record(&self) -> SleepRecord {
        SleepRecord {
            start_time: self.sleep_start,
            end_time: self.sleep_end,
            source: self.source.clone(),
            deep_minutes: self.deep_sleep_minutes,
            light_minutes: self.light_sleep_minutes,
            rem_minutes: self.rem_sleep_minutes,
            awake_minutes: self.awake_minutes,
            quality: self.quality_score.and_then(SleepQuality::parse),
        }
    }

    async fn update(
        db: &mut PgConnection,
        user_id: Uuid,
        id: i64,
        r: &SleepRecord,
    ) -> Result<Option<Self>, sqlx::Error> {
        let sql = format!(
            "UPDATE sleep_data SET sleep_start = $3, sleep_end = $4, source = $5, deep_sleep_minutes = $6,
                    light_sleep_minutes = $7, rem_sleep_minutes = $8, awake_minutes = $9,
                    quality_score = $10::int2 / 10.0, updated_at = now()
             WHERE user_id = $1 AND id = $2 RETURNING {}",
            Self::COLUMNS
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(id)
            .bind(r.start_time)
            .bind(r.end_time)
            .bind(&r.source)
            .bind(r.deep_minutes)
            .bind(r.light_minutes)
            .bind(r.rem_minutes)
            .bind(r.awake_minutes)
            .bind(r.quality.map(SleepQuality::tenths))
            .fetch_optional(db)
            .await
    }
}

/// A stored activity.
#[derive(Debug, Clone, PartialEq, FromRow, Serialize, utoipa::ToSchema)]
pub struct ActivityRow {
    pub id: i64,
    pub timestamp: DateTime<Utc>,
    pub activity_type: String,
    pub duration_minutes: i32,
    /// `low`, `moderate` or `high` (the design's `light` and `vigorous` are stored as `low` and `high`).
    pub intensity: Option<String>,
    pub calories_burned: Option<f64>,
    pub steps: Option<i32>,
    pub heart_rate_avg: Option<i16>,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RecordTable for ActivityRow {
    const RECORD_TYPE: &'static str = "activity";
    const TABLE: &'static str = "activities";
    const TIME_COLUMN: &'static str = "\"timestamp\"";
    const COLUMNS: &'static str = "id, \"timestamp\", activity_type, duration_minutes, intensity, \
                                   calories_burned::float8 AS calories_burned, steps, heart_rate_avg, source, \
                                   created_at, updated_at";
    type Record = ActivityRecord;

    fn id(&self) -> i64 {
        self.id
    }
    fn time(&self) -> DateTime<Utc> {
        self.timestamp
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    fn record(&self) -> ActivityRecord {
        ActivityRecord {
            start_time: self.timestamp,
            activity_type: self.activity_type.clone(),
            source: self.source.clone(),
            duration_minutes: self.duration_minutes,
            intensity: self.intensity.as_deref().and_then(Intensity::parse),
            calories: self.calories_burned,
            steps: self.steps,
            avg_heart_rate: self.heart_rate_avg,
        }
    }

    async fn update(
        db: &mut PgConnection,
        user_id: Uuid,
        id: i64,
        r: &ActivityRecord,
    ) -> Result<Option<Self>, sqlx::Error> {
        let sql = format!(
            "UPDATE activities SET \"timestamp\" = $3, activity_type = $4, source = $5, duration_minutes = $6,
                    intensity = $7, calories_burned = $8, steps = $9, heart_rate_avg = $10, updated_at = now()
             WHERE user_id = $1 AND id = $2 RETURNING {}",
            Self::COLUMNS
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(id)
            .bind(r.start_time)
            .bind(&r.activity_type)
            .bind(&r.source)
            .bind(r.duration_minutes)
            .bind(r.intensity.map(Intensity::as_str))
            .bind(r.calories)
            .bind(r.steps)
            .bind(r.avg_heart_rate)
            .fetch_optional(db)
            .await
    }
}

/// A stored meal.
#[derive(Debug, Clone, PartialEq, FromRow, Serialize, utoipa::ToSchema)]
pub struct MealRow {
    pub id: i64,
    pub timestamp: DateTime<Utc>,
    pub meal_type: Option<String>,
    pub carbs_grams: f64,
    pub protein_grams: Option<f64>,
    pub fat_grams: Option<f64>,
    pub fiber_grams: Option<f64>,
    pub calories: Option<f64>,
    pub glycemic_load: Option<f64>,
    pub description: Option<String>,
    pub photo_url: Option<String>,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RecordTable for MealRow {
    const RECORD_TYPE: &'static str = "meal";
    const TABLE: &'static str = "meals";
    const TIME_COLUMN: &'static str = "\"timestamp\"";
    const COLUMNS: &'static str = "id, \"timestamp\", meal_type, carbs_grams::float8 AS carbs_grams, \
                                   protein_grams::float8 AS protein_grams, fat_grams::float8 AS fat_grams, \
                                   fiber_grams::float8 AS fiber_grams, calories::float8 AS calories, \
                                   glycemic_load::float8 AS glycemic_load, description, photo_url, source, \
                                   created_at, updated_at";
    type Record = MealRecord;

    fn id(&self) -> i64 {
        self.id
    }
    fn time(&self) -> DateTime<Utc> {
        self.timestamp
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    fn record(&self) -> MealRecord {
        MealRecord {
            eaten_at: self.timestamp,
            source: self.source.clone(),
            meal_type: self.meal_type.as_deref().and_then(MealType::parse),
            carbs_g: self.carbs_grams,
            protein_g: self.protein_grams,
            fat_g: self.fat_grams,
            fiber_g: self.fiber_grams,
            calories: self.calories,
            glycemic_load: self.glycemic_load,
            description: self.description.clone(),
            photo_url: self.photo_url.clone(),
        }
    }

    async fn update(
        db: &mut PgConnection,
        user_id: Uuid,
        id: i64,
        r: &MealRecord,
    ) -> Result<Option<Self>, sqlx::Error> {
        let sql = format!(
            "UPDATE meals SET \"timestamp\" = $3, source = $4, meal_type = $5, carbs_grams = $6, protein_grams = $7,
                    fat_grams = $8, fiber_grams = $9, calories = $10, glycemic_load = $11, description = $12,
                    photo_url = $13, updated_at = now()
             WHERE user_id = $1 AND id = $2 RETURNING {}",
            Self::COLUMNS
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(id)
            .bind(r.eaten_at)
            .bind(&r.source)
            .bind(r.meal_type.map(MealType::as_str))
            .bind(r.carbs_g)
            .bind(r.protein_g)
            .bind(r.fat_g)
            .bind(r.fiber_g)
            .bind(r.calories)
            .bind(r.glycemic_load)
            .bind(&r.description)
            .bind(&r.photo_url)
            .fetch_optional(db)
            .await
    }
}
