//! GlucoLens application services: what the functions and the CLI ask for, built from the domain and the store.
//! Belongs here: the one record writer (records and the local days they mark dirty), imports, the daily
//! aggregation, insights (correlations, patterns, recommendations) and the analysis pipeline with its queue trait.
//! Each service has its own error type. Does not belong here: HTTP, Lambda or AWS SDK types (the queue is a trait,
//! implemented on SQS by `glucolens-aws`), statistics (they come from `glucolens-analytics`).

pub mod aggregation;
pub mod export;
pub mod import_service;
pub mod insights;
pub mod jobs;
pub mod queue;
pub mod record_writer;
pub mod records;
pub mod report;
pub mod shares;
