//! Writing validated records: one transaction per request holding the rows and the dirty-day marks.

use chrono::{DateTime, Duration, Utc};
use glucolens_core::domain::records::{ActivityRecord, GlucoseRecord, MealRecord, SleepRecord};
use glucolens_core::http::{ApiError, AuthUser};
use glucolens_core::store::{activities, dirty_days, glucose, meals, sleep, InsertCounts};
use glucolens_core::AppState;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

/// A kind of record ingestion stores.
pub(crate) trait Kind: Sized {
    async fn insert(db: &mut PgConnection, user_id: Uuid, records: &[Self]) -> Result<InsertCounts, sqlx::Error>;

    /// Appends the instants whose local days this record affects.
    fn touched(&self, instants: &mut Vec<DateTime<Utc>>);
}

impl Kind for GlucoseRecord {
    async fn insert(db: &mut PgConnection, user_id: Uuid, records: &[Self]) -> Result<InsertCounts, sqlx::Error> {
        glucose::insert_batch(db, user_id, records).await
    }

    fn touched(&self, instants: &mut Vec<DateTime<Utc>>) {
        instants.push(self.time);
    }
}

impl Kind for SleepRecord {
    async fn insert(db: &mut PgConnection, user_id: Uuid, records: &[Self]) -> Result<InsertCounts, sqlx::Error> {
        sleep::insert_batch(db, user_id, records).await
    }

    /// A night spans two local dates; both days' aggregates may count it.
    fn touched(&self, instants: &mut Vec<DateTime<Utc>>) {
        instants.extend([self.start_time, self.end_time]);
    }
}

impl Kind for ActivityRecord {
    async fn insert(db: &mut PgConnection, user_id: Uuid, records: &[Self]) -> Result<InsertCounts, sqlx::Error> {
        activities::insert_batch(db, user_id, records).await
    }

    fn touched(&self, instants: &mut Vec<DateTime<Utc>>) {
        let end = self.start_time + Duration::minutes(i64::from(self.duration_minutes));
        instants.extend([self.start_time, end]);
    }
}

impl Kind for MealRecord {
    async fn insert(db: &mut PgConnection, user_id: Uuid, records: &[Self]) -> Result<InsertCounts, sqlx::Error> {
        meals::insert_batch(db, user_id, records).await
    }

    fn touched(&self, instants: &mut Vec<DateTime<Utc>>) {
        instants.push(self.eaten_at);
    }
}

/// One request's writes: always the caller's rows, in one transaction that also marks the affected days dirty.
/// Dropping it without [`Writer::commit`] rolls everything back.
pub(crate) struct Writer {
    tx: Transaction<'static, Postgres>,
    user_id: Uuid,
    /// Instants of the kinds that stored something new; a pure re-send leaves the days as they are.
    touched: Vec<DateTime<Utc>>,
}

impl Writer {
    pub(crate) async fn begin(state: &AppState, user: AuthUser) -> Result<Self, ApiError> {
        Ok(Self {
            tx: state.db.begin().await?,
            user_id: user.id,
            touched: Vec::new(),
        })
    }

    pub(crate) async fn add<K: Kind>(&mut self, records: &[K]) -> Result<InsertCounts, ApiError> {
        let counts = K::insert(&mut self.tx, self.user_id, records).await?;
        if counts.inserted > 0 {
            self.touched.reserve(records.len());
            records.iter().for_each(|r| r.touched(&mut self.touched));
        }
        Ok(counts)
    }

    /// Marks the touched local days (in the user's zone) and commits.
    pub(crate) async fn commit(mut self) -> Result<(), ApiError> {
        if !self.touched.is_empty() {
            let zone = dirty_days::user_time_zone(&mut *self.tx, self.user_id).await?;
            dirty_days::mark(&mut *self.tx, self.user_id, zone, &self.touched).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}
