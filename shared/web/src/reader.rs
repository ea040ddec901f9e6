//! Whose data a read request reads, and who reads it: the extractors every read route takes instead of
//! [`crate::AuthUser`]. The scope a route needs is in its type, so a route cannot forget to check it:
//! [`DataReader`] for the read routes (a grant of scope `read`), [`ReportReader`] for the report (scope `report` or
//! `read`, or a link).
//!
//! - A bearer token alone reads the caller's own data.
//! - A bearer token with `X-GlucoLens-Owner: <owner id>` reads that owner's data through an active grant (not
//!   revoked, not expired) from the owner to the caller's account with the scope the route needs; without one the
//!   answer is 404, as for any resource the caller cannot see. The request counts against the caller's rate limit.
//! - On the report only, `?share=<link secret>` (no bearer token needed) reads through an active link; its uses
//!   count against the link's own limit.
//!
//! Every query of the request is scoped to [`Access::owner_id`], data is shown with the owner's settings, and the
//! audit row (`crate::audit`) goes to the owner's log with [`Access::actor`].

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Caller, OWNER_HEADER};
use crate::{ApiError, AppState};
use glucolens_store::audit::Actor;
use glucolens_store::shares::{self, LinkUse, Scope};
use glucolens_store::users::StoredSettings;

/// What a read request may read, resolved from its credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// Whose data is read: every query of the request is scoped to this user.
    pub owner_id: Uuid,
    /// The owner's settings: the owner's data is shown in the owner's zone, targets and unit, whoever reads it.
    pub settings: StoredSettings,
    /// Who reads, for the audit.
    pub actor: Actor,
}

/// The grants a kind of read route accepts.
pub trait ReadScope: Send + Sync + 'static {
    /// Grant scopes that open the route.
    const GRANTS: &'static [Scope];
    /// Whether a link (`?share=`) opens it.
    const LINKS: bool;
}

/// Every read route but the report: grants of scope `read`.
#[derive(Debug)]
pub enum Data {}

/// The report: grants of scope `report` or `read`, and links.
#[derive(Debug)]
pub enum Report {}

impl ReadScope for Data {
    const GRANTS: &'static [Scope] = &[Scope::Read];
    const LINKS: bool = false;
}

impl ReadScope for Report {
    const GRANTS: &'static [Scope] = &[Scope::Report, Scope::Read];
    const LINKS: bool = true;
}

/// The read access of a route of scope `S` (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Reader<S> {
    access: Access,
    scope: PhantomData<fn() -> S>,
}

/// A read route's reader.
pub type DataReader = Reader<Data>;
/// The report route's reader.
pub type ReportReader = Reader<Report>;

impl<S> Deref for Reader<S> {
    type Target = Access;

    fn deref(&self) -> &Access {
        &self.access
    }
}

impl<S> Reader<S> {
    fn new(owner_id: Uuid, settings: StoredSettings, actor: Actor) -> Self {
        Self {
            access: Access {
                owner_id,
                settings,
                actor,
            },
            scope: PhantomData,
        }
    }
}

/// The report's link parameter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShareLink {
    /// A share link's secret: opens the report of the link's owner without signing in.
    pub share: Option<String>,
}

/// The header that names whose data a grantee reads.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(names("X-GlucoLens-Owner"), parameter_in = Header)]
pub struct OwnerHeader(
    /// The id of the user whose data to read, through their active grant to the caller; omit to read your own.
    pub Option<Uuid>,
);

impl<S: ReadScope> FromRequestParts<AppState> for Reader<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if S::LINKS {
            if let Ok(Query(ShareLink { share: Some(token) })) = Query::<ShareLink>::try_from_uri(&parts.uri) {
                return through_link(state, token.trim(), S::GRANTS).await;
            }
        }
        let caller = Caller::authenticate(parts, state).await?;
        let Some(owner) = parts.headers.get(OWNER_HEADER) else {
            return Ok(Self::new(caller.user.id, caller.settings, Actor::Owner));
        };
        // A value that names no user names no grant either.
        let owner_id = owner
            .to_str()
            .ok()
            .and_then(|v| Uuid::parse_str(v.trim()).ok())
            .ok_or(ApiError::NotFound)?;
        if owner_id == caller.user.id {
            return Ok(Self::new(caller.user.id, caller.settings, Actor::Owner));
        }
        let grant = shares::use_grant(&state.db, owner_id, caller.user.id, S::GRANTS)
            .await?
            .ok_or(ApiError::NotFound)?;
        let actor = Actor::Account {
            account_id: caller.user.id,
            share_id: grant.share_id,
        };
        Ok(Self::new(grant.owner_id, grant.settings, actor))
    }
}

async fn through_link<S>(state: &AppState, token: &str, scopes: &[Scope]) -> Result<Reader<S>, ApiError> {
    match shares::use_link(&state.db, token, scopes, state.rate_limit_per_minute).await? {
        LinkUse::Allowed(grant) => {
            let actor = Actor::Link {
                share_id: grant.share_id,
            };
            Ok(Reader::new(grant.owner_id, grant.settings, actor))
        }
        LinkUse::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
        LinkUse::Refused => Err(ApiError::NotFound),
    }
}
