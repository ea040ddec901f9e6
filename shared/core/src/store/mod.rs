//! PostgreSQL access. Every function that touches user data takes the caller's user id and scopes its query to it.

pub mod activities;
pub mod aggregates;
pub mod audit;
pub mod batch;
pub mod correlations;
pub mod dirty_days;
pub mod glucose;
pub mod meals;
pub mod rate_limit;
pub mod readings_query;
pub mod refresh_tokens;
pub mod sleep;
pub mod tasks;
pub mod users;
pub mod users_listing;

pub use batch::InsertCounts;
pub mod imports;
pub mod nightscout;
pub mod patterns;
