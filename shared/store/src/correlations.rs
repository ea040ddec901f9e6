//! The `correlations` table (one user's significant PCMCI links) and `correlation_runs` (the latest analysis).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use glucolens_domain::finding::{Confidence, DailyValues, Finding};
use glucolens_domain::variables::VARIABLES;

use crate::aggregates;

/// The user's sufficient-data days, oldest first, with the catalogue's variables in catalogue order.
pub async fn daily_values(db: &PgPool, user_id: Uuid) -> Result<Vec<DailyValues>, sqlx::Error> {
    // Column names come from the compile-time catalogue, never from input; every factor has its column (tested).
    let columns: Vec<String> = VARIABLES
        .iter()
        .map(|v| {
            let column = aggregates::column(v.column).unwrap_or(v.column);
            match v.missing_is_zero {
                true => format!("COALESCE({column}::float8, 0)"),
                false => format!("{column}::float8"),
            }
        })
        .collect();
    let sql = format!(
        "SELECT date, ARRAY[{}] FROM daily_aggregates WHERE user_id = $1 AND sufficient_data ORDER BY date",
        columns.join(", ")
    );
    let rows: Vec<(NaiveDate, Vec<Option<f64>>)> = sqlx::query_as(&sql).bind(user_id).fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(date, values)| DailyValues { date, values })
        .collect())
}

/// What the latest analysis saw. `first_date`/`last_date` bound the analysed run when it was computed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CorrelationRun {
    pub status: String,
    pub qualifying_days: i32,
    pub required_days: i32,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub variables: Vec<String>,
    pub computed_at: DateTime<Utc>,
}

/// The analysed run, or `None` when there were not enough qualifying days.
pub struct AnalysedRun<'a> {
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub variables: &'a [&'a str],
}

/// Replaces the user's correlations and run row in one transaction (a rerun yields the same rows, never more).
pub async fn replace(
    db: &PgPool,
    user_id: Uuid,
    qualifying_days: usize,
    required_days: usize,
    analysed: Option<AnalysedRun<'_>>,
    findings: &[Finding],
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    // Lock order (see `users::lock_owner`); a user erased meanwhile leaves nothing to replace.
    if !super::users::lock_owner(&mut tx, user_id).await? {
        return Ok(());
    }
    sqlx::query("DELETE FROM correlations WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if !findings.is_empty() {
        let column = |f: fn(&Finding) -> String| findings.iter().map(f).collect::<Vec<String>>();
        let number = |f: fn(&Finding) -> f64| findings.iter().map(f).collect::<Vec<f64>>();
        sqlx::query(
            "INSERT INTO correlations (user_id, factor_x, factor_y, lag_days, correlation_coefficient, p_value,
                                       q_value, sample_size, confidence_level, effect_size, effect_unit)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::int2[], $5::float8[], $6::float8[], $7::float8[],
                                      $8::int4[], $9::text[], $10::float8[], $11::text[])",
        )
        .bind(user_id)
        .bind(column(|f| f.cause.column.to_owned()))
        .bind(column(|f| f.effect.column.to_owned()))
        .bind(findings.iter().map(|f| f.lag_days as i16).collect::<Vec<i16>>())
        .bind(number(|f| f.coefficient))
        .bind(number(|f| f.p_value))
        .bind(number(|f| f.q_value))
        .bind(findings.iter().map(|f| f.sample_size as i32).collect::<Vec<i32>>())
        .bind(column(|f| f.confidence.as_str().to_owned()))
        .bind(findings.iter().map(|f| f.effect_size).collect::<Vec<Option<f64>>>())
        .bind(column(Finding::effect_unit))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO correlation_runs (user_id, status, qualifying_days, required_days, first_date, last_date, variables)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id) DO UPDATE SET status = EXCLUDED.status, qualifying_days = EXCLUDED.qualifying_days,
             required_days = EXCLUDED.required_days, first_date = EXCLUDED.first_date,
             last_date = EXCLUDED.last_date, variables = EXCLUDED.variables, computed_at = now()",
    )
    .bind(user_id)
    .bind(if analysed.is_some() { "computed" } else { "not_enough_data" })
    .bind(qualifying_days as i32)
    .bind(required_days as i32)
    .bind(analysed.as_ref().map(|run| run.first_date))
    .bind(analysed.as_ref().map(|run| run.last_date))
    .bind(analysed.as_ref().map(|run| run.variables.to_vec()).unwrap_or_default())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn latest_run(db: &PgPool, user_id: Uuid) -> Result<Option<CorrelationRun>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, qualifying_days, required_days, first_date, last_date, variables, computed_at
         FROM correlation_runs WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// A stored link. The columns `factor_x` (the cause), `factor_y` (the effect), `correlation_coefficient` and
/// `confidence_level` are read into `cause_factor`, `effect_factor`, `coefficient` and `confidence`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CorrelationRow {
    pub cause_factor: String,
    pub effect_factor: String,
    pub lag_days: i16,
    pub coefficient: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub sample_size: i32,
    pub confidence: String,
    pub effect_size: Option<f64>,
    pub effect_unit: Option<String>,
    pub computed_at: DateTime<Utc>,
}

/// Which stored links to list.
#[derive(Debug, Clone)]
pub struct CorrelationFilter<'a> {
    /// Only links with these effect factors.
    pub effects: &'a [&'a str],
    /// Only links with this cause or effect.
    pub factor: Option<&'a str>,
    pub min_confidence: Confidence,
    pub limit: i64,
}

/// The user's links, strongest evidence first (confidence, then q, then |coefficient|).
pub async fn list(
    db: &PgPool,
    user_id: Uuid,
    filter: &CorrelationFilter<'_>,
) -> Result<Vec<CorrelationRow>, sqlx::Error> {
    let confidences: Vec<&str> = [Confidence::Low, Confidence::Medium, Confidence::High]
        .into_iter()
        .filter(|c| *c >= filter.min_confidence)
        .map(Confidence::as_str)
        .collect();
    sqlx::query_as(
        "SELECT factor_x AS cause_factor, factor_y AS effect_factor, lag_days,
                correlation_coefficient AS coefficient, p_value, q_value, sample_size, confidence_level AS confidence,
                effect_size, effect_unit, computed_at
         FROM correlations
         WHERE user_id = $1 AND factor_y = ANY($2::text[]) AND confidence_level = ANY($3::text[])
           AND ($4::text IS NULL OR factor_x = $4 OR factor_y = $4)
         ORDER BY CASE confidence_level WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, q_value,
                  abs(correlation_coefficient) DESC, factor_x, factor_y, lag_days
         LIMIT $5",
    )
    .bind(user_id)
    .bind(filter.effects)
    .bind(&confidences)
    .bind(filter.factor)
    .bind(filter.limit)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_factor_has_its_daily_aggregates_column() {
        for variable in VARIABLES {
            assert!(aggregates::column(variable.column).is_some(), "{}", variable.column);
        }
    }
}
