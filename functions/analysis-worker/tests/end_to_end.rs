//! End to end: a sample-data user with planted effects → scheduled fan-out → worker → the correlations table holds
//! the planted effects as significant and none of the pure-noise variables (see `glucolens_sample`).

use analysis_worker::poll_once;
use chrono::NaiveDate;
use glucolens_app::jobs;
use glucolens_domain::task::TaskKind;
use glucolens_sample as sample;
use glucolens_testing as testing;
use glucolens_web::AppState;
use sqlx::PgPool;

async fn run_job(state: &AppState, kind: TaskKind) {
    let report = jobs::fan_out(&state.db, &state.queue, kind).await.unwrap();
    assert_eq!(report.users, 1);
    loop {
        let outcome = poll_once(&state.db, &state.queue, 0, Some(0)).await.unwrap();
        assert_eq!(outcome.failed, 0);
        if outcome.received == 0 {
            break;
        }
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_planted_effects_are_found_and_the_noise_variables_are_not(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let user = sample::generate_user(42, 0, "demo", start, 90);
    sample::write_user(&db, &user, "not-a-hash")
        .await
        .unwrap()
        .expect("a new account");

    run_job(&state, TaskKind::AggregateDaily).await;
    let days: i64 = sqlx::query_scalar("SELECT count(*) FROM daily_aggregates WHERE sufficient_data")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(days, 90);
    run_job(&state, TaskKind::ComputeCorrelations).await;

    let significant: Vec<(String, String, i16, f64)> = sqlx::query_as(
        "SELECT factor_x, factor_y, lag_days, correlation_coefficient FROM correlations WHERE q_value < 0.05",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let found = |cause: &str, lag: i16| {
        significant
            .iter()
            .find(|(c, e, l, _)| c == cause && e == "mean_glucose" && *l == lag)
            .map(|(.., coefficient)| *coefficient)
    };
    assert!(found("sleep_minutes", 1).is_some_and(|r| r < 0.0), "{significant:?}");
    assert!(found("carbs_g", 0).is_some_and(|r| r > 0.0), "{significant:?}");
    assert!(found("exercise_minutes", 0).is_some_and(|r| r < 0.0), "{significant:?}");
    let glucose_effects = ["mean_glucose", "cv_percent", "pct_70_180", "sd_glucose", "gmi_percent"];
    let noise = ["steps", "protein_g", "fat_g", "sleep_quality"];
    let spurious: Vec<_> = significant
        .iter()
        .filter(|(cause, effect, ..)| noise.contains(&cause.as_str()) && glucose_effects.contains(&effect.as_str()))
        .collect();
    assert!(spurious.is_empty(), "{spurious:?}");
}
