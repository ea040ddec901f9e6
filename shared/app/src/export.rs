//! The account export (the rights of access and of portability): everything the account holds, as newline-delimited
//! JSON read from one consistent snapshot and written in bounded chunks, so memory stays constant however much data
//! there is. Belongs here: the format (header, order of the sections, line types, framing, the closing line), the
//! snapshot transaction and the export's audit entry. Does not belong here: SQL (`glucolens_store::export`) or the
//! delivery of the chunks written here (the route streams them to the client, or on Lambda uploads them to S3 and
//! answers with a link: either way [`Export::write_to`] is the one producer).
//!
//! # Format `glucolens-export/1`
//!
//! One JSON object per line, each with a `type`: the header `export` (`format`, `user_id`, `exported_at`), then
//! `profile`, then every row of `glucose_reading`, `sleep`, `activity`, `meal`, `daily_aggregate`, `correlation`,
//! `pattern`, `import`, `task` and `audit` (who read the data and when; the export's own entry included), each
//! under its table's column names, and last `end` (`lines`: how many lines came before it).
//!
//! Once the first bytes are sent, a failure can no longer become an HTTP status: the export then ends with the line
//! [`INTERRUPTED_LINE`] instead of `end`, and the failure is logged with the user id only. A file whose last line is
//! not `end` is incomplete and should be fetched again.

use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;
use uuid::Uuid;

use glucolens_store::audit;
use glucolens_store::export::{self, Table};

/// The format named in the header; a change a reader must know about gets a new number.
pub const FORMAT: &str = "glucolens-export/1";
/// The export's audit entry: a read (as every API read of health data) of the whole account.
pub const AUDIT_ACTION: &str = "read";
pub const AUDIT_RESOURCE: &str = "export";
/// The last line of an export that failed after it started.
pub const INTERRUPTED_LINE: &str = r#"{"type":"error","message":"export interrupted; start it again"}"#;
/// Bytes gathered before a chunk is handed on: large enough that a year's export is a few hundred chunks, small
/// enough that the chunks in flight stay a fraction of a megabyte.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// A chunk's allocation: the threshold plus room for the line that crosses it (most rows are a few hundred bytes).
const CHUNK_CAPACITY: usize = CHUNK_BYTES + 4096;

/// The data sections in export order, each with the `type` of its lines.
const SECTIONS: [(Table, &str); 10] = [
    (Table::GlucoseReadings, "glucose_reading"),
    (Table::SleepData, "sleep"),
    (Table::Activities, "activity"),
    (Table::Meals, "meal"),
    (Table::DailyAggregates, "daily_aggregate"),
    (Table::Correlations, "correlation"),
    (Table::Patterns, "pattern"),
    (Table::Imports, "import"),
    (Table::Tasks, "task"),
    (Table::AuditLog, "audit"),
];

#[derive(Serialize)]
struct Header {
    // `type` first, as in every other line.
    #[serde(rename = "type")]
    line_type: &'static str,
    format: &'static str,
    user_id: Uuid,
    exported_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct End {
    #[serde(rename = "type")]
    line_type: &'static str,
    lines: u64,
}

/// An export that has begun: audited, its snapshot taken and the account found, nothing written yet.
pub struct Export {
    tx: Transaction<'static, Postgres>,
    user_id: Uuid,
    exported_at: DateTime<Utc>,
    /// The profile line, read before anything is sent so that an erased account is still an error, not an export.
    profile: String,
}

/// How a written export ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every line was handed on, `end` last.
    Complete,
    /// The receiver went away (the client disconnected, or the upload failed); the export stopped.
    Abandoned,
    /// The database failed mid-way; [`INTERRUPTED_LINE`] was the last line. The error is kept for a receiver that
    /// can still answer with a status (the upload to S3 has sent the client nothing yet).
    Interrupted(sqlx::Error),
}

/// What [`Export::write_to`] did.
#[derive(Debug)]
pub struct Written {
    pub outcome: Outcome,
    /// Lines handed on, the closing `end` or error line included.
    pub lines: u64,
    pub bytes: u64,
}

/// Why writing stopped early.
enum Stop {
    Abandoned,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Stop {
    fn from(error: sqlx::Error) -> Self {
        Stop::Database(error)
    }
}

impl Export {
    /// Begins `user_id`'s export for request `request_id`: records the audit entry (before any data leaves, like
    /// every read), then opens the snapshot and reads the profile. `None` when the account no longer exists.
    pub async fn begin(db: &PgPool, user_id: Uuid, request_id: &str) -> Result<Option<Export>, sqlx::Error> {
        // Audited first so the snapshot, taken after it, lists this export among the account's reads.
        match audit::record(db, user_id, AUDIT_ACTION, AUDIT_RESOURCE, request_id).await {
            // The account was erased after its token was checked.
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => return Ok(None),
            result => result?,
        }
        let mut tx = export::begin_snapshot(db).await?;
        let mut profiles: Vec<String> = export::rows(&mut tx, Table::Users, user_id, "profile")
            .try_collect()
            .await?;
        let exported_at = Utc::now();
        Ok(profiles.pop().map(|profile| Export {
            tx,
            user_id,
            exported_at,
            profile,
        }))
    }

    /// When the snapshot was taken (the header's `exported_at`).
    pub fn exported_at(&self) -> DateTime<Utc> {
        self.exported_at
    }

    /// Writes the whole export into `out` in chunks of about [`CHUNK_BYTES`]. Stops as soon as `out`'s receiver is
    /// gone; a database failure ends the export with [`INTERRUPTED_LINE`]. Logs the outcome (user id and counts,
    /// never data).
    pub async fn write_to(self, out: mpsc::Sender<Vec<u8>>) -> Written {
        let started = Instant::now();
        let Export {
            tx,
            user_id,
            exported_at,
            profile,
        } = self;
        let mut lines = Lines::new(out);
        let header = Header {
            line_type: "export",
            format: FORMAT,
            user_id,
            exported_at,
        };
        lines.push(&serde_json::to_string(&header).expect("the header serializes"));
        lines.push(&profile);
        let (outcome, label) = match write_sections(tx, user_id, &mut lines).await {
            Ok(()) => (Outcome::Complete, "complete"),
            Err(Stop::Abandoned) => (Outcome::Abandoned, "abandoned"),
            Err(Stop::Database(error)) => {
                tracing::warn!(user_id = %user_id, error = %error, "export interrupted by a database error");
                lines.push(INTERRUPTED_LINE);
                // If the client has gone too, there is no one left to tell.
                let _ = lines.flush().await;
                (Outcome::Interrupted(error), "interrupted")
            }
        };
        let written = Written {
            outcome,
            lines: lines.sent_lines,
            bytes: lines.sent_bytes,
        };
        tracing::info!(
            user_id = %user_id,
            outcome = label,
            lines = written.lines,
            bytes = written.bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "account export"
        );
        written
    }
}

/// Every data section, then the closing line.
async fn write_sections(mut tx: Transaction<'static, Postgres>, user_id: Uuid, lines: &mut Lines) -> Result<(), Stop> {
    for (table, line_type) in SECTIONS {
        section(&mut tx, table, user_id, line_type, lines).await?;
    }
    // Read-only: committing only ends the snapshot promptly (a dropped transaction rolls back later).
    tx.commit().await?;
    let end = End {
        line_type: "end",
        lines: lines.sent_lines + lines.pending_lines,
    };
    lines.push(&serde_json::to_string(&end).expect("the closing line serializes"));
    lines.flush().await
}

/// Streams one table's rows into `lines`, handing on each full chunk before reading further.
async fn section(
    conn: &mut PgConnection,
    table: Table,
    user_id: Uuid,
    line_type: &'static str,
    lines: &mut Lines,
) -> Result<(), Stop> {
    let mut rows = export::rows(conn, table, user_id, line_type);
    while let Some(row) = rows.try_next().await? {
        lines.push(&row);
        if lines.buffer.len() >= CHUNK_BYTES {
            lines.flush().await?;
        }
    }
    Ok(())
}

/// Newline framing into chunks, and what was handed on.
struct Lines {
    out: mpsc::Sender<Vec<u8>>,
    buffer: Vec<u8>,
    pending_lines: u64,
    sent_lines: u64,
    sent_bytes: u64,
}

impl Lines {
    fn new(out: mpsc::Sender<Vec<u8>>) -> Self {
        Self {
            out,
            buffer: Vec::with_capacity(CHUNK_CAPACITY),
            pending_lines: 0,
            sent_lines: 0,
            sent_bytes: 0,
        }
    }

    fn push(&mut self, line: &str) {
        self.buffer.extend_from_slice(line.as_bytes());
        self.buffer.push(b'\n');
        self.pending_lines += 1;
    }

    /// Hands the gathered lines on; waits while the receiver's channel is full, which bounds what is in memory.
    async fn flush(&mut self) -> Result<(), Stop> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_CAPACITY));
        let bytes = chunk.len() as u64;
        self.out.send(chunk).await.map_err(|_| Stop::Abandoned)?;
        self.sent_bytes += bytes;
        self.sent_lines += std::mem::take(&mut self.pending_lines);
        Ok(())
    }
}
