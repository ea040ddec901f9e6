//! Account and token flows through the real router, against a fresh PostgreSQL database per test and moto.

use axum::http::{header, Method, StatusCode};
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

mod common;

use common::{register, send, send_request, unique_email, PASSWORD};

async fn login(state: &AppState, email: &str, password: &str) -> Reply {
    send(
        state,
        Method::POST,
        "/api/v1/auth/login",
        Some(json!({ "email": email, "password": password })),
        None,
    )
    .await
}

async fn refresh(state: &AppState, refresh_token: &str) -> Reply {
    send(
        state,
        Method::POST,
        "/api/v1/auth/refresh",
        Some(json!({ "refresh_token": refresh_token })),
        None,
    )
    .await
}

fn token<'a>(session: &'a Value, which: &str) -> &'a str {
    session["tokens"][which].as_str().unwrap()
}

fn user_id(session: &Value) -> Uuid {
    session["user"]["id"].as_str().unwrap().parse().unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn register_from_an_api_gateway_event_then_login_and_read_me(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let request = lambda_http::request::from_str(include_str!("../../../events/api-auth-register.json")).unwrap();
    let registered = send_request(&state, request).await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.body);
    let user = &registered.body["user"];
    assert_eq!(user["email"], "ana.example@example.com");
    // The event sends the earlier names (`time_zone`, `target_low`, `target_high`); answers use the design's.
    assert_eq!(user["timezone"], "Europe/Paris");
    assert_eq!(user["display_unit"], "mmol/L");
    assert_eq!(
        (user["target_glucose_min"].as_f64(), user["target_glucose_max"].as_f64()),
        (Some(3.9), Some(10.0))
    );
    assert_eq!(registered.body["tokens"]["token_type"], "Bearer");
    assert_eq!(registered.body["tokens"]["expires_in"], 900);

    let stored: (String, f64, f64) =
        sqlx::query_as("SELECT password_hash, target_glucose_min::float8, target_glucose_max::float8 FROM users")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(
        stored.0.starts_with("$argon2id$"),
        "passwords are stored as Argon2id hashes"
    );
    assert_eq!((stored.1, stored.2), (70.3, 180.2), "targets are stored in mg/dL");

    let signed_in = login(&state, "ANA.example@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(signed_in.body["user"]["id"], user["id"]);

    let me = send(
        &state,
        Method::GET,
        "/api/v1/auth/me",
        None,
        Some(token(&signed_in.body, "access_token")),
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body, *user);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn registration_lists_every_invalid_field_with_its_code(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let reply = send(
        &state,
        Method::POST,
        "/api/v1/auth/register",
        Some(json!({ "email": "not-an-email", "password": "short", "timezone": "Mars/Olympus" })),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(reply.body["code"], "validation_failed");
    let errors: Vec<(&str, &str)> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            ("email", "invalid_email"),
            ("password", "invalid_password"),
            ("timezone", "invalid_time_zone")
        ]
    );

    let bad_range = send(
        &state,
        Method::POST,
        "/api/v1/auth/register",
        Some(json!({ "email": unique_email(), "password": PASSWORD, "target_glucose_min": 190, "target_glucose_max": 150 })),
        None,
    )
    .await;
    assert_eq!(bad_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_range.body["errors"][0]["code"], "invalid_target_range");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(users, 0, "nothing is written for an invalid registration");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_registered_email_cannot_register_again_in_any_case(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let email = unique_email();
    register(&state, &email).await;
    let again = send(
        &state,
        Method::POST,
        "/api/v1/auth/register",
        Some(json!({ "email": email.to_uppercase(), "password": "another password" })),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "email_taken");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn unknown_email_and_wrong_password_get_the_same_answer(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let email = unique_email();
    register(&state, &email).await;
    let wrong_password = login(&state, &email, "not the password").await;
    let unknown_email = login(&state, &unique_email(), PASSWORD).await;
    let malformed_email = login(&state, "no at sign", PASSWORD).await;
    for reply in [&wrong_password, &unknown_email, &malformed_email] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body["code"], "invalid_credentials");
    }
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.body, malformed_email.body);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn repeated_login_attempts_are_throttled_per_email(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let email = unique_email();
    register(&state, &email).await;
    testing::rate_window_with_room(&db).await;
    for _ in 0..api_auth::LOGIN_ATTEMPTS_PER_MINUTE {
        assert_eq!(
            login(&state, &email, "not the password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = login(&state, &email.to_uppercase(), PASSWORD).await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry_after: u64 = throttled.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));

    let buckets: Vec<String> = sqlx::query_scalar("SELECT bucket FROM rate_limit_windows")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(buckets.iter().all(|b| !b.contains('@')), "emails never stored in clear");

    let other = unique_email();
    register(&state, &other).await;
    assert_eq!(
        login(&state, &other, PASSWORD).await.status,
        StatusCode::OK,
        "other emails are unaffected"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn an_expired_access_token_is_refused_with_its_own_code(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let id = user_id(&register(&state, &unique_email()).await);
    let sixteen_minutes_ago = chrono::Utc::now().timestamp() - 16 * 60;
    let expired = state.tokens.issue_at(id, sixteen_minutes_ago).access_token;
    let reply = send(&state, Method::GET, "/api/v1/auth/me", None, Some(&expired)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "token_expired");

    let missing = send(&state, Method::GET, "/api/v1/auth/me", None, None).await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_token"))
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn refresh_rotates_and_reuse_revokes_the_whole_family(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let session = register(&state, &unique_email()).await;
    let first = token(&session, "refresh_token").to_owned();

    let rotated = refresh(&state, &first).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let access = rotated.body["access_token"].as_str().unwrap();
    assert_eq!(
        send(&state, Method::GET, "/api/v1/auth/me", None, Some(access))
            .await
            .status,
        StatusCode::OK
    );

    let third = refresh(&state, &second).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let reused = refresh(&state, &first).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.body["code"], "refresh_token_reused");
    let newest = refresh(&state, &third).await;
    assert_eq!(
        newest.status,
        StatusCode::UNAUTHORIZED,
        "the newest token of the family stops working too"
    );
    assert_eq!(newest.body["code"], "invalid_refresh_token");

    let (total, revoked): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(revoked_at) FROM refresh_tokens WHERE user_id = $1")
            .bind(user_id(&session))
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((total, revoked), (3, 3));
    let in_clear: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE token_hash = convert_to($1, 'UTF8')")
            .bind(&third)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(in_clear, 0, "tokens are stored only as hashes");

    let another_sign_in = login(&state, session["user"]["email"].as_str().unwrap(), PASSWORD).await;
    assert_eq!(
        refresh(&state, token(&another_sign_in.body, "refresh_token"))
            .await
            .status,
        StatusCode::OK,
        "other sign-ins are separate families"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn expired_and_unknown_refresh_tokens_are_refused(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let session = register(&state, &unique_email()).await;
    sqlx::query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        .execute(&db)
        .await
        .unwrap();
    for presented in [token(&session, "refresh_token"), "made-up-token"] {
        let reply = refresh(&state, presented).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body["code"], "invalid_refresh_token");
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_per_user_rate_limit_answers_429_with_retry_after(db: sqlx::PgPool) {
    let mut state = testing::state(db).await;
    state.rate_limit_per_minute = 3;
    let session = register(&state, &unique_email()).await;
    let access = token(&session, "access_token");
    testing::rate_window_with_room(&state.db).await;
    for _ in 0..3 {
        assert_eq!(
            send(&state, Method::GET, "/api/v1/auth/me", None, Some(access))
                .await
                .status,
            StatusCode::OK
        );
    }
    let limited = send(&state, Method::GET, "/api/v1/auth/me", None, Some(access)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["code"], "rate_limited");
    let retry_after: u64 = limited.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn settings_change_validates_and_marks_days_for_reaggregation(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let session = register(&state, &unique_email()).await;
    let (id, access) = (user_id(&session), token(&session, "access_token"));
    // 23:30 UTC on 1 March is already 2 March in Kolkata.
    sqlx::query(r#"INSERT INTO glucose_readings (user_id, "timestamp", source, value) VALUES ($1, '2026-03-01T23:30:00Z', 'cgm', 110)"#)
        .bind(id)
        .execute(&db)
        .await
        .unwrap();

    let invalid = send(
        &state,
        Method::PATCH,
        "/api/v1/users/me",
        Some(json!({ "timezone": "Nowhere/Special", "target_glucose_min": 30 })),
        Some(access),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["timezone", "target_glucose_min"]);

    let changed = send(
        &state,
        Method::PATCH,
        "/api/v1/users/me",
        Some(json!({ "timezone": "Asia/Kolkata", "target_glucose_max": 8.0, "target_unit": "mmol/L", "display_unit": "mmol/L" })),
        Some(access),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["timezone"], "Asia/Kolkata");
    assert_eq!(changed.body["display_unit"], "mmol/L");
    assert_eq!(
        (
            changed.body["target_glucose_min"].as_f64(),
            changed.body["target_glucose_max"].as_f64()
        ),
        (Some(3.89), Some(8.0)),
        "the low bound is kept"
    );

    let dirty: Vec<chrono::NaiveDate> = sqlx::query_scalar("SELECT local_date FROM dirty_days WHERE user_id = $1")
        .bind(id)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(dirty, [chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()]);

    let unchanged = send(&state, Method::PATCH, "/api/v1/users/me", Some(json!({})), Some(access)).await;
    assert_eq!(unchanged.status, StatusCode::OK);
    assert_eq!(unchanged.body["target_glucose_max"].as_f64(), Some(8.0));
}

/// Inserts one row for `user` into every table that holds user data.
async fn insert_a_row_everywhere(db: &sqlx::PgPool, user: Uuid) {
    let statements = [
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) VALUES (gen_random_uuid(), $1, gen_random_uuid(), decode(md5($1::text), 'hex'), now() + interval '1 day')",
        "INSERT INTO audit_log (user_id, action, resource) VALUES ($1, 'read', 'glucose_readings')",
        r#"INSERT INTO glucose_readings (user_id, "timestamp", source, value) VALUES ($1, now(), 'cgm', 120)"#,
        "INSERT INTO sleep_data (user_id, sleep_start, sleep_end, source) VALUES ($1, now() - interval '8 hours', now(), 'watch')",
        r#"INSERT INTO activities (user_id, "timestamp", activity_type, source, duration_minutes) VALUES ($1, now(), 'walk', 'watch', 30)"#,
        r#"INSERT INTO meals (user_id, "timestamp", source, carbs_grams) VALUES ($1, now(), 'app', 45)"#,
        "INSERT INTO daily_aggregates (user_id, date, reading_count, expected_readings, coverage_percent, sufficient_data) VALUES ($1, current_date, 288, 288, 100, true)",
        "INSERT INTO dirty_days (user_id, local_date) VALUES ($1, current_date)",
        "INSERT INTO correlations (user_id, factor_x, factor_y, lag_days, correlation_coefficient, p_value, q_value, sample_size, confidence_level) VALUES ($1, 'carbs_g', 'mean_glucose', 0, 0.5, 0.01, 0.02, 30, 'high')",
        "INSERT INTO patterns (id, user_id, pattern_type, description) VALUES (gen_random_uuid(), $1, 'discord', 'unusual day')",
        "INSERT INTO tasks (id, user_id, kind) VALUES (gen_random_uuid(), $1, 'full_analysis')",
    ];
    for statement in statements {
        sqlx::query(statement).bind(user).execute(db).await.unwrap();
    }
}

/// Rows belonging to `user` in every table with a `user_id` column (tables added later are covered too), and in users.
async fn rows_of(db: &sqlx::PgPool, user: Uuid) -> Vec<(String, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns
         WHERE column_name = 'user_id' AND table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut counts = Vec::new();
    for table in tables.into_iter().chain(["users".to_owned()]) {
        let column = if table == "users" { "id" } else { "user_id" };
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{table}\" WHERE {column} = $1"))
            .bind(user)
            .fetch_one(db)
            .await
            .unwrap();
        counts.push((table, count));
    }
    counts
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn erasing_an_account_removes_all_its_rows_and_only_its_rows(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let leaving = register(&state, &unique_email()).await;
    let (leaving_id, access) = (user_id(&leaving), token(&leaving, "access_token").to_owned());
    let staying = testing::user(&db, "Europe/Paris").await;
    insert_a_row_everywhere(&db, leaving_id).await;
    insert_a_row_everywhere(&db, staying).await;
    let staying_before = rows_of(&db, staying).await;

    let erased = send(&state, Method::DELETE, "/api/v1/users/me", None, Some(&access)).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT);

    for (table, count) in rows_of(&db, leaving_id).await {
        assert_eq!(count, 0, "{table} still holds rows of the erased user");
    }
    assert_eq!(
        rows_of(&db, staying).await,
        staying_before,
        "another user's rows are untouched"
    );
    assert!(staying_before.iter().filter(|(_, count)| *count > 0).count() >= 12);

    let afterwards = send(&state, Method::GET, "/api/v1/auth/me", None, Some(&access)).await;
    assert_eq!(
        afterwards.status,
        StatusCode::UNAUTHORIZED,
        "the erased user's token no longer works"
    );
    assert_eq!(afterwards.body["code"], "invalid_token");
    let refresh_after = refresh(&state, token(&leaving, "refresh_token")).await;
    assert_eq!(refresh_after.status, StatusCode::UNAUTHORIZED);
}
