//! The one record writer: every path that stores validated records — the ingestion API, file imports, the
//! Nightscout upload and the sample-data generator — inserts them here and marks their local days dirty here, with
//! one rule for which days a record touches.
//!
//! # The rule
//! - A record touches the local days (in the user's zone) of these instants: a glucose reading its time, a meal
//!   when it was eaten, a sleep session its start **and** its end (a night spans two dates and both days'
//!   aggregates may count it), an activity its start **and** its end (start + duration).
//! - A batch marks days only if it stored something new: then every record of the batch marks its days; a batch
//!   that was entirely present already (an idempotent re-send) leaves the days as they are.
//!
//! Rows are inserted by the store's `insert_batch` functions (one statement per batch, natural-key order, so
//! concurrent writers cannot deadlock); the days are marked by [`dirty_days::mark`] on the same connection, so a
//! caller holding a transaction gets the rows and the marks together or not at all.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use glucolens_domain::records::{ActivityRecord, GlucoseRecord, MealRecord, SleepRecord};
use glucolens_domain::UserTimeZone;
use glucolens_store::{activities, dirty_days, glucose, meals, sleep, users, InsertCounts};

/// One kind's records, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum Batch<'a> {
    Glucose(&'a [GlucoseRecord]),
    Sleep(&'a [SleepRecord]),
    Activities(&'a [ActivityRecord]),
    Meals(&'a [MealRecord]),
}

impl Batch<'_> {
    async fn insert(self, db: &mut PgConnection, user_id: Uuid) -> Result<InsertCounts, sqlx::Error> {
        match self {
            Batch::Glucose(records) => glucose::insert_batch(db, user_id, records).await,
            Batch::Sleep(records) => sleep::insert_batch(db, user_id, records).await,
            Batch::Activities(records) => activities::insert_batch(db, user_id, records).await,
            Batch::Meals(records) => meals::insert_batch(db, user_id, records).await,
        }
    }

    /// Appends the instants whose local days the batch's records touch (the rule in the module comment).
    pub fn touched(self, instants: &mut Vec<DateTime<Utc>>) {
        match self {
            Batch::Glucose(records) => instants.extend(records.iter().map(|r| r.time)),
            Batch::Sleep(records) => instants.extend(records.iter().flat_map(|r| [r.start_time, r.end_time])),
            Batch::Activities(records) => instants.extend(records.iter().flat_map(|r| {
                [
                    r.start_time,
                    r.start_time + Duration::minutes(i64::from(r.duration_minutes)),
                ]
            })),
            Batch::Meals(records) => instants.extend(records.iter().map(|r| r.eaten_at)),
        }
    }
}

/// A kind of record the writer stores.
pub trait Record: Sized {
    fn batch(records: &[Self]) -> Batch<'_>;
}

/// `impl Record for <record> { Batch::<variant> }` for each kind.
macro_rules! records {
    ($($record:ty => $variant:ident),* $(,)?) => {$(
        impl Record for $record {
            fn batch(records: &[Self]) -> Batch<'_> {
                Batch::$variant(records)
            }
        }
    )*};
}

records! {
    GlucoseRecord => Glucose,
    SleepRecord => Sleep,
    ActivityRecord => Activities,
    MealRecord => Meals,
}

/// Stores one user's records and remembers the instants they touch until [`RecordWriter::mark_dirty`] marks
/// their days. Use the same connection (normally one transaction) for both.
#[derive(Debug)]
pub struct RecordWriter {
    user_id: Uuid,
    /// `None` until needed: read from the users table when days are first marked.
    zone: Option<UserTimeZone>,
    /// Instants of the batches that stored something new and are not marked yet.
    touched: Vec<DateTime<Utc>>,
}

impl RecordWriter {
    /// A writer for `user_id`, whose days are local to `zone`.
    pub fn new(user_id: Uuid, zone: UserTimeZone) -> Self {
        Self {
            user_id,
            zone: Some(zone),
            touched: Vec::new(),
        }
    }

    /// A writer for `user_id` that reads the user's zone (on the writer's connection) only when there are days
    /// to mark, so a pure re-send costs no extra query.
    pub fn for_user(user_id: Uuid) -> Self {
        Self {
            user_id,
            zone: None,
            touched: Vec::new(),
        }
    }

    /// Inserts `records` (skipping those whose natural key is stored) and, if any was new, remembers the instants
    /// every record of the batch touches.
    pub async fn insert<R: Record>(
        &mut self,
        db: &mut PgConnection,
        records: &[R],
    ) -> Result<InsertCounts, sqlx::Error> {
        let batch = R::batch(records);
        let counts = batch.insert(db, self.user_id).await?;
        if counts.inserted > 0 {
            batch.touched(&mut self.touched);
        }
        Ok(counts)
    }

    /// Marks the local days of everything inserted since the last call dirty; returns the number of days marked.
    pub async fn mark_dirty(&mut self, db: &mut PgConnection) -> Result<u64, sqlx::Error> {
        if self.touched.is_empty() {
            return Ok(0);
        }
        let zone = match self.zone {
            Some(zone) => zone,
            None => *self.zone.insert(users::time_zone(&mut *db, self.user_id).await?),
        };
        let marked = dirty_days::mark(&mut *db, self.user_id, zone, &self.touched).await?;
        self.touched.clear();
        Ok(marked)
    }
}
