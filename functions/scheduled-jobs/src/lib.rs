//! scheduled-jobs
