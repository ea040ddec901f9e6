//! Text PostgreSQL cannot store in an email: register and login answer 422 `invalid_text` naming `email`, without
//! the address reaching the database. Never a 500.

use axum::http::StatusCode;
use glucolens_testing as testing;
use glucolens_web::AppState;
use serde_json::{json, Value};

async fn post(state: &AppState, path: &str, body: Value) -> (StatusCode, Value) {
    let request = testing::json_request("POST", path, None, &body);
    let reply = testing::respond(api_auth::router(state.clone()), request).await;
    (reply.status, reply.body)
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_nul_in_the_email_is_422_on_register_and_login(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let password = "correct horse battery";
    for email in ["ana\u{0}@example.com", "ana@exa\u{0}mple.com", "\u{0}"] {
        let (status, body) = post(
            &state,
            "/api/v1/auth/register",
            json!({ "email": email, "password": password }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(
            (&errors[0]["field"], &errors[0]["code"]),
            (&json!("email"), &json!("invalid_text"))
        );

        let (status, body) = post(
            &state,
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "email", "{body}");
        assert_eq!(body["errors"][0]["code"], "invalid_text", "{body}");
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(users, 0);
}
