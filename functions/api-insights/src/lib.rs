//! The insights endpoint group: the caller's PCMCI findings, glucose patterns and the recommendations built from
//! them, plus a trigger that queues a full analysis. Everything is scoped to the data owner (the caller, or an owner
//! who granted the caller read access: `glucolens_web::DataReader`), and every read of health insights is audited
//! before the data leaves.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use glucolens_app::insights::correlations::REQUIRED_DAYS;
use glucolens_app::insights::episode_context::{
    ContextFactor, EpisodeContext, EpisodeExplanation, ExplainedEpisode, PrecedingExercise, PrecedingMeal,
};
use glucolens_app::insights::episodes::{self, EpisodeCounts, EpisodeList, EpisodeType, GlucoseEpisode};
use glucolens_app::insights::meals::{
    self, CarbSensitivity, GroupResponse, MealResponses, MealWithResponse, ShownResponse,
};
use glucolens_app::insights::patterns::{MIN_RULE_DAYS, MIN_SHAPE_DAYS};
use glucolens_app::insights::recommendations::{
    self, ClusterFeature, CorrelationFinding, Evidence, Recommendation, MAX_RECOMMENDATIONS,
};
use glucolens_app::jobs;
use glucolens_domain::finding::Confidence;
use glucolens_domain::parse_time_range;
use glucolens_domain::pattern::{PatternCoverage, PatternKind, PatternRun};
use glucolens_domain::task::{TaskKind, TaskStatus};
use glucolens_domain::variables::VARIABLES;
use glucolens_domain::{FieldError, GlucoseUnit};
use glucolens_store::correlations::{self, CorrelationFilter, CorrelationRun};
use glucolens_store::patterns::{self, Pattern};
use glucolens_store::tasks::Task;
use glucolens_web::audit::audit_read;
use glucolens_web::reader::{Access, OwnerHeader};
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, ApiJson, ApiQuery, AuthUser, DataReader, RequestId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/api/v1/insights/correlations", get(list_correlations))
        .route("/api/v1/insights/patterns", get(list_patterns))
        .route("/api/v1/insights/episodes", get(list_episodes))
        .route("/api/v1/insights/meals", get(list_meals))
        .route("/api/v1/insights/recommendations", get(list_recommendations))
        .route("/api/v1/insights/trigger-analysis", post(trigger_analysis));
    with_api_layers(routes, state)
}

#[derive(OpenApi)]
#[openapi(
    paths(list_correlations, list_patterns, list_episodes, list_meals, list_recommendations, trigger_analysis),
    components(schemas(
        CorrelationsResponse, AnalysisStatus, CorrelationFinding, Confidence, PatternsResponse, PatternsState, Pattern,
        PatternKind, EpisodeList, GlucoseEpisode, EpisodeType, EpisodeCounts, GlucoseUnit,
        ExplainedEpisode, EpisodeContext, PrecedingMeal, PrecedingExercise, EpisodeExplanation, ContextFactor,
        RecommendationsResponse, Recommendation, Evidence, ClusterFeature, Task, TaskKind, TaskStatus,
        MealResponses, MealWithResponse, ShownResponse, GroupResponse, CarbSensitivity
    )),
    tags((name = "insights", description = "Correlations, patterns, glucose episodes, meal responses and recommendations from the caller's own data"))
)]
struct InsightsApi;

/// This function's part of the OpenAPI document (merged into the served one by `glucolens openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = InsightsApi::openapi();
    openapi::add_shared_components(&mut api);
    api
}

glucolens_web::problem_responses! {
    /// The problems of `GET /api/v1/insights/correlations`.
    CorrelationsProblems = [
        openapi::UNAUTHORIZED,
        ("404", "`X-GlucoLens-Owner` names no owner who granted the caller read access"),
        ("422", "Invalid factor, min_confidence or limit; `errors` lists each one"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `GET /api/v1/insights/patterns`.
    PatternsProblems = [
        openapi::UNAUTHORIZED,
        ("404", "`X-GlucoLens-Owner` names no owner who granted the caller read access"),
        ("422", "Unknown kind"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `GET /api/v1/insights/recommendations`.
    RecommendationsProblems = [
        openapi::UNAUTHORIZED,
        ("404", "`X-GlucoLens-Owner` names no owner who granted the caller read access"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
    /// The problems of `POST /api/v1/insights/trigger-analysis`.
    TriggerProblems = [
        openapi::UNAUTHORIZED,
        openapi::RATE_LIMITED,
        ("503", "The queue or database is unavailable; retry after `Retry-After`"),
    ];
}

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// Whether the latest correlation analysis produced findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum AnalysisStatus {
    /// Findings below (possibly none that passed the filters).
    Computed,
    /// Too few consecutive qualifying days; see `days_needed`.
    NotEnoughData,
    /// No analysis has run yet for this account.
    NotComputed,
}

/// The state of the caller's correlation analysis, in words and numbers.
#[derive(Debug, Serialize, ToSchema)]
struct AnalysisState {
    status: AnalysisStatus,
    /// A sentence for people, e.g. "Not enough data yet: 18 more days needed".
    message: Option<String>,
    /// Length of the longest run of consecutive qualifying days (≥ 70 % glucose coverage, sleep, activity and
    /// meals recorded).
    qualifying_days: Option<i32>,
    required_days: i32,
    days_needed: Option<i32>,
    /// First and last day of the analysed run.
    analysed_from: Option<NaiveDate>,
    analysed_to: Option<NaiveDate>,
    computed_at: Option<DateTime<Utc>>,
}

impl AnalysisState {
    fn of(run: Option<CorrelationRun>) -> Self {
        let required_days = REQUIRED_DAYS as i32;
        let Some(run) = run else {
            return AnalysisState {
                status: AnalysisStatus::NotComputed,
                message: Some("No analysis has run yet; POST /api/v1/insights/trigger-analysis starts one.".into()),
                qualifying_days: None,
                required_days,
                days_needed: None,
                analysed_from: None,
                analysed_to: None,
                computed_at: None,
            };
        };
        let days_needed = (run.required_days - run.qualifying_days).max(0);
        let enough = run.first_date.is_some();
        AnalysisState {
            status: if enough {
                AnalysisStatus::Computed
            } else {
                AnalysisStatus::NotEnoughData
            },
            message: (!enough).then(|| {
                format!(
                    "Not enough data yet: correlations need {} consecutive days with enough glucose data and your \
                     sleep, activity and meals recorded. You have {}, so {days_needed} more day{} needed.",
                    run.required_days,
                    run.qualifying_days,
                    if days_needed == 1 { " is" } else { "s are" }
                )
            }),
            qualifying_days: Some(run.qualifying_days),
            required_days: run.required_days,
            days_needed: Some(days_needed),
            analysed_from: run.first_date,
            analysed_to: run.last_date,
            computed_at: Some(run.computed_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct CorrelationsResponse {
    #[serde(flatten)]
    analysis: AnalysisState,
    /// Links into a glucose outcome, strongest evidence first.
    findings: Vec<CorrelationFinding>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CorrelationsQuery {
    /// Only links with this cause or effect, e.g. `sleep_minutes`.
    factor: Option<String>,
    /// `low`, `medium` (default) or `high`: low links are significant only before FDR correction.
    min_confidence: Option<String>,
    /// 1–100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

struct CorrelationsRequest {
    factor: Option<&'static str>,
    min_confidence: Confidence,
    limit: i64,
}

impl CorrelationsQuery {
    /// Checks every parameter and reports all problems at once.
    fn validate(&self) -> Result<CorrelationsRequest, ApiError> {
        let mut errors = Vec::new();
        let factor = self.factor.as_deref().and_then(|raw| {
            let known = VARIABLES.iter().find(|v| v.column == raw).map(|v| v.column);
            if known.is_none() {
                let names: Vec<&str> = VARIABLES.iter().map(|v| v.column).collect();
                errors.push(FieldError::new(
                    "factor",
                    "unknown_factor",
                    format!("one of {}", names.join(", ")),
                ));
            }
            known
        });
        let min_confidence = match self.min_confidence.as_deref() {
            None => Confidence::Medium,
            Some(raw) => Confidence::parse(raw).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "min_confidence",
                    "invalid_confidence",
                    "one of low, medium, high",
                ));
                Confidence::Medium
            }),
        };
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .unwrap_or_else(|| {
                    errors.push(FieldError::new(
                        "limit",
                        "out_of_range",
                        format!("an integer from 1 to {MAX_LIMIT}"),
                    ));
                    DEFAULT_LIMIT
                }),
        };
        if errors.is_empty() {
            Ok(CorrelationsRequest {
                factor,
                min_confidence,
                limit,
            })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// The data owner's display unit, read with the request's credentials (the column's CHECK constraint allows only
/// the spellings `GlucoseUnit` knows).
fn display_unit(reader: &Access) -> GlucoseUnit {
    reader.settings.display_unit().unwrap_or_default()
}

/// Only links into a glucose outcome are findings for people; the others stay stored as context.
fn glucose_effects() -> Vec<&'static str> {
    VARIABLES.iter().filter(|v| v.is_glucose()).map(|v| v.column).collect()
}

/// The owner's findings as people see them, strongest first.
async fn findings(
    state: &AppState,
    reader: &Access,
    unit: GlucoseUnit,
    request: &CorrelationsRequest,
) -> Result<Vec<CorrelationFinding>, ApiError> {
    let effects = glucose_effects();
    let filter = CorrelationFilter {
        effects: &effects,
        factor: request.factor,
        min_confidence: request.min_confidence,
        limit: request.limit,
    };
    let rows = correlations::list(&state.db, reader.owner_id, &filter).await?;
    Ok(rows
        .iter()
        .filter_map(|row| recommendations::finding(row, unit))
        .collect())
}

#[utoipa::path(
    get, path = "/api/v1/insights/correlations", tag = "insights",
    params(CorrelationsQuery, OwnerHeader),
    responses(
        (status = 200, description = "The analysis state and its findings (PCMCI links into a glucose outcome); `not_enough_data` says how many more days are needed", body = CorrelationsResponse),
        CorrelationsProblems,
    )
)]
async fn list_correlations(
    State(state): State<AppState>,
    reader: DataReader,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<CorrelationsQuery>,
) -> Result<ApiJson<CorrelationsResponse>, ApiError> {
    let request = query.validate()?;
    let analysis = AnalysisState::of(correlations::latest_run(&state.db, reader.owner_id).await?);
    let unit = display_unit(&reader);
    let findings = findings(&state, &reader, unit, &request).await?;
    audit_read(&state, &reader, &request_id, "correlations").await?;
    Ok(ApiJson(CorrelationsResponse { analysis, findings }))
}

/// The state of the caller's pattern discovery: which families had enough data, and what is missing.
#[derive(Debug, Serialize, ToSchema)]
struct PatternsState {
    /// `not_enough_data` when neither shapes nor rules had enough data; `computed` when at least one did.
    status: AnalysisStatus,
    /// A sentence for people naming what is still missing, e.g. "Rules need 14 days ... you have 3".
    message: Option<String>,
    /// Days of glucose readings the shape patterns (motifs, unusual days) had, in days of 288 five-minute slots.
    glucose_days: Option<f64>,
    required_glucose_days: f64,
    /// Days with enough glucose and sleep and carbs recorded that the association rules had.
    rule_days: Option<usize>,
    required_rule_days: usize,
    computed_at: Option<DateTime<Utc>>,
}

impl PatternsState {
    fn of(run: Option<PatternRun>) -> Self {
        let (required_glucose_days, required_rule_days) = (MIN_SHAPE_DAYS, MIN_RULE_DAYS);
        let Some(run) = run else {
            return PatternsState {
                status: AnalysisStatus::NotComputed,
                message: Some(
                    "No pattern discovery has run yet; POST /api/v1/insights/trigger-analysis starts one.".into(),
                ),
                glucose_days: None,
                required_glucose_days,
                rule_days: None,
                required_rule_days,
                computed_at: None,
            };
        };
        let PatternCoverage {
            glucose_days,
            rule_days,
        } = run.coverage;
        let shapes_short = glucose_days < required_glucose_days;
        let rules_short = rule_days < required_rule_days;
        let mut missing = Vec::new();
        if shapes_short {
            missing.push(format!(
                "recurring glucose shapes and unusual days need {required_glucose_days:.0} days of CGM readings \
                 (you have {glucose_days:.1})"
            ));
        }
        if rules_short {
            missing.push(format!(
                "rules need {required_rule_days} days with enough glucose data and your sleep and meals recorded \
                 (you have {rule_days})"
            ));
        }
        PatternsState {
            status: if shapes_short && rules_short {
                AnalysisStatus::NotEnoughData
            } else {
                AnalysisStatus::Computed
            },
            message: (!missing.is_empty()).then(|| format!("Not enough data yet: {}.", missing.join("; "))),
            glucose_days: Some((glucose_days * 10.0).round() / 10.0),
            required_glucose_days,
            rule_days: Some(rule_days),
            required_rule_days,
            computed_at: Some(run.computed_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct PatternsResponse {
    #[serde(flatten)]
    analysis: PatternsState,
    patterns: Vec<Pattern>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PatternsQuery {
    /// Only patterns of this `pattern_type`: `daily_motif`, `short_motif`, `discord`, `association_rule` or
    /// `cluster` (similar days; default: all). Also accepted as `pattern_type`.
    #[serde(alias = "pattern_type")]
    kind: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/insights/patterns", tag = "insights",
    params(PatternsQuery, OwnerHeader),
    responses(
        (status = 200, description = "The discovery's state (`not_enough_data` says what is missing) and the recurring glucose shapes with example dates, unusual days, association rules with their thresholds and similar-day clusters (`cluster`: each group's days, centre profile, what sets it apart and whether it holds the best days)", body = PatternsResponse),
        PatternsProblems,
    )
)]
async fn list_patterns(
    State(state): State<AppState>,
    reader: DataReader,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<PatternsQuery>,
) -> Result<ApiJson<PatternsResponse>, ApiError> {
    let kind = match query.kind.as_deref() {
        None => None,
        Some(raw) => Some(PatternKind::parse(raw).ok_or_else(|| {
            ApiError::invalid(FieldError::new(
                "kind",
                "invalid_kind",
                "one of daily_motif, short_motif, discord, association_rule, cluster",
            ))
        })?),
    };
    let analysis = PatternsState::of(patterns::latest_run(&state.db, reader.owner_id).await?);
    let patterns = patterns::list(&state.db, reader.owner_id, kind).await?;
    audit_read(&state, &reader, &request_id, "patterns").await?;
    Ok(ApiJson(PatternsResponse { analysis, patterns }))
}

#[derive(Debug, Serialize, ToSchema)]
struct RecommendationsResponse {
    #[serde(flatten)]
    analysis: AnalysisState,
    /// Strongest evidence first; empty when no evidence is strong enough (never a recommendation without evidence).
    recommendations: Vec<Recommendation>,
}

/// Up to 8 ranked, non-prescriptive recommendations from all of the caller's insights, each with its evidence.
///
/// Each carries the evidence it rests on (`evidence.kind` and that kind's numbers; glucose in the caller's display
/// unit). `status` and the other analysis fields describe the correlation analysis.
///
/// **Sources.** `correlation`: a stored PCMCI link from a behaviour into a glucose outcome with at least medium
/// confidence, one per family of behaviours (sleep, activity, food): its link into mean glucose when it has one, else
/// its strongest. `meal_comparison`: of the meals eaten at least 3 times in the
/// 90 days up to the latest reading (as `GET /api/v1/insights/meals` groups them), the highest and lowest mean rise,
/// when they differ by at least 20 mg/dL (1.1 mmol/L) and by a Welch t of at least 2; with the rise per 10 g of
/// carbohydrate when its 95 % interval lies above zero. `episode_context`: what preceded the lows of those 90 days
/// (`explanations` of `GET /api/v1/insights/episodes`: exercise, a meal, sleep) when it holds for at least two thirds
/// of at least 3 lows. `association_rule`: a stored rule whose antecedent held on at least 5 days and whose
/// confidence exceeds the outcome's share of all days by a z of at least 2. `cluster`: the stored group of similar
/// days holding most of the best days, with a behaviour among what sets it apart, at least 5 days in and out of it
/// and a strength of at least 2.
///
/// **Ranking.** `strength` is about how many standard errors the effect lies from no effect (capped at 10):
/// correlation, the Fisher z of the partial correlation `atanh(|r|)·√(n − 3)`; meal comparison, Welch's t of the two
/// means; episode context, `(2·count − total)/√total` (the share against one half); association rule, the z of its
/// confidence against the base rate over the antecedent's days; cluster, `|difference_sd|·√(n₁n₂/(n₁ + n₂))` of its
/// most distinguishing behaviour. Strongest first; while other kinds compete, at most 3 correlations, 1 meal
/// comparison, 2 episode contexts, 1 rule and 1 cluster are shown, and slots left over go to the next strongest.
#[utoipa::path(
    get, path = "/api/v1/insights/recommendations", tag = "insights",
    params(OwnerHeader),
    responses(
        (status = 200, description = "Ranked, non-prescriptive recommendations, each with its strength and the evidence it rests on (kind and numbers: a correlation's id, n, q, confidence and effect size; the meals compared; the lows' context; the rule; the cluster of best days), glucose in the caller's display unit", body = RecommendationsResponse),
        RecommendationsProblems,
    )
)]
async fn list_recommendations(
    State(state): State<AppState>,
    reader: DataReader,
    request_id: RequestId,
) -> Result<ApiJson<RecommendationsResponse>, ApiError> {
    let analysis = AnalysisState::of(correlations::latest_run(&state.db, reader.owner_id).await?);
    let request = CorrelationsRequest {
        factor: None,
        min_confidence: Confidence::Medium,
        limit: MAX_LIMIT,
    };
    let unit = display_unit(&reader);
    let findings = findings(&state, &reader, unit, &request).await?;
    let sources = recommendations::sources(&state.db, reader.owner_id, &reader.settings).await?;
    let recommendations = recommendations::recommend(&findings, &sources, unit, MAX_RECOMMENDATIONS);
    audit_read(&state, &reader, &request_id, "recommendations").await?;
    Ok(ApiJson(RecommendationsResponse {
        analysis,
        recommendations,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/insights/trigger-analysis", tag = "insights",
    responses(
        (status = 202, description = "A full analysis (aggregation, correlations, patterns) is queued, or the pending one is returned", body = Task),
        TriggerProblems,
    )
)]
async fn trigger_analysis(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, ApiJson<Task>), ApiError> {
    let task = jobs::enqueue_task(&state.db, &state.queue, user.id, TaskKind::FullAnalysis).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(task)))
}

glucolens_web::problem_responses! {
    /// The problems of the range reads `GET /api/v1/insights/episodes` and `/meals`.
    RangeProblems = [
        ("400", "The query string cannot be read (`invalid_query`)"),
        openapi::UNAUTHORIZED,
        ("404", "`X-GlucoLens-Owner` names no owner who granted the caller read access"),
        ("422", "`start` or `end` missing or not RFC 3339 with an offset or `Z`, `end` not after `start` (`invalid_range`) or more than 92 days later (`range_too_long`); `errors` lists each one"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
/// A time range `[start, end)` of at most `glucolens_domain::MAX_QUERY_DAYS` days.
struct RangeQuery {
    /// Start of the range, inclusive: RFC 3339 with an offset or `Z`, e.g. `2025-03-01T00:00:00+01:00`.
    #[param(value_type = String, format = DateTime)]
    start: Option<String>,
    /// End of the range, exclusive; after `start` and at most 92 days later.
    #[param(value_type = String, format = DateTime)]
    end: Option<String>,
}

impl RangeQuery {
    /// The range, or every problem with it at once.
    fn range(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
        let mut errors = Vec::new();
        let range = parse_time_range(
            self.start.as_deref(),
            self.end.as_deref(),
            glucolens_domain::MAX_QUERY_DAYS,
            "",
            &mut errors,
        );
        match range {
            Some(range) if errors.is_empty() => Ok(range),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// The caller's hypo- and hyperglycaemic episodes in `[start, end)` (international consensus 2023, Battelino et
/// al.), from the readings in the range on a 5-minute grid (readings up to 45 minutes apart interpolated; a longer
/// gap ends an episode). An episode starts after ≥ 15 consecutive minutes beyond the threshold (3 grid points, e.g.
/// readings at 10:00, 10:05, 10:10) and ends when ≥ 15 consecutive minutes back begin; a shorter excursion back is
/// part of it. Level 1: < 70 / > 180 mg/dL; level 2: < 54 / > 250 mg/dL.
///
/// **Nesting:** a level-2 episode always lies inside a level-1 episode of the same type. Both are listed: the level-1
/// episode has `contains_level_2: true`, and the level-2 episode follows it with its own start, end and nadir or
/// peak. Level-1 counts in `summary` therefore include the episodes that reached level 2. `extended` (level-1 hypo
/// only) marks more than 120 consecutive minutes below 70 mg/dL.
///
/// `start` is the first grid point beyond the threshold, `end` the first of the 15 minutes back (or 5 minutes after
/// the last point before a gap or the end of the data), `duration_minutes = end − start`. Only readings in the range
/// count: an episode under way at a range boundary is cut there. Nadir and peak are in the caller's display unit
/// (`unit`), mg/dL to 0.1, mmol/L to 0.01.
///
/// **What preceded each episode** (`context`, from the caller's own records, including the 6 hours before
/// `start`): `last_meal`, the latest meal eaten in the 6 hours before the episode's start (its carbohydrate,
/// meal type, description and `minutes_since`), or `null`; `exercise`, each activity with some part in those 6 hours
/// (type, duration, intensity and `minutes_since_end`, 0 when the episode began during it; a record without duration,
/// such as a day's step count, is left out); `during_sleep`, whether the start lies in a recorded sleep session,
/// judged by the person's own sleep rather than a fixed night-time window, and `null` when no sleep was recorded for
/// the episode's night (local noon to noon: a low at 09:00 belongs to the night just ended).
///
/// **`explanations`** sum this up over the period's level-1 episodes (each excursion once), per type, in counts and
/// a plain sentence, e.g. "7 of 9 lows began within 6 h after exercise": lows within 6 h after exercise (its end, or
/// during it), within 4 h after a meal and during sleep; highs within 3 h after a meal and during sleep. The window
/// is `window_minutes`; for sleep, `unknown` counts the episodes on nights with no sleep recorded. They describe what
/// came before, not a cause, and give no advice. A type with no episodes has none.
#[utoipa::path(
    get, path = "/api/v1/insights/episodes", tag = "insights",
    params(RangeQuery, glucolens_web::reader::OwnerHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The episodes by start (a level-2 episode right after the level-1 episode it lies in), each with what preceded it, their counts by type and level, and the period's explanations", body = EpisodeList),
        RangeProblems,
    )
)]
async fn list_episodes(
    State(state): State<AppState>,
    reader: DataReader,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<ApiJson<EpisodeList>, ApiError> {
    let range = query.range()?;
    let list = episodes::list(&state.db, reader.owner_id, &reader.settings, range).await?;
    audit_read(&state, &reader, &request_id, "glucose_episodes").await?;
    Ok(ApiJson(list))
}

/// What each meal eaten in `[start, end)` did to the caller's glucose, from the readings one per 5-minute slot:
/// baseline (mean of the 30 minutes before), peak rise ΔG and time to peak over the 2 hours after (the peak of the
/// readings averaged with their neighbours up to 7.5 minutes away, so sensor noise does not inflate it), incremental
/// area above the baseline over those 2 hours (trapezoids, only area above the baseline counts) and the time back to
/// the baseline (`null` when still above after 2 hours). A meal has a `response` only when at least 70 % of the
/// 5-minute slots of the 30 minutes before and of the 2 hours after hold a reading.
///
/// A meal with another meal eaten within its 2 hours is `overlapping`: listed, but left out of the summaries. Per
/// meal type and per repeated meal (same description after lowercasing, trimming and collapsing spaces; at least 2
/// responses): n, mean and SD of ΔG and iAUC; `best_meal` and `worst_meal` are the repeated meals with the lowest
/// and highest mean ΔG. `carb_sensitivity`: ΔG per 10 g of carbohydrate (least squares with an intercept over the
/// meals with carbohydrate logged) with its 95 % confidence interval. Glucose quantities are in the caller's display
/// unit (`unit`; iAUC in unit·min).
#[utoipa::path(
    get, path = "/api/v1/insights/meals", tag = "insights",
    params(RangeQuery, glucolens_web::reader::OwnerHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Each meal by time with its response, the mean responses per meal type and per repeated meal, the best and worst repeated meals and the rise per 10 g of carbohydrate", body = MealResponses),
        RangeProblems,
    )
)]
async fn list_meals(
    State(state): State<AppState>,
    reader: DataReader,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<ApiJson<MealResponses>, ApiError> {
    let range = query.range()?;
    let responses = meals::list(&state.db, reader.owner_id, &reader.settings, range).await?;
    audit_read(&state, &reader, &request_id, "meal_responses").await?;
    Ok(ApiJson(responses))
}
