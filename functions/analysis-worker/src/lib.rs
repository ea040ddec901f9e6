//! analysis-worker
