//! GlucoLens store: PostgreSQL access with sqlx, one module per table, and the pool and migrations ([`db`]).
//! Every function that touches user data takes the caller's user id and scopes its query to it. Belongs here: SQL
//! and the row types it returns. Does not belong here: rules about the data (the domain), orchestration (the
//! application), HTTP or AWS.

pub mod activities;
pub mod aggregates;
pub mod analysis_inputs;
pub mod audit;
pub mod batch;
mod copy;
pub mod correlations;
pub mod db;
pub mod dirty_days;
pub mod export;
pub mod fan_out_runs;
pub mod glucose;
pub mod meals;
pub mod rate_limit;
pub mod records;
pub mod refresh_tokens;
pub mod shares;
pub mod sleep;
pub mod tasks;
pub mod users;
pub mod users_listing;

pub use batch::InsertCounts;
pub mod imports;
pub mod nightscout;
pub mod patterns;
