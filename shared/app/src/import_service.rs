//! Importing a file: the one path the API (small files posted directly), the import worker (large files uploaded to
//! S3) and `glucolens import` share.
//!
//! The parser runs on a blocking thread and hands batches of records over a bounded channel to the writer, which
//! stores them in **one transaction** together with the dirty-day marks; memory stays bounded by the batch size and
//! the channel depth, whatever the file size. If the file turns out to be cut off or corrupt, the transaction is
//! rolled back and nothing is written. Re-importing a file adds nothing: every kind is keyed naturally.
//!
//! What the parsers do with hostile content is decided in `glucolens_importers` (one rule each, see its module
//! comment): rows outside the accepted time range, at a leap second, or repeating an earlier row's key with other
//! values are skipped and counted in the report; a field with a NUL fails the import with 422 `invalid_text`
//! naming the line and field, and nothing is written.

use std::io::BufRead;

use glucolens_importers::{Context, Findings, Format, ParseError, Record, Tally};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::record_writer::RecordWriter;
use glucolens_domain::records::{ActivityRecord, GlucoseRecord, MealRecord, SleepRecord};
use glucolens_store::{imports, users, InsertCounts};

/// Records per database round trip.
const BATCH: usize = 5_000;
/// Batches parsed ahead of the writer.
const BATCHES_IN_FLIGHT: usize = 2;

/// What an import did: per kind inserted and already present, and what the parser skipped or adjusted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    #[schema(value_type = String)]
    pub format: Format,
    /// Data rows read from the file.
    pub rows: u64,
    /// Records newly stored, all kinds together.
    pub imported: u64,
    /// Records whose natural key was already stored (a re-import, or duplicates within the file).
    pub already_present: u64,
    pub glucose: InsertCounts,
    pub sleep: InsertCounts,
    pub activities: InsertCounts,
    pub meals: InsertCounts,
    /// Rows not imported: `[{reason, count, lines}]` (lines are record numbers in JSON files).
    #[schema(value_type = Vec<Object>)]
    pub skipped: Tally,
    /// Rows imported with a change: `High` mapped to 400 mg/dL, DST-ambiguous local times, assumed date order.
    #[schema(value_type = Vec<Object>)]
    pub adjusted: Tally,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A failure of the service itself (the parser panicked, the report could not be serialised).
    #[error("internal error: {0}")]
    Invalid(String),
}

impl ImportError {
    /// What the import's owner reads as the reason it failed (`GET /imports/{id}`): what was wrong with the file,
    /// or that the service failed — never the database's or the storage's own text.
    pub fn public_reason(&self) -> String {
        match self {
            // The message can quote the file (a column name); stored as text, it must be storable too.
            ImportError::Parse(ParseError::Io(_) | ParseError::Stopped) => {
                "the file could not be read to the end; nothing was imported, upload it again".into()
            }
            ImportError::Parse(error) => error.to_string().replace('\0', "\u{fffd}"),
            ImportError::Database(_) => {
                "the database was unavailable during the import; nothing was imported, try again".into()
            }
            ImportError::Invalid(_) => "an internal error stopped the import; nothing was imported".into(),
        }
    }
}

/// Imports `reader` (in `format`) for `user_id` and records the outcome on the existing import row `import_id`.
pub async fn run_recorded<R: BufRead + Send + 'static>(
    db: &PgPool,
    user_id: Uuid,
    import_id: Uuid,
    format: Format,
    reader: R,
) -> Result<ImportReport, ImportError> {
    let outcome = run(db, user_id, format, reader).await;
    let recorded = match &outcome {
        Ok(report) => {
            let report = serde_json::to_value(report).map_err(|e| ImportError::Invalid(e.to_string()))?;
            imports::finish(db, user_id, import_id, Ok(&report)).await
        }
        Err(error) => imports::finish(db, user_id, import_id, Err(&error.public_reason())).await,
    };
    recorded?;
    outcome
}

/// Imports `reader` (in `format`) for `user_id`: all of it in one transaction, or nothing.
pub async fn run<R: BufRead + Send + 'static>(
    db: &PgPool,
    user_id: Uuid,
    format: Format,
    reader: R,
) -> Result<ImportReport, ImportError> {
    let zone = users::time_zone(db, user_id).await?;
    let (sender, mut batches) = tokio::sync::mpsc::channel::<Vec<Record>>(BATCHES_IN_FLIGHT);
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let mut emit = |record| {
            batch.push(record);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                sender.blocking_send(full).map_err(|_| ParseError::Stopped)?;
            }
            Ok(())
        };
        let context = Context {
            time_zone: zone.tz(),
            now: chrono::Utc::now(),
        };
        let findings = glucolens_importers::parse(format, reader, context, &mut emit)?;
        if !batch.is_empty() {
            sender.blocking_send(batch).map_err(|_| ParseError::Stopped)?;
        }
        Ok::<Findings, ParseError>(findings)
    });

    let mut tx = db.begin().await?;
    let mut counts = Counts::default();
    let mut writer = RecordWriter::new(user_id, zone);
    let mut written = Ok(());
    while let Some(batch) = batches.recv().await {
        written = counts.write(&mut tx, &mut writer, batch).await;
        if written.is_err() {
            break;
        }
    }
    // Dropping the receiver makes a parser still sending stop with `Stopped`.
    drop(batches);
    let parsed = parser
        .await
        .map_err(|e| ImportError::Invalid(format!("the parser panicked: {e}")))?;
    written?;
    let findings = parsed?;
    tx.commit().await?;
    Ok(counts.report(format, findings))
}

/// Running totals per kind.
#[derive(Default)]
struct Counts {
    glucose: InsertCounts,
    sleep: InsertCounts,
    activities: InsertCounts,
    meals: InsertCounts,
}

impl Counts {
    /// Stores one batch and marks the local days of its new records dirty.
    async fn write(
        &mut self,
        tx: &mut PgConnection,
        writer: &mut RecordWriter,
        batch: Vec<Record>,
    ) -> Result<(), ImportError> {
        let mut kinds = Kinds::default();
        for record in batch {
            kinds.push(record);
        }
        self.glucose = self.glucose + writer.insert(&mut *tx, &kinds.glucose).await?;
        self.sleep = self.sleep + writer.insert(&mut *tx, &kinds.sleep).await?;
        self.activities = self.activities + writer.insert(&mut *tx, &kinds.activities).await?;
        self.meals = self.meals + writer.insert(&mut *tx, &kinds.meals).await?;
        // Per batch, so the instants held stay bounded by the batch size.
        writer.mark_dirty(tx).await?;
        Ok(())
    }

    fn report(self, format: Format, findings: Findings) -> ImportReport {
        let all = self.glucose + self.sleep + self.activities + self.meals;
        ImportReport {
            format,
            rows: findings.rows,
            imported: all.inserted,
            already_present: all.already_present,
            glucose: self.glucose,
            sleep: self.sleep,
            activities: self.activities,
            meals: self.meals,
            skipped: findings.skipped,
            adjusted: findings.adjusted,
        }
    }
}

/// One batch's records (the domain's, as the parsers built them), split by kind.
#[derive(Default)]
struct Kinds {
    glucose: Vec<GlucoseRecord>,
    sleep: Vec<SleepRecord>,
    activities: Vec<ActivityRecord>,
    meals: Vec<MealRecord>,
}

impl Kinds {
    fn push(&mut self, record: Record) {
        match record {
            Record::Glucose(g) => self.glucose.push(g),
            Record::Sleep(s) => self.sleep.push(s),
            Record::Activity(a) => self.activities.push(a),
            Record::Meal(m) => self.meals.push(m),
        }
    }
}

/// The records of one Nightscout API request, stored like an import (one transaction, dirty days marked).
pub async fn store_records(db: &PgPool, user_id: Uuid, records: Vec<Record>) -> Result<InsertCounts, ImportError> {
    let mut tx = db.begin().await?;
    let mut counts = Counts::default();
    counts
        .write(&mut tx, &mut RecordWriter::for_user(user_id), records)
        .await?;
    tx.commit().await?;
    Ok(counts.glucose + counts.sleep + counts.activities + counts.meals)
}
