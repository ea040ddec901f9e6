//! `GET /api/v1/insights/meals` against a real database: constructed readings and meals give exact responses,
//! summaries and carbohydrate slope in mg/dL and mmol/L, another user's data never appears, bad input is a problem
//! document, a read is audited, and on sample data the planted meals are recovered.

use axum::http::{header, StatusCode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use glucolens_sample as sample;
use glucolens_testing as testing;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const URI: &str = "/api/v1/insights/meals";

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

/// Readings every 5 minutes from 11:00 to `until` on `day`: 100 mg/dL with a trapezoid of height `rise` from 12:00
/// to 14:00 (up until 12:50, flat until 13:10, down until 14:00).
async fn readings(db: &PgPool, user_id: Uuid, day: &str, until: &str, rise: f64) {
    let (from, to, meal) = (
        at(&format!("{day}T11:00:00Z")),
        at(&format!("{day}T{until}Z")),
        at(&format!("{day}T12:00:00Z")),
    );
    let times: Vec<DateTime<Utc>> = (0..)
        .map(|k| from + Duration::minutes(5 * k))
        .take_while(|t| *t <= to)
        .collect();
    let values: Vec<f64> = times
        .iter()
        .map(|t| {
            let minutes = (*t - meal).num_minutes() as f64;
            100.0 + rise * (minutes.min(120.0 - minutes) / 50.0).clamp(0.0, 1.0)
        })
        .collect();
    sqlx::query(
        r#"INSERT INTO glucose_readings (user_id, "timestamp", source, value)
           SELECT $1, t, 'dexcom', v FROM UNNEST($2::timestamptz[], $3::float8[]) AS r(t, v)"#,
    )
    .bind(user_id)
    .bind(times)
    .bind(values)
    .execute(db)
    .await
    .unwrap();
}

async fn meal(db: &PgPool, user_id: Uuid, eaten_at: &str, meal_type: &str, description: &str, carbs: f64) {
    sqlx::query(
        r#"INSERT INTO meals (user_id, "timestamp", source, meal_type, carbs_grams, description)
           VALUES ($1, $2, 'manual', $3, $4, $5)"#,
    )
    .bind(user_id)
    .bind(at(eaten_at))
    .bind(meal_type)
    .bind(carbs)
    .bind(description)
    .execute(db)
    .await
    .unwrap();
}

/// Pasta (90 g) rising 80 and 70, salad (20 g) rising 20 and 30, then a pasta lunch with a cookie an hour later
/// (overlapping; the cookie has too few readings after it).
async fn planted(db: &PgPool, user_id: Uuid) {
    for (day, description, meal_type, carbs, rise) in [
        ("2025-03-01", "Pasta lunch", "lunch", 90.0, 80.0),
        ("2025-03-02", "  pasta   LUNCH", "lunch", 90.0, 70.0),
        ("2025-03-03", "Green salad", "dinner", 20.0, 20.0),
        ("2025-03-04", "green salad", "dinner", 20.0, 30.0),
        ("2025-03-05", "pasta lunch", "lunch", 90.0, 80.0),
    ] {
        readings(db, user_id, day, "15:00:00", rise).await;
        meal(db, user_id, &format!("{day}T12:00:00Z"), meal_type, description, carbs).await;
    }
    meal(db, user_id, "2025-03-05T13:00:00Z", "snack", "cookie", 15.0).await;
    // Too few readings after the cookie: cut the day's trace at 13:55.
    sqlx::query(r#"DELETE FROM glucose_readings WHERE user_id = $1 AND "timestamp" > '2025-03-05T13:55:00Z'"#)
        .bind(user_id)
        .execute(db)
        .await
        .unwrap();
}

async fn get(state: &glucolens_web::AppState, uri: &str, user: Option<Uuid>) -> testing::Reply {
    let mut request = http::Request::builder().method("GET").uri(uri);
    if let Some(user) = user {
        request = request.header(header::AUTHORIZATION, testing::bearer(state, user));
    }
    let request = request.body(lambda_http::Body::Empty).unwrap();
    testing::respond(api_insights::router(state.clone()), request).await
}

fn range(start: &str, end: &str) -> String {
    format!("{URI}?start={start}&end={end}")
}

const MARCH: (&str, &str) = ("2025-03-01T00:00:00Z", "2025-03-06T00:00:00Z");

fn descriptions(body: &Value) -> Vec<String> {
    body["meals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["description"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn constructed_meals_give_exact_responses_and_summaries(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Berlin").await;
    planted(&db, user).await;

    let reply = get(&state, &range(MARCH.0, MARCH.1), Some(user)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.body;
    assert_eq!((&body["unit"], &body["start"]), (&json!("mg/dL"), &json!(MARCH.0)));
    let meals = body["meals"].as_array().unwrap();
    assert_eq!(meals.len(), 6);
    assert_eq!(meals[0]["eaten_at"], "2025-03-01T12:00:00Z");
    assert_eq!(meals[0]["description"], "Pasta lunch");
    assert_eq!(
        (&meals[0]["meal_type"], &meals[0]["carbs_grams"]),
        (&json!("lunch"), &json!(90.0))
    );
    assert!(meals[0]["id"].is_i64());
    // A trapezoid: 80 up (peak of the 3-reading average first reached at 55 minutes), back at 120, area
    // 80 · (25 + 20 + 25).
    assert_eq!(
        meals[0]["response"],
        json!({"baseline": 100.0, "peak_rise": 80.0, "minutes_to_peak": 55.0, "incremental_auc": 5600.0,
               "minutes_to_baseline": 120.0})
    );
    assert_eq!(meals[0]["overlapping"], false);
    assert_eq!(meals[3]["response"]["peak_rise"], 30.0);
    // The last pasta lunch has the cookie in its window; the cookie has no response.
    assert_eq!(
        (&meals[4]["overlapping"], &meals[4]["response"]["peak_rise"]),
        (&json!(true), &json!(80.0))
    );
    assert_eq!(
        (&meals[5]["overlapping"], &meals[5]["response"]),
        (&json!(false), &Value::Null)
    );

    // The overlapping pasta lunch is left out: pasta is 80 and 70, salad 20 and 30.
    let group = |name: &str, mean: f64, auc: f64| {
        json!({"name": name, "n": 2, "mean_peak_rise": mean, "sd_peak_rise": 7.1, "mean_incremental_auc": auc,
               "sd_incremental_auc": 495.0})
    };
    let (pasta, salad) = (group("pasta lunch", 75.0, 5250.0), group("green salad", 25.0, 1750.0));
    assert_eq!(body["repeated_meals"], json!([salad, pasta]));
    assert_eq!((&body["best_meal"], &body["worst_meal"]), (&salad, &pasta));
    let mut dinner = salad.clone();
    dinner["name"] = json!("dinner");
    let mut lunch = pasta.clone();
    lunch["name"] = json!("lunch");
    assert_eq!(body["by_meal_type"], json!([dinner, lunch]));
    // (90, 80), (90, 70), (20, 20), (20, 30): slope 50 / 70 = 0.714 per g, residuals ±5 (SS 100), Sxx 4900,
    // SE = √(100 / 2 / 4900) = 0.101, t(0.975, 2) = 4.303: 7.14 ± 4.35 per 10 g.
    assert_eq!(
        body["carb_sensitivity"],
        json!({"n": 4, "rise_per_10g": 7.1, "ci_low": 2.8, "ci_high": 11.5})
    );
    assert_eq!(testing::audited_reads(&db, user, "meal_responses").await, 1);

    // Only meals eaten in the range count; their readings may lie after its end.
    let one_day = get(
        &state,
        &range("2025-03-01T11:59:00Z", "2025-03-01T12:01:00Z"),
        Some(user),
    )
    .await;
    assert_eq!(one_day.body["meals"][0]["response"]["peak_rise"], 80.0);
    assert_eq!(descriptions(&one_day.body), ["Pasta lunch"]);
    assert_eq!(
        (
            &one_day.body["repeated_meals"],
            &one_day.body["best_meal"],
            &one_day.body["carb_sensitivity"]
        ),
        (&json!([]), &Value::Null, &Value::Null)
    );
    assert_eq!(testing::audited_reads(&db, user, "meal_responses").await, 2);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_mmol_user_sees_mmol(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    testing::use_mmol_l(&db, user).await;
    planted(&db, user).await;

    let reply = get(&state, &range(MARCH.0, MARCH.1), Some(user)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["unit"], "mmol/L");
    // 100 / 18.0156 = 5.551, 80 / 18.0156 = 4.441, 5600 / 18.0156 = 310.84.
    assert_eq!(
        reply.body["meals"][0]["response"],
        json!({"baseline": 5.55, "peak_rise": 4.44, "minutes_to_peak": 55.0, "incremental_auc": 310.84,
               "minutes_to_baseline": 120.0})
    );
    // 75 / 18.0156 = 4.163, 7.071 / 18.0156 = 0.392; 7.143, 2.796 and 11.490 mg/dL per 10 g.
    assert_eq!(reply.body["worst_meal"]["mean_peak_rise"], 4.16);
    assert_eq!(reply.body["worst_meal"]["sd_peak_rise"], 0.39);
    assert_eq!(
        reply.body["carb_sensitivity"],
        json!({"n": 4, "rise_per_10g": 0.4, "ci_low": 0.16, "ci_high": 0.64})
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn another_users_meals_and_readings_never_appear(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let (owner, other) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    planted(&db, owner).await;
    // The other user: a meal on 1 March with readings rising 150 after it, and readings under the owner's 2 March meal.
    readings(&db, other, "2025-03-01", "15:00:00", 150.0).await;
    meal(&db, other, "2025-03-01T11:30:00Z", "lunch", "Pizza", 100.0).await;
    readings(&db, other, "2025-03-02", "15:00:00", 150.0).await;

    let uri = range(MARCH.0, MARCH.1);
    let mine = get(&state, &uri, Some(owner)).await;
    assert_eq!(mine.body["meals"].as_array().unwrap().len(), 6);
    assert_eq!(mine.body["meals"][1]["response"]["peak_rise"], 70.0);
    assert_eq!(mine.body["worst_meal"]["mean_peak_rise"], 75.0);
    let theirs = get(&state, &uri, Some(other)).await;
    assert_eq!(descriptions(&theirs.body), ["Pizza"]);
    // Eaten at 11:30: baseline 100, peak 250 from 12:50 (the 3-reading average's from 12:55).
    assert_eq!(theirs.body["meals"][0]["response"]["peak_rise"], 150.0);
    assert_eq!(theirs.body["meals"][0]["response"]["minutes_to_peak"], 85.0);
    assert_eq!(
        (
            testing::audited_reads(&db, owner, "meal_responses").await,
            testing::audited_reads(&db, other, "meal_responses").await
        ),
        (1, 1)
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bad_input_is_a_problem_and_not_audited(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;

    for (uri, codes) in [
        (URI.to_string(), vec!["required", "required"]),
        (
            range("2025-03-02T00:00:00Z", "2025-03-01T00:00:00Z"),
            vec!["invalid_range"],
        ),
        (
            range("2025-01-01T00:00:00Z", "2025-04-03T00:00:01Z"),
            vec!["range_too_long"],
        ),
    ] {
        let reply = get(&state, &uri, Some(user)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {}", reply.body);
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json");
        let found: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert_eq!(found, codes, "{uri}");
    }
    let anonymous = get(&state, &range(MARCH.0, MARCH.1), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(testing::audited_reads(&db, user, "meal_responses").await, 0);
}

/// The validity check on planted data: a sample user's named lunches (`glucolens_sample::NAMED_MEALS`) come back
/// with their planted rise (mean ΔG within ±15 %) and in the right order.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn planted_meals_are_recovered_and_ranked(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let (generated, planted) = sample::generate_user_with_plants(42, 0, "meals", start, 60);
    let user = sample::write_user(&db, &generated, "not-a-hash")
        .await
        .unwrap()
        .expect("a new account")
        .user_id;

    let uri = range("2026-03-01T00:00:00Z", "2026-05-02T00:00:00Z");
    let reply = get(&state, &uri, Some(user)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let repeated = reply.body["repeated_meals"].as_array().unwrap();

    let mut report = Vec::new();
    for meal in &sample::NAMED_MEALS {
        let group = repeated
            .iter()
            .find(|g| g["name"] == meal.description)
            .unwrap_or_else(|| panic!("{}: {repeated:?}", meal.description));
        let (mean, n) = (group["mean_peak_rise"].as_f64().unwrap(), group["n"].as_u64().unwrap());
        let planted_n = planted.meals.iter().filter(|p| p.meal == *meal).count();
        report.push(format!(
            "{}: planted {} (n {planted_n}), found {mean} (n {n})",
            meal.description, meal.rise_mg_dl
        ));
        assert!(n >= 3, "{report:?}");
        assert!((mean - meal.rise_mg_dl).abs() <= 0.15 * meal.rise_mg_dl, "{report:?}");
    }
    println!("{report:#?}");
    // Ranked: lowest rise first.
    let mut by_rise = sample::NAMED_MEALS.to_vec();
    by_rise.sort_by(|a, b| a.rise_mg_dl.total_cmp(&b.rise_mg_dl));
    let names: Vec<&str> = repeated.iter().map(|g| g["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = by_rise.iter().map(|m| m.description).collect();
    assert_eq!(names, expected);
    assert_eq!(reply.body["best_meal"]["name"], expected[0]);
    assert_eq!(reply.body["worst_meal"]["name"], expected[2]);
    // The rise per 10 g of carbohydrate is positive and its interval holds it.
    let slope = &reply.body["carb_sensitivity"];
    let (estimate, low, high) = (
        slope["rise_per_10g"].as_f64().unwrap(),
        slope["ci_low"].as_f64().unwrap(),
        slope["ci_high"].as_f64().unwrap(),
    );
    assert!(estimate > 0.0 && low <= estimate && estimate <= high, "{slope}");
}
