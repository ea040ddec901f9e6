//! Opaque refresh tokens: 32 random bytes (base64url) given to the client once, stored only as their SHA-256.
//! Each token is single-use: using it marks it rotated and issues the next token of the same family. Presenting a
//! token that was already rotated means two parties hold it (theft), so the whole family is revoked.
//!
//! A family is one sign-in, a *session*: access tokens name it in their `sid` claim. Signing out revokes the family
//! too. A family counts as revoked as soon as any of its rows is (revocation marks every row, but a token rotated
//! concurrently with a sign-out could leave its successor unmarked), both here and for access tokens
//! ([`crate::rate_limit::hit_session`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// How long a refresh token stays usable; each rotation starts a new period.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// A refresh token in clear, as handed to the client exactly once.
#[derive(Debug)]
pub struct IssuedRefreshToken {
    pub token: String,
    /// The session the token belongs to; access tokens issued with it carry it as `sid`.
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was valid: it is now rotated and this is its successor.
    Rotated { user_id: Uuid, next: IssuedRefreshToken },
    /// The token had already been rotated: its whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Rejected,
}

/// What is stored of an opaque secret (a refresh token, a share link): its SHA-256.
pub(crate) fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new opaque secret: 32 random bytes from the OS, base64url without padding.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn insert(conn: &mut PgConnection, user_id: Uuid, family_id: Uuid) -> Result<IssuedRefreshToken, sqlx::Error> {
    let token = new_secret();
    let expires_at = Utc::now() + REFRESH_TOKEN_TTL;
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(family_id)
    .bind(digest(&token))
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(IssuedRefreshToken {
        token,
        family_id,
        expires_at,
    })
}

/// Starts a new token family (at login or registration).
pub async fn issue(db: &PgPool, user_id: Uuid) -> Result<IssuedRefreshToken, sqlx::Error> {
    let mut conn = db.acquire().await?;
    insert(&mut conn, user_id, Uuid::new_v4()).await
}

/// Uses `token` once. The row is locked for the transaction, so of two concurrent uses of the same token exactly
/// one rotates it and the other is treated as a re-use.
pub async fn rotate(db: &PgPool, token: &str) -> Result<Rotation, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Presented {
        id: Uuid,
        user_id: Uuid,
        family_id: Uuid,
        expired: bool,
        rotated: bool,
        revoked: bool,
    }
    let mut tx = db.begin().await?;
    let presented: Option<Presented> = sqlx::query_as(
        "SELECT id, user_id, family_id, expires_at <= now() AS expired,
                rotated_at IS NOT NULL AS rotated,
                EXISTS (SELECT 1 FROM refresh_tokens f
                        WHERE f.family_id = t.family_id AND f.revoked_at IS NOT NULL) AS revoked
         FROM refresh_tokens t WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(digest(token))
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match presented {
        None => Rotation::Rejected,
        Some(p) if p.revoked || p.expired => Rotation::Rejected,
        Some(p) if p.rotated => {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL")
                .bind(p.family_id)
                .execute(&mut *tx)
                .await?;
            Rotation::Reused
        }
        Some(p) => {
            sqlx::query("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1")
                .bind(p.id)
                .execute(&mut *tx)
                .await?;
            let next = insert(&mut tx, p.user_id, p.family_id).await?;
            Rotation::Rotated {
                user_id: p.user_id,
                next,
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Signs out: revokes every token of the session `family_id`, if it belongs to `user_id`. Returns whether the
/// session exists for that user (already revoked counts as existing; revoking is idempotent).
pub async fn revoke_family(db: &PgPool, user_id: Uuid, family_id: Uuid) -> Result<bool, sqlx::Error> {
    let found: Option<bool> = sqlx::query_scalar(
        "WITH revoked AS (
             UPDATE refresh_tokens SET revoked_at = now()
             WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL
             RETURNING 1
         )
         SELECT true FROM refresh_tokens WHERE family_id = $1 AND user_id = $2 LIMIT 1",
    )
    .bind(family_id)
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// The session (family) of the refresh token `token`, if the token exists and belongs to `user_id`.
pub async fn family_of(db: &PgPool, user_id: Uuid, token: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2")
        .bind(digest(token))
        .bind(user_id)
        .fetch_optional(db)
        .await
}
