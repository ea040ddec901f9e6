//! The `patterns` table: one user's motifs, discords and association rules, replaced as a whole by each run.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use glucolens_domain::pattern::{ClusterDay, NewPattern, PatternCoverage, PatternKind, PatternRun, RuleDay};

/// A stored pattern as the API lists it, under the design's column names.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Pattern {
    pub id: Uuid,
    /// `daily_motif` or `short_motif` (the design's `recurring`), `discord` (its `anomaly`), `association_rule` or `cluster` (similar days).
    pub pattern_type: String,
    pub description: String,
    pub score: Option<f64>,
    /// An association rule's confidence, 0–1.
    pub confidence: Option<f64>,
    /// An association rule's support, 0–1.
    pub support: Option<f64>,
    /// How often a motif recurs.
    pub occurrences: Option<i32>,
    pub example_dates: Vec<NaiveDate>,
    /// How the pattern was found: window, thresholds, support/confidence/lift, match times.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub discovered_at: DateTime<Utc>,
}

/// Replaces all of the user's patterns, and the record of how much data their discovery had, in one transaction (a
/// rerun yields the same rows, not more).
pub async fn replace(
    db: &PgPool,
    user_id: Uuid,
    patterns: &[NewPattern],
    coverage: PatternCoverage,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    // Lock order (see `users::lock_owner`); a user erased meanwhile leaves nothing to replace.
    if !super::users::lock_owner(&mut tx, user_id).await? {
        return Ok(());
    }
    sqlx::query("DELETE FROM patterns WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for pattern in patterns {
        // One row at a time: date[] per row does not travel through UNNEST, and a user has a few dozen patterns.
        sqlx::query(
            "INSERT INTO patterns (id, user_id, pattern_type, description, score, example_dates, metadata, confidence,
                                   support, occurrences)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Uuid::new_v4())
        .bind(user_id)
        .bind(pattern.kind.as_str())
        .bind(&pattern.description)
        .bind(pattern.score)
        .bind(&pattern.example_dates)
        .bind(&pattern.metadata)
        .bind(pattern.confidence)
        .bind(pattern.support)
        .bind(pattern.occurrences.map(|n| i32::try_from(n).unwrap_or(i32::MAX)))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO pattern_runs (user_id, glucose_days, rule_days) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE
         SET glucose_days = EXCLUDED.glucose_days, rule_days = EXCLUDED.rule_days, computed_at = now()",
    )
    .bind(user_id)
    .bind(coverage.glucose_days)
    .bind(i32::try_from(coverage.rule_days).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The user's last pattern discovery, if one ran.
pub async fn latest_run(db: &PgPool, user_id: Uuid) -> Result<Option<PatternRun>, sqlx::Error> {
    let row: Option<(f64, i32, DateTime<Utc>)> =
        sqlx::query_as("SELECT glucose_days, rule_days, computed_at FROM pattern_runs WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(glucose_days, rule_days, computed_at)| PatternRun {
        coverage: PatternCoverage {
            glucose_days,
            rule_days: usize::try_from(rule_days).unwrap_or(0),
        },
        computed_at,
    }))
}

/// The user's patterns, optionally of one kind, grouped by kind and in stored order within it.
pub async fn list(db: &PgPool, user_id: Uuid, kind: Option<PatternKind>) -> Result<Vec<Pattern>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, pattern_type, description, score, confidence, support, occurrences, example_dates, metadata,
                discovered_at
         FROM patterns
         WHERE user_id = $1 AND ($2::text IS NULL OR pattern_type = $2)
         ORDER BY pattern_type, (metadata->>'rank')::int NULLS LAST, id",
    )
    .bind(user_id)
    .bind(kind.map(PatternKind::as_str))
    .fetch_all(db)
    .await
}

/// 5-minute slot averages (slot start, mg/dL) of the user's last `days` days of readings (before their latest one).
/// Readings of one slot from several sources are averaged.
pub async fn glucose_slots(db: &PgPool, user_id: Uuid, days: i32) -> Result<Vec<(DateTime<Utc>, f64)>, sqlx::Error> {
    sqlx::query_as(
        r#"SELECT date_bin('5 minutes', "timestamp", TIMESTAMPTZ '2000-01-01 00:00:00+00') AS slot, avg(value)::float8
         FROM glucose_readings
         WHERE user_id = $1
           AND "timestamp" > (SELECT max("timestamp") FROM glucose_readings WHERE user_id = $1)
                             - make_interval(days => $2)
         GROUP BY slot ORDER BY slot"#,
    )
    .bind(user_id)
    .bind(days)
    .fetch_all(db)
    .await
}

/// Sufficient-data days with time in target, sleep and carbs recorded (no activity record = 0 min of exercise).
pub async fn rule_days(db: &PgPool, user_id: Uuid) -> Result<Vec<RuleDay>, sqlx::Error> {
    let rows: Vec<(NaiveDate, f64, f64, f64, f64)> = sqlx::query_as(
        "SELECT date, pct_in_user_target, total_sleep_minutes, total_carbs_grams, COALESCE(total_exercise_minutes, 0)
         FROM daily_aggregates
         WHERE user_id = $1 AND sufficient_data
           AND pct_in_user_target IS NOT NULL AND total_sleep_minutes IS NOT NULL AND total_carbs_grams IS NOT NULL
         ORDER BY date",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(date, pct_in_user_target, sleep_minutes, carbs_g, exercise_minutes)| RuleDay {
                date,
                pct_in_user_target,
                sleep_minutes,
                carbs_g,
                exercise_minutes,
            },
        )
        .collect())
}

/// The inputs of the similar-day clusters: every day with sufficient glucose data in the last `days` days up to the
/// user's latest aggregate, with the previous day's night of sleep (`total_sleep_minutes` of a date is the night that
/// began that evening).
pub async fn cluster_days(db: &PgPool, user_id: Uuid, days: i32) -> Result<Vec<ClusterDay>, sqlx::Error> {
    type Row = (NaiveDate, f64, f64, Option<f64>, Option<f64>, Option<f64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT d.date, d.pct_in_user_target, d.avg_glucose, night.total_sleep_minutes, d.total_exercise_minutes,
                d.total_carbs_grams
         FROM daily_aggregates d
         LEFT JOIN daily_aggregates night ON night.user_id = d.user_id AND night.date = d.date - 1
         WHERE d.user_id = $1 AND d.sufficient_data
           AND d.pct_in_user_target IS NOT NULL AND d.avg_glucose IS NOT NULL
           AND d.date > (SELECT max(date) FROM daily_aggregates WHERE user_id = $1) - $2
         ORDER BY d.date",
    )
    .bind(user_id)
    .bind(days)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(date, pct_in_target, mean_glucose_mg_dl, sleep_before_minutes, exercise_minutes, carbs_g)| ClusterDay {
                date,
                pct_in_target,
                mean_glucose_mg_dl,
                sleep_before_minutes,
                exercise_minutes,
                carbs_g,
            },
        )
        .collect())
}
