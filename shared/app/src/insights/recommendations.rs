//! Plain-language findings and recommendations. Every recommendation is built from one stored finding and carries
//! that finding as its evidence; without a finding there is no recommendation. The wording states what was
//! observed in the person's own data, never prescribes, and points to their care team.

use serde::Serialize;

use glucolens_domain::finding::{effect_unit, Confidence};
use glucolens_domain::variables::{by_column, Role, Unit, Variable};
use glucolens_domain::GlucoseUnit;
use glucolens_store::correlations::CorrelationRow;

/// A stored correlation in the user's display unit, with its sentence.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CorrelationFinding {
    /// Stable id of the finding: `<cause>-><effect>@<lag>`.
    pub id: String,
    /// The cause (the design's `factor_x`), a daily variable such as `sleep_minutes`.
    #[serde(rename = "factor_x")]
    pub cause: String,
    /// The effect (the design's `factor_y`), a glucose outcome such as `mean_glucose`.
    #[serde(rename = "factor_y")]
    pub effect: String,
    /// Days from the cause to the effect (1: sleep last night, glucose today).
    pub lag_days: i16,
    /// Partial correlation (PCMCI MCI statistic), −1 to 1.
    #[serde(rename = "correlation_coefficient")]
    pub coefficient: f64,
    pub p_value: f64,
    /// Benjamini–Hochberg FDR q-value.
    pub q_value: f64,
    pub sample_size: i32,
    /// `high`, `medium` or `low` (the design's `confidence_level`).
    #[serde(rename = "confidence_level")]
    pub confidence: Confidence,
    /// Change of the effect per step of the cause, in `effect_unit` (glucose in the user's display unit).
    pub effect_size: Option<f64>,
    pub effect_unit: Option<String>,
    pub summary: String,
}

/// The evidence behind a recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Evidence {
    /// `correlation` (PCMCI link).
    pub kind: &'static str,
    pub finding_id: String,
    pub sample_size: i32,
    pub q_value: f64,
    pub confidence: Confidence,
    pub effect_size: f64,
    pub effect_unit: String,
    pub lag_days: i16,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Recommendation {
    /// 1 = strongest evidence.
    pub rank: usize,
    pub title: String,
    pub message: String,
    pub evidence: Evidence,
}

/// Converts a stored row for display; `None` for factors no longer in the catalogue.
pub fn finding(row: &CorrelationRow, unit: GlucoseUnit) -> Option<CorrelationFinding> {
    let (cause, effect) = (by_column(&row.cause_factor)?, by_column(&row.effect_factor)?);
    let confidence = Confidence::parse(&row.confidence)?;
    let effect_size = row.effect_size.map(|size| in_display_unit(effect, size, unit));
    let summary = match effect_size {
        Some(size) => describe(cause, effect, row.lag_days, size, row.q_value, row.sample_size, unit),
        None => format!(
            "Your {} and {} were linked {} (partial correlation {:.2}, {}, {} days).",
            cause.label,
            effect.label,
            timing(row.lag_days),
            row.coefficient,
            format_q(row.q_value),
            row.sample_size
        ),
    };
    Some(CorrelationFinding {
        id: format!("{}->{}@{}", row.cause_factor, row.effect_factor, row.lag_days),
        cause: row.cause_factor.clone(),
        effect: row.effect_factor.clone(),
        lag_days: row.lag_days,
        coefficient: row.coefficient,
        p_value: row.p_value,
        q_value: row.q_value,
        sample_size: row.sample_size,
        confidence,
        effect_size,
        effect_unit: effect_size.map(|_| display_effect_unit(effect, cause, unit)),
        summary,
    })
}

/// Recommendations from findings whose cause is a behaviour and whose effect is a glucose outcome, strongest first
/// (the input order, which the store sorts by confidence, q and |coefficient|).
pub fn recommend(findings: &[CorrelationFinding], unit: GlucoseUnit) -> Vec<Recommendation> {
    findings
        .iter()
        .filter_map(|finding| {
            let (cause, effect) = (by_column(&finding.cause)?, by_column(&finding.effect)?);
            let Role::Glucose { lower_is_better } = effect.role else {
                return None;
            };
            if cause.role != Role::Behaviour || finding.confidence < Confidence::Medium {
                return None;
            }
            let effect_size = finding.effect_size?;
            let more_helps = (effect_size < 0.0) == lower_is_better;
            let message = format!(
                "{} {} Discuss any changes with your care team.",
                finding.summary,
                suggestion(cause, more_helps)
            );
            Some((cause, effect, message, finding, effect_size))
        })
        .enumerate()
        .map(
            |(index, (cause, effect, message, finding, effect_size))| Recommendation {
                rank: index + 1,
                title: format!("{} and {}", capitalised(cause.label), effect.label),
                message,
                evidence: Evidence {
                    kind: "correlation",
                    finding_id: finding.id.clone(),
                    sample_size: finding.sample_size,
                    q_value: finding.q_value,
                    confidence: finding.confidence,
                    effect_size,
                    effect_unit: display_effect_unit(effect, cause, unit),
                    lag_days: finding.lag_days,
                },
            },
        )
        .collect()
}

/// "Each extra hour of sleep went with mean glucose 14 mg/dL lower the next day (lag 1 day, q = 0.010, 84 days)."
pub fn describe(
    cause: &Variable,
    effect: &Variable,
    lag_days: i16,
    effect_size: f64,
    q_value: f64,
    sample_size: i32,
    unit: GlucoseUnit,
) -> String {
    let direction = if effect_size < 0.0 { "lower" } else { "higher" };
    format!(
        "Each {} went with {} {} {} {direction} {} (lag {lag_days} day{}, {}, {sample_size} days).",
        cause.step_label,
        effect.label,
        format_amount(effect_size.abs(), effect.unit, unit),
        unit_label(effect.unit, unit),
        timing(lag_days),
        if lag_days == 1 { "" } else { "s" },
        format_q(q_value),
    )
}

/// A non-prescriptive idea matching the observed direction, or a reminder that this is an association.
fn suggestion(cause: &Variable, more_helps: bool) -> &'static str {
    match (cause.column, more_helps) {
        ("sleep_minutes" | "deep_sleep_minutes", true) => {
            "Some people find a consistent bedtime that leaves room for enough sleep helps."
        }
        ("exercise_minutes" | "steps", true) => "Some people find regular activity, such as a walk after meals, helps.",
        ("carbs_g" | "calories", false) => {
            "Some people find spreading carbohydrates across the day or choosing slower-acting ones helps."
        }
        _ => "This is a pattern in your own data, not proof of cause.",
    }
}

fn in_display_unit(variable: &Variable, value: f64, unit: GlucoseUnit) -> f64 {
    match variable.unit {
        Unit::MgDl => unit.from_mg_dl(value),
        _ => value,
    }
}

fn unit_label(variable_unit: Unit, unit: GlucoseUnit) -> &'static str {
    match variable_unit {
        Unit::MgDl => unit.as_str(),
        other => other.label(),
    }
}

fn display_effect_unit(effect: &Variable, cause: &Variable, unit: GlucoseUnit) -> String {
    match effect.unit {
        Unit::MgDl => format!("{} per {}", unit.as_str(), cause.step_label),
        _ => effect_unit(effect, cause),
    }
}

/// Whole mg/dL (one decimal under 10), mmol/L to one decimal (two under 1), other units to one decimal.
fn format_amount(value: f64, variable_unit: Unit, unit: GlucoseUnit) -> String {
    match (variable_unit, unit) {
        (Unit::MgDl, GlucoseUnit::MgDl) if value >= 10.0 => format!("{value:.0}"),
        (Unit::MgDl, GlucoseUnit::MmolL) if value < 1.0 => format!("{value:.2}"),
        _ => format!("{value:.1}"),
    }
}

fn format_q(q: f64) -> String {
    if q < 0.001 {
        "q < 0.001".into()
    } else {
        format!("q = {q:.3}")
    }
}

fn timing(lag_days: i16) -> String {
    match lag_days {
        0 => "the same day".into(),
        1 => "the next day".into(),
        n => format!("{n} days later"),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn row(cause: &str, effect: &str, lag: i16, size: f64, q: f64, confidence: &str) -> CorrelationRow {
        CorrelationRow {
            cause_factor: cause.into(),
            effect_factor: effect.into(),
            lag_days: lag,
            coefficient: -0.4,
            p_value: q / 2.0,
            q_value: q,
            sample_size: 84,
            confidence: confidence.into(),
            effect_size: Some(size),
            effect_unit: None,
            computed_at: Utc::now(),
        }
    }

    #[test]
    fn a_sleep_finding_reads_plainly_in_mg_dl() {
        let sleep = finding(
            &row("sleep_minutes", "mean_glucose", 1, -14.2, 0.01, "high"),
            GlucoseUnit::MgDl,
        )
        .unwrap();
        assert_eq!(
            sleep.summary,
            "Each extra hour of sleep went with mean glucose 14 mg/dL lower the next day (lag 1 day, q = 0.010, 84 days)."
        );
        assert_eq!(sleep.effect_unit.as_deref(), Some("mg/dL per extra hour of sleep"));
        assert_eq!(sleep.id, "sleep_minutes->mean_glucose@1");
    }

    #[test]
    fn glucose_effects_follow_the_display_unit() {
        let carbs = finding(
            &row("carbs_g", "mean_glucose", 0, 3.6, 0.0004, "high"),
            GlucoseUnit::MmolL,
        )
        .unwrap();
        assert!((carbs.effect_size.unwrap() - 3.6 / 18.0156).abs() < 1e-12);
        assert_eq!(
            carbs.summary,
            "Each extra 10 g of carbohydrates went with mean glucose 0.20 mmol/L higher the same day \
             (lag 0 days, q < 0.001, 84 days)."
        );
        // Non-glucose effects keep their own unit.
        let tir = finding(
            &row("exercise_minutes", "pct_70_180", 0, 2.5, 0.02, "medium"),
            GlucoseUnit::MmolL,
        )
        .unwrap();
        assert_eq!(tir.effect_size, Some(2.5));
        assert!(tir.summary.contains("2.5 percentage points higher"));
    }

    #[test]
    fn recommendations_need_medium_evidence_and_a_behaviour_cause() {
        let rows = [
            row("sleep_minutes", "mean_glucose", 1, -14.0, 0.01, "high"),
            row("carbs_g", "mean_glucose", 0, 4.0, 0.02, "medium"),
            row("steps", "mean_glucose", 2, -1.0, 0.2, "low"),
            row("mean_glucose", "cv_percent", 0, 1.0, 0.001, "high"),
        ];
        let findings: Vec<_> = rows.iter().filter_map(|r| finding(r, GlucoseUnit::MgDl)).collect();
        let recommendations = recommend(&findings, GlucoseUnit::MgDl);
        assert_eq!(recommendations.len(), 2);
        assert_eq!((recommendations[0].rank, recommendations[1].rank), (1, 2));
        assert_eq!(recommendations[0].title, "Sleep and mean glucose");
        assert!(recommendations[0].message.contains("consistent bedtime"));
        assert!(recommendations[0]
            .message
            .ends_with("Discuss any changes with your care team."));
        assert_eq!(recommendations[0].evidence.finding_id, "sleep_minutes->mean_glucose@1");
        assert!(recommendations[1].message.contains("spreading carbohydrates"));
        // An adverse direction gets no behavioural idea, only the caveat.
        let odd = finding(
            &row("exercise_minutes", "mean_glucose", 0, 5.0, 0.01, "medium"),
            GlucoseUnit::MgDl,
        )
        .unwrap();
        assert!(recommend(&[odd], GlucoseUnit::MgDl)[0]
            .message
            .contains("not proof of cause"));
    }
}
