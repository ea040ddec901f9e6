//! GlucoLens credentials: password hashing (Argon2id), signed access tokens, refresh tokens and the sessions they
//! belong to. Only the functions that sign people in or check their tokens link it. Does not belong here: HTTP
//! (the bearer extractor is `glucolens-web`'s), SQL (refresh tokens are stored by `glucolens-store`).

pub mod passwords;
pub mod tokens;
