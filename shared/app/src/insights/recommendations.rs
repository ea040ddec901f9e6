//! Plain-language findings and the recommendations built from all of the person's insights. Every recommendation
//! rests on one piece of evidence from their own data and carries its numbers; without evidence there is no
//! recommendation. The wording states what was observed, never prescribes ("Some people find …"), and points to
//! their care team; glucose numbers are in the person's display unit.
//!
//! # Sources ([`Evidence`] kinds) and when each speaks
//! - `correlation`: a stored PCMCI link from a behaviour into a glucose outcome with at least medium confidence
//!   (significant after FDR correction) and an effect size; one per family of behaviours (sleep, activity, food:
//!   carbohydrates are part of food energy, deep sleep of sleep): its link into mean glucose when it has one (the
//!   outcome in the person's own unit, which time in range largely echoes), else its strongest.
//! - `meal_comparison`: of the repeated meals with at least [`MIN_MEAL_RESPONSES`] responses each in the recent
//!   period ([`RECENT_DAYS`], [`super::meals::list`]), the highest and lowest mean rise, when they differ by at least
//!   [`MIN_MEAL_DIFFERENCE_MG_DL`] and by a Welch t of at least [`MIN_STRENGTH`]. The rise per 10 g of carbohydrate is
//!   added when its 95 % interval lies above zero.
//! - `episode_context`: an explanation of the recent period's lows ([`super::episodes::list`]: after exercise,
//!   after a meal, during sleep) that holds for at least [`MIN_EPISODE_SHARE`] of at least [`MIN_EPISODES`] lows.
//!   Highs are left to the meal comparison: most highs follow a meal, which says little.
//! - `association_rule`: a stored rule (behaviours → a glucose item) whose antecedent held on at least
//!   [`MIN_RULE_DAYS`] days and whose confidence exceeds the outcome's base rate by a z of at least [`MIN_STRENGTH`].
//! - `cluster`: the stored group of similar days that holds most of the best days (`holds_best_days`), with at
//!   least [`MIN_CLUSTER_DAYS`] days in and out of it, a behaviour among its distinguishing features and a strength
//!   of at least [`MIN_STRENGTH`].
//!
//! # Ranking
//! Each recommendation has one `strength`: roughly how many standard errors its effect lies from no effect, so
//! kinds compare on one scale and both the sample size and the effect size count (capped at [`MAX_STRENGTH`], so a
//! near-zero spread does not make one finding infinitely strong):
//! - correlation: the Fisher z of the partial correlation, `atanh(|r|) · √(n − 3)`;
//! - meal comparison: Welch's t of the highest against the lowest meal's mean rise;
//! - episode context: the z of the share against one half, `(2·count − total) / √total` (how clearly it is most of
//!   the lows; there is no base rate of time after exercise or meals to compare with);
//! - association rule: the z of the rule's confidence against the outcome's share of all days (`confidence / lift`)
//!   over the antecedent's days;
//! - cluster: the two-sample t of its most distinguishing behaviour, `|difference_sd| · √(n₁·n₂ / (n₁ + n₂))` (days
//!   in and out of the cluster).
//!
//! The strongest come first. [`select`] keeps at most [`kind_cap`] of a kind while other kinds compete for the
//! [`MAX_RECOMMENDATIONS`] slots (the caps add up to it, so every kind with evidence is shown); slots no other kind
//! wants go to the next strongest of any kind.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use glucolens_domain::finding::{effect_unit, Confidence};
use glucolens_domain::pattern::PatternKind;
use glucolens_domain::variables::{by_column, Role, Unit, Variable};
use glucolens_domain::{rules, GlucoseUnit, MgDl};
use glucolens_store as store;
use glucolens_store::correlations::CorrelationRow;
use glucolens_store::patterns::Pattern;
use glucolens_store::users::StoredSettings;

use super::episode_context::{ContextFactor, EpisodeExplanation, EpisodeType};
use super::episodes::{self, EpisodeList};
use super::meals::{self, CarbSensitivity, GroupResponse, MealResponses};
use super::InsightsError;

/// Recommendations shown at most: the strongest few are actionable, a long list is not. The per-kind caps
/// ([`kind_cap`]) add up to it.
pub const MAX_RECOMMENDATIONS: usize = 8;
/// The period meal responses and episodes are taken from: the days up to the person's latest reading (within the
/// range reads' 92 days).
pub const RECENT_DAYS: i64 = 90;
/// Strength at most (see the module documentation).
pub const MAX_STRENGTH: f64 = 10.0;
/// The strength a meal comparison, association rule or cluster needs: about two standard errors (p ≈ 0.05).
pub const MIN_STRENGTH: f64 = 2.0;
/// Responses each compared meal needs: fewer make a mean and SD of chance.
pub const MIN_MEAL_RESPONSES: usize = 3;
/// The least difference between the highest and lowest meal's mean rise worth a recommendation (about 1.1 mmol/L:
/// smaller differences are within what sensor noise and a day's variation make).
pub const MIN_MEAL_DIFFERENCE_MG_DL: f64 = 20.0;
/// Lows an episode explanation needs.
pub const MIN_EPISODES: usize = 3;
/// The share of the lows an explanation must hold for: clearly most of them.
pub const MIN_EPISODE_SHARE: f64 = 2.0 / 3.0;
/// Days an association rule's antecedent must have held on.
pub const MIN_RULE_DAYS: f64 = 5.0;
/// Days a cluster needs, and days outside it.
pub const MIN_CLUSTER_DAYS: i64 = 5;
/// Behaviours a cluster recommendation names at most.
const MAX_CLUSTER_BEHAVIOURS: usize = 3;
/// Cluster features that are glucose outcomes; the other features are behaviours.
const CLUSTER_OUTCOMES: [&str; 2] = ["pct_in_target", "mean_glucose_mg_dl"];
/// The glucose outcome a family's correlation is taken on when it has a link into it.
const PRIMARY_OUTCOME: &str = "mean_glucose";
const CARE_TEAM: &str = "Discuss any changes with your care team.";
const NOT_A_CAUSE: &str = "This is a pattern in your own data, not proof of cause.";

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

/// The evidence behind a recommendation: its kind and the numbers it rests on. Glucose quantities are in the
/// person's display unit.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A PCMCI link from a behaviour into a glucose outcome (`GET /api/v1/insights/correlations`).
    Correlation {
        /// The finding's id, `<cause>-><effect>@<lag>`.
        finding_id: String,
        /// Days analysed.
        sample_size: i32,
        q_value: f64,
        confidence: Confidence,
        effect_size: f64,
        effect_unit: String,
        lag_days: i16,
    },
    /// The repeated meals with the highest and lowest mean rise in the period (`GET /api/v1/insights/meals`).
    MealComparison {
        /// Responses of the two meals.
        sample_size: i32,
        /// The meal with the highest mean rise (ΔG, peak within 2 h of eating).
        highest: GroupResponse,
        /// The meal with the lowest mean rise.
        lowest: GroupResponse,
        /// `highest.mean_peak_rise − lowest.mean_peak_rise`.
        difference: f64,
        unit: GlucoseUnit,
        /// The rise per 10 g of carbohydrate, when its 95 % interval lies above zero.
        carb_sensitivity: Option<CarbSensitivity>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// What preceded the period's lows (`GET /api/v1/insights/episodes`, its `explanations`).
    EpisodeContext {
        /// Level-1 lows in the period.
        sample_size: i32,
        explanation: EpisodeExplanation,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// A stored association rule (`GET /api/v1/insights/patterns`).
    AssociationRule {
        pattern_id: Uuid,
        /// Days the rules were mined from.
        sample_size: i32,
        /// Items of the days, e.g. `exercise`, `short_sleep`, `high_carb`.
        antecedents: Vec<String>,
        /// `good_glucose` or `glucose_below_goal`.
        consequent: String,
        /// Days the antecedents held on.
        antecedent_days: i32,
        support: f64,
        confidence: f64,
        lift: f64,
    },
    /// The stored group of similar days that holds most of the best days (`GET /api/v1/insights/patterns`).
    Cluster {
        pattern_id: Uuid,
        /// Days clustered.
        sample_size: i32,
        /// Days in this cluster.
        cluster_days: i32,
        /// Best days in this cluster, of `best_days_total`.
        best_days: i32,
        best_days_total: i32,
        /// The cluster's mean silhouette (−1 to 1).
        silhouette: Option<f64>,
        /// Each feature's mean in the cluster and on the other days; glucose in `unit`.
        features: Vec<ClusterFeature>,
        /// Features at least half an SD apart, largest first.
        distinguishing: Vec<String>,
        unit: GlucoseUnit,
    },
}

/// One feature of a cluster of days: its mean in the cluster and on the other days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClusterFeature {
    /// `pct_in_target`, `mean_glucose_mg_dl` (outcomes), `sleep_minutes`, `exercise_minutes`, `carbs_g`.
    pub feature: String,
    pub label: String,
    /// The unit of `cluster` and `other_days` (glucose: the display unit).
    pub unit: String,
    pub cluster: f64,
    pub other_days: f64,
    /// `(cluster − other_days)` in SDs of the feature over all clustered days.
    pub difference_sd: f64,
}

impl Evidence {
    /// The `kind` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Evidence::Correlation { .. } => "correlation",
            Evidence::MealComparison { .. } => "meal_comparison",
            Evidence::EpisodeContext { .. } => "episode_context",
            Evidence::AssociationRule { .. } => "association_rule",
            Evidence::Cluster { .. } => "cluster",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Recommendation {
    /// 1 = strongest evidence.
    pub rank: usize,
    pub title: String,
    pub message: String,
    /// About how many standard errors the effect lies from no effect (0 to 10; see the endpoint's description).
    pub strength: f64,
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

/// What recommendations are built from besides the correlations, as [`sources`] reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// Meal responses of the recent period; `None` without readings.
    pub meals: Option<MealResponses>,
    /// Episodes of the recent period; `None` without readings.
    pub episodes: Option<EpisodeList>,
    /// Every stored pattern.
    pub patterns: Vec<Pattern>,
}

/// Reads the user's stored patterns and computes their meal responses and episodes over the [`RECENT_DAYS`] up to
/// their latest reading (not up to today, so an import of older data has recommendations too). The caller audits.
pub async fn sources(db: &PgPool, user_id: Uuid, settings: &StoredSettings) -> Result<Sources, InsightsError> {
    let patterns = store::patterns::list(db, user_id, None).await?;
    let latest = store::nightscout::latest_readings(db, user_id, 1).await?;
    let Some(latest) = latest.first() else {
        return Ok(Sources {
            patterns,
            ..Sources::default()
        });
    };
    // End exclusive: one second after the latest reading keeps it in.
    let end = latest.timestamp + Duration::seconds(1);
    let range = (end - Duration::days(RECENT_DAYS), end);
    // One read of the readings serves both (the meals' range holds the episodes').
    let readings = episodes::readings(db, user_id, meals::reading_range(range)).await?;
    let (meals, episodes) = tokio::try_join!(
        meals::list_with_readings(db, user_id, settings, range, &readings),
        episodes::list_with_readings(db, user_id, settings, range, &readings)
    )?;
    Ok(Sources {
        meals: Some(meals),
        episodes: Some(episodes),
        patterns,
    })
}

/// The ranked recommendations (at most `max`) from `correlations` (as [`finding`] shows them) and `sources`.
pub fn recommend(
    correlations: &[CorrelationFinding],
    sources: &Sources,
    unit: GlucoseUnit,
    max: usize,
) -> Vec<Recommendation> {
    let mut candidates = from_correlations(correlations, unit);
    candidates.extend(sources.meals.as_ref().and_then(from_meals));
    if let Some(list) = &sources.episodes {
        candidates.extend(from_episodes(list));
    }
    candidates.extend(sources.patterns.iter().filter_map(from_rule));
    candidates.extend(sources.patterns.iter().filter_map(|p| from_cluster(p, unit)));
    select(candidates, max)
}

/// At most this many recommendations of the evidence's kind while other kinds compete for the slots: three
/// families' correlations, one meal comparison, two contexts of lows, one rule and one cluster (8 in all).
pub fn kind_cap(evidence: &Evidence) -> usize {
    match evidence {
        Evidence::Correlation { .. } => 3,
        Evidence::MealComparison { .. } => 1,
        Evidence::EpisodeContext { .. } => 2,
        Evidence::AssociationRule { .. } => 1,
        Evidence::Cluster { .. } => 1,
    }
}

/// The strongest `max` of `candidates`, at most [`kind_cap`] of a kind first, then the strongest left over of any
/// kind in the slots still free; ranked by strength (ties keep their order).
pub fn select(mut candidates: Vec<Recommendation>, max: usize) -> Vec<Recommendation> {
    candidates.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    let mut chosen = vec![false; candidates.len()];
    let mut count = 0;
    let mut per_kind: Vec<&'static str> = Vec::new();
    for (index, candidate) in candidates.iter().enumerate() {
        let kind = candidate.evidence.kind();
        if count < max && per_kind.iter().filter(|k| **k == kind).count() < kind_cap(&candidate.evidence) {
            chosen[index] = true;
            per_kind.push(kind);
            count += 1;
        }
    }
    for taken in chosen.iter_mut().filter(|taken| !**taken) {
        if count == max {
            break;
        }
        *taken = true;
        count += 1;
    }
    candidates
        .into_iter()
        .zip(chosen)
        .filter_map(|(candidate, taken)| taken.then_some(candidate))
        .enumerate()
        .map(|(index, candidate)| Recommendation {
            rank: index + 1,
            ..candidate
        })
        .collect()
}

/// A strength rounded to 0.01 and capped at [`MAX_STRENGTH`] (a NaN becomes 0).
fn strength(raw: f64) -> f64 {
    let capped = if raw.is_nan() {
        0.0
    } else {
        raw.clamp(0.0, MAX_STRENGTH)
    };
    (capped * 100.0).round() / 100.0
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Recommendations from findings whose cause is a behaviour and whose effect is a glucose outcome, with at least
/// medium confidence: one per family of behaviours (sleep, activity, food), its link into mean glucose when it has
/// one, else its strongest (ranked by [`select`]).
pub fn from_correlations(findings: &[CorrelationFinding], unit: GlucoseUnit) -> Vec<Recommendation> {
    let mut candidates: Vec<(Family, bool, Recommendation)> = findings
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
            let fisher_z = finding.coefficient.abs().atanh() * f64::from((finding.sample_size - 3).max(0)).sqrt();
            let recommendation = Recommendation {
                rank: 0,
                title: format!("{} and {}", capitalised(cause.label), effect.label),
                message: format!("{} {} {CARE_TEAM}", finding.summary, suggestion(cause, more_helps)),
                strength: strength(fisher_z),
                evidence: Evidence::Correlation {
                    finding_id: finding.id.clone(),
                    sample_size: finding.sample_size,
                    q_value: finding.q_value,
                    confidence: finding.confidence,
                    effect_size,
                    effect_unit: display_effect_unit(effect, cause, unit),
                    lag_days: finding.lag_days,
                },
            };
            Some((family(cause), effect.column == PRIMARY_OUTCOME, recommendation))
        })
        .collect();
    // Links into mean glucose first, then the strongest: the first of each family is kept.
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.strength.total_cmp(&a.2.strength)));
    let mut seen = HashSet::new();
    candidates
        .into_iter()
        .filter(|(family, _, _)| seen.insert(*family))
        .map(|(_, _, recommendation)| recommendation)
        .collect()
}

/// The meal comparison of the period, when clear (see the module documentation).
pub fn from_meals(responses: &MealResponses) -> Option<Recommendation> {
    let unit = responses.unit;
    let enough: Vec<&GroupResponse> = responses
        .repeated_meals
        .iter()
        .filter(|g| g.n >= MIN_MEAL_RESPONSES)
        .collect();
    let highest = enough
        .iter()
        .max_by(|a, b| a.mean_peak_rise.total_cmp(&b.mean_peak_rise))?;
    let lowest = enough
        .iter()
        .min_by(|a, b| a.mean_peak_rise.total_cmp(&b.mean_peak_rise))?;
    let difference = highest.mean_peak_rise - lowest.mean_peak_rise;
    let variance = |g: &GroupResponse| g.sd_peak_rise.unwrap_or(0.0).powi(2) / g.n as f64;
    let standard_error = (variance(highest) + variance(lowest)).sqrt();
    let welch_t = if standard_error > 0.0 {
        difference / standard_error
    } else {
        MAX_STRENGTH
    };
    if difference < unit.from_mg_dl(MIN_MEAL_DIFFERENCE_MG_DL) || welch_t < MIN_STRENGTH {
        return None;
    }
    let amount = |value: f64| format!("{} {}", format_amount(value, Unit::MgDl, unit), unit.as_str());
    let times = |n: usize| format!("{n} time{}", if n == 1 { "" } else { "s" });
    let carb_sensitivity = responses.carb_sensitivity.clone().filter(|c| c.ci_low > 0.0);
    let carbs = carb_sensitivity
        .as_ref()
        .map(|c| {
            format!(
                " Across {} meals, each extra 10 g of carbohydrate went with a rise {} larger (95 % interval {} to {}).",
                c.n,
                amount(c.rise_per_10g),
                format_amount(c.ci_low, Unit::MgDl, unit),
                format_amount(c.ci_high, Unit::MgDl, unit),
            )
        })
        .unwrap_or_default();
    let message = format!(
        "In the last {RECENT_DAYS} days of your data, your {} raised your glucose by {} on average ({}), your {} by \
         {} ({}): the most and the least of the meals you ate at least {MIN_MEAL_RESPONSES} times (peak rise within \
         2 h of eating).{carbs} Some people find a smaller portion of the meals that raise their glucose most, or \
         pairing them with vegetables or protein, helps. {CARE_TEAM}",
        highest.name,
        amount(highest.mean_peak_rise),
        times(highest.n),
        lowest.name,
        amount(lowest.mean_peak_rise),
        times(lowest.n),
    );
    Some(Recommendation {
        rank: 0,
        title: "The meals that raise your glucose most".into(),
        message,
        strength: strength(welch_t),
        evidence: Evidence::MealComparison {
            sample_size: count(highest.n + lowest.n),
            highest: (*highest).clone(),
            lowest: (*lowest).clone(),
            difference: (difference * 100.0).round() / 100.0,
            unit,
            carb_sensitivity,
            start: responses.start,
            end: responses.end,
        },
    })
}

/// The explanations of the period's lows that hold for most of them (see the module documentation).
pub fn from_episodes(list: &EpisodeList) -> Vec<Recommendation> {
    list.explanations
        .iter()
        .filter(|x| x.kind == EpisodeType::Hypo && x.total >= MIN_EPISODES)
        .filter(|x| x.count as f64 >= MIN_EPISODE_SHARE * x.total as f64)
        .map(|x| {
            let (title, idea) = match x.factor {
                ContextFactor::Exercise => (
                    "Lows after exercise",
                    "Some people find checking their glucose more often in the hours after exercise, with a snack \
                     at hand, helps.",
                ),
                ContextFactor::Meal => (
                    "Lows after meals",
                    "Some people find it useful to look at how their meal-time insulin, if they use it, matches \
                     their meals.",
                ),
                ContextFactor::Sleep => (
                    "Lows during sleep",
                    "Some people find checking their glucose before bed, or a low alert on their sensor, helps.",
                ),
            };
            let z = (2.0 * x.count as f64 - x.total as f64) / (x.total as f64).sqrt();
            Recommendation {
                rank: 0,
                title: title.into(),
                message: format!(
                    "In the last {RECENT_DAYS} days of your data, {}. This describes what came before them, not a \
                     cause. {idea} {CARE_TEAM}",
                    x.text
                ),
                strength: strength(z),
                evidence: Evidence::EpisodeContext {
                    sample_size: count(x.total),
                    explanation: x.clone(),
                    start: list.start,
                    end: list.end,
                },
            }
        })
        .collect()
}

/// The metadata of a stored association rule (`super::patterns::rule_patterns`).
#[derive(Debug, Deserialize)]
struct RuleMetadata {
    antecedents: Vec<String>,
    consequents: Vec<String>,
    support: f64,
    confidence: f64,
    lift: f64,
    days: usize,
}

/// A stored association rule as a recommendation, when strong enough (see the module documentation).
pub fn from_rule(pattern: &Pattern) -> Option<Recommendation> {
    if PatternKind::parse(&pattern.pattern_type) != Some(PatternKind::AssociationRule) {
        return None;
    }
    let rule: RuleMetadata = serde_json::from_value(pattern.metadata.clone()).ok()?;
    let [consequent] = rule.consequents.as_slice() else {
        return None;
    };
    let good = match consequent.as_str() {
        "good_glucose" => true,
        "glucose_below_goal" => false,
        _ => return None,
    };
    let antecedent_days = rule.support / rule.confidence * rule.days as f64;
    let base_rate = rule.confidence / rule.lift;
    let spread = (base_rate * (1.0 - base_rate) / antecedent_days).sqrt();
    let z = if spread > 0.0 {
        (rule.confidence - base_rate) / spread
    } else {
        MAX_STRENGTH
    };
    if !antecedent_days.is_finite() || antecedent_days.round() < MIN_RULE_DAYS || z < MIN_STRENGTH {
        return None;
    }
    // The behaviour a single antecedent is about, and whether more of it went with better glucose.
    let idea = match rule.antecedents.as_slice() {
        [item] => match item.as_str() {
            "exercise" => by_column("exercise_minutes").map(|v| suggestion(v, good)),
            "short_sleep" => by_column("sleep_minutes").map(|v| suggestion(v, !good)),
            "high_carb" => by_column("carbs_g").map(|v| suggestion(v, good)),
            _ => None,
        },
        _ => None,
    }
    .unwrap_or(NOT_A_CAUSE);
    let days: Vec<&str> = rule.antecedents.iter().map(|item| rule_item_title(item)).collect();
    Some(Recommendation {
        rank: 0,
        title: capitalised(&format!("{} and time in your target range", days.join(" and "))),
        message: format!("{} {idea} {CARE_TEAM}", pattern.description),
        strength: strength(z),
        evidence: Evidence::AssociationRule {
            pattern_id: pattern.id,
            sample_size: count(rule.days),
            antecedents: rule.antecedents.clone(),
            consequent: consequent.clone(),
            antecedent_days: antecedent_days.round() as i32,
            support: rule.support,
            confidence: rule.confidence,
            lift: rule.lift,
        },
    })
}

fn rule_item_title(item: &str) -> &str {
    match item {
        "exercise" => "exercise",
        "short_sleep" => "short nights",
        "high_carb" => "higher-carbohydrate days",
        other => other,
    }
}

/// The metadata of a stored cluster of days.
#[derive(Debug, Deserialize)]
struct ClusterMetadata {
    holds_best_days: bool,
    days_clustered: i64,
    cluster_days: i64,
    best_days: i64,
    best_days_total: i64,
    silhouette: Option<f64>,
    features: Vec<ClusterFeature>,
    distinguishing: Vec<String>,
}

/// What the best days have in common, from the stored cluster that holds most of them (see the module
/// documentation).
pub fn from_cluster(pattern: &Pattern, unit: GlucoseUnit) -> Option<Recommendation> {
    if PatternKind::parse(&pattern.pattern_type) != Some(PatternKind::Cluster) {
        return None;
    }
    let cluster: ClusterMetadata = serde_json::from_value(pattern.metadata.clone()).ok()?;
    let (inside, outside) = (cluster.cluster_days, cluster.days_clustered - cluster.cluster_days);
    if !cluster.holds_best_days || inside < MIN_CLUSTER_DAYS || outside < MIN_CLUSTER_DAYS {
        return None;
    }
    let features: Vec<ClusterFeature> = cluster.features.iter().map(|f| shown_feature(f, unit)).collect();
    let feature = |name: &str| features.iter().find(|f| f.feature == name);
    let behaviours: Vec<&ClusterFeature> = cluster
        .distinguishing
        .iter()
        .filter(|name| !CLUSTER_OUTCOMES.contains(&name.as_str()))
        .filter_map(|name| feature(name))
        .take(MAX_CLUSTER_BEHAVIOURS)
        .collect();
    let first = behaviours.first()?;
    let (n1, n2) = (inside as f64, outside as f64);
    let t = first.difference_sd.abs() * (n1 * n2 / (n1 + n2)).sqrt();
    if t < MIN_STRENGTH {
        return None;
    }
    let phrases: Vec<String> = behaviours
        .iter()
        .map(|f| {
            let more = if f.difference_sd > 0.0 { "more" } else { "less" };
            format!(
                "{more} {} ({} vs {})",
                f.label,
                value(f.cluster, f),
                value(f.other_days, f)
            )
        })
        .collect();
    let outcome = feature("pct_in_target")
        .map(|f| {
            format!(
                ", and {} was {} against {}",
                f.label,
                value(f.cluster, f),
                value(f.other_days, f)
            )
        })
        .unwrap_or_default();
    let idea = by_column(&first.feature)
        .map(|v| suggestion(v, first.difference_sd > 0.0))
        .unwrap_or(NOT_A_CAUSE);
    // The caveat once, whether or not an idea goes with the first behaviour.
    let caveat = if idea == NOT_A_CAUSE { "" } else { NOT_A_CAUSE };
    let message = format!(
        "Your best days share a pattern: {} of your {} best days fall in one group of {inside} similar days. On \
         those days you had {} than on your other days{outcome}. {idea} {caveat}{}{CARE_TEAM}",
        cluster.best_days,
        cluster.best_days_total,
        join_words(&phrases),
        if caveat.is_empty() { "" } else { " " },
    );
    Some(Recommendation {
        rank: 0,
        title: "What your best days have in common".into(),
        message,
        strength: strength(t),
        evidence: Evidence::Cluster {
            pattern_id: pattern.id,
            sample_size: i32::try_from(cluster.days_clustered).unwrap_or(i32::MAX),
            cluster_days: i32::try_from(inside).unwrap_or(i32::MAX),
            best_days: i32::try_from(cluster.best_days).unwrap_or(i32::MAX),
            best_days_total: i32::try_from(cluster.best_days_total).unwrap_or(i32::MAX),
            silhouette: cluster.silhouette,
            features,
            distinguishing: cluster.distinguishing,
            unit,
        },
    })
}

/// A stored feature with glucose in the display unit (as episodes show values).
fn shown_feature(feature: &ClusterFeature, unit: GlucoseUnit) -> ClusterFeature {
    if feature.unit != GlucoseUnit::MgDl.as_str() {
        return feature.clone();
    }
    let shown = |mg_dl: f64| unit.display(MgDl::from_stored(rules::round_mg_dl(mg_dl)));
    ClusterFeature {
        unit: unit.as_str().into(),
        cluster: shown(feature.cluster),
        other_days: shown(feature.other_days),
        ..feature.clone()
    }
}

/// A feature's value with its unit: glucose as [`format_amount`], others whole (one decimal under 10).
fn value(amount: f64, feature: &ClusterFeature) -> String {
    let glucose = [GlucoseUnit::MgDl, GlucoseUnit::MmolL]
        .into_iter()
        .find(|u| u.as_str() == feature.unit);
    let number = match glucose {
        Some(unit) => format_amount(amount, Unit::MgDl, unit),
        None if amount.abs() >= 10.0 => format!("{amount:.0}"),
        None => format!("{amount:.1}"),
    };
    format!("{number} {}", feature.unit)
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
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

/// The kind of behaviour a variable measures: variables of one family say much the same (carbohydrates are part
/// of food energy, deep sleep of sleep), so they share an idea and one correlation recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    Sleep,
    Activity,
    Food,
    Other(&'static str),
}

fn family(cause: &Variable) -> Family {
    match cause.column {
        "sleep_minutes" | "deep_sleep_minutes" => Family::Sleep,
        "exercise_minutes" | "steps" => Family::Activity,
        "carbs_g" | "calories" => Family::Food,
        other => Family::Other(other),
    }
}

/// A non-prescriptive idea matching the observed direction, or a reminder that this is an association.
fn suggestion(cause: &Variable, more_helps: bool) -> &'static str {
    match (family(cause), more_helps) {
        (Family::Sleep, true) => "Some people find a consistent bedtime that leaves room for enough sleep helps.",
        (Family::Activity, true) => "Some people find regular activity, such as a walk after meals, helps.",
        (Family::Food, false) => {
            "Some people find spreading carbohydrates across the day or choosing slower-acting ones helps."
        }
        _ => NOT_A_CAUSE,
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

    fn evidence_id(recommendation: &Recommendation) -> &str {
        match &recommendation.evidence {
            Evidence::Correlation { finding_id, .. } => finding_id,
            other => panic!("not a correlation: {other:?}"),
        }
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
        let recommendations = recommend(&findings, &Sources::default(), GlucoseUnit::MgDl, MAX_RECOMMENDATIONS);
        assert_eq!(recommendations.len(), 2);
        assert_eq!((recommendations[0].rank, recommendations[1].rank), (1, 2));
        assert_eq!(recommendations[0].title, "Sleep and mean glucose");
        assert!(recommendations[0].message.contains("consistent bedtime"));
        assert!(recommendations[0].message.ends_with(CARE_TEAM));
        assert_eq!(evidence_id(&recommendations[0]), "sleep_minutes->mean_glucose@1");
        // Fisher z of |r| = 0.4 over 84 days: atanh(0.4) · 9 = 3.81.
        assert_eq!(recommendations[0].strength, 3.81);
        assert!(recommendations[1].message.contains("spreading carbohydrates"));
        // An adverse direction gets no behavioural idea, only the caveat.
        let odd = finding(
            &row("exercise_minutes", "mean_glucose", 0, 5.0, 0.01, "medium"),
            GlucoseUnit::MgDl,
        )
        .unwrap();
        assert!(from_correlations(&[odd], GlucoseUnit::MgDl)[0]
            .message
            .contains("not proof of cause"));
    }

    #[test]
    fn one_correlation_per_family_of_behaviours() {
        let mut weak = row("carbs_g", "mean_glucose", 0, 4.0, 0.01, "high");
        weak.coefficient = 0.3;
        let mut strong = row("carbs_g", "pct_70_180", 0, -2.0, 0.01, "high");
        strong.coefficient = -0.5;
        let findings: Vec<_> = [weak, strong]
            .iter()
            .filter_map(|r| finding(r, GlucoseUnit::MgDl))
            .collect();
        let recommendations = from_correlations(&findings, GlucoseUnit::MgDl);
        assert_eq!(recommendations.len(), 1);
        // Mean glucose before a stronger link into time in range; without it, the strongest link.
        assert_eq!(evidence_id(&recommendations[0]), "carbs_g->mean_glucose@0");
        assert_eq!(
            evidence_id(&from_correlations(&findings[1..], GlucoseUnit::MgDl)[0]),
            "carbs_g->pct_70_180@0"
        );
        // Food energy is of the same family as carbohydrates; sleep is another.
        let mut calories = row("calories", "mean_glucose", 0, 1.0, 0.01, "high");
        calories.coefficient = 0.45;
        let sleep = row("sleep_minutes", "mean_glucose", 1, -10.0, 0.01, "high");
        let more: Vec<_> = [calories, sleep]
            .iter()
            .filter_map(|r| finding(r, GlucoseUnit::MgDl))
            .chain(findings)
            .collect();
        let recommendations = from_correlations(&more, GlucoseUnit::MgDl);
        let ids: Vec<&str> = recommendations.iter().map(evidence_id).collect();
        assert_eq!(ids, ["calories->mean_glucose@0", "sleep_minutes->mean_glucose@1"]);
    }

    fn group(name: &str, n: usize, mean: f64, sd: f64) -> GroupResponse {
        GroupResponse {
            name: name.into(),
            n,
            mean_peak_rise: mean,
            sd_peak_rise: Some(sd),
            mean_incremental_auc: 50.0 * mean,
            sd_incremental_auc: Some(50.0 * sd),
        }
    }

    fn meal_responses(
        unit: GlucoseUnit,
        repeated: Vec<GroupResponse>,
        carbs: Option<CarbSensitivity>,
    ) -> MealResponses {
        MealResponses {
            start: "2025-01-01T00:00:00Z".parse().unwrap(),
            end: "2025-04-01T00:00:00Z".parse().unwrap(),
            unit,
            meals: Vec::new(),
            by_meal_type: Vec::new(),
            best_meal: repeated.first().cloned(),
            worst_meal: repeated.last().cloned(),
            repeated_meals: repeated,
            carb_sensitivity: carbs,
        }
    }

    #[test]
    fn meal_comparison_names_the_highest_and_lowest_repeated_meals() {
        let slope = CarbSensitivity {
            n: 48,
            rise_per_10g: 9.2,
            ci_low: 7.1,
            ci_high: 11.3,
        };
        let responses = meal_responses(
            GlucoseUnit::MgDl,
            vec![
                group("green salad", 5, 34.0, 8.0),
                group("rice bowl", 4, 51.0, 9.0),
                group("pasta lunch", 6, 82.0, 10.0),
                // Higher still, but eaten only twice: not compared.
                group("birthday cake", 2, 120.0, 5.0),
            ],
            Some(slope.clone()),
        );
        let recommendation = from_meals(&responses).unwrap();
        assert!(
            recommendation.message.contains(
                "your pasta lunch raised your glucose by 82 mg/dL on average (6 times), your green salad by 34 mg/dL \
                 (5 times)"
            ),
            "{}",
            recommendation.message
        );
        assert!(recommendation
            .message
            .contains("each extra 10 g of carbohydrate went with a rise 9.2 mg/dL larger"));
        assert!(recommendation.message.ends_with(CARE_TEAM));
        // Welch t: 48 / √(100/6 + 64/5) = 8.84.
        assert_eq!(recommendation.strength, 8.84);
        let Evidence::MealComparison {
            highest,
            lowest,
            difference,
            sample_size,
            carb_sensitivity,
            ..
        } = &recommendation.evidence
        else {
            panic!("{:?}", recommendation.evidence);
        };
        assert_eq!(
            (highest.name.as_str(), lowest.name.as_str()),
            ("pasta lunch", "green salad")
        );
        assert_eq!((*difference, *sample_size), (48.0, 11));
        assert_eq!(carb_sensitivity.as_ref(), Some(&slope));

        // An interval reaching zero is left out.
        let unclear = CarbSensitivity { ci_low: -0.5, ..slope };
        let responses = meal_responses(GlucoseUnit::MgDl, responses.repeated_meals.clone(), Some(unclear));
        let recommendation = from_meals(&responses).unwrap();
        assert!(!recommendation.message.contains("carbohydrate went with"));
    }

    #[test]
    fn weak_meal_differences_give_no_recommendation() {
        let none = |repeated: Vec<GroupResponse>| from_meals(&meal_responses(GlucoseUnit::MgDl, repeated, None));
        // Too few responses of each.
        assert_eq!(
            none(vec![group("salad", 2, 30.0, 5.0), group("pasta", 2, 80.0, 5.0)]),
            None
        );
        // A difference under 20 mg/dL.
        assert_eq!(
            none(vec![group("salad", 8, 30.0, 2.0), group("pasta", 8, 48.0, 2.0)]),
            None
        );
        // Spread so wide the difference is within chance: t = 30 / √(2 · 40²/3) = 0.92.
        assert_eq!(
            none(vec![group("salad", 3, 30.0, 40.0), group("pasta", 3, 60.0, 40.0)]),
            None
        );
        // A single repeated meal has nothing to compare with.
        assert_eq!(none(vec![group("pasta", 9, 80.0, 5.0)]), None);
    }

    #[test]
    fn meal_comparison_reads_in_mmol_l() {
        let responses = meal_responses(
            GlucoseUnit::MmolL,
            vec![group("green salad", 5, 1.89, 0.44), group("pasta lunch", 6, 4.61, 0.56)],
            None,
        );
        let recommendation = from_meals(&responses).unwrap();
        assert!(
            recommendation.message.contains(
                "your pasta lunch raised your glucose by 4.6 mmol/L on average (6 times), your green salad by 1.9 \
                 mmol/L (5 times)"
            ),
            "{}",
            recommendation.message
        );
        // 1.0 mmol/L (18 mg/dL) is under the 20 mg/dL (1.11 mmol/L) a comparison needs.
        let close = meal_responses(
            GlucoseUnit::MmolL,
            vec![group("green salad", 5, 2.0, 0.1), group("pasta lunch", 6, 3.0, 0.1)],
            None,
        );
        assert_eq!(from_meals(&close), None);
    }

    fn explanation(kind: EpisodeType, factor: ContextFactor, count: usize, total: usize) -> EpisodeExplanation {
        EpisodeExplanation {
            kind,
            factor,
            window_minutes: Some(360),
            count,
            total,
            unknown: None,
            text: format!("{count} of {total} lows began within 6 h after exercise"),
        }
    }

    fn episode_list(explanations: Vec<EpisodeExplanation>) -> EpisodeList {
        EpisodeList {
            start: "2025-01-01T00:00:00Z".parse().unwrap(),
            end: "2025-04-01T00:00:00Z".parse().unwrap(),
            unit: GlucoseUnit::MgDl,
            episodes: Vec::new(),
            summary: Default::default(),
            explanations,
        }
    }

    #[test]
    fn lows_mostly_after_one_thing_give_an_episode_context() {
        let list = episode_list(vec![
            explanation(EpisodeType::Hypo, ContextFactor::Exercise, 9, 11),
            // Under two thirds.
            explanation(EpisodeType::Hypo, ContextFactor::Meal, 6, 11),
            // Highs are left to the meal comparison.
            explanation(EpisodeType::Hyper, ContextFactor::Meal, 30, 31),
        ]);
        let found = from_episodes(&list);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].title, "Lows after exercise");
        assert!(found[0]
            .message
            .starts_with("In the last 90 days of your data, 9 of 11 lows began within 6 h after exercise."));
        assert!(found[0].message.ends_with(CARE_TEAM));
        // (2 · 9 − 11) / √11 = 2.11.
        assert_eq!(found[0].strength, 2.11);
        assert!(matches!(
            &found[0].evidence,
            Evidence::EpisodeContext { sample_size: 11, .. }
        ));
        // Every one of two lows is still too few.
        let few = episode_list(vec![explanation(EpisodeType::Hypo, ContextFactor::Exercise, 2, 2)]);
        assert!(from_episodes(&few).is_empty());
    }

    fn pattern(kind: PatternKind, description: &str, metadata: serde_json::Value) -> Pattern {
        Pattern {
            id: Uuid::new_v4(),
            pattern_type: kind.as_str().into(),
            description: description.into(),
            score: None,
            confidence: None,
            support: None,
            occurrences: None,
            example_dates: Vec::new(),
            metadata,
            discovered_at: Utc::now(),
        }
    }

    fn rule(antecedents: &[&str], consequent: &str, support: f64, confidence: f64, lift: f64, days: usize) -> Pattern {
        pattern(
            PatternKind::AssociationRule,
            "On days with 30 min or more of exercise, your glucose was in your target range more than 70 % of the \
             time on 100 % of them (10 of 10 days), against 50 % of all 20 days.",
            serde_json::json!({
                "rank": 1, "antecedents": antecedents, "consequents": [consequent], "support": support,
                "confidence": confidence, "lift": lift, "days": days, "thresholds": {}
            }),
        )
    }

    #[test]
    fn a_clear_association_rule_is_recommended_with_its_numbers() {
        let exercise = rule(&["exercise"], "good_glucose", 0.5, 1.0, 2.0, 20);
        let recommendation = from_rule(&exercise).unwrap();
        assert_eq!(recommendation.title, "Exercise and time in your target range");
        assert!(recommendation.message.starts_with(&exercise.description));
        assert!(recommendation.message.contains("regular activity"));
        // Confidence 1 against a base rate of 0.5 over 10 antecedent days: 0.5 / √(0.25 / 10) = 3.16.
        assert_eq!(recommendation.strength, 3.16);
        assert!(matches!(
            &recommendation.evidence,
            Evidence::AssociationRule { antecedent_days: 10, sample_size: 20, consequent, .. } if consequent == "good_glucose"
        ));
        let sleep = from_rule(&rule(&["short_sleep"], "glucose_below_goal", 0.3, 0.9, 1.8, 40)).unwrap();
        assert!(sleep.message.contains("consistent bedtime"), "{}", sleep.message);
        // Antecedent on 3 days (0.1 / 0.6 · 20).
        assert_eq!(from_rule(&rule(&["exercise"], "good_glucose", 0.1, 0.6, 1.2, 20)), None);
        // Barely above the base rate: confidence 0.65 against 0.59 over 20 days, z = 0.55.
        assert_eq!(
            from_rule(&rule(&["exercise"], "good_glucose", 0.325, 0.65, 1.1, 40)),
            None
        );
    }

    fn cluster_metadata(holds_best_days: bool, distinguishing: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "rank": 1, "k": 3, "silhouette": 0.31, "days_clustered": 74, "cluster_days": 20, "best_days": 12,
            "best_days_total": 18, "holds_best_days": holds_best_days, "profile_mg_dl": [],
            "features": [
                {"feature": "pct_in_target", "label": "time in your target range", "unit": "%", "cluster": 82.0,
                 "other_days": 64.0, "difference_sd": 1.2},
                {"feature": "mean_glucose_mg_dl", "label": "mean glucose", "unit": "mg/dL", "cluster": 131.6,
                 "other_days": 151.2, "difference_sd": -1.1},
                {"feature": "exercise_minutes", "label": "exercise", "unit": "min", "cluster": 48.0,
                 "other_days": 21.0, "difference_sd": 1.0},
                {"feature": "carbs_g", "label": "carbohydrates", "unit": "g", "cluster": 160.0,
                 "other_days": 190.0, "difference_sd": -0.6},
                {"feature": "sleep_minutes", "label": "sleep", "unit": "min", "cluster": 430.0,
                 "other_days": 425.0, "difference_sd": 0.1}
            ],
            "distinguishing": distinguishing
        })
    }

    #[test]
    fn the_cluster_of_best_days_names_its_behaviours() {
        let cluster = pattern(
            PatternKind::Cluster,
            "A group of 20 similar days",
            cluster_metadata(
                true,
                &["pct_in_target", "mean_glucose_mg_dl", "exercise_minutes", "carbs_g"],
            ),
        );
        let recommendation = from_cluster(&cluster, GlucoseUnit::MgDl).unwrap();
        assert_eq!(recommendation.title, "What your best days have in common");
        assert_eq!(
            recommendation.message,
            "Your best days share a pattern: 12 of your 18 best days fall in one group of 20 similar days. On those \
             days you had more exercise (48 min vs 21 min) and less carbohydrates (160 g vs 190 g) than on your \
             other days, and time in your target range was 82 % against 64 %. Some people find regular activity, \
             such as a walk after meals, helps. This is a pattern in your own data, not proof of cause. Discuss any \
             changes with your care team."
        );
        // 1.0 · √(20 · 54 / 74) = 3.82.
        assert_eq!(recommendation.strength, 3.82);

        // Glucose features follow the display unit.
        let mmol = from_cluster(&cluster, GlucoseUnit::MmolL).unwrap();
        let Evidence::Cluster { features, unit, .. } = &mmol.evidence else {
            panic!("{:?}", mmol.evidence);
        };
        let mean = features.iter().find(|f| f.feature == "mean_glucose_mg_dl").unwrap();
        assert_eq!(
            (mean.unit.as_str(), mean.cluster, mean.other_days),
            ("mmol/L", 7.3, 8.39)
        );
        assert_eq!(*unit, GlucoseUnit::MmolL);

        // Not the cluster of the best days, or no behaviour sets it apart: nothing.
        let other = pattern(PatternKind::Cluster, "", cluster_metadata(false, &["exercise_minutes"]));
        assert_eq!(from_cluster(&other, GlucoseUnit::MgDl), None);
        let outcomes_only = pattern(PatternKind::Cluster, "", cluster_metadata(true, &["pct_in_target"]));
        assert_eq!(from_cluster(&outcomes_only, GlucoseUnit::MgDl), None);
    }

    fn candidate(kind: &str, strength: f64) -> Recommendation {
        let evidence = match kind {
            "correlation" => Evidence::Correlation {
                finding_id: format!("c{strength}"),
                sample_size: 90,
                q_value: 0.01,
                confidence: Confidence::High,
                effect_size: 1.0,
                effect_unit: "mg/dL".into(),
                lag_days: 0,
            },
            _ => Evidence::EpisodeContext {
                sample_size: 10,
                explanation: explanation(EpisodeType::Hypo, ContextFactor::Sleep, 9, 10),
                start: Utc::now(),
                end: Utc::now(),
            },
        };
        Recommendation {
            rank: 0,
            title: kind.into(),
            message: String::new(),
            strength,
            evidence,
        }
    }

    #[test]
    fn caps_hold_while_other_kinds_compete_and_free_slots_are_filled() {
        let candidates = vec![
            candidate("correlation", 9.0),
            candidate("correlation", 8.0),
            candidate("episode", 1.0),
            candidate("correlation", 7.0),
            candidate("correlation", 6.0),
            candidate("correlation", 5.0),
        ];
        let strengths = |chosen: &[Recommendation]| chosen.iter().map(|r| r.strength).collect::<Vec<_>>();
        // Five slots: three correlations (the cap), then the episode before two stronger correlations.
        let five = select(candidates.clone(), 5);
        assert_eq!(strengths(&five), [9.0, 8.0, 7.0, 6.0, 1.0]);
        let four = select(candidates.clone(), 4);
        assert_eq!(strengths(&four), [9.0, 8.0, 7.0, 1.0]);
        assert_eq!(four.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3, 4]);
        // Room for all: ranked by strength.
        assert_eq!(strengths(&select(candidates, 8)), [9.0, 8.0, 7.0, 6.0, 5.0, 1.0]);
        let caps: usize = [
            candidate("correlation", 0.0).evidence,
            candidate("episode", 0.0).evidence,
            from_meals(&meal_responses(
                GlucoseUnit::MgDl,
                vec![group("a", 5, 30.0, 1.0), group("b", 5, 80.0, 1.0)],
                None,
            ))
            .unwrap()
            .evidence,
            from_rule(&rule(&["exercise"], "good_glucose", 0.5, 1.0, 2.0, 20))
                .unwrap()
                .evidence,
            from_cluster(
                &pattern(PatternKind::Cluster, "", cluster_metadata(true, &["exercise_minutes"])),
                GlucoseUnit::MgDl,
            )
            .unwrap()
            .evidence,
        ]
        .iter()
        .map(kind_cap)
        .sum();
        assert_eq!(caps, MAX_RECOMMENDATIONS, "every kind with evidence fits");
    }

    #[test]
    fn evidence_serialises_with_its_kind() {
        let json = serde_json::to_value(candidate("correlation", 3.0)).unwrap();
        assert_eq!(json["evidence"]["kind"], "correlation");
        assert_eq!(json["evidence"]["finding_id"], "c3");
        assert_eq!(json["strength"], 3.0);
    }
}
