//! The whole API's OpenAPI 3.1 document: this function's routes plus every API function's own part, with the
//! bearer security scheme and the problem+json error schema shared by all.

use glucolens_core::domain::FieldError;
use glucolens_core::http::problem::Problem;
use utoipa::{Modify, OpenApi};

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
        // Operations that name no scheme inherit this one from the document; public ones opt out.
        glucolens_core::http::openapi::add_bearer_scheme(openapi);
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
