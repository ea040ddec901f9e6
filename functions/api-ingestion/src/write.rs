//! Writing validated records: one transaction per request holding the rows and the dirty-day marks, through the
//! core's one record writer ([`glucolens_app::record_writer`]).

use glucolens_app::record_writer::{Record, RecordWriter};
use glucolens_store::InsertCounts;
use glucolens_web::AppState;
use glucolens_web::{ApiError, AuthUser};
use sqlx::{Postgres, Transaction};

/// One request's writes: always the caller's rows, in one transaction that also marks the affected days dirty.
/// Dropping it without [`Writer::commit`] rolls everything back.
pub(crate) struct Writer {
    tx: Transaction<'static, Postgres>,
    records: RecordWriter,
}

impl Writer {
    pub(crate) async fn begin(state: &AppState, user: AuthUser) -> Result<Self, ApiError> {
        Ok(Self {
            tx: state.db.begin().await?,
            records: RecordWriter::for_user(user.id),
        })
    }

    pub(crate) async fn add<R: Record>(&mut self, records: &[R]) -> Result<InsertCounts, ApiError> {
        Ok(self.records.insert(&mut self.tx, records).await?)
    }

    /// Marks the touched local days (in the user's zone) and commits.
    pub(crate) async fn commit(mut self) -> Result<(), ApiError> {
        self.records.mark_dirty(&mut self.tx).await?;
        self.tx.commit().await?;
        Ok(())
    }
}
