//! `GET /api/v1/insights/recommendations` against a real database: on a sample user with planted effects, after the
//! full analysis, the recommendations cite the planted truths (pasta lunch as the meal raising glucose most, the
//! lows after exercise, and rules or clusters only in the planted direction); hand-built patterns become rule and
//! cluster recommendations in the owner's display unit, weak ones none; another user sees none of them.

use axum::http::{header, StatusCode};
use chrono::NaiveDate;
use glucolens_app::insights::recommendations::{self, MAX_RECOMMENDATIONS};
use glucolens_app::jobs;
use glucolens_app::queue::JobMessage;
use glucolens_domain::pattern::{NewPattern, PatternCoverage, PatternKind};
use glucolens_domain::task::TaskKind;
use glucolens_domain::GlucoseUnit;
use glucolens_sample as sample;
use glucolens_testing as testing;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const URI: &str = "/api/v1/insights/recommendations";

async fn get(state: &glucolens_web::AppState, user: Uuid) -> Value {
    let request = http::Request::builder()
        .method("GET")
        .uri(URI)
        .header(header::AUTHORIZATION, testing::bearer(state, user))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let reply = testing::respond(api_insights::router(state.clone()), request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

fn of_kind<'a>(body: &'a Value, kind: &str) -> Vec<&'a Value> {
    body["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["evidence"]["kind"] == kind)
        .collect()
}

/// What every answer holds: ranks 1, 2, …, strongest first, evidence with a sample size, the care-team line.
fn assert_well_formed(body: &Value) {
    let all = body["recommendations"].as_array().unwrap();
    assert!(all.len() <= MAX_RECOMMENDATIONS, "{body:#}");
    for (index, r) in all.iter().enumerate() {
        assert_eq!(r["rank"], index + 1);
        let strength = r["strength"].as_f64().unwrap();
        assert!((0.0..=10.0).contains(&strength), "{r}");
        if index > 0 {
            assert!(strength <= all[index - 1]["strength"].as_f64().unwrap(), "{body:#}");
        }
        assert!(r["evidence"]["sample_size"].as_i64().unwrap() > 0, "{r}");
        assert!(r["message"]
            .as_str()
            .unwrap()
            .ends_with("Discuss any changes with your care team."));
    }
}

/// The planted direction of each rule item and cluster behaviour (`glucolens_sample`): exercise lowers glucose,
/// short sleep and carbohydrate raise it.
fn rule_agrees_with_plants(antecedents: &[Value], consequent: &str) -> bool {
    antecedents.iter().all(|item| {
        matches!(
            (item.as_str().unwrap(), consequent),
            ("exercise", "good_glucose") | ("short_sleep" | "high_carb", "glucose_below_goal")
        )
    })
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn planted_sample_user_recommendations_cite_the_planted_truths(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
    let (generated, planted) = sample::generate_user_with_plants(14, 1, "recommendations", start, 90);
    let user = sample::write_user(&db, &generated, "not-a-hash")
        .await
        .unwrap()
        .expect("a new account")
        .user_id;
    let message = JobMessage {
        kind: TaskKind::FullAnalysis,
        user_id: user,
        task_id: None,
        full_recompute: false,
    };
    jobs::process(&db, &message, 1).await.unwrap();

    let body = get(&state, user).await;
    for r in body["recommendations"].as_array().unwrap() {
        println!(
            "{} [{} {}] {}",
            r["rank"], r["evidence"]["kind"], r["strength"], r["message"]
        );
    }
    assert_well_formed(&body);

    // The planted meals: pasta lunch (+80 mg/dL) raises glucose most, green salad (+30) least.
    let meals = of_kind(&body, "meal_comparison");
    assert_eq!(meals.len(), 1, "{body:#}");
    let evidence = &meals[0]["evidence"];
    assert_eq!(
        (&evidence["highest"]["name"], &evidence["lowest"]["name"]),
        (&json!("pasta lunch"), &json!("green salad"))
    );
    assert!(evidence["highest"]["n"].as_u64().unwrap() >= 3);
    assert!(meals[0]["message"]
        .as_str()
        .unwrap()
        .contains("your pasta lunch raised your glucose by"));

    // The planted lows after morning workouts: most lows began within 6 h after exercise.
    let lows = of_kind(&body, "episode_context");
    let after_exercise = lows
        .iter()
        .find(|r| r["evidence"]["explanation"]["factor"] == "exercise")
        .unwrap_or_else(|| panic!("no lows after exercise: {body:#}"));
    let explanation = &after_exercise["evidence"]["explanation"];
    assert_eq!(explanation["type"], "hypo");
    assert!(explanation["count"].as_u64().unwrap() as usize >= planted.exercise_lows.len() * 8 / 10);
    assert!(after_exercise["message"]
        .as_str()
        .unwrap()
        .contains(explanation["text"].as_str().unwrap()));

    // Correlations cite no pure-noise variable (`glucolens_sample`); rules and clusters only planted directions.
    for r in of_kind(&body, "correlation") {
        let id = r["evidence"]["finding_id"].as_str().unwrap();
        assert!(!id.starts_with("steps->"), "{id}");
    }
    for r in of_kind(&body, "association_rule") {
        let evidence = &r["evidence"];
        assert!(
            rule_agrees_with_plants(
                evidence["antecedents"].as_array().unwrap(),
                evidence["consequent"].as_str().unwrap()
            ),
            "{r}"
        );
    }
    for r in of_kind(&body, "cluster") {
        let evidence = &r["evidence"];
        for name in evidence["distinguishing"].as_array().unwrap() {
            let feature = evidence["features"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["feature"] == *name)
                .unwrap();
            let more = feature["difference_sd"].as_f64().unwrap() > 0.0;
            match name.as_str().unwrap() {
                "exercise_minutes" | "sleep_minutes" | "pct_in_target" => assert!(more, "{r}"),
                "carbs_g" | "mean_glucose_mg_dl" => assert!(!more, "{r}"),
                other => panic!("unknown feature {other}"),
            }
        }
    }
    // Stored rules and clusters strong enough to speak are cited (the kinds' caps leave them a slot).
    let stored = glucolens_store::patterns::list(&db, user, None).await.unwrap();
    for (kind, speaks) in [
        (
            "association_rule",
            stored.iter().any(|p| recommendations::from_rule(p).is_some()),
        ),
        (
            "cluster",
            stored
                .iter()
                .any(|p| recommendations::from_cluster(p, GlucoseUnit::MgDl).is_some()),
        ),
    ] {
        assert_eq!(!of_kind(&body, kind).is_empty(), speaks, "{kind}: {body:#}");
    }
}

fn rule(antecedent: &str, consequent: &str, support: f64, confidence: f64, lift: f64, description: &str) -> NewPattern {
    NewPattern {
        kind: PatternKind::AssociationRule,
        description: description.into(),
        score: Some(lift),
        example_dates: Vec::new(),
        metadata: json!({
            "rank": 1, "antecedents": [antecedent], "consequents": [consequent], "support": support,
            "confidence": confidence, "lift": lift, "days": 40, "thresholds": {}
        }),
        confidence: Some(confidence),
        support: Some(support),
        occurrences: None,
    }
}

fn cluster(rank: u32, holds_best_days: bool) -> NewPattern {
    NewPattern {
        kind: PatternKind::Cluster,
        description: "20 similar days with more exercise".into(),
        score: Some(0.31),
        example_dates: vec![NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()],
        metadata: json!({
            "rank": rank, "k": 3, "silhouette": 0.31, "days_clustered": 74, "cluster_days": 20, "best_days": 12,
            "best_days_total": 18, "holds_best_days": holds_best_days, "profile_mg_dl": vec![120.0; 24],
            "features": [
                {"feature": "pct_in_target", "label": "time in your target range", "unit": "%", "cluster": 82.0,
                 "other_days": 64.0, "difference_sd": 1.2},
                {"feature": "mean_glucose_mg_dl", "label": "mean glucose", "unit": "mg/dL", "cluster": 126.0,
                 "other_days": 144.0, "difference_sd": -1.1},
                {"feature": "sleep_minutes", "label": "sleep", "unit": "min", "cluster": 452.0,
                 "other_days": 401.0, "difference_sd": 0.9},
                {"feature": "exercise_minutes", "label": "exercise", "unit": "min", "cluster": 48.0,
                 "other_days": 21.0, "difference_sd": 0.8},
                {"feature": "carbs_g", "label": "carbohydrates", "unit": "g", "cluster": 180.0,
                 "other_days": 185.0, "difference_sd": -0.1}
            ],
            "distinguishing": ["pct_in_target", "mean_glucose_mg_dl", "sleep_minutes", "exercise_minutes"]
        }),
        confidence: None,
        support: None,
        occurrences: Some(20),
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn stored_rules_and_clusters_become_recommendations_in_the_display_unit(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let (owner, other) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    testing::use_mmol_l(&db, owner).await;
    let sleep_rule = "On days after under 6 h of sleep, your glucose was in your target range 70 % of the time or \
                      less on 90 % of them (12 of 13 days), against 50 % of all 40 days.";
    let patterns = [
        rule("short_sleep", "glucose_below_goal", 0.3, 0.9, 1.8, sleep_rule),
        // On 4 days only (0.06 / 0.6 · 40): too few.
        rule("exercise", "good_glucose", 0.06, 0.6, 1.2, "weak"),
        cluster(1, true),
        cluster(2, false),
    ];
    let coverage = PatternCoverage {
        glucose_days: 74.0,
        rule_days: 40,
    };
    glucolens_store::patterns::replace(&db, owner, &patterns, coverage)
        .await
        .unwrap();

    let body = get(&state, owner).await;
    assert_well_formed(&body);
    // No correlation analysis has run; the patterns speak regardless.
    assert_eq!(body["status"], "not_computed");
    let all = body["recommendations"].as_array().unwrap();
    assert_eq!(all.len(), 2, "{body:#}");

    let stored = glucolens_store::patterns::list(&db, owner, None).await.unwrap();
    let id_of = |description: &str| stored.iter().find(|p| p.description == description).unwrap().id;
    let rules = of_kind(&body, "association_rule");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["evidence"]["pattern_id"], id_of(sleep_rule).to_string());
    assert_eq!(rules[0]["evidence"]["antecedent_days"], 13);
    assert!(rules[0]["message"].as_str().unwrap().starts_with(sleep_rule));
    assert!(rules[0]["message"].as_str().unwrap().contains("consistent bedtime"));

    let clusters = of_kind(&body, "cluster");
    assert_eq!(clusters.len(), 1);
    let evidence = &clusters[0]["evidence"];
    assert_eq!(
        (&evidence["best_days"], &evidence["best_days_total"], &evidence["unit"]),
        (&json!(12), &json!(18), &json!("mmol/L"))
    );
    let mean = evidence["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feature"] == "mean_glucose_mg_dl")
        .unwrap();
    assert_eq!(
        (&mean["unit"], &mean["cluster"], &mean["other_days"]),
        (&json!("mmol/L"), &json!(6.99), &json!(7.99))
    );
    assert!(
        clusters[0]["message"].as_str().unwrap().contains(
            "12 of your 18 best days fall in one group of 20 similar days. On those days you had more sleep \
             (452 min vs 401 min) and more exercise (48 min vs 21 min) than on your other days, and time in your \
             target range was 82 % against 64 %."
        ),
        "{}",
        clusters[0]["message"]
    );

    // The owner's patterns are theirs alone.
    assert_eq!(get(&state, other).await["recommendations"], json!([]));
    assert_eq!(testing::audited_reads(&db, owner, "recommendations").await, 1);
}
