//! api-ingestion
