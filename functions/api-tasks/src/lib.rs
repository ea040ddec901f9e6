//! api-tasks
