//! Middleware every API router gets (see [`super::with_api_layers`]):
//! - [`retry_on_contention`]: a request whose transaction the database aborted to resolve a deadlock or a
//!   serialization conflict is run again a few times before the client sees a 503;
//! - [`problem_for_bare_errors`]: error responses produced outside our handlers (the router's 405, a body-limit or
//!   path rejection) become problem documents too, so a client only ever parses one error format.

use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::{ContentionMarker, Problem};
use super::{ApiError, MAX_BODY_BYTES};

/// Runs after the first attempt when the database reported contention; then the 503 (with `Retry-After`) stands.
const CONTENTION_RETRIES: u32 = 3;

/// Retries a request the database rolled back for contention (40P01, 40001). Every write runs in one transaction,
/// so a rolled-back attempt wrote nothing and running it again is safe; writes are idempotent by natural key.
pub async fn retry_on_contention(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    // The body limit applies here already, so a retried request never holds more than one limit's worth.
    let bytes = match to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::PayloadTooLarge {
                limit_bytes: MAX_BODY_BYTES,
            }
            .into_response()
        }
    };
    let mut attempt = 0;
    loop {
        let request = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        let response = next.clone().run(request).await;
        if response.extensions().get::<ContentionMarker>().is_none() || attempt == CONTENTION_RETRIES {
            return response;
        }
        attempt += 1;
        tracing::info!(attempt, "retrying a request aborted by database contention");
        // Staggered so that two colliding requests do not collide again: 20, 40, 80 ms plus up to 20 ms of jitter.
        let jitter = u64::from(rand::random::<u8>() % 20);
        tokio::time::sleep(Duration::from_millis(10 * (1 << attempt) + jitter)).await;
    }
}

/// Longest piece of a framework rejection's text quoted in the problem's `detail`.
const MAX_QUOTED_DETAIL: usize = 200;

/// Turns an error response that is not already JSON (axum's 405 with an empty body, its text/plain rejections) into
/// a problem document with the same status and headers (e.g. `Allow`).
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .unwrap_or_default();
    let problem = bare_problem(status, text.trim());
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(serde_json::to_vec(&problem).unwrap_or_default()))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"))
}

fn bare_problem(status: StatusCode, text: &str) -> Problem {
    let (code, title, default_detail) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "Bad request", "the request could not be understood"),
        StatusCode::NOT_FOUND => ("not_found", "Not found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "Method not allowed",
            "this path does not accept this method; see the Allow header",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "Payload too large",
            "the request body is too large",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as application/json",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("validation_failed", "Invalid input", "the request is invalid"),
        s if s.is_server_error() => (
            "internal_error",
            "Internal server error",
            "an unexpected error occurred",
        ),
        _ => ("request_failed", "Request failed", "the request failed"),
    };
    // Server-side text is never passed on; a client error's text (a framework rejection) says what to fix.
    let detail = if text.is_empty() || status.is_server_error() {
        default_detail.to_owned()
    } else {
        glucolens_domain::rules::shorten(text, MAX_QUOTED_DETAIL)
    };
    Problem {
        problem_type: format!("urn:glucolens:problem:{code}"),
        title,
        status: status.as_u16(),
        detail,
        code,
        errors: Vec::new(),
        error_count: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_errors_keep_their_status_and_quote_little() {
        let long = "x".repeat(10_000);
        let problem = bare_problem(StatusCode::BAD_REQUEST, &long);
        assert_eq!((problem.status, problem.code), (400, "bad_request"));
        assert!(problem.detail.chars().count() <= MAX_QUOTED_DETAIL + 1);
        let hidden = bare_problem(StatusCode::BAD_GATEWAY, "upstream said password=hunter2");
        assert!(!hidden.detail.contains("hunter2"));
        assert_eq!(
            bare_problem(StatusCode::METHOD_NOT_ALLOWED, "").code,
            "method_not_allowed"
        );
    }
}
