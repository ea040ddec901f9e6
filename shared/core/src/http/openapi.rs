//! OpenAPI pieces every API function's part of the document shares: the bearer security scheme and the
//! problem+json error responses.

use std::collections::BTreeMap;

use utoipa::openapi::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};
use utoipa::PartialSchema;

use super::problem::Problem;

/// The security scheme every authenticated operation names.
pub const BEARER_SCHEME: &str = "bearer";

/// Declares [`BEARER_SCHEME`] (a JWT access token) in `api`'s components.
pub fn add_bearer_scheme(api: &mut OpenApi) {
    api.components.get_or_insert_with(Default::default).add_security_scheme(
        BEARER_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("Access token from POST /api/v1/auth/login (15 minutes)"))
                .build(),
        ),
    );
}

/// `application/problem+json` responses, one per `(status, description)`.
pub fn problem_responses(described: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    described
        .iter()
        .map(|(status, description)| {
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Problem::schema())).build(),
                )
                .build();
            ((*status).to_owned(), RefOr::T(response))
        })
        .collect()
}
