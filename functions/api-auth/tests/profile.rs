//! The account under the design's names (`timezone`, `target_glucose_min`, `target_glucose_max`) and its profile
//! (`full_name`, `date_of_birth`, `diabetes_type`): registration under the design's names and the earlier aliases,
//! setting, changing and clearing each profile field, every invalid field at once, and only ever the caller's
//! account. Through the real router against a fresh PostgreSQL database per test.

use axum::http::{Method, StatusCode};
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};

mod common;

use common::{register, send, unique_email, PASSWORD};

async fn register_with(state: &AppState, fields: Value) -> Reply {
    let mut body = json!({ "email": unique_email(), "password": PASSWORD });
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    send(state, Method::POST, "/api/v1/auth/register", Some(body), None).await
}

fn access(session: &Value) -> &str {
    session["tokens"]["access_token"].as_str().unwrap()
}

async fn me(state: &AppState, access_token: &str) -> Value {
    let reply = send(state, Method::GET, "/api/v1/auth/me", None, Some(access_token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn patch(state: &AppState, access_token: &str, body: Value) -> Reply {
    send(state, Method::PATCH, "/api/v1/users/me", Some(body), Some(access_token)).await
}

/// `(field, code)` of every error of a 422.
fn errors(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The account's fields other than its identity and timestamps.
fn settings_and_profile(user: &Value) -> Value {
    let mut user = user.clone();
    for key in ["id", "email", "created_at", "updated_at"] {
        user.as_object_mut().unwrap().remove(key);
    }
    user
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn registration_takes_the_design_names_and_the_earlier_aliases_alike(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let design = register_with(
        &state,
        json!({
            "timezone": "Asia/Kolkata", "target_glucose_min": 80, "target_glucose_max": 160,
            "full_name": "  Ana Example ", "date_of_birth": "1990-04-21", "diabetes_type": "type1"
        }),
    )
    .await;
    assert_eq!(design.status, StatusCode::CREATED, "{}", design.body);
    let user = &design.body["user"];
    assert_eq!(
        settings_and_profile(user),
        json!({
            "timezone": "Asia/Kolkata", "display_unit": "mg/dL", "target_glucose_min": 80.0,
            "target_glucose_max": 160.0, "full_name": "Ana Example", "date_of_birth": "1990-04-21",
            "diabetes_type": "type1"
        })
    );
    for old_name in ["time_zone", "target_low", "target_high"] {
        assert!(user.get(old_name).is_none(), "{old_name} is no longer answered");
    }
    assert_eq!(
        me(&state, access(&design.body)).await,
        *user,
        "GET /auth/me shows the same"
    );
    let stored: (
        String,
        f64,
        f64,
        Option<String>,
        Option<chrono::NaiveDate>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT timezone, target_glucose_min::float8, target_glucose_max::float8, full_name, date_of_birth,
                diabetes_type
         FROM users WHERE id = $1::uuid",
    )
    .bind(user["id"].as_str().unwrap())
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            "Asia/Kolkata".to_owned(),
            80.0,
            160.0,
            Some("Ana Example".to_owned()),
            chrono::NaiveDate::from_ymd_opt(1990, 4, 21),
            Some("type1".to_owned())
        )
    );

    let aliases = register_with(
        &state,
        json!({ "time_zone": "Asia/Kolkata", "target_low": 80, "target_high": 160, "full_name": null }),
    )
    .await;
    assert_eq!(aliases.status, StatusCode::CREATED, "{}", aliases.body);
    assert_eq!(
        settings_and_profile(&aliases.body["user"]),
        json!({
            "timezone": "Asia/Kolkata", "display_unit": "mg/dL", "target_glucose_min": 80.0,
            "target_glucose_max": 160.0, "full_name": null, "date_of_birth": null, "diabetes_type": null
        })
    );

    let both = register_with(&state, json!({ "timezone": "UTC", "time_zone": "UTC" })).await;
    assert_eq!(
        both.status,
        StatusCode::BAD_REQUEST,
        "one field under two names: {}",
        both.body
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn an_invalid_profile_at_registration_is_422_and_creates_nothing(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let reply = register_with(
        &state,
        json!({
            "timezone": "Mars/Olympus", "full_name": "Ana\u{0}", "date_of_birth": "21/04/1990",
            "diabetes_type": "Type 1"
        }),
    )
    .await;
    assert_eq!(
        errors(&reply),
        [
            ("timezone".to_owned(), "invalid_time_zone".to_owned()),
            ("full_name".to_owned(), "invalid_text".to_owned()),
            ("date_of_birth".to_owned(), "invalid_date".to_owned()),
            ("diabetes_type".to_owned(), "invalid_choice".to_owned()),
        ]
    );
    let reason = reply.body["errors"][3]["reason"].as_str().unwrap();
    assert!(
        reason.contains("type1, type2, prediabetes, gestational, other"),
        "{reason}"
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn patch_sets_changes_and_clears_each_profile_field(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let session = register(&state, &unique_email()).await;
    let token = access(&session);
    let fresh = me(&state, token).await;
    for field in ["full_name", "date_of_birth", "diabetes_type"] {
        assert_eq!(fresh[field], Value::Null, "{field} is null until set");
    }

    let set = patch(
        &state,
        token,
        json!({ "full_name": "Ana", "date_of_birth": "1985-12-01", "diabetes_type": "type2" }),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        (
            &set.body["full_name"],
            &set.body["date_of_birth"],
            &set.body["diabetes_type"]
        ),
        (&json!("Ana"), &json!("1985-12-01"), &json!("type2"))
    );

    // Each field changes alone; the others (and the settings) stay.
    let mut expected = set.body.clone();
    for (field, value) in [
        ("full_name", json!("Ana María Example")),
        ("date_of_birth", json!("1900-01-01")),
        ("diabetes_type", json!("gestational")),
    ] {
        let changed = patch(&state, token, json!({ field: value })).await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        expected[field] = value;
        assert_eq!(settings_and_profile(&changed.body), settings_and_profile(&expected));
    }
    let kept = patch(&state, token, json!({ "timezone": "Europe/Paris" })).await;
    expected["timezone"] = json!("Europe/Paris");
    assert_eq!(
        settings_and_profile(&kept.body),
        settings_and_profile(&expected),
        "absent fields stay"
    );

    // `null` clears one field at a time.
    for field in ["full_name", "date_of_birth", "diabetes_type"] {
        let cleared = patch(&state, token, json!({ field: null })).await;
        assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
        expected[field] = Value::Null;
        assert_eq!(
            settings_and_profile(&cleared.body),
            settings_and_profile(&expected),
            "{field}"
        );
    }
    assert_eq!(
        settings_and_profile(&me(&state, token).await),
        settings_and_profile(&expected)
    );

    for kind in ["type1", "type2", "prediabetes", "gestational", "other"] {
        let reply = patch(&state, token, json!({ "diabetes_type": kind })).await;
        assert_eq!(reply.body["diabetes_type"], kind, "{}", reply.body);
    }
    let today = chrono::Utc::now().date_naive().to_string();
    let newborn = patch(&state, token, json!({ "date_of_birth": today })).await;
    assert_eq!(newborn.body["date_of_birth"], today.as_str(), "today is accepted");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn invalid_values_are_422_naming_each_field_and_change_nothing(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let session = register_with(
        &state,
        json!({ "full_name": "Ana", "date_of_birth": "1990-04-21", "diabetes_type": "type1" }),
    )
    .await;
    let token = access(&session.body);
    let before = me(&state, token).await;

    let everything = patch(
        &state,
        token,
        json!({
            "time_zone": "Nowhere/Special", "target_glucose_min": 30, "full_name": " \t ",
            "date_of_birth": "1899-12-31", "diabetes_type": "type3"
        }),
    )
    .await;
    assert_eq!(
        errors(&everything),
        [
            ("timezone".to_owned(), "invalid_time_zone".to_owned()),
            ("target_glucose_min".to_owned(), "invalid_target_range".to_owned()),
            ("full_name".to_owned(), "empty".to_owned()),
            ("date_of_birth".to_owned(), "out_of_range".to_owned()),
            ("diabetes_type".to_owned(), "invalid_choice".to_owned()),
        ]
    );
    let far_future = (chrono::Utc::now() + chrono::Duration::days(3))
        .date_naive()
        .to_string();
    for (body, expected) in [
        (json!({ "full_name": "A".repeat(256) }), ("full_name", "too_long")),
        (json!({ "full_name": "A\u{0}" }), ("full_name", "invalid_text")),
        (
            json!({ "date_of_birth": far_future }),
            ("date_of_birth", "out_of_range"),
        ),
        (
            json!({ "date_of_birth": "1990-02-30" }),
            ("date_of_birth", "invalid_date"),
        ),
        // A valid profile field does not go through when another field is invalid.
        (
            json!({ "full_name": "Bea", "diabetes_type": "" }),
            ("diabetes_type", "invalid_choice"),
        ),
    ] {
        let reply = patch(&state, token, body).await;
        assert_eq!(errors(&reply), [(expected.0.to_owned(), expected.1.to_owned())]);
    }
    let malformed = patch(&state, token, json!({ "date_of_birth": 19900421 })).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{}", malformed.body);

    assert_eq!(me(&state, token).await, before, "nothing changed, not even updated_at");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn patch_changes_only_the_callers_account(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let profile = json!({ "full_name": "Ana", "date_of_birth": "1990-04-21", "diabetes_type": "type1" });
    let ana = register_with(&state, profile.clone()).await;
    let bea = register_with(&state, profile).await;
    let bea_before = me(&state, access(&bea.body)).await;

    let changed = patch(
        &state,
        access(&ana.body),
        json!({
            "full_name": "Ana Changed", "date_of_birth": null, "diabetes_type": "other", "timezone": "Asia/Tokyo"
        }),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["id"], ana.body["user"]["id"]);
    assert_eq!(changed.body["full_name"], "Ana Changed");

    assert_eq!(
        me(&state, access(&bea.body)).await,
        bea_before,
        "another user's account is untouched"
    );
    let names: Vec<Option<String>> = sqlx::query_scalar("SELECT full_name FROM users ORDER BY full_name")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(names, [Some("Ana".to_owned()), Some("Ana Changed".to_owned())]);
}
