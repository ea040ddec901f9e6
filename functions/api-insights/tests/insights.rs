//! Insights against a real database: planted daily effects → compute_correlations → stored links → the API's
//! findings and recommendations; not-enough-data answers; patterns; trigger; isolation between users.

use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use glucolens_app::insights::{self, CorrelationOutcome};
use glucolens_testing as testing;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

/// Deterministic standard normal draws (xorshift64* + Box–Muller), so the planted data is the same on every run.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Planted effects on mean glucose (mg/dL): −0.12 per minute of the previous night's sleep (−7.2 per hour, lag 1),
/// +0.25 per g of the same day's carbs (+2.5 per 10 g, lag 0), −0.3 per minute of the same day's exercise (−9 per
/// 30 min, lag 0). Deep sleep, steps, calories and CV are pure noise.
const SLEEP_PER_HOUR: f64 = -7.2;
const CARBS_PER_10_G: f64 = 2.5;
const EXERCISE_PER_30_MIN: f64 = -9.0;
const NOISE_VARIABLES: [&str; 4] = ["deep_sleep_minutes", "steps", "calories", "cv_percent"];

/// Inserts `days` sufficient-data daily aggregates with the planted effects.
async fn planted_days(db: &PgPool, user_id: Uuid, days: u64, seed: u64) {
    let mut noise = Noise(seed);
    let first = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let mut columns: [Vec<f64>; 9] = Default::default();
    let mut dates = Vec::new();
    let mut previous_sleep = 420.0;
    for day in 0..days {
        let sleep = 420.0 + 50.0 * noise.normal();
        let carbs = (180.0 + 40.0 * noise.normal()).max(20.0);
        let exercise = 60.0 * noise.uniform();
        let mean = 140.0 + 0.25 * (carbs - 180.0) - 0.3 * (exercise - 30.0) - 0.12 * (previous_sleep - 420.0)
            + 6.0 * noise.normal();
        let in_range = (100.0 - 0.6 * (mean - 100.0) + 4.0 * noise.normal()).clamp(0.0, 100.0);
        let values = [
            sleep,
            90.0 + 15.0 * noise.normal(),
            exercise,
            (8000.0 + 2000.0 * noise.normal()).max(0.0).round(),
            carbs,
            2000.0 + 250.0 * noise.normal(),
            mean,
            30.0 + 3.0 * noise.normal(),
            in_range,
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
        dates.push(first + Days::new(day));
        previous_sleep = sleep;
    }
    let [sleep, deep, exercise, steps, carbs, calories, mean, cv, in_range] = columns;
    sqlx::query(
        "INSERT INTO daily_aggregates (user_id, date, reading_count, expected_readings, coverage_percent,
             sufficient_data, total_sleep_minutes, deep_sleep_minutes, total_exercise_minutes, steps,
             total_carbs_grams, total_calories, avg_glucose, cv_percent, time_in_range_percent, pct_in_user_target)
         SELECT $1, d, 288, 288, 100, true, s, ds, e, st::int, c, k, m, cv, r, r
         FROM UNNEST($2::date[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[],
                     $9::float8[], $10::float8[], $11::float8[]) AS t(d, s, ds, e, st, c, k, m, cv, r)",
    )
    .bind(user_id)
    .bind(dates)
    .bind(sleep)
    .bind(deep)
    .bind(exercise)
    .bind(steps)
    .bind(carbs)
    .bind(calories)
    .bind(mean)
    .bind(cv)
    .bind(in_range)
    .execute(db)
    .await
    .unwrap();
}

async fn call(state: &glucolens_web::AppState, method: &str, uri: &str, user: Uuid) -> (StatusCode, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", testing::bearer(state, user))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let reply = testing::respond(api_insights::router(state.clone()), request).await;
    (reply.status, reply.body)
}

#[derive(Debug, sqlx::FromRow)]
struct Link {
    cause_factor: String,
    effect_factor: String,
    lag_days: i16,
    q_value: f64,
    confidence: String,
    effect_size: Option<f64>,
    effect_unit: Option<String>,
}

async fn links(db: &PgPool, user_id: Uuid) -> Vec<Link> {
    sqlx::query_as(
        "SELECT factor_x AS cause_factor, factor_y AS effect_factor, lag_days, q_value,
                confidence_level AS confidence, effect_size, effect_unit
         FROM correlations WHERE user_id = $1 ORDER BY factor_x, factor_y, lag_days",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
    .unwrap()
}

fn find<'a>(links: &'a [Link], cause: &str, effect: &str, lag: i16) -> &'a Link {
    links
        .iter()
        .find(|l| l.cause_factor == cause && l.effect_factor == effect && l.lag_days == lag)
        .unwrap_or_else(|| panic!("no stored link {cause} -> {effect} at lag {lag}: {links:#?}"))
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn planted_effects_are_found_and_noise_is_not(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Paris").await;
    planted_days(&db, user, 90, 42).await;

    let outcome = insights::compute_correlations(&db, user).await.unwrap();
    let CorrelationOutcome::Computed {
        sample_size: 90,
        stored_links,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    let stored = links(&db, user).await;
    assert_eq!(stored.len(), stored_links);

    let significant: Vec<&Link> = stored.iter().filter(|l| l.q_value < 0.05).collect();
    for (cause, lag, planted, unit) in [
        ("sleep_minutes", 1, SLEEP_PER_HOUR, "mg/dL per extra hour of sleep"),
        ("carbs_g", 0, CARBS_PER_10_G, "mg/dL per extra 10 g of carbohydrates"),
        (
            "exercise_minutes",
            0,
            EXERCISE_PER_30_MIN,
            "mg/dL per extra 30 min of exercise",
        ),
    ] {
        let link = find(&stored, cause, "mean_glucose", lag);
        assert!(link.q_value < 0.05, "{link:?}");
        assert_ne!(link.confidence, "low");
        assert_eq!(link.effect_unit.as_deref(), Some(unit));
        // Within about two standard errors of the planted slope, and of the same sign.
        let size = link.effect_size.unwrap();
        assert!(
            size.signum() == planted.signum() && (size - planted).abs() < 0.45 * planted.abs(),
            "{link:?}"
        );
    }
    for noise in NOISE_VARIABLES {
        let involved: Vec<_> = significant
            .iter()
            .filter(|l| l.cause_factor == noise || l.effect_factor == noise)
            .collect();
        assert!(
            involved.is_empty(),
            "noise variable {noise} in significant links: {involved:#?}"
        );
    }

    // A rerun (a redelivered message) replaces rather than adds.
    insights::compute_correlations(&db, user).await.unwrap();
    assert_eq!(links(&db, user).await.len(), stored_links);

    let (status, body) = call(&state, "GET", "/api/v1/insights/correlations", user).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "computed");
    assert_eq!(body["qualifying_days"], 90);
    let findings = body["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .all(|f| ["mean_glucose", "cv_percent", "pct_70_180"].contains(&f["factor_y"].as_str().unwrap())));
    assert!(findings.iter().any(|f| f["id"] == "sleep_minutes->mean_glucose@1"
        && f["summary"]
            .as_str()
            .unwrap()
            .starts_with("Each extra hour of sleep went with mean glucose")));

    let (_, filtered) = call(
        &state,
        "GET",
        "/api/v1/insights/correlations?factor=carbs_g&limit=1",
        user,
    )
    .await;
    let filtered = filtered["findings"].as_array().unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["factor_x"], "carbs_g");

    let (status, body) = call(
        &state,
        "GET",
        "/api/v1/insights/correlations?factor=water&min_confidence=sure",
        user,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);

    let (status, body) = call(&state, "GET", "/api/v1/insights/recommendations", user).await;
    assert_eq!(status, StatusCode::OK);
    let recommendations = body["recommendations"].as_array().unwrap();
    let cited: Vec<&str> = recommendations
        .iter()
        .map(|r| r["evidence"]["finding_id"].as_str().unwrap())
        .collect();
    for planted in [
        "sleep_minutes->mean_glucose@1",
        "carbs_g->mean_glucose@0",
        "exercise_minutes->mean_glucose@0",
    ] {
        assert!(cited.contains(&planted), "{planted} not among {cited:?}");
    }
    for (rank, recommendation) in recommendations.iter().enumerate() {
        assert_eq!(recommendation["rank"], rank + 1);
        assert!(recommendation["evidence"]["sample_size"].as_i64().unwrap() > 0);
        assert!(recommendation["message"]
            .as_str()
            .unwrap()
            .ends_with("Discuss any changes with your care team."));
    }

    // Reads are audited.
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE user_id = $1 AND action = 'read'")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 3);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn recommendations_use_the_display_unit(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    testing::use_mmol_l(&db, user).await;
    planted_days(&db, user, 90, 42).await;
    insights::compute_correlations(&db, user).await.unwrap();
    let stored = find(&links(&db, user).await, "carbs_g", "mean_glucose", 0)
        .effect_size
        .unwrap();

    let (_, body) = call(&state, "GET", "/api/v1/insights/recommendations", user).await;
    let carbs = body["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["evidence"]["finding_id"] == "carbs_g->mean_glucose@0")
        .unwrap()
        .clone();
    assert_eq!(
        carbs["evidence"]["effect_unit"],
        "mmol/L per extra 10 g of carbohydrates"
    );
    assert!((carbs["evidence"]["effect_size"].as_f64().unwrap() - stored / 18.0156).abs() < 1e-9);
    assert!(carbs["message"]
        .as_str()
        .unwrap()
        .contains(" mmol/L higher the same day"));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn too_few_days_say_how_many_more_are_needed(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;

    let (_, before) = call(&state, "GET", "/api/v1/insights/correlations", user).await;
    assert_eq!(before["status"], "not_computed");

    planted_days(&db, user, 21, 7).await;
    let outcome = insights::compute_correlations(&db, user).await.unwrap();
    assert_eq!(
        outcome,
        CorrelationOutcome::NotEnoughData {
            qualifying_days: 21,
            required_days: 30
        }
    );
    assert!(links(&db, user).await.is_empty());

    let (status, body) = call(&state, "GET", "/api/v1/insights/correlations", user).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "not_enough_data");
    assert_eq!(body["days_needed"], 9);
    assert!(body["message"].as_str().unwrap().contains("9 more days are needed"));
    assert_eq!(body["findings"], serde_json::json!([]));
    let (_, recommendations) = call(&state, "GET", "/api/v1/insights/recommendations", user).await;
    assert_eq!(recommendations["recommendations"], serde_json::json!([]));
    assert_eq!(recommendations["status"], "not_enough_data");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn another_user_sees_none_of_the_insights(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let (owner, other) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    planted_days(&db, owner, 60, 42).await;
    insights::compute_correlations(&db, owner).await.unwrap();
    let from = "2026-06-01T00:00:00Z".parse().unwrap();
    testing::cgm_trace(&db, owner, "dexcom", from, 288 * 4, 0.0).await;
    insights::discover_patterns(&db, owner).await.unwrap();

    let (_, own) = call(&state, "GET", "/api/v1/insights/correlations", owner).await;
    assert!(!own["findings"].as_array().unwrap().is_empty());
    let (_, own_patterns) = call(&state, "GET", "/api/v1/insights/patterns", owner).await;
    assert!(!own_patterns["patterns"].as_array().unwrap().is_empty());

    let (_, theirs) = call(&state, "GET", "/api/v1/insights/correlations?min_confidence=low", other).await;
    assert_eq!(theirs["status"], "not_computed");
    assert_eq!(theirs["findings"], serde_json::json!([]));
    let (_, patterns) = call(&state, "GET", "/api/v1/insights/patterns", other).await;
    assert_eq!(patterns["patterns"], serde_json::json!([]));
    let (_, recommendations) = call(&state, "GET", "/api/v1/insights/recommendations", other).await;
    assert_eq!(recommendations["recommendations"], serde_json::json!([]));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn patterns_are_stored_with_dates_and_thresholds(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "America/New_York").await;
    let from = "2026-06-01T04:00:00Z".parse().unwrap();
    testing::cgm_trace(&db, user, "dexcom", from, 288 * 7, 0.0).await;
    planted_days(&db, user, 30, 3).await;

    let outcome = insights::discover_patterns(&db, user).await.unwrap();
    // (The trace is an exact sine: its 3-hour windows match only within rounding, below stumpy's default match
    // distance, so short motifs are covered by the unit tests instead.)
    assert!(
        outcome.daily_motifs >= 1 && outcome.discords >= 1 && outcome.association_rules >= 1,
        "{outcome:?}"
    );
    // A rerun replaces.
    let again = insights::discover_patterns(&db, user).await.unwrap();
    assert_eq!(again, outcome);

    let (status, body) = call(&state, "GET", "/api/v1/insights/patterns?kind=daily_motif", user).await;
    assert_eq!(status, StatusCode::OK);
    let motifs = body["patterns"].as_array().unwrap();
    assert_eq!(motifs.len(), outcome.daily_motifs);
    assert!(motifs
        .iter()
        .all(|m| m["pattern_type"] == "daily_motif" && !m["example_dates"].as_array().unwrap().is_empty()));
    assert_eq!(motifs[0]["metadata"]["window_samples"], 288);

    let (_, rules) = call(&state, "GET", "/api/v1/insights/patterns?kind=association_rule", user).await;
    for rule in rules["patterns"].as_array().unwrap() {
        assert!(rule["metadata"]["thresholds"]["short_sleep"].is_string());
    }
    // The design's columns: a rule's confidence and support, a motif's occurrences (its matches); null otherwise.
    type Stored = (String, Option<f64>, Option<f64>, Option<i32>, Value);
    let stored: Vec<Stored> = sqlx::query_as(
        "SELECT pattern_type, confidence, support, occurrences, metadata FROM patterns WHERE user_id = $1",
    )
    .bind(user)
    .fetch_all(&db)
    .await
    .unwrap();
    for (pattern_type, confidence, support, occurrences, metadata) in &stored {
        let expected = match pattern_type.as_str() {
            "association_rule" => (metadata["confidence"].as_f64(), metadata["support"].as_f64(), None),
            "daily_motif" | "short_motif" => (None, None, Some(metadata["matches"].as_array().unwrap().len() as i32)),
            "cluster" => (None, None, metadata["cluster_days"].as_i64().map(|n| n as i32)),
            _ => (None, None, None),
        };
        assert_eq!(
            (*confidence, *support, *occurrences),
            expected,
            "{pattern_type}: {metadata}"
        );
    }
    assert!(stored
        .iter()
        .any(|(pattern_type, confidence, ..)| pattern_type == "association_rule" && confidence.is_some()));

    let (status, _) = call(&state, "GET", "/api/v1/insights/patterns?kind=weekly", user).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn patterns_say_what_data_is_missing(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let (status, body) = call(&state, "GET", "/api/v1/insights/patterns", user).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "not_computed");
    assert_eq!(body["patterns"], serde_json::json!([]));

    // Half a day of readings and no daily records: neither shapes nor rules can be looked for.
    let from = "2026-06-01T00:00:00Z".parse().unwrap();
    testing::cgm_trace(&db, user, "dexcom", from, 144, 0.0).await;
    insights::discover_patterns(&db, user).await.unwrap();
    let (_, body) = call(&state, "GET", "/api/v1/insights/patterns", user).await;
    assert_eq!(body["status"], "not_enough_data");
    assert_eq!(body["glucose_days"], 0.5);
    assert_eq!(body["required_glucose_days"], 2.0);
    assert_eq!(
        (body["rule_days"].as_u64(), body["required_rule_days"].as_u64()),
        (Some(0), Some(14))
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("need 2 days of CGM readings (you have 0.5)"),
        "{message}"
    );
    assert!(message.contains("rules need 14 days"), "{message}");
    assert!(body["computed_at"].is_string());
    assert_eq!(body["patterns"], serde_json::json!([]));

    // A week of readings: shapes are computed; the rules still say what they miss.
    testing::cgm_trace(&db, user, "dexcom", from, 288 * 7, 0.0).await;
    insights::discover_patterns(&db, user).await.unwrap();
    let (_, body) = call(&state, "GET", "/api/v1/insights/patterns", user).await;
    assert_eq!(body["status"], "computed");
    assert_eq!(body["glucose_days"], 7.0);
    assert!(body["message"].as_str().unwrap().contains("rules need 14 days"));
    assert!(!body["patterns"].as_array().unwrap().is_empty());
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn trigger_queues_one_full_analysis(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let (status, first) = call(&state, "POST", "/api/v1/insights/trigger-analysis", user).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(first["kind"], "full_analysis");
    assert_eq!(first["status"], "queued");
    let (status, second) = call(&state, "POST", "/api/v1/insights/trigger-analysis", user).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(second["id"], first["id"]);

    let unauthenticated = http::Request::builder()
        .method("POST")
        .uri("/api/v1/insights/trigger-analysis")
        .body(lambda_http::Body::Empty)
        .unwrap();
    let response = api_insights::router(state).oneshot(unauthenticated).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn an_api_gateway_event_is_served_and_audited_with_its_request_id(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let mut request =
        lambda_http::request::from_str(include_str!("../../../events/api-insights-correlations.json")).unwrap();
    request
        .headers_mut()
        .insert("authorization", testing::bearer(&state, user).parse().unwrap());
    let response = api_insights::router(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let request_id: String = sqlx::query_scalar("SELECT request_id FROM audit_log WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(request_id, "req-insights-correlations-1");
}
