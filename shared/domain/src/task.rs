//! Background tasks as values: what a task does (also the `kind` of an analysis queue message, see `glucolens_app::jobs`)
//! and where it is in its lifecycle queued → running → succeeded / failed. No I/O; `glucolens_store::tasks` stores them.

use serde::{Deserialize, Serialize};

/// What a task does; also the `kind` of an analysis queue message (see `glucolens_app::jobs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Recompute the daily aggregates of the user's dirty days.
    AggregateDaily,
    /// Aggregation, then PCMCI correlations (the nightly job's unit of work).
    ComputeCorrelations,
    /// Aggregation, correlations and patterns: everything the insights endpoints show.
    FullAnalysis,
    /// Aggregation, then motifs, discords and association rules.
    DiscoverPatterns,
    /// A file import (run by the import worker, not the analysis worker).
    Import,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::AggregateDaily => "aggregate_daily",
            TaskKind::ComputeCorrelations => "compute_correlations",
            TaskKind::FullAnalysis => "full_analysis",
            TaskKind::DiscoverPatterns => "discover_patterns",
            TaskKind::Import => "import",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}
