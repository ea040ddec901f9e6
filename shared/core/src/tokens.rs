//! Short-lived signed access tokens (JWT, HS256). The signing key comes from Secrets Manager at cold start.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Access tokens live 15 minutes; clients refresh them with an opaque refresh token.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
const ISSUER: &str = "glucolens";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iat: i64,
    exp: i64,
    iss: String,
    typ: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
}

/// The keys that sign and verify access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

/// A freshly issued access token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

impl TokenKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }

    pub fn issue(&self, user_id: Uuid) -> AccessToken {
        self.issue_at(user_id, Utc::now().timestamp())
    }

    /// Issues a token as if it were `now` (Unix seconds); tests use it to make expired tokens.
    pub fn issue_at(&self, user_id: Uuid, now: i64) -> AccessToken {
        let claims = Claims {
            sub: user_id,
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
            iss: ISSUER.into(),
            typ: "access".into(),
        };
        let access_token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        AccessToken {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL_SECS,
        }
    }

    /// Returns the user the token was issued to.
    pub fn verify(&self, token: &str) -> Result<Uuid, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        if data.claims.typ != "access" {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_expire_and_reject_other_keys() {
        let keys = TokenKeys::new(&SecretString::from("k".repeat(64)));
        let user = Uuid::new_v4();
        assert_eq!(keys.verify(&keys.issue(user).access_token), Ok(user));

        let old = keys.issue_at(user, Utc::now().timestamp() - ACCESS_TOKEN_TTL_SECS - 5);
        assert_eq!(keys.verify(&old.access_token), Err(TokenError::Expired));

        let other = TokenKeys::new(&SecretString::from("x".repeat(64)));
        assert_eq!(other.verify(&keys.issue(user).access_token), Err(TokenError::Invalid));
        assert_eq!(keys.verify("not.a.token"), Err(TokenError::Invalid));
    }
}
