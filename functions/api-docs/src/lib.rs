//! api-docs
