//! PostgreSQL access. Every function that touches user data takes the caller's user id and scopes its query to it.

pub mod audit;
pub mod dashboard;
pub mod rate_limit;
pub mod readings_query;
pub mod refresh_tokens;
pub mod users;
pub mod correlations;
pub mod aggregates;
pub mod tasks;
pub mod users_listing;
pub mod activities;
pub mod batch;
pub mod dirty_days;
pub mod glucose;
pub mod meals;
pub mod sleep;

pub use batch::InsertCounts;
pub mod imports;
pub mod nightscout;
pub mod patterns;
