//! GlucoLens domain crate: what every function shares.
//!
//! - [`domain`]: validated newtypes ("parse, don't validate") and domain errors.
//! - [`store`]: PostgreSQL access (sqlx); every query is scoped to one user.
//! - [`http`]: the API plumbing: problem+json errors, the authenticated-user extractor, JSON bodies.
//! - [`config`], [`secrets`], [`db`], [`tokens`], [`queue`], [`telemetry`]: set up once per cold start.

pub mod aggregation;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod import_service;
pub mod insights;
pub mod jobs;
pub mod lambda;
pub mod local_day;
pub mod passwords;
pub mod queue;
pub mod record_writer;
pub mod routes;
pub mod sample;
pub mod secrets;
pub mod state;
pub mod storage;
pub mod store;
pub mod telemetry;
// Always compiled (not behind a feature): a feature used only by dev-dependencies would make cargo rebuild
// this crate and every function each time a build alternates between tests and binaries.
#[doc(hidden)]
pub mod testing;
pub mod tokens;

pub use state::AppState;
