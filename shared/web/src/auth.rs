//! The authenticated caller. Extracting [`AuthUser`] verifies the bearer token (signature and a short, plausible
//! lifetime), checks the account still exists and the token's session was not signed out or revoked, and counts the
//! request against the caller's rate limit, all before a handler runs and the database part in one round trip, which
//! also reads the account's settings ([`Caller`]); handlers scope every query to `AuthUser::id`, so no request can
//! reach another user's rows.
//!
//! These extractors are for a caller acting on their own account. A grantee reading someone else's data names the
//! owner in [`OWNER_HEADER`], which only the read extractors (`crate::reader`) accept: here it is refused with 403
//! `grant_is_read_only`, so a grant can never reach a write, an account route or the sharing routes.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use super::ApiError;
use crate::AppState;
use glucolens_credentials::tokens::TokenError;
use glucolens_store::rate_limit::{self, SessionOutcome};
use glucolens_store::users::StoredSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: Uuid,
    /// The session (refresh-token family) the token was issued with; `None` for internally minted tokens.
    pub session_id: Option<Uuid>,
}

/// The authenticated caller with the account's settings, which the round trip that authenticates reads too (see
/// [`rate_limit::hit_session`]), so a handler that needs them does not ask again.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user: AuthUser,
    pub settings: StoredSettings,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Caller::from_request_parts(parts, state).await?.user)
    }
}

/// The header a grantee sends to read the data of the owner it names (a user id); see `crate::reader`.
pub const OWNER_HEADER: &str = "x-glucolens-owner";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(OWNER_HEADER) {
            return Err(ApiError::Forbidden {
                code: "grant_is_read_only",
                detail: "a grant only reads its owner's data: this route acts on your own account; send it without \
                         X-GlucoLens-Owner",
            });
        }
        Caller::authenticate(parts, state).await
    }
}

impl Caller {
    /// Verifies the bearer token and counts the request, whatever else the request carries (the read extractors
    /// decide about [`OWNER_HEADER`] themselves).
    pub(crate) async fn authenticate(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or(ApiError::Unauthorized {
                code: "missing_token",
                detail: "send `Authorization: Bearer <token>`",
            })?;
        let verified = state.tokens.verify_token(token.trim()).map_err(|e| match e {
            TokenError::Expired => ApiError::Unauthorized {
                code: "token_expired",
                detail: "the access token has expired; use POST /api/v1/auth/refresh",
            },
            TokenError::Invalid => ApiError::Unauthorized {
                code: "invalid_token",
                detail: "the access token is invalid",
            },
        })?;
        let (id, session_id) = (verified.user_id, verified.session_id);
        // One round trip: the account exists, the session is not revoked, the request is counted, and the
        // account's settings are read.
        match rate_limit::hit_session(&state.db, id, session_id, state.rate_limit_per_minute).await? {
            SessionOutcome::Allowed(settings) => Ok(Caller {
                user: AuthUser { id, session_id },
                settings,
            }),
            SessionOutcome::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
            SessionOutcome::UnknownUser => Err(ApiError::Unauthorized {
                code: "invalid_token",
                detail: "the account for this token no longer exists",
            }),
            SessionOutcome::Revoked => Err(ApiError::Unauthorized {
                code: "session_revoked",
                detail: "this sign-in has ended (signed out or its refresh token was re-used); sign in again",
            }),
        }
    }
}

/// The request id for audit rows and logs: API Gateway's when running on Lambda, else `x-request-id`, else new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        use lambda_http::request::RequestContext;
        let from_gateway = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
            _ => None,
        };
        let id = from_gateway
            .or_else(|| {
                parts
                    .headers
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.chars().take(64).collect())
            })
            .unwrap_or_else(|| Uuid::new_v4().to_string());
        Ok(RequestId(id))
    }
}
