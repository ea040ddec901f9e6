//! GlucoLens core: what every function shares, in layers that point one way (each imports only those above it):
//!
//! - [`domain`] and [`local_day`]: types and rules, no I/O — validated records ("parse, don't validate"), units,
//!   the daily aggregate, findings, patterns, tasks, the variables catalogue, and the one definition of a day.
//! - [`store`]: PostgreSQL access (sqlx only, one module per table); every query is scoped to one user.
//! - [`aggregation`], [`insights`], [`record_writer`], [`import_service`], [`jobs`], [`sample`]: the application —
//!   no HTTP or Lambda types; each has its own error type.
//! - [`http`]: the API plumbing — `ApiError` and its one mapping (also of the application's errors) to
//!   problem+json, the authenticated-user extractor, JSON bodies and queries, audit, middleware.
//! - [`config`], [`secrets`], [`db`], [`tokens`], [`queue`], [`storage`], [`state`], [`telemetry`], [`lambda`]:
//!   set up once per cold start; each function builds only the state it uses.
//!
//! Statistics are not computed here: they come from `glucolens-analytics`.

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
