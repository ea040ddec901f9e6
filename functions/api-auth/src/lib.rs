//! The auth endpoint group: registration, login, token refresh, sign-out, the caller's own account (read,
//! change, erase, export), and sharing: the grants an owner gives others to read their data, and the owner's
//! access log of who read it ([`shares`]).
//!
//! Sessions: each registration or login starts a refresh-token family, the *session*; every access token handed
//! out names it (`sid`), and the bearer extractor refuses tokens of a revoked session at once. Sign-out
//! (`POST /api/v1/auth/logout`) and a detected refresh-token re-use both revoke the whole session.
//! Registration and login are throttled per client address ([`client`]) as well as per email (login).

pub mod client;
mod export;
mod shares;

pub use client::AuthAttempt;
pub use export::LINK_TTL_SECS;
pub use glucolens_aws::config::AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::{DateTime, NaiveDate, Utc};
use glucolens_aws::storage::UploadBucket;
use glucolens_credentials::passwords;
use glucolens_domain::user::{DiabetesType, ProfileInput};
use glucolens_domain::{Email, FieldError, GlucoseUnit, Password, TargetRange, UserTimeZone};
use glucolens_store::rate_limit;
use glucolens_store::refresh_tokens::{self, IssuedRefreshToken, Rotation};
use glucolens_store::users::{self, NewUser, SettingsChange, User};
use glucolens_web::problem::Problem;
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, ApiJson, AuthUser, MAX_BODY_BYTES};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::OnceCell;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

/// Login attempts allowed per email per (fixed) minute. Every attempt counts, a correct one too, so a throttled
/// guesser cannot tell a right password from a wrong one by the answer.
pub const LOGIN_ATTEMPTS_PER_MINUTE: i32 = 5;

/// Every route this function serves (see `glucolens_web::routes::ROUTES`); on Lambda, the bucket exports are
/// uploaded to comes from the environment.
pub fn router(state: AppState) -> Router {
    build(state, Arc::new(OnceCell::new()))
}

/// The same routes with a given export bucket (tests use one bucket per test).
pub fn router_with_bucket(state: AppState, bucket: UploadBucket) -> Router {
    build(state, Arc::new(OnceCell::new_with(Some(bucket))))
}

fn build(state: AppState, bucket: export::Bucket) -> Router {
    let routes = Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/users/me", axum::routing::patch(update_me).delete(delete_me))
        .route("/api/v1/users/me/export", get(export::export_me))
        .route("/api/v1/users/me/access-log", get(shares::access_log))
        .route("/api/v1/shares", post(shares::create_share).get(shares::list_shares))
        .route("/api/v1/shares/received", get(shares::received_shares))
        .route("/api/v1/shares/{id}", axum::routing::delete(shares::revoke_share))
        .layer(Extension(bucket));
    with_api_layers(routes, state)
}

#[derive(OpenApi)]
#[openapi(
    paths(
        register, login, refresh, logout, me, update_me, delete_me, export::export_me, shares::create_share,
        shares::list_shares, shares::received_shares, shares::revoke_share, shares::access_log
    ),
    components(schemas(Problem)),
    tags(
        (name = "auth", description = "Accounts, sign-in and tokens"),
        (name = "sharing", description = "Read access for care partners and clinicians, and who read your data")
    )
)]
struct AuthApi;

glucolens_web::problem_responses! {
    /// The problems of `POST /api/v1/auth/register`.
    RegisterProblems = [
        ("400", "The body is not JSON of this shape"),
        ("409", "The email is already registered (`email_taken`)"),
        openapi::PAYLOAD_TOO_LARGE,
        ("422", "Invalid fields, each listed with a code"),
        ("429", "Too many registration or sign-in attempts from this client; see `Retry-After`"),
        openapi::UNAVAILABLE,
    ];
    /// The problems of `POST /api/v1/auth/login`.
    LoginProblems = [
        ("400", "The body is not JSON of this shape"),
        ("401", "Wrong email or password (`invalid_credentials`)"),
        openapi::PAYLOAD_TOO_LARGE,
        ("429", "Too many attempts for this email, or from this client; see `Retry-After`"),
        openapi::UNAVAILABLE,
    ];
    /// The problems of `POST /api/v1/auth/refresh`.
    RefreshProblems = [
        ("400", "The body is not JSON of this shape"),
        (
            "401",
            "Unknown, expired or revoked token (`invalid_refresh_token`), or re-use of a spent one \
             (`refresh_token_reused`)",
        ),
        openapi::PAYLOAD_TOO_LARGE,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `POST /api/v1/auth/logout`.
    LogoutProblems = [
        ("400", "A body was sent and is not JSON of this shape"),
        ("401", "Missing, invalid or expired access token, or a session already ended"),
        ("413", "The body is too large"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `GET /api/v1/auth/me` and `DELETE /api/v1/users/me`.
    AccountProblems = [
        openapi::UNAUTHORIZED,
        ("404", "The account no longer exists"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `PATCH /api/v1/users/me`.
    UpdateSettingsProblems = [
        ("400", "The body is not JSON of this shape"),
        openapi::UNAUTHORIZED,
        ("404", "The account no longer exists"),
        openapi::PAYLOAD_TOO_LARGE,
        ("422", "Invalid fields, each listed with a code"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
}

/// This function's part of the OpenAPI document (merged by the docs function).
pub fn openapi() -> utoipa::openapi::OpenApi {
    AuthApi::openapi()
}

/// A new account. Missing settings default to UTC, the consensus target range 70–180 mg/dL and mg/dL; profile
/// fields absent or `null` stay unset.
///
/// Aliases (the earlier names, still accepted): `time_zone` for `timezone`, `target_low` and `target_high` for
/// `target_glucose_min` and `target_glucose_max`. Send a field under one name only (both is a malformed body).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// Sign-in email, compared case-insensitively.
    #[schema(example = "ana@example.com", format = "email", max_length = 254)]
    pub email: String,
    /// 10 to 128 characters.
    #[schema(example = "correct horse battery", min_length = 10, max_length = 128)]
    pub password: String,
    /// IANA time zone name; local days (daily summaries) follow it. Alias: `time_zone`.
    #[serde(alias = "time_zone")]
    #[schema(example = "Europe/Paris")]
    pub timezone: Option<String>,
    /// Lower bound of the personal target range, in `target_unit`. Alias: `target_low`.
    #[serde(alias = "target_low")]
    #[schema(example = 70.0)]
    pub target_glucose_min: Option<f64>,
    /// Upper bound of the personal target range, in `target_unit`. Alias: `target_high`.
    #[serde(alias = "target_high")]
    #[schema(example = 180.0)]
    pub target_glucose_max: Option<f64>,
    /// Unit of `target_glucose_min` and `target_glucose_max`; mg/dL when absent.
    pub target_unit: Option<GlucoseUnit>,
    /// Unit in which answers show glucose values; mg/dL when absent.
    pub display_unit: Option<GlucoseUnit>,
    #[serde(flatten)]
    pub profile: ProfileInput,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "ana@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery")]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token from the last login, registration or refresh; each one works once.
    pub refresh_token: String,
}

/// Optionally, the refresh token of the session to end (see `POST /api/v1/auth/logout`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// A refresh token of the caller's; its whole session is revoked too.
    pub refresh_token: Option<String>,
}

/// Settings and profile fields to change. Settings absent or `null` stay as they are; giving only one target bound
/// keeps the other. Profile fields absent stay as they are and `null` clears them.
///
/// Aliases (the earlier names, still accepted): `time_zone` for `timezone`, `target_low` and `target_high` for
/// `target_glucose_min` and `target_glucose_max`. Send a field under one name only (both is a malformed body).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSettingsRequest {
    /// IANA time zone name. Alias: `time_zone`.
    #[serde(alias = "time_zone")]
    #[schema(example = "Asia/Kolkata")]
    pub timezone: Option<String>,
    /// Alias: `target_low`.
    #[serde(alias = "target_low")]
    #[schema(example = 3.9)]
    pub target_glucose_min: Option<f64>,
    /// Alias: `target_high`.
    #[serde(alias = "target_high")]
    #[schema(example = 10.0)]
    pub target_glucose_max: Option<f64>,
    /// Unit of `target_glucose_min` and `target_glucose_max`; mg/dL when absent.
    pub target_unit: Option<GlucoseUnit>,
    pub display_unit: Option<GlucoseUnit>,
    #[serde(flatten)]
    pub profile: ProfileInput,
}

/// The caller's account (the design's `users` fields). Target bounds are in `display_unit`; profile fields never
/// set are `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    /// IANA time zone name.
    pub timezone: String,
    pub display_unit: GlucoseUnit,
    pub target_glucose_min: f64,
    pub target_glucose_max: f64,
    pub full_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub diabetes_type: Option<DiabetesType>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        let unit = user.display_unit();
        Self {
            target_glucose_min: unit.display(user.target_low()),
            target_glucose_max: unit.display(user.target_high()),
            display_unit: unit,
            diabetes_type: user.diabetes_type(),
            id: user.id,
            email: user.email,
            timezone: user.time_zone,
            full_name: user.full_name,
            date_of_birth: user.date_of_birth,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// A short-lived access token and the single-use refresh token that obtains the next pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque; exchange it at `POST /api/v1/auth/refresh`.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

impl TokenPair {
    /// The access token is bound to the refresh token's session (`sid`), so revoking the session revokes it.
    fn new(state: &AppState, user_id: Uuid, refresh: IssuedRefreshToken) -> Self {
        let access = state.tokens.issue_for_session(user_id, refresh.family_id);
        Self {
            access_token: access.access_token,
            token_type: access.token_type,
            expires_in: access.expires_in,
            refresh_token: refresh.token,
            refresh_expires_at: refresh.expires_at,
        }
    }

    /// Starts a new refresh-token family for `user_id`.
    async fn start(state: &AppState, user_id: Uuid) -> Result<Self, ApiError> {
        let refresh = refresh_tokens::issue(&state.db, user_id).await?;
        Ok(Self::new(state, user_id, refresh))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub user: UserView,
    pub tokens: TokenPair,
}

/// Keeps the value of a successful parse and records a failed one, so one answer lists every invalid field.
fn collect<T>(parsed: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    parsed.map_err(|error| errors.push(error)).ok()
}

/// [`collect`] for a check that reports several fields.
fn collect_all<T>(parsed: Result<T, Vec<FieldError>>, errors: &mut Vec<FieldError>) -> Option<T> {
    parsed.map_err(|found| errors.extend(found)).ok()
}

const INVALID_CREDENTIALS: ApiError = ApiError::Unauthorized {
    code: "invalid_credentials",
    detail: "the email or the password is wrong",
};

/// Create an account
///
/// Registration and sign-in attempts from one client address share a limit of 20 per minute; more get 429.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth", security(()),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account was created; it is signed in", body = SessionResponse),
        RegisterProblems,
    )
)]
async fn register(
    State(state): State<AppState>,
    _attempt: AuthAttempt,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, ApiJson<SessionResponse>), ApiError> {
    let mut errors = Vec::new();
    let email = collect(Email::parse(&request.email), &mut errors);
    let password = collect(Password::parse(&request.password), &mut errors);
    let time_zone = match request.timezone.as_deref() {
        Some(raw) => collect(UserTimeZone::parse(raw), &mut errors),
        None => Some(UserTimeZone::default()),
    };
    let target = collect(
        TargetRange::parse(
            request.target_glucose_min.unwrap_or(TargetRange::CONSENSUS.low().get()),
            request
                .target_glucose_max
                .unwrap_or(TargetRange::CONSENSUS.high().get()),
            request.target_unit.unwrap_or_default(),
        ),
        &mut errors,
    );
    let profile = collect_all(request.profile.validate(Utc::now()), &mut errors);
    let (Some(email), Some(password), Some(time_zone), Some(target), Some(profile)) =
        (email, password, time_zone, target, profile)
    else {
        return Err(ApiError::Validation(errors));
    };
    let new_user = NewUser {
        email,
        password_hash: passwords::hash(password).await?,
        time_zone,
        target,
        display_unit: request.display_unit.unwrap_or_default(),
        profile: profile.into_profile(),
    };
    let user = users::create(&state.db, &new_user).await?.ok_or(ApiError::Conflict {
        code: "email_taken",
        detail: "an account with this email already exists".into(),
    })?;
    let tokens = TokenPair::start(&state, user.id).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(SessionResponse {
            user: user.into(),
            tokens,
        }),
    ))
}

/// The throttling bucket of an email: its SHA-256, so the rate-limit table never holds an address in clear.
fn login_bucket(email: &str) -> String {
    format!(
        "login:{}",
        hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
    )
}

/// Seconds until the current fixed one-minute window ends.
fn seconds_to_next_minute() -> u64 {
    60 - Utc::now().timestamp().rem_euclid(60) as u64
}

/// Sign in
///
/// Wrong password and unknown email get the same answer after the same work. More than five attempts for one
/// email within a minute are refused with 429, as are more than 20 registration or sign-in attempts from one client
/// address.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SessionResponse),
        LoginProblems,
    )
)]
async fn login(
    State(state): State<AppState>,
    _attempt: AuthAttempt,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<ApiJson<SessionResponse>, ApiError> {
    if rate_limit::hit(&state.db, &login_bucket(&request.email)).await? > LOGIN_ATTEMPTS_PER_MINUTE {
        return Err(ApiError::RateLimited {
            retry_after_secs: seconds_to_next_minute(),
        });
    }
    // An address that cannot be registered is looked up as no account at all: same answer, same hashing work.
    let credentials = match Email::parse(&request.email) {
        Ok(email) => users::credentials(&state.db, &email).await?,
        // Text no account can hold (a NUL) is the client's error rather than a wrong guess, and says nothing about
        // which accounts exist.
        Err(error) if error.code == "invalid_text" => return Err(ApiError::invalid(error)),
        Err(_) => None,
    };
    let (user_id, stored_hash) = credentials.unzip();
    let verified = passwords::verify(stored_hash, SecretString::from(request.password)).await?;
    let Some(user_id) = user_id.filter(|_| verified) else {
        return Err(INVALID_CREDENTIALS);
    };
    let user = users::get(&state.db, user_id).await?.ok_or(INVALID_CREDENTIALS)?;
    let tokens = TokenPair::start(&state, user_id).await?;
    Ok(ApiJson(SessionResponse {
        user: user.into(),
        tokens,
    }))
}

/// Exchange a refresh token for a new token pair
///
/// Each refresh token works once. Presenting one that was already exchanged revokes every token descending from
/// the same sign-in (`refresh_token_reused`): whoever holds them must sign in again.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth", security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is now spent", body = TokenPair),
        RefreshProblems,
    )
)]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<ApiJson<TokenPair>, ApiError> {
    match refresh_tokens::rotate(&state.db, request.refresh_token.trim()).await? {
        Rotation::Rotated { user_id, next } => Ok(ApiJson(TokenPair::new(&state, user_id, next))),
        Rotation::Reused => Err(ApiError::Unauthorized {
            code: "refresh_token_reused",
            detail: "this refresh token was already used; every token of its sign-in is now revoked",
        }),
        Rotation::Rejected => Err(ApiError::Unauthorized {
            code: "invalid_refresh_token",
            detail: "the refresh token is unknown, expired or revoked",
        }),
    }
}

/// Sign out
///
/// Ends the caller's session: every refresh token of the sign-in that issued the bearer token is revoked, and so
/// is every access token of it, at once (they then answer 401 `session_revoked`). Optionally send
/// `{"refresh_token": "..."}` to end the session of that refresh token as well (it must be one of the caller's;
/// another user's or an unknown token is ignored). Signing out is idempotent: an already revoked refresh token is
/// no error. Other sessions (other devices) stay signed in.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    request_body(content = Option<LogoutRequest>, description = "Optional; an empty body ends the bearer token's session only", content_type = "application/json"),
    responses(
        (status = 204, description = "Signed out: the session's refresh and access tokens no longer work"),
        LogoutProblems,
    )
)]
async fn logout(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(|_| ApiError::PayloadTooLarge {
        limit_bytes: MAX_BODY_BYTES,
    })?;
    // The body is optional: empty means "this session"; anything else goes through the usual JSON checks.
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let mut rebuilt = Request::new(Body::from(body));
        if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
            rebuilt.headers_mut().insert(header::CONTENT_TYPE, content_type.clone());
        }
        let ApiJson(request) = ApiJson::<LogoutRequest>::from_request(rebuilt, &state).await?;
        Some(request)
    };
    let mut sessions = Vec::from_iter(caller.session_id);
    if let Some(token) = request.and_then(|r| r.refresh_token) {
        if let Some(family) = refresh_tokens::family_of(&state.db, caller.id, token.trim()).await? {
            sessions.push(family);
        }
    }
    for session in sessions {
        refresh_tokens::revoke_family(&state.db, caller.id, session).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = UserView),
        AccountProblems,
    )
)]
async fn me(State(state): State<AppState>, caller: AuthUser) -> Result<ApiJson<UserView>, ApiError> {
    let user = users::get(&state.db, caller.id).await?.ok_or(ApiError::NotFound)?;
    Ok(ApiJson(user.into()))
}

/// Change the caller's settings and profile
///
/// A new time zone or target range marks every day with data for re-aggregation. `null` clears a profile field
/// (`full_name`, `date_of_birth`, `diabetes_type`).
#[utoipa::path(
    patch, path = "/api/v1/users/me", tag = "auth", security(("bearer" = [])),
    request_body = UpdateSettingsRequest,
    responses(
        (status = 200, description = "The account with its new settings", body = UserView),
        UpdateSettingsProblems,
    )
)]
async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<UpdateSettingsRequest>,
) -> Result<ApiJson<UserView>, ApiError> {
    let mut errors = Vec::new();
    let time_zone = match request.timezone.as_deref() {
        Some(raw) => collect(UserTimeZone::parse(raw), &mut errors),
        None => None,
    };
    let target = match (request.target_glucose_min, request.target_glucose_max) {
        (None, None) => None,
        (low, high) => {
            // A missing bound keeps its stored value, expressed in the unit of the given one.
            let unit = request.target_unit.unwrap_or_default();
            let current = users::get(&state.db, caller.id).await?.ok_or(ApiError::NotFound)?;
            let low = low.unwrap_or_else(|| unit.from_mg_dl(current.target_low().get()));
            let high = high.unwrap_or_else(|| unit.from_mg_dl(current.target_high().get()));
            collect(TargetRange::parse(low, high, unit), &mut errors)
        }
    };
    let profile = collect_all(request.profile.validate(Utc::now()), &mut errors);
    let Some(profile) = profile.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let change = SettingsChange {
        time_zone,
        target,
        display_unit: request.display_unit,
        profile,
    };
    let user = users::update_settings(&state.db, caller.id, &change)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ApiJson(user.into()))
}

/// Erase the caller's account and all its data
#[utoipa::path(
    delete, path = "/api/v1/users/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "The account and every row of its data are gone; its tokens no longer work"),
        AccountProblems,
    )
)]
async fn delete_me(State(state): State<AppState>, caller: AuthUser) -> Result<StatusCode, ApiError> {
    if users::delete(&state.db, caller.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
