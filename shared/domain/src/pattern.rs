//! Glucose patterns as values: the kinds the `patterns` table admits, a pattern found by `glucolens_app::insights::patterns`
//! and ready to store, and one day's inputs to the association rules. No I/O.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The pattern kinds of the schema's CHECK constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// A recurring 24-hour glucose shape.
    DailyMotif,
    /// A recurring 3-hour shape (e.g. a post-meal spike).
    ShortMotif,
    /// An unusual day.
    Discord,
    /// A rule over binarised daily features (e.g. exercise → glucose in target).
    AssociationRule,
    /// A group of similar days (k-means on the 24-hour profile), described by what sets its days apart.
    Cluster,
}

impl PatternKind {
    pub const ALL: [PatternKind; 5] = [
        PatternKind::DailyMotif,
        PatternKind::ShortMotif,
        PatternKind::Discord,
        PatternKind::AssociationRule,
        PatternKind::Cluster,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::DailyMotif => "daily_motif",
            PatternKind::ShortMotif => "short_motif",
            PatternKind::Discord => "discord",
            PatternKind::AssociationRule => "association_rule",
            PatternKind::Cluster => "cluster",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        PatternKind::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// A pattern to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPattern {
    pub kind: PatternKind,
    pub description: String,
    /// Kind-specific: motif match distance, discord distance, rule lift.
    pub score: Option<f64>,
    pub example_dates: Vec<NaiveDate>,
    pub metadata: serde_json::Value,
    /// An association rule's confidence (0–1); `None` for other kinds.
    pub confidence: Option<f64>,
    /// An association rule's support (the share of days with all its items, 0–1); `None` for other kinds.
    pub support: Option<f64>,
    /// How many times a motif was seen (its matches); `None` for other kinds.
    pub occurrences: Option<u32>,
}

/// One day's inputs to the association rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDay {
    pub date: NaiveDate,
    pub pct_in_user_target: f64,
    pub sleep_minutes: f64,
    pub carbs_g: f64,
    pub exercise_minutes: f64,
}

/// One day's inputs to the similar-day clusters: its outcomes, and its behaviours where recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterDay {
    pub date: NaiveDate,
    /// Time in the user's own target range, %.
    pub pct_in_target: f64,
    pub mean_glucose_mg_dl: f64,
    /// Sleep of the night that ended this morning (the night of the day before).
    pub sleep_before_minutes: Option<f64>,
    pub exercise_minutes: Option<f64>,
    pub carbs_g: Option<f64>,
}

/// How much data a pattern discovery had, per family of patterns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternCoverage {
    /// Days of glucose on the 5-minute grid (slots with a value / 288).
    pub glucose_days: f64,
    /// Days the association rules could use (glucose sufficient, sleep and carbs recorded).
    pub rule_days: usize,
}

/// The last discovery of one user: what it had, and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternRun {
    pub coverage: PatternCoverage,
    pub computed_at: DateTime<Utc>,
}
