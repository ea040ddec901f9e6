//! What the account tests share: sending a request through the real router (JSON body, bearer token, client
//! address) and registering a fresh account.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use axum::http::{header, Method, StatusCode};
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

pub async fn send_request(state: &AppState, request: lambda_http::Request) -> Reply {
    testing::respond(api_auth::router(state.clone()), request).await
}

/// Sends a request; `forwarded_for` sets `X-Forwarded-For` (the client address when no gateway or peer is known).
pub async fn send_from(
    state: &AppState,
    method: Method,
    path: &str,
    body: Option<Value>,
    access_token: Option<&str>,
    forwarded_for: Option<&str>,
) -> Reply {
    let mut builder = http::Request::builder().method(method).uri(path);
    if let Some(token) = access_token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(address) = forwarded_for {
        builder = builder.header("x-forwarded-for", address);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            lambda_http::Body::from(json.to_string())
        }
        None => lambda_http::Body::Empty,
    };
    send_request(state, builder.body(body).unwrap()).await
}

pub async fn send(
    state: &AppState,
    method: Method,
    path: &str,
    body: Option<Value>,
    access_token: Option<&str>,
) -> Reply {
    send_from(state, method, path, body, access_token, None).await
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", Uuid::new_v4().simple())
}

pub async fn register(state: &AppState, email: &str) -> Value {
    let reply = send(
        state,
        Method::POST,
        "/api/v1/auth/register",
        Some(json!({ "email": email, "password": PASSWORD })),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}
