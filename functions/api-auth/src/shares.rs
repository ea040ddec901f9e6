//! Sharing and the owner's access log: `POST`/`GET /api/v1/shares`, `DELETE /api/v1/shares/{id}`,
//! `GET /api/v1/shares/received` and `GET /api/v1/users/me/access-log`. The grant's rules are
//! `glucolens_app::shares`'; how a grantee reads through one is `glucolens_web::reader`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use glucolens_app::records::{decode_page_cursor, encode_page_cursor};
use glucolens_app::shares::{self as sharing, ShareInput};
use glucolens_domain::{parse_time_range, FieldError};
use glucolens_store::audit::{self, AccessEntry, Actor};
use glucolens_store::records::PagePosition;
use glucolens_store::shares::{self, Received, Share};
use glucolens_web::{openapi, ApiError, ApiJson, ApiQuery, AppState, AuthUser, RequestId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Where a link opens the owner's report; the secret follows as `share`.
const REPORT_LINK_PATH: &str = "/api/v1/reports/agp?share=";
/// Most grants `GET /api/v1/shares` lists (the newest).
const MAX_LISTED_SHARES: i64 = 500;
/// The access log's default period when none is given: the last 90 days.
const DEFAULT_LOG_DAYS: i64 = 90;
/// Longest period one access-log request may ask for.
const MAX_LOG_DAYS: i64 = 366;
const DEFAULT_LOG_PAGE: i64 = 100;
const MAX_LOG_PAGE: i64 = 1000;

glucolens_web::problem_responses! {
    /// The problems of `POST /api/v1/shares`.
    CreateProblems = [
        openapi::MALFORMED_BODY,
        openapi::UNAUTHORIZED,
        ("403", "Sent with `X-GlucoLens-Owner`: a grant cannot make grants (`grant_is_read_only`)"),
        openapi::PAYLOAD_TOO_LARGE,
        (
            "422",
            "Invalid fields, each listed with a code; `no_such_account` when no account has `grantee_email` (share \
             a link instead)",
        ),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of the owner's sharing routes without a body.
    OwnerProblems = [
        openapi::UNAUTHORIZED,
        ("403", "Sent with `X-GlucoLens-Owner`: only the owner manages grants and reads the access log"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `DELETE /api/v1/shares/{id}`.
    RevokeProblems = [
        openapi::UNAUTHORIZED,
        ("403", "Sent with `X-GlucoLens-Owner`"),
        ("404", "The caller has no grant with this id"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `GET /api/v1/users/me/access-log`.
    AccessLogProblems = [
        openapi::UNAUTHORIZED,
        ("403", "Sent with `X-GlucoLens-Owner`: the access log is its owner's only"),
        ("422", "Invalid `start`, `end`, `cursor` or `limit`; `errors` lists each one"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
}

/// Whether a grant can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    Active,
    Revoked,
    Expired,
}

/// The account a grant is bound to.
#[derive(Debug, Serialize, ToSchema)]
pub struct GranteeView {
    pub id: Uuid,
    /// The account's email now.
    pub email: Option<String>,
}

/// A grant as its owner sees it; a link's secret is never shown again after it was made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareView {
    pub id: Uuid,
    /// `report` or `read`.
    #[schema(example = "report")]
    pub scope: String,
    pub status: ShareStatus,
    /// The account the grant is for; null for a link.
    pub grantee: Option<GranteeView>,
    /// Whether the grant is a link.
    pub link: bool,
    pub label: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the grant was last used to read.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ShareView {
    fn new(share: Share, now: DateTime<Utc>) -> Self {
        let status = match share.revoked_at {
            Some(_) => ShareStatus::Revoked,
            None if share.expires_at <= now => ShareStatus::Expired,
            None => ShareStatus::Active,
        };
        Self {
            id: share.id,
            scope: share.scope,
            status,
            grantee: share.grantee_id.map(|id| GranteeView {
                id,
                email: share.grantee_email,
            }),
            link: share.is_link,
            label: share.label,
            expires_at: share.expires_at,
            created_at: share.created_at,
            revoked_at: share.revoked_at,
            last_used_at: share.last_used_at,
        }
    }
}

/// A new grant; for a link, its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedShare {
    #[serde(flatten)]
    pub share: ShareView,
    /// The link's secret (links only). Only its hash is stored: keep it, it cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Where the link opens the report, no sign-in needed (links only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/api/v1/reports/agp?share=3q2-7wEjR1Yk...")]
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareList {
    /// Newest first, active and ended (at most 500).
    pub shares: Vec<ShareView>,
}

/// Grant someone read access to your data
///
/// To an account, by its email: the grant is bound to the account that has the email now. The grantee reads with
/// their own sign-in plus `X-GlucoLens-Owner: <your user id>`: scope `report` opens the report only, `read` every
/// read route. Or as a link (`link: true`, scope `report`): the answer carries its secret (`token`) and `url`, once;
/// whoever holds the link opens your report without signing in. Every read through a grant appears in your access
/// log. Revoke with `DELETE /api/v1/shares/{id}`.
#[utoipa::path(
    post, path = "/api/v1/shares", tag = "sharing", security(("bearer" = [])),
    request_body = ShareInput,
    responses(
        (status = 201, description = "The grant; a link's secret and URL are shown only now", body = CreatedShare),
        CreateProblems,
    )
)]
pub(crate) async fn create_share(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(input): ApiJson<ShareInput>,
) -> Result<(StatusCode, ApiJson<CreatedShare>), ApiError> {
    let now = Utc::now();
    let created = sharing::create(&state.db, caller.id, &input, now).await?;
    let url = created.token.as_ref().map(|token| format!("{REPORT_LINK_PATH}{token}"));
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedShare {
            share: ShareView::new(created.share, now),
            token: created.token,
            url,
        }),
    ))
}

/// Your grants
#[utoipa::path(
    get, path = "/api/v1/shares", tag = "sharing", security(("bearer" = [])),
    responses((status = 200, description = "The caller's grants, newest first", body = ShareList), OwnerProblems)
)]
pub(crate) async fn list_shares(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiJson<ShareList>, ApiError> {
    let now = Utc::now();
    let shares = shares::list(&state.db, caller.id, MAX_LISTED_SHARES).await?;
    Ok(ApiJson(ShareList {
        shares: shares.into_iter().map(|share| ShareView::new(share, now)).collect(),
    }))
}

/// Revoke a grant
///
/// From now on the grant opens nothing (its next use answers 404). Revoking an ended grant changes nothing.
#[utoipa::path(
    delete, path = "/api/v1/shares/{id}", tag = "sharing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The grant's id")),
    responses((status = 204, description = "Revoked"), RevokeProblems)
)]
pub(crate) async fn revoke_share(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Text that is not an id names no grant of the caller's.
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
    if shares::revoke(&state.db, caller.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// A user whose data the caller may read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedShare {
    pub id: Uuid,
    /// Send as `X-GlucoLens-Owner` to read this user's data.
    pub owner_id: Uuid,
    pub owner_email: String,
    pub owner_name: Option<String>,
    /// `report` or `read`.
    pub scope: String,
    pub expires_at: DateTime<Utc>,
}

impl From<Received> for ReceivedShare {
    fn from(received: Received) -> Self {
        Self {
            id: received.id,
            owner_id: received.owner_id,
            owner_email: received.owner_email,
            owner_name: received.owner_name,
            scope: received.scope,
            expires_at: received.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedList {
    /// The active grants to the caller, soonest to expire first.
    pub shares: Vec<ReceivedShare>,
}

/// Grants to you
///
/// Whose data you may read, with what scope and until when. Read it by sending `X-GlucoLens-Owner: <owner_id>`
/// with your own bearer token.
#[utoipa::path(
    get, path = "/api/v1/shares/received", tag = "sharing", security(("bearer" = [])),
    responses((status = 200, description = "The active grants to the caller", body = ReceivedList), OwnerProblems)
)]
pub(crate) async fn received_shares(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiJson<ReceivedList>, ApiError> {
    let received = shares::received(&state.db, caller.id).await?;
    Ok(ApiJson(ReceivedList {
        shares: received.into_iter().map(ReceivedShare::from).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// Start of the period, inclusive (RFC 3339); with `end`. Without both, the last 90 days.
    #[param(value_type = Option<String>, format = DateTime)]
    start: Option<String>,
    /// End of the period, exclusive; after `start` and at most 366 days later.
    #[param(value_type = Option<String>, format = DateTime)]
    end: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// `next_cursor` of the previous page, to continue after it (with the same other parameters).
    cursor: Option<String>,
}

struct AccessLogRequest {
    period: (DateTime<Utc>, DateTime<Utc>),
    before: Option<PagePosition>,
    limit: i64,
}

impl AccessLogQuery {
    /// Checks every parameter and reports all problems at once.
    fn validate(&self, now: DateTime<Utc>) -> Result<AccessLogRequest, ApiError> {
        let mut errors = Vec::new();
        let period = match (&self.start, &self.end) {
            (None, None) => Some((now - Duration::days(DEFAULT_LOG_DAYS), now)),
            (start, end) => parse_time_range(
                start.as_deref(),
                end.as_deref(),
                MAX_LOG_DAYS,
                " with the other bound (or neither, for the last 90 days)",
                &mut errors,
            ),
        };
        let before = self
            .cursor
            .as_deref()
            .map(decode_page_cursor)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok();
        let limit = match self.limit.as_deref().map(str::parse::<i64>) {
            None => Some(DEFAULT_LOG_PAGE),
            Some(Ok(limit)) if (1..=MAX_LOG_PAGE).contains(&limit) => Some(limit),
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    format!("`limit` must be a whole number from 1 to {MAX_LOG_PAGE}"),
                ));
                None
            }
        };
        match (period, before, limit) {
            (Some(period), Some(before), Some(limit)) if errors.is_empty() => {
                Ok(AccessLogRequest { period, before, limit })
            }
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Who read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReaderView {
    /// `owner` (you, signed in), `account` (an account through your grant) or `link` (whoever held a link).
    #[schema(example = "account")]
    pub kind: &'static str,
    /// The reading account's email now (`account`, while the account exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_email: Option<String>,
    /// The grant used (`account` and `link`, while the grant exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_id: Option<Uuid>,
    /// The grant's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One read of your data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntryView {
    pub occurred_at: DateTime<Utc>,
    /// `read`.
    pub action: String,
    /// What was read, e.g. `glucose_readings`, `dashboard_summary`, `export`.
    pub resource: String,
    pub request_id: Option<String>,
    pub actor: ReaderView,
}

impl From<AccessEntry> for AccessEntryView {
    fn from(entry: AccessEntry) -> Self {
        let kind = match entry.actor_kind.as_str() {
            "account" => "account",
            "link" => "link",
            _ => "owner",
        };
        Self {
            occurred_at: entry.occurred_at,
            action: entry.action,
            resource: entry.resource,
            request_id: entry.request_id,
            actor: ReaderView {
                kind,
                account_email: entry.account_email,
                share_id: entry.share_id,
                label: entry.label,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogPage {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Newest first.
    pub entries: Vec<AccessEntryView>,
    /// Pass as `cursor` (with the same other parameters) for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Who read your data
///
/// Every read of your health data, newest first: your own (any sign-in), every account you granted access and
/// every link, with what was read and when. Reading the log is recorded in it too.
#[utoipa::path(
    get, path = "/api/v1/users/me/access-log", tag = "sharing", security(("bearer" = [])),
    params(AccessLogQuery),
    responses((status = 200, description = "One page of the access log", body = AccessLogPage), AccessLogProblems)
)]
pub(crate) async fn access_log(
    State(state): State<AppState>,
    caller: AuthUser,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<AccessLogQuery>,
) -> Result<ApiJson<AccessLogPage>, ApiError> {
    let request = query.validate(Utc::now())?;
    let read = audit::Read {
        resource: "access_log",
        request_id: &request_id.0,
        actor: Actor::Owner,
    };
    // One row beyond the page tells whether another page follows.
    let mut entries = audit::access_log(
        &state.db,
        caller.id,
        request.period,
        request.before,
        request.limit + 1,
        read,
    )
    .await?;
    let has_more = entries.len() as i64 > request.limit;
    entries.truncate(request.limit as usize);
    let next_cursor = has_more.then(|| entries.last()).flatten().map(|last| {
        encode_page_cursor(PagePosition {
            time: last.occurred_at,
            id: last.id,
        })
    });
    Ok(ApiJson(AccessLogPage {
        start: request.period.0,
        end: request.period.1,
        entries: entries.into_iter().map(AccessEntryView::from).collect(),
        next_cursor,
    }))
}
