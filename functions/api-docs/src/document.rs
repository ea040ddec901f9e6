//! This function's part of the OpenAPI 3.1 document: the document's info, servers and default security, the meta
//! routes, the bearer security scheme and the problem+json error schema shared by all. `glucolens openapi` merges
//! it with every API function's own part into `openapi.json`, which this function serves.

use glucolens_domain::FieldError;
use glucolens_web::problem::Problem;
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
        glucolens_web::openapi::add_bearer_scheme(openapi);
    }
}

/// This function's part of the document; `glucolens openapi` merges every API function's part into it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    DocsApi::openapi()
}
