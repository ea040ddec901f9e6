//! Password hashing with Argon2id (the `argon2` crate's default parameters). Hashing is CPU-bound for tens of
//! milliseconds, so it runs on the blocking pool instead of stalling the async runtime.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

use glucolens_domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A hash of a random password nobody knows, verified against when an email is unknown so that a login for an
/// unknown email costs the same time as one for a known email with a wrong password.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = SaltString::generate(&mut OsRng);
    hash_blocking(random.as_str()).expect("hashing a random password with default parameters cannot fail")
});

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Hashes a new password into a PHC string (`$argon2id$v=19$...`), salt included.
pub async fn hash(password: Password) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(password.secret().expose_secret()))
        .await?
        .map_err(PasswordError::Hashing)
}

/// Checks `candidate` against a stored hash; with no stored hash (unknown email) it checks against a decoy and
/// answers `false`, spending the same time. A malformed stored hash also answers `false`.
pub async fn verify(stored_hash: Option<String>, candidate: SecretString) -> Result<bool, PasswordError> {
    Ok(tokio::task::spawn_blocking(move || {
        let known = stored_hash.is_some();
        let hash = stored_hash.unwrap_or_else(|| DECOY_HASH.clone());
        let matches = PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(candidate.expose_secret().as_bytes(), &parsed)
                .is_ok()
        });
        known && matches
    })
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify_only_the_right_password() {
        let first = hash(Password::parse("correct horse battery").unwrap()).await.unwrap();
        let second = hash(Password::parse("correct horse battery").unwrap()).await.unwrap();
        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second, "every hash has its own salt");
        assert!(verify(Some(first.clone()), "correct horse battery".into())
            .await
            .unwrap());
        assert!(!verify(Some(first), "correct horse battery!".into()).await.unwrap());
        assert!(!verify(Some("not-a-hash".into()), "anything at all".into())
            .await
            .unwrap());
        assert!(!verify(None, "anything at all".into()).await.unwrap());
    }
}
