//! The imports endpoint group: device and app exports (Dexcom Clarity CSV, LibreView CSV, Nightscout entries JSON,
//! Apple Health `export.xml`).
//!
//! - `POST /api/v1/imports?format=F`: the file as the request body (up to 5 MB), imported at once.
//! - `POST /api/v1/imports/uploads`: for larger files; returns a presigned S3 PUT URL. Uploading to it triggers the
//!   import worker.
//! - `GET /api/v1/imports/{id}`: an import's status and report.
//!
//! Every import is all or nothing (a cut-off file writes nothing) and re-importing a file adds nothing.

use std::io::Cursor;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Router};
use glucolens_app::import_service::{self, ImportReport};
use glucolens_aws::storage::{self, UploadBucket};
use glucolens_domain::FieldError;
use glucolens_importers::Format;
use glucolens_store::imports::{self, Import, ImportStatus};
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, ApiJson, ApiQuery, AuthUser, Dependency, MAX_BODY_BYTES};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

/// How long a presigned upload URL stays valid.
const UPLOAD_URL_TTL_SECS: u64 = 15 * 60;

/// The upload bucket, built on first use from the environment (`IMPORTS_BUCKET`) unless given.
type Bucket = Arc<OnceCell<UploadBucket>>;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`); the upload bucket comes from the
/// environment.
pub fn router(state: AppState) -> Router {
    build(state, Arc::new(OnceCell::new()))
}

/// The same routes with a given upload bucket (tests use one bucket per test).
pub fn router_with_bucket(state: AppState, bucket: UploadBucket) -> Router {
    build(state, Arc::new(OnceCell::new_with(Some(bucket))))
}

fn build(state: AppState, bucket: Bucket) -> Router {
    with_api_layers(
        Router::new()
            .route("/api/v1/imports", post(import_file))
            .route("/api/v1/imports/uploads", post(create_upload))
            .route("/api/v1/imports/{id}", get(import_status))
            .layer(Extension(bucket)),
        state,
    )
}

#[derive(OpenApi)]
#[openapi(paths(import_file, create_upload, import_status))]
struct ImportsApi;

/// This function's part of the OpenAPI document (merged into the served one by `glucolens openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = ImportsApi::openapi();
    openapi::add_shared_components(&mut api);
    api
}

glucolens_web::problem_responses! {
    /// The problems of `POST /api/v1/imports`.
    ImportFileProblems = [
        ("400", "The request body could not be read (`unreadable_body`)"),
        openapi::UNAUTHORIZED,
        ("413", "Over 5 MB: use POST /api/v1/imports/uploads"),
        (
            "422",
            "Unknown format, or a truncated/corrupt file (`corrupt_file`, with the line); nothing was written",
        ),
        ("429", "Rate limit exceeded; see `Retry-After`"),
        openapi::UNAVAILABLE,
    ];
    /// The problems of `POST /api/v1/imports/uploads`.
    CreateUploadProblems = [
        openapi::MALFORMED_BODY,
        openapi::UNAUTHORIZED,
        openapi::PAYLOAD_TOO_LARGE,
        ("422", "Unknown format"),
        ("429", "Rate limit exceeded; see `Retry-After`"),
        (
            "503",
            "The import storage is unreachable (`storage_unavailable`), or the database is; retry after \
             `Retry-After`",
        ),
    ];
    /// The problems of `GET /api/v1/imports/{id}`.
    ImportStatusProblems = [
        openapi::UNAUTHORIZED,
        ("404", "No such import for this user"),
        ("429", "Rate limit exceeded; see `Retry-After`"),
        openapi::UNAVAILABLE,
    ];
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FormatQuery {
    /// `dexcom_clarity`, `libreview`, `nightscout_entries` or `apple_health`; guessed from the file when absent.
    pub format: Option<String>,
}

/// A finished import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub id: Uuid,
    pub status: ImportStatus,
    pub report: ImportReport,
}

/// Import a file posted as the request body (at most 5 MB; larger files go through `/api/v1/imports/uploads`).
#[utoipa::path(
    post, path = "/api/v1/imports", tag = "imports", params(FormatQuery),
    request_body(content = String, content_type = "application/octet-stream", description = "The export file"),
    responses(
        (status = 201, description = "Imported", body = ImportResult),
        (status = 200, description = "Everything in the file was already stored", body = ImportResult),
        ImportFileProblems,
    ),
    security(("bearer" = []))
)]
async fn import_file(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, ApiJson<ImportResult>), ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        },
        _ => ApiError::BadRequest {
            code: "unreadable_body",
            detail: "the request body could not be read".into(),
        },
    })?;
    let format = format_of(query.format.as_deref(), &body)?;
    let id = Uuid::new_v4();
    imports::create(&state.db, id, user.id, format.as_str(), ImportStatus::Running, None).await?;
    let report = import_service::run_recorded(&state.db, user.id, id, format, Cursor::new(body)).await?;
    let status = if report.imported > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        ApiJson(ImportResult {
            id,
            status: ImportStatus::Succeeded,
            report,
        }),
    ))
}

/// The format named in the query, or guessed from the file's first bytes.
fn format_of(named: Option<&str>, body: &[u8]) -> Result<Format, ApiError> {
    let names = || Format::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ");
    match named {
        Some(name) => Format::parse(name).ok_or_else(|| {
            ApiError::invalid(FieldError::new(
                "format",
                "unknown_format",
                format!("`{name}` is not one of {}", names()),
            ))
        }),
        None => Format::sniff(&body[..body.len().min(4096)]).ok_or_else(|| {
            ApiError::invalid(FieldError::new(
                "format",
                "unknown_format",
                format!(
                    "the file's format could not be recognised; pass ?format= (one of {})",
                    names()
                ),
            ))
        }),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadRequest {
    /// `dexcom_clarity`, `libreview`, `nightscout_entries` or `apple_health`.
    pub format: String,
}

/// Where to PUT the file. The import starts when the upload completes; poll `GET /api/v1/imports/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadTicket {
    pub id: Uuid,
    pub status: ImportStatus,
    /// Presigned S3 URL: `PUT` the file's bytes to it, unchanged.
    pub upload_url: String,
    pub method: &'static str,
    pub expires_in_seconds: u64,
}

/// Start a large-file import: returns a presigned S3 upload URL.
#[utoipa::path(
    post, path = "/api/v1/imports/uploads", tag = "imports", request_body = UploadRequest,
    responses(
        (status = 201, description = "Upload URL issued", body = UploadTicket),
        CreateUploadProblems,
    ),
    security(("bearer" = []))
)]
async fn create_upload(
    State(state): State<AppState>,
    Extension(bucket): Extension<Bucket>,
    user: AuthUser,
    ApiJson(request): ApiJson<UploadRequest>,
) -> Result<(StatusCode, ApiJson<UploadTicket>), ApiError> {
    let format = format_of(Some(&request.format), &[])?;
    let storage_unavailable = |e| ApiError::unavailable(Dependency::Storage, e);
    let bucket = bucket
        .get_or_try_init(UploadBucket::from_env)
        .await
        .map_err(storage_unavailable)?;
    // A local emulator may have restarted empty since the bucket was first made: the upload must have somewhere to go.
    bucket.ensure_exists().await.map_err(storage_unavailable)?;
    let id = Uuid::new_v4();
    let key = storage::object_key(user.id, id);
    let upload_url = bucket
        .presign_put(&key, UPLOAD_URL_TTL_SECS)
        .await
        .map_err(storage_unavailable)?;
    imports::create(
        &state.db,
        id,
        user.id,
        format.as_str(),
        ImportStatus::AwaitingUpload,
        Some(&key),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(UploadTicket {
            id,
            status: ImportStatus::AwaitingUpload,
            upload_url,
            method: "PUT",
            expires_in_seconds: UPLOAD_URL_TTL_SECS,
        }),
    ))
}

/// An import's status and, once finished, its report or error.
#[utoipa::path(
    get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = Uuid, Path, description = "The import's id")),
    responses(
        (status = 200, description = "The import", body = Import),
        ImportStatusProblems,
    ),
    security(("bearer" = []))
)]
async fn import_status(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<ApiJson<Import>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    imports::get(&state.db, user.id, id)
        .await?
        .map(ApiJson)
        .ok_or(ApiError::NotFound)
}
