//! Short-lived signed access tokens (JWT, HS256). The signing key comes from Secrets Manager at cold start.
//!
//! Every token the API hands out (login, registration, refresh) names its session in a `sid` claim: the id of the
//! refresh-token family it was issued with. The bearer extractor refuses a token whose session was signed out or
//! revoked for re-use ([`glucolens_store::rate_limit::hit_session`]). Tokens without `sid` are only minted internally
//! ([`TokenKeys::issue`], e.g. by test helpers); they are still checked for signature, issuer, type and lifetime,
//! but no session can revoke them before they expire.
//!
//! Besides the signature, [`TokenKeys::verify_token`] insists on a short, plausible lifetime: `iat` must be present
//! and not in the future beyond [`CLOCK_SKEW_SECS`], and `exp - iat` must not exceed [`ACCESS_TOKEN_TTL_SECS`]. A
//! token minted with the key but a far-away `exp` (year 3000) is refused however validly signed.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Access tokens live 15 minutes; clients refresh them with an opaque refresh token.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
/// How far in the future a token's `iat` may lie (clock differences between Lambda instances and the client).
pub const CLOCK_SKEW_SECS: i64 = 60;
const ISSUER: &str = "glucolens";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iat: i64,
    exp: i64,
    iss: String,
    typ: String,
    /// The session (refresh-token family) the token was issued with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<Uuid>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
}

/// What a verified access token says about its bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: Uuid,
    /// The session it belongs to; `None` only for internally minted tokens ([`TokenKeys::issue`]).
    pub session_id: Option<Uuid>,
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

    /// A token bound to no session (internal callers and tests): valid until it expires, whatever happens to the
    /// user's sessions. Tokens handed to clients come from [`TokenKeys::issue_for_session`].
    pub fn issue(&self, user_id: Uuid) -> AccessToken {
        self.issue_at(user_id, Utc::now().timestamp())
    }

    /// A token for `user_id` bound to the session (refresh-token family) `session_id`: signing out or a detected
    /// refresh-token re-use revokes it at once.
    pub fn issue_for_session(&self, user_id: Uuid, session_id: Uuid) -> AccessToken {
        let now = Utc::now().timestamp();
        self.sign(Claims {
            sub: user_id,
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
            iss: ISSUER.into(),
            typ: "access".into(),
            sid: Some(session_id),
        })
    }

    /// Issues a token as if it were `now` (Unix seconds); tests use it to make expired tokens.
    pub fn issue_at(&self, user_id: Uuid, now: i64) -> AccessToken {
        self.issue_with_times(user_id, now, now + ACCESS_TOKEN_TTL_SECS)
    }

    /// Issues a token with arbitrary `iat` and `exp`, signed with the real key; tests use it to check that
    /// implausible lifetimes are refused.
    pub fn issue_with_times(&self, user_id: Uuid, iat: i64, exp: i64) -> AccessToken {
        self.sign(Claims {
            sub: user_id,
            iat,
            exp,
            iss: ISSUER.into(),
            typ: "access".into(),
            sid: None,
        })
    }

    fn sign(&self, claims: Claims) -> AccessToken {
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
        self.verify_token(token).map(|verified| verified.user_id)
    }

    /// Checks signature, issuer, type and lifetime, and returns the user and session the token was issued to.
    pub fn verify_token(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.verify_at(token, Utc::now().timestamp())
    }

    fn verify_at(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        validation.leeway = 0;
        // `exp` is compared below against the same `now` as `iat`, so one clock decides both.
        validation.validate_exp = false;
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        if claims.typ != "access" {
            return Err(TokenError::Invalid);
        }
        // A lifetime longer than we ever issue, or a token "issued" in the future, was not minted by this service
        // as it runs today (a leaked key, a forged or tampered-with clock): refuse it outright.
        if claims.iat > now + CLOCK_SKEW_SECS
            || claims.exp - claims.iat > ACCESS_TOKEN_TTL_SECS
            || claims.exp <= claims.iat
        {
            return Err(TokenError::Invalid);
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(VerifiedToken {
            user_id: claims.sub,
            session_id: claims.sid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&SecretString::from("k".repeat(64)))
    }

    /// Signs arbitrary JSON claims with the real key, as a holder of a leaked key or a buggy issuer could.
    fn forge(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret("k".repeat(64).as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn tokens_round_trip_expire_and_reject_other_keys() {
        let keys = keys();
        let user = Uuid::new_v4();
        assert_eq!(keys.verify(&keys.issue(user).access_token), Ok(user));

        let old = keys.issue_at(user, Utc::now().timestamp() - ACCESS_TOKEN_TTL_SECS - 5);
        assert_eq!(keys.verify(&old.access_token), Err(TokenError::Expired));

        let other = TokenKeys::new(&SecretString::from("x".repeat(64)));
        assert_eq!(other.verify(&keys.issue(user).access_token), Err(TokenError::Invalid));
        assert_eq!(keys.verify("not.a.token"), Err(TokenError::Invalid));
    }

    #[test]
    fn session_tokens_carry_their_session_and_plain_ones_none() {
        let keys = keys();
        let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
        let bound = keys.issue_for_session(user, session);
        assert_eq!(bound.expires_in, ACCESS_TOKEN_TTL_SECS);
        assert_eq!(
            keys.verify_token(&bound.access_token),
            Ok(VerifiedToken {
                user_id: user,
                session_id: Some(session)
            })
        );
        assert_eq!(
            keys.verify_token(&keys.issue(user).access_token),
            Ok(VerifiedToken {
                user_id: user,
                session_id: None
            })
        );
    }

    #[test]
    fn implausible_lifetimes_are_invalid() {
        let keys = keys();
        let user = Uuid::new_v4();
        let now = Utc::now().timestamp();
        let year_3000 = 32_503_680_000;
        // `exp` in year 3000, issued now.
        let far = keys.issue_with_times(user, now, year_3000);
        assert_eq!(keys.verify(&far.access_token), Err(TokenError::Invalid));
        // Issued in year 3000: `iat` in the future, even though the lifetime itself is the usual one.
        let future = keys.issue_at(user, year_3000);
        assert_eq!(keys.verify(&future.access_token), Err(TokenError::Invalid));
        // `iat` a little ahead (clock skew) is fine; beyond the skew it is not.
        assert_eq!(
            keys.verify(&keys.issue_at(user, now + CLOCK_SKEW_SECS - 5).access_token),
            Ok(user)
        );
        assert_eq!(
            keys.verify(&keys.issue_at(user, now + CLOCK_SKEW_SECS + 5).access_token),
            Err(TokenError::Invalid)
        );
        // One second more than the TTL.
        let long = keys.issue_with_times(user, now - 10, now - 10 + ACCESS_TOKEN_TTL_SECS + 1);
        assert_eq!(keys.verify(&long.access_token), Err(TokenError::Invalid));
        // Exactly the TTL, and shorter, are fine; `exp` not after `iat` is not.
        assert_eq!(
            keys.verify(&keys.issue_with_times(user, now, now + 60).access_token),
            Ok(user)
        );
        assert_eq!(
            keys.verify(&keys.issue_with_times(user, now, now).access_token),
            Err(TokenError::Invalid)
        );
        // A forged-lifetime token that has also expired is invalid, not merely expired.
        let stale = keys.issue_with_times(user, now - 100_000, now - 10);
        assert_eq!(keys.verify(&stale.access_token), Err(TokenError::Invalid));
    }

    #[test]
    fn missing_claims_and_wrong_type_are_invalid() {
        let keys = keys();
        let user = Uuid::new_v4();
        let now = Utc::now().timestamp();
        let good = serde_json::json!({ "sub": user, "iat": now, "exp": now + 60, "iss": "glucolens", "typ": "access" });
        assert_eq!(keys.verify(&forge(good.clone())), Ok(user));
        for claim in ["iat", "exp", "sub", "iss", "typ"] {
            let mut claims = good.clone();
            claims.as_object_mut().unwrap().remove(claim);
            assert_eq!(keys.verify(&forge(claims)), Err(TokenError::Invalid), "without {claim}");
        }
        let mut refresh = good.clone();
        refresh["typ"] = "refresh".into();
        assert_eq!(keys.verify(&forge(refresh)), Err(TokenError::Invalid));
        let mut other_issuer = good.clone();
        other_issuer["iss"] = "someone-else".into();
        assert_eq!(keys.verify(&forge(other_issuer)), Err(TokenError::Invalid));
        let mut bad_sid = good;
        bad_sid["sid"] = "not-a-uuid".into();
        assert_eq!(keys.verify(&forge(bad_sid)), Err(TokenError::Invalid));
    }
}
