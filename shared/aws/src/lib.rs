//! GlucoLens AWS plumbing, set up once per cold start: typed configuration from the environment, Secrets Manager,
//! the SQS analysis queue (the application's `JobQueue`), the S3 upload bucket, tracing, and the database pool
//! built from them ([`state`]). Does not belong here: HTTP (that is `glucolens-web`), rules or SQL.

pub mod config;
pub mod queue;
pub mod secrets;
pub mod state;
pub mod storage;
pub mod telemetry;
