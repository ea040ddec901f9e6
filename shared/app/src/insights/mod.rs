//! Insights: PCMCI correlations over daily aggregates, glucose patterns (matrix profile motifs and discords,
//! association rules, similar-day clusters) and the recommendations built from them. The analysis worker calls
//! [`compute_correlations`] and [`discover_patterns`] once per user; both replace that user's rows atomically, so a
//! redelivered message produces the same rows, not more.

pub mod correlations;
pub mod day_clusters;
pub mod episode_context;
pub mod episodes;
pub mod meals;
pub mod patterns;
pub mod recommendations;

use glucolens_analytics::pcmci::run_pcmci;
use sqlx::PgPool;
use uuid::Uuid;

use correlations::{Selection, REQUIRED_DAYS};
use glucolens_domain::pattern::{PatternCoverage, PatternKind};
use glucolens_domain::UserTimeZone;
use glucolens_store as store;
use glucolens_store::analysis_inputs::Analysis;

/// Why an analysis failed. The worker retries [`InsightsError::Database`] (the message goes back to the queue) and
/// gives up on [`InsightsError::BadData`] (retrying the same data would fail the same way).
#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// The user no longer exists (deleted between enqueueing and processing).
    #[error("unknown user")]
    UnknownUser,
    #[error("unusable data: {0}")]
    BadData(String),
}

impl From<sqlx::Error> for InsightsError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            // foreign_key_violation: the user row is gone; retrying cannot help.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => InsightsError::UnknownUser,
            _ => InsightsError::Database(error),
        }
    }
}

impl From<glucolens_analytics::AnalyticsError> for InsightsError {
    fn from(error: glucolens_analytics::AnalyticsError) -> Self {
        InsightsError::BadData(error.to_string())
    }
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
    NotEnoughData {
        qualifying_days: usize,
        required_days: usize,
    },
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
    pub day_clusters: usize,
}

/// Runs PCMCI over the user's qualifying daily aggregates and replaces their `correlations` rows (see
/// [`correlations`] for the days, variables and links used).
pub async fn compute_correlations(db: &PgPool, user_id: Uuid) -> Result<CorrelationOutcome, InsightsError> {
    let version = inputs_version(db, user_id).await?;
    let outcome = correlations_of_current_data(db, user_id).await?;
    store::analysis_inputs::record(db, user_id, Analysis::Correlations, version).await?;
    Ok(outcome)
}

/// The version of the user's daily aggregates, read before the inputs: data that changes after it brings a newer
/// version, so the next scheduled run analyses it (`jobs`).
async fn inputs_version(db: &PgPool, user_id: Uuid) -> Result<i64, InsightsError> {
    store::analysis_inputs::version(db, user_id)
        .await?
        .ok_or(InsightsError::UnknownUser)
}

async fn correlations_of_current_data(db: &PgPool, user_id: Uuid) -> Result<CorrelationOutcome, InsightsError> {
    let days = store::correlations::daily_values(db, user_id).await?;
    match correlations::select_series(&days) {
        Selection::NotEnoughData { qualifying_days } => {
            store::correlations::replace(db, user_id, qualifying_days, REQUIRED_DAYS, None, &[]).await?;
            Ok(CorrelationOutcome::NotEnoughData {
                qualifying_days,
                required_days: REQUIRED_DAYS,
            })
        }
        Selection::Ready(series) => {
            let result = run_pcmci(series.data.view(), &correlations::pcmci_params())?;
            let findings = correlations::findings(&series, &result);
            let names: Vec<&str> = series.variables.iter().map(|v| v.column).collect();
            let (first_date, last_date) = (series.dates[0], series.dates[series.dates.len() - 1]);
            let analysed = store::correlations::AnalysedRun {
                first_date,
                last_date,
                variables: &names,
            };
            store::correlations::replace(
                db,
                user_id,
                series.dates.len(),
                REQUIRED_DAYS,
                Some(analysed),
                &findings,
            )
            .await?;
            Ok(CorrelationOutcome::Computed {
                sample_size: series.dates.len(),
                stored_links: findings.len(),
            })
        }
    }
}

/// Finds motifs, discords and association rules in the user's data and replaces their `patterns` rows (see
/// [`patterns`] for the grid, windows and thresholds).
pub async fn discover_patterns(db: &PgPool, user_id: Uuid) -> Result<PatternOutcome, InsightsError> {
    let version = inputs_version(db, user_id).await?;
    let user = store::users::get(db, user_id)
        .await?
        .ok_or(InsightsError::UnknownUser)?;
    let tz = UserTimeZone::parse(&user.time_zone)
        .map_err(|_| InsightsError::BadData("the stored time zone is invalid".into()))?
        .tz();
    let target = (user.target_low_mg_dl, user.target_high_mg_dl);
    let unit = user.display_unit();
    let slots = store::patterns::glucose_slots(db, user_id, patterns::GRID_DAYS as i32).await?;
    let rule_days = store::patterns::rule_days(db, user_id).await?;
    let cluster_days = store::patterns::cluster_days(db, user_id, patterns::GRID_DAYS as i32).await?;
    // The matrix profile is seconds of CPU for 90 days: keep it off the async worker threads.
    let (found, coverage) = tokio::task::spawn_blocking(move || -> Result<_, InsightsError> {
        let grid = patterns::glucose_grid(&slots)?;
        let coverage = PatternCoverage {
            glucose_days: patterns::glucose_days(grid.as_ref()),
            rule_days: rule_days.len(),
        };
        let mut found = match &grid {
            Some(grid) => {
                let mut found = patterns::shape_patterns(grid, tz)?;
                let profiles = day_clusters::day_profiles(grid, tz);
                if let Some(clusters) = day_clusters::cluster_days(&profiles, &cluster_days)? {
                    found.extend(day_clusters::cluster_patterns(&clusters, unit));
                }
                found
            }
            None => Vec::new(),
        };
        found.extend(patterns::rule_patterns(&rule_days, target)?);
        Ok((found, coverage))
    })
    .await
    .map_err(|panic| InsightsError::BadData(format!("pattern analysis failed: {panic}")))??;
    store::patterns::replace(db, user_id, &found, coverage).await?;
    store::analysis_inputs::record(db, user_id, Analysis::Patterns, version).await?;
    let count = |kind: PatternKind| found.iter().filter(|p| p.kind == kind).count();
    Ok(PatternOutcome {
        daily_motifs: count(PatternKind::DailyMotif),
        short_motifs: count(PatternKind::ShortMotif),
        discords: count(PatternKind::Discord),
        association_rules: count(PatternKind::AssociationRule),
        day_clusters: count(PatternKind::Cluster),
    })
}
