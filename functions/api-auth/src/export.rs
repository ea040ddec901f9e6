//! `GET /api/v1/users/me/export`: the caller's whole account as a newline-delimited JSON download. Belongs here: the
//! HTTP side only — how the chunks of the one producer ([`Export::write_to`], which owns the format, the snapshot
//! and the audit entry) reach the client. Where bodies stream (`glucolens serve`), they are the response body, fed
//! from a spawned writer through a bounded channel. On Lambda, where a response is buffered whole and API Gateway
//! refuses one over 6 MB, they are written to S3 as a multipart upload while they are produced, and the answer is
//! `303 See Other` to a presigned URL of the finished file.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use glucolens_app::export::{Export, Outcome, Written};
use glucolens_aws::storage::{self, UploadBucket};
use glucolens_web::state::Responses;
use glucolens_web::{openapi, ApiError, ApiJson, AppState, AuthUser, Dependency, RequestId};
use serde::Serialize;
use tokio::sync::{mpsc, OnceCell};
use utoipa::ToSchema;
use uuid::Uuid;

/// Chunks (about 64 KiB each) the writer may get ahead of the client or the upload: what bounds the export's
/// memory, however slowly the client reads (the upload adds at most two parts, see `storage::PART_BYTES`).
const CHUNKS_AHEAD: usize = 4;

/// How long the link to an uploaded export works: long enough to start a download, short because the link alone
/// is the key to the account's health data. The template's lifecycle rule removes the file itself after a day.
pub const LINK_TTL_SECS: u64 = 15 * 60;

const NDJSON: &str = "application/x-ndjson";

/// The bucket exports are uploaded to on Lambda, built from the environment (`IMPORTS_BUCKET`) on first use unless
/// given; never needed where responses stream.
pub(crate) type Bucket = Arc<OnceCell<UploadBucket>>;

glucolens_web::problem_responses! {
    /// The problems of `GET /api/v1/users/me/export` (only before the download starts; see the operation).
    ExportProblems = [
        openapi::UNAUTHORIZED,
        ("404", "The account no longer exists"),
        openapi::RATE_LIMITED,
        (
            "503",
            "The database is unreachable or busy (`database_unavailable`, `database_busy`), or, on the deployed API, \
             the export storage is (`storage_unavailable`); retry after `Retry-After`",
        ),
    ];
}

/// Where the finished export waits (the deployed API's answer; see the operation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportLink {
    /// Presigned URL of the `.ndjson` file: `GET` it without an `Authorization` header before it expires.
    pub url: String,
    /// Seconds the URL works for.
    #[schema(example = 900)]
    pub expires_in_seconds: u64,
    /// Lines in the file, the closing `end` line included.
    #[schema(example = 110000)]
    pub lines: u64,
    /// The file's size in bytes.
    #[schema(example = 28000000)]
    pub bytes: u64,
}

/// Export everything the account holds
///
/// The right of access and of portability: the account and all its data as newline-delimited JSON
/// (`glucolens-export/1`), one object per line, each with a `type`. First the header
/// (`{"type":"export","format":"glucolens-export/1","user_id":…,"exported_at":…}`), then `profile` (the account
/// without its password), then every `glucose_reading`, `sleep`, `activity`, `meal`, `daily_aggregate`,
/// `correlation`, `pattern`, `import`, `task` and `audit` row (who read the data and when, this export included),
/// under the stored column names, and last `{"type":"end","lines":N}` with the number of lines before it. Every
/// section is read from one consistent snapshot. The export is recorded in the audit log before it starts.
///
/// Where the server streams (a local `glucolens serve`), the answer is `200` with the file as its body. Errors
/// before the download starts are problem documents. A failure after it started cannot change the status any
/// more: the download then ends with `{"type":"error","message":"export interrupted; start it again"}` instead of
/// the `end` line. A download whose last line is not `end` is incomplete; request it again.
///
/// The deployed API cannot answer with more than 6 MB, so it writes the complete file to storage first and answers
/// `303 See Other`: `Location` (and `url` in the body) is a link to the file valid for 15 minutes, to fetch without
/// the `Authorization` header. Any failure before the file is complete is a problem document, and no file is left.
#[utoipa::path(
    get, path = "/api/v1/users/me/export", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The export, streamed as newline-delimited JSON; complete when the last line is \
            `{\"type\":\"end\",...}`", content_type = "application/x-ndjson", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"glucolens-export-<date>.ndjson\"`"))),
        (status = 303, description = "The deployed API: the complete export was written to storage; fetch it from \
            `Location` within 15 minutes, without the `Authorization` header", body = ExportLink,
            headers(("Location" = String, description = "Presigned URL of the export file (the body's `url`)"))),
        ExportProblems,
    )
)]
pub(crate) async fn export_me(
    State(state): State<AppState>,
    Extension(bucket): Extension<Bucket>,
    caller: AuthUser,
    request_id: RequestId,
) -> Result<Response, ApiError> {
    // Everything that can still be a problem document for the streamed download happens here, before the first
    // byte: the audit entry, the snapshot, the account's existence.
    let export = Export::begin(&state.db, caller.id, &request_id.0)
        .await?
        .ok_or(ApiError::NotFound)?;
    let disposition = format!(
        "attachment; filename=\"glucolens-export-{}.ndjson\"",
        export.exported_at().format("%Y-%m-%d")
    );
    match state.responses {
        Responses::Streamed => Ok(streamed(export, disposition)),
        Responses::Buffered => uploaded(&bucket, caller.id, export, &disposition).await,
    }
}

/// The export as the response body.
fn streamed(export: Export, disposition: String) -> Response {
    let (sender, mut receiver) = mpsc::channel::<Vec<u8>>(CHUNKS_AHEAD);
    // The writer owns the snapshot; when the client goes away the body, and with it the receiver, is dropped, and
    // the writer stops at its next chunk.
    tokio::spawn(export.write_to(sender));
    let chunks = futures_util::stream::poll_fn(move |cx| {
        receiver
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| Ok::<_, Infallible>(Bytes::from(chunk))))
    });
    (
        [
            (header::CONTENT_TYPE, NDJSON.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            // Health data: never kept by a shared cache.
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// The export written to S3 while it is produced, then a link to it. Nothing has reached the client yet, so any
/// failure is still a status: the upload is aborted and the problem answered (S3: `storage_unavailable`; the
/// database: as for any query). The audit entry stays: the data was read on the caller's behalf.
async fn uploaded(bucket: &Bucket, user_id: Uuid, export: Export, disposition: &str) -> Result<Response, ApiError> {
    let storage_unavailable = |error| ApiError::unavailable(Dependency::Storage, error);
    let bucket = bucket
        .get_or_try_init(UploadBucket::from_env)
        .await
        .map_err(storage_unavailable)?;
    let key = storage::export_key(user_id, Uuid::new_v4());
    let mut upload = bucket
        .start_upload(&key, NDJSON, disposition)
        .await
        .map_err(storage_unavailable)?;
    let (sender, mut receiver) = mpsc::channel::<Vec<u8>>(CHUNKS_AHEAD);
    let parts = &mut upload;
    // Owns the receiver: when a write fails it is dropped, and the writer stops at its next chunk.
    let fill = async move {
        while let Some(chunk) = receiver.recv().await {
            parts.write(&chunk).await?;
        }
        Ok(())
    };
    let (Written { outcome, lines, .. }, filled) = tokio::join!(export.write_to(sender), fill);
    let failure = match (filled, outcome) {
        (Ok(()), Outcome::Complete) => {
            let bytes = upload.complete().await.map_err(storage_unavailable)?;
            let url = bucket
                .presign_get(&key, LINK_TTL_SECS)
                .await
                .map_err(storage_unavailable)?;
            tracing::info!(user_id = %user_id, lines, bytes, "account export uploaded");
            return Ok(link(url, lines, bytes));
        }
        (Err(error), _) => storage_unavailable(error),
        (Ok(()), Outcome::Interrupted(error)) => error.into(),
        // The writer gives up only when the receiver is gone, which `fill` drops only after a failed write.
        (Ok(()), Outcome::Abandoned) => unreachable!("the export stopped while its upload was still reading"),
    };
    upload.abort().await;
    Err(failure)
}

/// `303 See Other` to the uploaded export, with the link in the body for clients that do not follow redirects.
fn link(url: String, lines: u64, bytes: u64) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, url.clone()),
            // The link is a credential for the account's data.
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        ApiJson(ExportLink {
            url,
            expires_in_seconds: LINK_TTL_SECS,
            lines,
            bytes,
        }),
    )
        .into_response()
}
