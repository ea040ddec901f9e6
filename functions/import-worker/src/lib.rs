//! import-worker
