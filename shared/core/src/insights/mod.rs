//! Insights: PCMCI correlations over daily aggregates, glucose patterns (matrix profile motifs and discords,
//! association rules) and the recommendations built from them. The analysis worker calls
//! [`compute_correlations`] and [`discover_patterns`] once per user; both replace that user's rows atomically, so a
//! redelivered message produces the same rows, not more.

use sqlx::PgPool;
use uuid::Uuid;

/// Why an analysis failed. The worker retries [`InsightsError::Database`] (the message goes back to the queue) and
/// gives up on [`InsightsError::BadData`] (retrying the same data would fail the same way).
#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("unusable data: {0}")]
    BadData(String),
}

impl InsightsError {
    /// Whether running the same analysis again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, InsightsError::Database(_))
    }
}

/// What [`compute_correlations`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrelationOutcome {
    /// Too few qualifying days: nothing was computed and the user's previous correlations were removed.
    NotEnoughData { qualifying_days: usize, required_days: usize },
    Computed {
        /// Days in the analysed series.
        sample_size: usize,
        /// Significant links stored (every effect variable).
        stored_links: usize,
    },
}

/// What [`discover_patterns`] stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatternOutcome {
    pub daily_motifs: usize,
    pub short_motifs: usize,
    pub discords: usize,
    pub association_rules: usize,
}

/// Runs PCMCI over the user's qualifying daily aggregates and replaces their `correlations` rows.
pub async fn compute_correlations(db: &PgPool, user_id: Uuid) -> Result<CorrelationOutcome, InsightsError> {
    let _ = (db, user_id);
    Err(InsightsError::BadData("correlations are not implemented yet".into()))
}

/// Finds motifs, discords and association rules in the user's data and replaces their `patterns` rows.
pub async fn discover_patterns(db: &PgPool, user_id: Uuid) -> Result<PatternOutcome, InsightsError> {
    let _ = (db, user_id);
    Err(InsightsError::BadData("patterns are not implemented yet".into()))
}
