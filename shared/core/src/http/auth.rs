//! The authenticated caller. Extracting [`AuthUser`] verifies the bearer token, checks the account still exists and
//! counts the request against the caller's rate limit, all before a handler runs; handlers scope every query to
//! `AuthUser::id`, so no request can reach another user's rows.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use super::ApiError;
use crate::store::rate_limit;
use crate::tokens::TokenError;
use crate::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: Uuid,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or(ApiError::Unauthorized {
                code: "missing_token",
                detail: "send `Authorization: Bearer <token>`",
            })?;
        let id = state.tokens.verify(token.trim()).map_err(|e| match e {
            TokenError::Expired => ApiError::Unauthorized {
                code: "token_expired",
                detail: "the access token has expired; use POST /api/v1/auth/refresh",
            },
            TokenError::Invalid => ApiError::Unauthorized {
                code: "invalid_token",
                detail: "the access token is invalid",
            },
        })?;
        match rate_limit::hit_user(&state.db, id, state.rate_limit_per_minute).await? {
            rate_limit::Outcome::Allowed => Ok(AuthUser { id }),
            rate_limit::Outcome::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
            rate_limit::Outcome::UnknownUser => Err(ApiError::Unauthorized {
                code: "invalid_token",
                detail: "the account for this token no longer exists",
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
