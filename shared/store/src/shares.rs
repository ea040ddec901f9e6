//! Grants of read access to a user's data (`shares`): to another account, bound to it when made, or as a link
//! whose secret is stored only as its SHA-256 (the refresh tokens' scheme, [`crate::refresh_tokens`]). A grant is
//! active until it expires or its owner revokes it; the checks that decide whether a request may use one are the
//! SQL here, so every use sees a revocation or an expiry at once.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::refresh_tokens::{digest, new_secret};
use crate::users::StoredSettings;
use glucolens_domain::Email;

/// What a grant lets its holder read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The report only.
    Report,
    /// Every read route (the report included).
    Read,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Report => "report",
            Scope::Read => "read",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "report" => Some(Scope::Report),
            "read" => Some(Scope::Read),
            _ => None,
        }
    }
}

/// Who a new grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    /// This account.
    Account(Uuid),
    /// Whoever holds a new link.
    Link,
}

#[derive(Debug, Clone)]
pub struct NewShare<'a> {
    pub owner_id: Uuid,
    pub scope: Scope,
    pub grantee: Grantee,
    pub label: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

/// A grant as its owner sees it (never the link's secret, which is not stored).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Share {
    pub id: Uuid,
    /// `report` or `read`.
    pub scope: String,
    pub grantee_id: Option<Uuid>,
    /// The grantee account's current email.
    pub grantee_email: Option<String>,
    pub is_link: bool,
    pub label: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new grant, with a link's secret in clear: shown once, never stored.
#[derive(Debug)]
pub struct Created {
    pub share: Share,
    pub token: Option<String>,
}

const SHARE_COLUMNS: &str =
    "s.id, s.scope, s.grantee_id, g.email AS grantee_email, s.token_hash IS NOT NULL AS is_link, \
     s.label, s.expires_at, s.created_at, s.revoked_at, s.last_used_at";

/// The account that has `email` now, if any.
pub async fn account_with_email(db: &PgPool, email: &Email) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db)
        .await
}

/// Stores a new grant; a link gets a new secret.
pub async fn create(db: &PgPool, new: &NewShare<'_>) -> Result<Created, sqlx::Error> {
    let (grantee_id, token) = match new.grantee {
        Grantee::Account(id) => (Some(id), None),
        Grantee::Link => (None, Some(new_secret())),
    };
    let share = sqlx::query_as(&format!(
        "WITH s AS (
             INSERT INTO shares (id, owner_id, scope, grantee_id, token_hash, label, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             RETURNING *
         )
         SELECT {SHARE_COLUMNS} FROM s LEFT JOIN users g ON g.id = s.grantee_id"
    ))
    .bind(Uuid::new_v4())
    .bind(new.owner_id)
    .bind(new.scope.as_str())
    .bind(grantee_id)
    .bind(token.as_deref().map(digest))
    .bind(new.label)
    .bind(new.expires_at)
    .fetch_one(db)
    .await?;
    Ok(Created { share, token })
}

/// The owner's grants, active and ended, newest first; at most `limit`.
pub async fn list(db: &PgPool, owner_id: Uuid, limit: i64) -> Result<Vec<Share>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SHARE_COLUMNS} FROM shares s LEFT JOIN users g ON g.id = s.grantee_id
         WHERE s.owner_id = $1 ORDER BY s.created_at DESC, s.id LIMIT $2"
    ))
    .bind(owner_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Revokes the owner's grant `id` (from now on, at once). Returns whether the owner has it; revoking a grant that
/// has ended already changes nothing.
pub async fn revoke(db: &PgPool, owner_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let found: Option<bool> = sqlx::query_scalar(
        "WITH revoked AS (
             UPDATE shares SET revoked_at = now() WHERE id = $1 AND owner_id = $2 AND revoked_at IS NULL
         )
         SELECT true FROM shares WHERE id = $1 AND owner_id = $2",
    )
    .bind(id)
    .bind(owner_id)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// An active grant to an account, as the account sees it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Received {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub owner_email: String,
    pub owner_name: Option<String>,
    /// `report` or `read`.
    pub scope: String,
    pub expires_at: DateTime<Utc>,
}

/// The active grants to `grantee_id`, soonest to expire first.
pub async fn received(db: &PgPool, grantee_id: Uuid) -> Result<Vec<Received>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.owner_id, o.email AS owner_email, o.full_name AS owner_name, s.scope, s.expires_at
         FROM shares s JOIN users o ON o.id = s.owner_id
         WHERE s.grantee_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
         ORDER BY s.expires_at, s.id",
    )
    .bind(grantee_id)
    .fetch_all(db)
    .await
}

/// An active grant a request uses, and the owner's settings (the owner's data is shown as the owner sees it).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct InUse {
    pub share_id: Uuid,
    pub owner_id: Uuid,
    #[sqlx(flatten)]
    pub settings: StoredSettings,
}

// The settings columns are `users::settings`'s.
const OWNER_SETTINGS: &str = "o.timezone AS time_zone, o.target_glucose_min::float8 AS target_low_mg_dl, \
     o.target_glucose_max::float8 AS target_high_mg_dl, o.display_unit";

fn scope_names(scopes: &[Scope]) -> Vec<&'static str> {
    scopes.iter().map(|s| s.as_str()).collect()
}

/// Uses an active grant from `owner_id` to the account `grantee_id` with one of `scopes` (the one expiring last,
/// should there be several), marking it used, in one round trip. `None` when there is none.
pub async fn use_grant(
    db: &PgPool,
    owner_id: Uuid,
    grantee_id: Uuid,
    scopes: &[Scope],
) -> Result<Option<InUse>, sqlx::Error> {
    sqlx::query_as(&format!(
        "WITH active AS (
             SELECT id, owner_id FROM shares
             WHERE owner_id = $1 AND grantee_id = $2 AND revoked_at IS NULL AND expires_at > now()
               AND scope = ANY($3::text[])
             ORDER BY expires_at DESC, id LIMIT 1
         ), used AS (
             UPDATE shares s SET last_used_at = now() FROM active WHERE s.id = active.id
         )
         SELECT active.id AS share_id, active.owner_id, {OWNER_SETTINGS}
         FROM active JOIN users o ON o.id = active.owner_id"
    ))
    .bind(owner_id)
    .bind(grantee_id)
    .bind(scope_names(scopes))
    .fetch_optional(db)
    .await
}

/// What presenting a link's secret led to.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkUse {
    /// The link is active, has one of the scopes asked for, and this use is within its rate limit.
    Allowed(InUse),
    /// Active, but used more than the limit allows this minute.
    Limited { retry_after_secs: u64 },
    /// Unknown, revoked, expired or of another scope.
    Refused,
}

/// Uses the link whose secret is `token`, if it is active with one of `scopes`: counts the use against the link's
/// own one-minute window (`share:<id>`, `limit_per_minute`) and, when it is let through, marks the grant used. One
/// round trip.
pub async fn use_link(
    db: &PgPool,
    token: &str,
    scopes: &[Scope],
    limit_per_minute: u32,
) -> Result<LinkUse, sqlx::Error> {
    #[derive(FromRow)]
    struct Presented {
        #[sqlx(flatten)]
        grant: InUse,
        hits: i32,
        seconds_left: f64,
    }
    let presented: Option<Presented> = sqlx::query_as(&format!(
        "WITH active AS (
             SELECT id, owner_id FROM shares
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() AND scope = ANY($2::text[])
         ), hit AS (
             INSERT INTO rate_limit_windows (bucket, window_start, hits)
             SELECT 'share:' || active.id::text, date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01'), 1 FROM active
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
             RETURNING hits, EXTRACT(EPOCH FROM (window_start + interval '1 minute' - now()))::float8 AS seconds_left
         ), used AS (
             UPDATE shares s SET last_used_at = now() FROM active, hit WHERE s.id = active.id AND hit.hits <= $3
         )
         SELECT active.id AS share_id, active.owner_id, {OWNER_SETTINGS}, hit.hits, hit.seconds_left
         FROM active JOIN users o ON o.id = active.owner_id CROSS JOIN hit"
    ))
    .bind(digest(token))
    .bind(scope_names(scopes))
    .bind(limit_per_minute as i64)
    .fetch_optional(db)
    .await?;
    Ok(match presented {
        None => LinkUse::Refused,
        Some(p) if p.hits as i64 <= limit_per_minute as i64 => LinkUse::Allowed(p.grant),
        Some(p) => LinkUse::Limited {
            retry_after_secs: p.seconds_left.ceil().max(1.0) as u64,
        },
    })
}
