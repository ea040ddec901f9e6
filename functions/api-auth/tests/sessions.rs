//! Sessions, sign-out, access-token lifetimes and per-client throttling, through the real router against a fresh
//! PostgreSQL database per test and moto.

use axum::http::{header, Method, StatusCode};
use glucolens_credentials::tokens::{ACCESS_TOKEN_TTL_SECS, CLOCK_SKEW_SECS};
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

mod common;

use common::{register, send, send_from, send_request, unique_email, PASSWORD};

/// Signs in and returns the token pair.
async fn login(state: &AppState, email: &str) -> Value {
    let reply = send(
        state,
        Method::POST,
        "/api/v1/auth/login",
        Some(json!({ "email": email, "password": PASSWORD })),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["tokens"].clone()
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

async fn me(state: &AppState, access_token: &str) -> Reply {
    send(state, Method::GET, "/api/v1/auth/me", None, Some(access_token)).await
}

async fn logout(state: &AppState, access_token: &str, body: Option<Value>) -> Reply {
    send(state, Method::POST, "/api/v1/auth/logout", body, Some(access_token)).await
}

fn text<'a>(tokens: &'a Value, which: &str) -> &'a str {
    tokens[which].as_str().unwrap()
}

fn code(reply: &Reply) -> (StatusCode, Option<&str>) {
    (reply.status, reply.body["code"].as_str())
}

const REVOKED: (StatusCode, Option<&str>) = (StatusCode::UNAUTHORIZED, Some("session_revoked"));
const INVALID_REFRESH: (StatusCode, Option<&str>) = (StatusCode::UNAUTHORIZED, Some("invalid_refresh_token"));

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn logout_ends_the_session_and_its_access_tokens_at_once(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let email = unique_email();
    let phone = register(&state, &email).await["tokens"].clone();
    let laptop = login(&state, &email).await;

    // A refreshed access token belongs to the same session as the one it replaces.
    let phone_next = refresh(&state, text(&phone, "refresh_token")).await;
    assert_eq!(phone_next.status, StatusCode::OK, "{}", phone_next.body);
    let phone_next = phone_next.body;

    let out = logout(&state, text(&phone_next, "access_token"), None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
    assert_eq!(out.body, Value::Null);

    // Both access tokens of the session are refused immediately, not at expiry, and so is its refresh token.
    assert_eq!(code(&me(&state, text(&phone_next, "access_token")).await), REVOKED);
    assert_eq!(code(&me(&state, text(&phone, "access_token")).await), REVOKED);
    assert_eq!(
        code(&refresh(&state, text(&phone_next, "refresh_token")).await),
        INVALID_REFRESH
    );
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL AND rotated_at IS NULL")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(live, 1, "only the laptop's live refresh token is left");

    // The other device stays signed in.
    assert_eq!(me(&state, text(&laptop, "access_token")).await.status, StatusCode::OK);
    let laptop_next = refresh(&state, text(&laptop, "refresh_token")).await;
    assert_eq!(laptop_next.status, StatusCode::OK);

    // Signing out twice: the token's session is over, so the second call is refused like any other request.
    assert_eq!(
        code(&logout(&state, text(&phone_next, "access_token"), None).await),
        REVOKED
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn logout_can_also_end_the_session_of_a_given_refresh_token(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let email = unique_email();
    let first = register(&state, &email).await["tokens"].clone();
    let second = login(&state, &email).await;
    let third = login(&state, &email).await;
    let stranger = register(&state, &unique_email()).await["tokens"].clone();

    let out = logout(
        &state,
        text(&first, "access_token"),
        Some(json!({ "refresh_token": text(&second, "refresh_token") })),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
    for ended in [&first, &second] {
        assert_eq!(code(&me(&state, text(ended, "access_token")).await), REVOKED);
        assert_eq!(
            code(&refresh(&state, text(ended, "refresh_token")).await),
            INVALID_REFRESH
        );
    }
    assert_eq!(me(&state, text(&third, "access_token")).await.status, StatusCode::OK);

    // Another user's refresh token is ignored (and left alone); an unknown one too.
    let out = logout(
        &state,
        text(&third, "access_token"),
        Some(json!({ "refresh_token": text(&stranger, "refresh_token") })),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(me(&state, text(&stranger, "access_token")).await.status, StatusCode::OK);
    assert_eq!(
        refresh(&state, text(&stranger, "refresh_token")).await.status,
        StatusCode::OK
    );
    assert_eq!(code(&me(&state, text(&third, "access_token")).await), REVOKED);

    // A body that is not JSON of the shape is a 400 problem, and nothing is revoked.
    let fourth = login(&state, &email).await;
    let bad = logout(
        &state,
        text(&fourth, "access_token"),
        Some(json!({ "refresh_token": 42 })),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert_eq!(bad.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(me(&state, text(&fourth, "access_token")).await.status, StatusCode::OK);
    let empty_object = logout(&state, text(&fourth, "access_token"), Some(json!({}))).await;
    assert_eq!(empty_object.status, StatusCode::NO_CONTENT);
    assert_eq!(code(&me(&state, text(&fourth, "access_token")).await), REVOKED);

    // Without a bearer token there is nothing to sign out of.
    let anonymous = send(&state, Method::POST, "/api/v1/auth/logout", None, None).await;
    assert_eq!(code(&anonymous), (StatusCode::UNAUTHORIZED, Some("missing_token")));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn refresh_token_reuse_also_revokes_the_sessions_access_tokens(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let first = register(&state, &unique_email()).await["tokens"].clone();
    let second = refresh(&state, text(&first, "refresh_token")).await.body;
    assert_eq!(me(&state, text(&second, "access_token")).await.status, StatusCode::OK);

    let reused = refresh(&state, text(&first, "refresh_token")).await;
    assert_eq!(code(&reused), (StatusCode::UNAUTHORIZED, Some("refresh_token_reused")));
    assert_eq!(code(&me(&state, text(&second, "access_token")).await), REVOKED);
    assert_eq!(code(&me(&state, text(&first, "access_token")).await), REVOKED);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_successor_minted_while_signing_out_is_refused_too(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let tokens = register(&state, &unique_email()).await["tokens"].clone();
    // As if a refresh had committed its successor after the sign-out's UPDATE took its snapshot: one row of the
    // family is revoked, a live one is not. The family still counts as ended.
    let next = refresh(&state, text(&tokens, "refresh_token")).await.body;
    sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE rotated_at IS NOT NULL")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        code(&refresh(&state, text(&next, "refresh_token")).await),
        INVALID_REFRESH
    );
    assert_eq!(code(&me(&state, text(&next, "access_token")).await), REVOKED);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn tokens_with_an_implausible_lifetime_are_invalid(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let id: Uuid = register(&state, &unique_email()).await["user"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let year_3000 = 32_503_680_000;
    let cases = [
        ("exp in year 3000", state.tokens.issue_with_times(id, now, year_3000)),
        (
            "iat in the future",
            state.tokens.issue_at(id, now + CLOCK_SKEW_SECS + 60),
        ),
        (
            "lifetime over the TTL",
            state
                .tokens
                .issue_with_times(id, now - 60, now - 60 + ACCESS_TOKEN_TTL_SECS + 1),
        ),
    ];
    for (what, token) in cases {
        let reply = me(&state, &token.access_token).await;
        assert_eq!(
            code(&reply),
            (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            "{what}"
        );
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json");
    }
    // Within the skew, and session-less tokens from internal callers, still work.
    assert_eq!(
        me(&state, &state.tokens.issue_at(id, now + 30).access_token)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        me(&state, &state.tokens.issue(id).access_token).await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn registration_and_login_are_throttled_per_client_address(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let client = Some("203.0.113.50");
    testing::rate_window_with_room(&db).await;
    // Every attempt counts, invalid ones too; registration and login share the limit. Different emails, so the
    // per-email login limit never applies.
    for attempt in 0..api_auth::AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE {
        let reply = if attempt % 2 == 0 {
            send_from(
                &state,
                Method::POST,
                "/api/v1/auth/register",
                Some(json!({ "email": "nope" })),
                None,
                client,
            )
            .await
        } else {
            let body = json!({ "email": unique_email(), "password": "wrong password" });
            send_from(&state, Method::POST, "/api/v1/auth/login", Some(body), None, client).await
        };
        assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS, "attempt {attempt}");
    }
    for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
        let body = json!({ "email": unique_email(), "password": PASSWORD });
        let limited = send_from(&state, Method::POST, path, Some(body), None, client).await;
        assert_eq!(
            limited.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{path}: {}",
            limited.body
        );
        assert_eq!(limited.headers[header::CONTENT_TYPE], "application/problem+json");
        let retry_after: u64 = limited.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
    }
    let created: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(created, 0, "a throttled registration creates nothing");

    // Another address, behind the same proxy (only the last hop counts), is unaffected.
    let other = send_from(
        &state,
        Method::POST,
        "/api/v1/auth/register",
        Some(json!({ "email": unique_email(), "password": PASSWORD })),
        None,
        Some("203.0.113.50, 198.51.100.4"),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);

    let buckets: Vec<String> = sqlx::query_scalar("SELECT bucket FROM rate_limit_windows")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(
        buckets
            .iter()
            .all(|b| !b.contains("203.0.113") && !b.contains("198.51")),
        "addresses never stored in clear"
    );
}

/// Behind API Gateway the source address counts, whatever `X-Forwarded-For` a client makes up.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn behind_api_gateway_the_source_address_counts_not_forwarded_headers(db: sqlx::PgPool) {
    let state = testing::state(db).await;
    let mut event: Value = serde_json::from_str(include_str!("../../../events/api-auth-register.json")).unwrap();
    event["requestContext"]["http"]["sourceIp"] = "192.0.2.77".into();
    event["body"] = json!({ "email": "not-an-email", "password": "x" }).to_string().into();
    testing::rate_window_with_room(&state.db).await;
    for attempt in 0..=api_auth::AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE {
        event["headers"]["x-forwarded-for"] = format!("10.0.0.{attempt}").into();
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let reply = send_request(&state, request).await;
        let expected = if attempt < api_auth::AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(reply.status, expected, "attempt {attempt}: {}", reply.body);
    }
    event["requestContext"]["http"]["sourceIp"] = "192.0.2.78".into();
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    assert_eq!(
        send_request(&state, request).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[test]
fn the_openapi_document_describes_logout_and_the_client_limit() {
    let document = serde_json::to_value(api_auth::openapi()).unwrap();
    let logout = &document["paths"]["/api/v1/auth/logout"]["post"];
    assert!(logout["responses"]["204"].is_object(), "{logout}");
    assert_eq!(logout["security"], json!([{ "bearer": [] }]));
    assert_ne!(
        logout["requestBody"]["required"],
        json!(true),
        "the body is optional: {logout}"
    );
    for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
        let limited = &document["paths"][path]["post"]["responses"]["429"];
        assert!(limited["headers"]["Retry-After"].is_object(), "{path}: {limited}");
    }
}
