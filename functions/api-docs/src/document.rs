//! The whole API's OpenAPI 3.1 document: this function's routes plus every API function's own part, with the
//! bearer security scheme and the problem+json error schema shared by all.

use glucolens_core::domain::FieldError;
use glucolens_core::http::problem::Problem;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The security scheme every authenticated operation names. Operations that name none inherit it from the
/// document; public ones (sign-in, health, docs) opt out with an empty requirement.
pub const BEARER_SCHEME: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "GlucoLens API",
        description = "CGM readings, sleep, activity and meals in; daily summaries, correlations, patterns and \
            recommendations out. Errors are RFC 9457 `application/problem+json` documents with a stable `code`.",
    ),
    servers((url = "/")),
    paths(super::health, super::openapi_json, super::docs_page),
    components(schemas(Problem, FieldError)),
    security(("bearer" = [])),
    tags((name = "meta", description = "Health and documentation")),
    modifiers(&BearerScheme)
)]
struct DocsApi;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
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
}

/// The merged document of every API function.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let parts = [
        api_auth::openapi(),
        api_ingestion::openapi(),
        api_retrieval::openapi(),
        api_insights::openapi(),
        api_tasks::openapi(),
        api_nightscout::openapi(),
        api_imports::openapi(),
    ];
    parts.into_iter().fold(DocsApi::openapi(), |mut document, part| {
        document.merge(part);
        document
    })
}
