//! A Nightscout-compatible subset, so existing uploaders (xDrip+, AndroidAPS, Loop, Trio, iAPS) can be pointed at
//! GlucoLens: `GET /api/v1/status`, `GET`/`POST /api/v1/entries`, `POST /api/v1/treatments` (each also with
//! `.json`). Uploaders authenticate with the `api-secret` header: the SHA-1 hex of the user's upload secret, which
//! the user creates (and replaces or revokes) with `POST`/`DELETE /api/v1/integrations/nightscout/secret` using
//! their normal bearer token.
//!
//! `sgv` entries become glucose readings (source `nightscout`), treatments with carbs become meals, `Exercise`
//! treatments become activities; anything else is accepted and ignored, as uploaders send everything. A document
//! already stored (same time and type) is not stored again.
//!
//! Hostile and impossible uploads, with the rules every route shares (`glucolens_domain::rules`):
//! - more than `MAX_BATCH_ITEMS` (50,000) documents in one request: 422 `batch_too_large`, as the JSON bulk route;
//! - a NUL in a text field the API reads (`type`, `dateString`, `direction`, `device`; `eventType`,
//!   `created_at`): 422 `invalid_text` naming it (`entries[3].device`), nothing written;
//! - two documents with the same natural key (time and type) in one request: identical ones count once; different
//!   ones are 422 `duplicate_key` naming both indices (`entries[7].date`), nothing written;
//! - a document dated outside the accepted range (2000-01-01 to now + 5 minutes) or at a leap second is
//!   **skipped**, not refused: uploaders treat 200 as done and would re-send a bad-clock entry forever after a
//!   4xx. It is left out of the echoed array (which lists what was accepted), and the count of such documents is
//!   in the `X-Skipped-Out-Of-Range` response header (the body's format is Nightscout's and has no room for it).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{SecondsFormat, Utc};
use glucolens_app::import_service;
use glucolens_domain::ingest::{check_batch_size, duplicate_key_error};
use glucolens_domain::{rules, FieldError};
use glucolens_importers::nightscout::{Entry, Treatment};
use glucolens_importers::Record;
use glucolens_store::{audit, nightscout, rate_limit};
use glucolens_web::AppState;
use glucolens_web::{with_api_layers, ApiError, ApiJson, ApiQuery, AuthUser, RequestId};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    with_api_layers(
        Router::new()
            .route("/api/v1/status", get(status))
            .route("/api/v1/status.json", get(status))
            .route("/api/v1/entries", get(list_entries).post(post_entries))
            .route("/api/v1/entries.json", get(list_entries).post(post_entries))
            .route("/api/v1/treatments", post(post_treatments))
            .route("/api/v1/treatments.json", post(post_treatments))
            .route(
                "/api/v1/integrations/nightscout/secret",
                post(create_secret).delete(revoke_secret),
            ),
        state,
    )
}

#[derive(OpenApi)]
#[openapi(paths(status, list_entries, post_entries, post_treatments, create_secret, revoke_secret))]
struct NightscoutApi;

/// This function's part of the OpenAPI document (merged by the docs function).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = NightscoutApi::openapi();
    // Uploaders call both `/api/v1/entries` and `/api/v1/entries.json`; the `.json` spellings are the same operations.
    let aliases: Vec<(String, utoipa::openapi::PathItem)> = document
        .paths
        .paths
        .iter()
        .filter(|(path, _)| ["/api/v1/status", "/api/v1/entries", "/api/v1/treatments"].contains(&path.as_str()))
        .map(|(path, item)| (format!("{path}.json"), item.clone()))
        .collect();
    for (path, mut item) in aliases {
        for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
            operation.operation_id = operation.operation_id.as_ref().map(|id| format!("{id}_json"));
        }
        document.paths.paths.insert(path, item);
    }
    document
}

/// The Nightscout version reported to uploaders (some refuse servers older than 0.9).
const COMPATIBLE_VERSION: &str = "15.0.2";
/// Most entries one `GET /api/v1/entries` returns.
const MAX_ENTRIES: i64 = 1000;

/// The user an uploader's `api-secret` header identifies. Counts against that user's rate limit, like bearer
/// requests.
#[derive(Debug, Clone, Copy)]
pub struct UploaderUser {
    pub id: Uuid,
}

/// What is stored for a header value: SHA-256 of the SHA-1 hex. Uploaders send the SHA-1 hex; some let the user
/// type the plain secret, whose SHA-1 is taken first.
fn stored_hashes(header: &str) -> Vec<Vec<u8>> {
    let header = header.trim();
    let as_sent = header.to_ascii_lowercase();
    let of_plain = hex::encode(Sha1::digest(header.as_bytes()));
    [as_sent, of_plain]
        .iter()
        .map(|sha1_hex| Sha256::digest(sha1_hex.as_bytes()).to_vec())
        .collect()
}

impl FromRequestParts<AppState> for UploaderUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        const UNAUTHORIZED: ApiError = ApiError::Unauthorized {
            code: "invalid_api_secret",
            detail: "send `api-secret: <SHA-1 hex of your GlucoLens upload secret>`",
        };
        let header = parts
            .headers
            .get("api-secret")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .ok_or(UNAUTHORIZED)?;
        let id = nightscout::user_for_secret(&state.db, &stored_hashes(header))
            .await?
            .ok_or(UNAUTHORIZED)?;
        match rate_limit::hit_user(&state.db, id, state.rate_limit_per_minute).await? {
            rate_limit::Outcome::Allowed => Ok(UploaderUser { id }),
            rate_limit::Outcome::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
            rate_limit::Outcome::UnknownUser => Err(UNAUTHORIZED),
        }
    }
}

/// The status document uploaders read to check the server (and, with `api-secret`, their credentials).
#[utoipa::path(
    get, path = "/api/v1/status", tag = "nightscout",
    responses(
        (status = 200, description = "Nightscout-style status document"),
        (status = 401, description = "An `api-secret` header was sent and is wrong"),
    )
)]
async fn status(State(state): State<AppState>, parts: Parts) -> Result<Json<Value>, ApiError> {
    let mut parts = parts;
    if parts.headers.contains_key("api-secret") {
        UploaderUser::from_request_parts(&mut parts, &state).await?;
    }
    let now = Utc::now();
    Ok(Json(json!({
        "status": "ok",
        "name": "GlucoLens",
        "version": COMPATIBLE_VERSION,
        "serverTime": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "serverTimeEpoch": now.timestamp_millis(),
        "apiEnabled": true,
        "careportalEnabled": true,
        "boluscalcEnabled": false,
        "settings": {
            "units": "mg/dl",
            "enable": ["careportal"],
            "authDefaultRoles": "denied",
        },
        "extendedSettings": {},
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountQuery {
    /// How many entries, newest first (default 10, at most 1000).
    pub count: Option<i64>,
}

/// The latest readings as `sgv` entries (all sources), newest first.
#[utoipa::path(
    get, path = "/api/v1/entries", tag = "nightscout", params(CountQuery),
    responses((status = 200, description = "sgv entries"), (status = 401, description = "Wrong or missing api-secret"))
)]
async fn list_entries(
    State(state): State<AppState>,
    user: UploaderUser,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<CountQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let count = query.count.unwrap_or(10).clamp(1, MAX_ENTRIES);
    // The uploader's own read of the owner's readings, audited like every read of health data.
    audit::record(&state.db, user.id, "read", "nightscout_entries", &request_id.0).await?;
    let readings = nightscout::latest_readings(&state.db, user.id, count).await?;
    Ok(Json(
        readings
            .into_iter()
            .map(|r| {
                json!({
                    "type": "sgv",
                    "sgv": r.value.round() as i64,
                    "date": r.timestamp.timestamp_millis(),
                    "dateString": r.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
                    "direction": r.trend,
                    "device": r.device_id.unwrap_or(r.source),
                })
            })
            .collect(),
    ))
}

/// Uploaders POST an array of documents (a single object is accepted too).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<Value>),
    One(Value),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<Value> {
        match self {
            OneOrMany::Many(documents) => documents,
            OneOrMany::One(document) => vec![document],
        }
    }
}

/// A kind of document uploaders POST.
trait Document: for<'de> Deserialize<'de> {
    /// The name of the batch in error fields (`entries[3].device`).
    const BATCH: &'static str;
    /// The field carrying the natural key's instant, where `duplicate_key` is reported.
    const KEY_FIELD: &'static str;
    fn unstorable_field(&self) -> Option<&'static str>;
    fn to_record(&self) -> Result<Record, &'static str>;
}

impl Document for Entry {
    const BATCH: &'static str = "entries";
    const KEY_FIELD: &'static str = "date";
    fn unstorable_field(&self) -> Option<&'static str> {
        Entry::unstorable_field(self)
    }
    fn to_record(&self) -> Result<Record, &'static str> {
        Entry::to_record(self)
    }
}

impl Document for Treatment {
    const BATCH: &'static str = "treatments";
    const KEY_FIELD: &'static str = "created_at";
    fn unstorable_field(&self) -> Option<&'static str> {
        Treatment::unstorable_field(self)
    }
    fn to_record(&self) -> Result<Record, &'static str> {
        Treatment::to_record(self)
    }
}

/// The count of documents skipped for their date (see the module comment).
static SKIPPED_HEADER: HeaderName = HeaderName::from_static("x-skipped-out-of-range");

type Stored = ([(HeaderName, String); 1], Json<Vec<Value>>);

/// Stores the documents that map to records and answers, as Nightscout does, with the accepted documents.
async fn store_documents<D: Document>(
    state: &AppState,
    user: UploaderUser,
    body: Result<Json<OneOrMany>, JsonRejection>,
) -> Result<Stored, ApiError> {
    let Json(documents) = body.map_err(|rejection| ApiError::BadRequest {
        code: "malformed_json",
        detail: format!(
            "the body is not a JSON array of Nightscout documents ({})",
            rejection.body_text()
        ),
    })?;
    let documents = documents.into_vec();
    check_batch_size("body", documents.len()).map_err(ApiError::invalid)?;
    let now = Utc::now();
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(documents.len());
    let mut accepted = Vec::with_capacity(documents.len());
    let mut skipped_out_of_range = 0u64;
    // Natural key → (index of the first document with it, its values' fingerprint).
    let mut first_of = std::collections::HashMap::new();
    for (index, document) in documents.into_iter().enumerate() {
        let Ok(parsed) = D::deserialize(&document) else {
            continue;
        };
        if let Some(field) = parsed.unstorable_field() {
            errors.push(FieldError::unstorable_text(field).in_item(D::BATCH, index));
            continue;
        }
        let Ok(record) = parsed.to_record() else { continue };
        if record
            .instants()
            .into_iter()
            .any(|t| rules::check_time(t, now).is_err())
        {
            skipped_out_of_range += 1;
            continue;
        }
        let fingerprint = record.fingerprint();
        match first_of.entry(record.natural_key()) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let (first_index, first_fingerprint) = *first.get();
                if first_fingerprint != fingerprint {
                    errors.push(duplicate_key_error(D::BATCH, D::KEY_FIELD, first_index, index));
                }
                // An identical repeat is echoed as accepted and stored once.
                accepted.push(document);
                continue;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((index, fingerprint));
            }
        }
        records.push(record);
        accepted.push(document);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let counts = import_service::store_records(&state.db, user.id, records).await?;
    tracing::info!(
        inserted = counts.inserted,
        already_present = counts.already_present,
        skipped_out_of_range,
        "nightscout upload"
    );
    Ok((
        [(SKIPPED_HEADER.clone(), skipped_out_of_range.to_string())],
        Json(accepted),
    ))
}

/// Store `sgv` entries as glucose readings (source `nightscout`); other entry types are ignored.
#[utoipa::path(
    post, path = "/api/v1/entries", tag = "nightscout", request_body = Vec<Object>,
    responses(
        (status = 200, description = "The entries that were stored or already present; `X-Skipped-Out-Of-Range` \
            counts those skipped for a date outside 2000-01-01 .. now + 5 minutes"),
        (status = 401, description = "Wrong or missing api-secret"),
        (status = 422, description = "More than 50,000 entries (`batch_too_large`), text that cannot be stored \
            (`invalid_text`), or one time sent twice with different values (`duplicate_key`); nothing written"),
    )
)]
async fn post_entries(
    State(state): State<AppState>,
    user: UploaderUser,
    body: Result<Json<OneOrMany>, JsonRejection>,
) -> Result<Stored, ApiError> {
    store_documents::<Entry>(&state, user, body).await
}

/// Store carb treatments as meals and `Exercise` treatments as activities; others are ignored.
#[utoipa::path(
    post, path = "/api/v1/treatments", tag = "nightscout", request_body = Vec<Object>,
    responses(
        (status = 200, description = "The treatments that were stored or already present; \
            `X-Skipped-Out-Of-Range` counts those skipped for a date outside 2000-01-01 .. now + 5 minutes"),
        (status = 401, description = "Wrong or missing api-secret"),
        (status = 422, description = "More than 50,000 treatments (`batch_too_large`), text that cannot be \
            stored (`invalid_text`), or one time sent twice with different values (`duplicate_key`); nothing written"),
    )
)]
async fn post_treatments(
    State(state): State<AppState>,
    user: UploaderUser,
    body: Result<Json<OneOrMany>, JsonRejection>,
) -> Result<Stored, ApiError> {
    store_documents::<Treatment>(&state, user, body).await
}

/// A new upload secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadSecret {
    /// Enter this as the uploader's API secret (xDrip+: `https://<secret>@<host>/api/v1/`).
    pub secret: String,
    /// What uploaders send in the `api-secret` header: the SHA-1 hex of `secret`.
    pub api_secret_sha1: String,
}

/// Create (or replace, revoking the old one) the caller's Nightscout upload secret.
#[utoipa::path(
    post, path = "/api/v1/integrations/nightscout/secret", tag = "nightscout",
    responses((status = 201, description = "The new secret (shown only now)", body = UploadSecret)),
    security(("bearer" = []))
)]
async fn create_secret(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, ApiJson<UploadSecret>), ApiError> {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    // URL-safe, so it can sit in xDrip+'s `https://<secret>@host` form; 32 characters (Nightscout wants ≥ 12).
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let api_secret_sha1 = hex::encode(Sha1::digest(secret.as_bytes()));
    let hash = Sha256::digest(api_secret_sha1.as_bytes());
    nightscout::replace_secret(&state.db, user.id, &hash).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(UploadSecret {
            secret,
            api_secret_sha1,
        }),
    ))
}

/// Revoke the caller's Nightscout upload secret; uploaders using it get 401 from now on.
#[utoipa::path(
    delete, path = "/api/v1/integrations/nightscout/secret", tag = "nightscout",
    responses((status = 204, description = "Revoked"), (status = 404, description = "There was no secret")),
    security(("bearer" = []))
)]
async fn revoke_secret(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    if nightscout::revoke_secret(&state.db, user.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
