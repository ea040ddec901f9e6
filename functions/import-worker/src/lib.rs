//! The import worker: S3 calls it when a file lands in the uploads bucket (`s3:ObjectCreated:*` on `imports/`).
//! For each object it claims the import the presigned upload belongs to (once, however often S3 delivers the
//! event), streams the object through the shared import service and deletes it. A file that cannot be imported
//! marks its import failed with the reason; only infrastructure errors fail the invocation (so Lambda retries).

use aws_lambda_events::event::s3::S3Event;
use glucolens_app::import_service::{self, ImportError};
use glucolens_aws::storage::{UploadBucket, UploadError};
use glucolens_importers::{Format, ParseError};
use glucolens_store::imports;
use sqlx::PgPool;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Upload(#[from] UploadError),
}

/// The reason an import shows when its uploaded object could not be read.
const STORAGE_UNREADABLE: &str =
    "the uploaded file could not be read from storage; nothing was imported, upload it again";

/// What happened to one S3 object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Imported,
    Failed,
    /// No import awaits this key: unknown, or already claimed by an earlier delivery.
    Ignored,
}

/// Handles every record of an S3 notification; returns each object's outcome in order.
pub async fn handle(db: &PgPool, bucket: &UploadBucket, event: S3Event) -> Result<Vec<Outcome>, WorkerError> {
    let mut outcomes = Vec::with_capacity(event.records.len());
    for record in event.records {
        let Some(key) = record.s3.object.key.as_deref().map(decode_key) else {
            outcomes.push(Outcome::Ignored);
            continue;
        };
        outcomes.push(import_object(db, bucket, &key).await?);
    }
    Ok(outcomes)
}

async fn import_object(db: &PgPool, bucket: &UploadBucket, key: &str) -> Result<Outcome, WorkerError> {
    let Some(import) = imports::claim_upload(db, key).await? else {
        tracing::info!("no import awaits this object; ignored");
        return Ok(Outcome::Ignored);
    };
    let Some(format) = Format::parse(&import.format) else {
        imports::finish(db, import.user_id, import.id, Err("unknown format")).await?;
        return Ok(Outcome::Failed);
    };
    let outcome = match bucket.open(key).await {
        Ok(reader) => import_service::run_recorded(db, import.user_id, import.id, format, reader).await,
        Err(error) => {
            // The storage's own error text stays in the logs; the owner reads what to do.
            imports::finish(db, import.user_id, import.id, Err(STORAGE_UNREADABLE)).await?;
            return Err(error.into());
        }
    };
    bucket.delete(key).await?;
    match outcome {
        Ok(report) => {
            tracing::info!(import = %import.id, imported = report.imported, already_present = report.already_present, "import finished");
            Ok(Outcome::Imported)
        }
        Err(ImportError::Parse(ParseError::Io(error))) => Err(WorkerError::Upload(UploadError::S3(error.to_string()))),
        Err(ImportError::Database(error)) => Err(error.into()),
        Err(error) => {
            tracing::info!(import = %import.id, reason = %error, "import failed");
            Ok(Outcome::Failed)
        }
    }
}

/// S3 event keys are URL-encoded, with `+` for spaces.
fn decode_key(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&raw[i + 1..i + 3], 16) {
                Ok(byte) => {
                    out.push(byte);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(decode_key("imports/a%2Fb+c"), "imports/a/b c");
        assert_eq!(decode_key("imports/100%"), "imports/100%");
        assert_eq!(decode_key("plain"), "plain");
    }
}
