//! OpenAPI pieces every API function's part of the document shares: the bearer security scheme and the
//! problem+json error responses.
//!
//! Every operation documents its error responses the same way: a type declared with [`problem_responses!`](crate::problem_responses)
//! (listing `(status, description)` pairs, the common ones from the constants below) named in its
//! `#[utoipa::path(responses(...))]`. Each response is `application/problem+json` with a `$ref` to the
//! [`Problem`] schema, and carries the headers [`ApiError`](super::ApiError) sends with that status
//! (`Retry-After` on 429 and 503, `WWW-Authenticate` on 401).

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use super::problem::Problem;
use glucolens_domain::FieldError;

/// The security scheme every authenticated operation names.
pub const BEARER_SCHEME: &str = "bearer";

/// One problem response an operation can give: its status and what it means for that operation.
pub type Described = (&'static str, &'static str);

/// The body is not JSON of the expected shape.
pub const MALFORMED_BODY: Described = (
    "400",
    "The body is not JSON of the expected shape (`malformed_json`, `unsupported_media_type`)",
);
/// The bearer token is missing or not valid (the authenticated-user extractor).
pub const UNAUTHORIZED: Described = ("401", "Missing, invalid or expired access token");
/// The body exceeds [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES).
pub const PAYLOAD_TOO_LARGE: Described = (
    "413",
    "The body exceeds 5,000,000 bytes; split the upload (the message states the limit)",
);
/// The per-user rate limit every authenticated request counts against.
pub const RATE_LIMITED: Described = ("429", "Over the per-user rate limit; see `Retry-After`");
/// The database (or another dependency the operation names) is unreachable or busy.
pub const UNAVAILABLE: Described = (
    "503",
    "The database is unreachable or busy (`database_unavailable`, `database_busy`); retry after `Retry-After`",
);

/// Declares a type whose [`utoipa::IntoResponses`] are the given problem responses, for an operation's
/// `#[utoipa::path(responses(..., Type))]`:
///
/// ```ignore
/// glucolens_web::problem_responses! {
///     /// What reading the readings can answer besides 200.
///     ReadProblems = [openapi::UNAUTHORIZED, ("404", "No such thing"), openapi::RATE_LIMITED]
/// }
/// ```
#[macro_export]
macro_rules! problem_responses {
    ($($(#[$attr:meta])* $vis:vis $name:ident = [$($problem:expr),* $(,)?]);+ $(;)?) => {
        $(
            $(#[$attr])*
            $vis struct $name;

            impl ::utoipa::IntoResponses for $name {
                fn responses() -> ::std::collections::BTreeMap<
                    ::std::string::String,
                    ::utoipa::openapi::RefOr<::utoipa::openapi::response::Response>,
                > {
                    $crate::openapi::problem_responses(&[$($problem),*])
                }
            }
        )+
    };
}

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

/// Declares the [`Problem`] schema (and the [`FieldError`] it lists) that [`problem_responses`] refer to.
pub fn add_problem_schemas(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(Problem::name().into_owned(), Problem::schema());
    components
        .schemas
        .insert(FieldError::name().into_owned(), FieldError::schema());
}

/// What every API function's part of the document declares: [`add_bearer_scheme`] and [`add_problem_schemas`].
pub fn add_shared_components(api: &mut OpenApi) {
    add_bearer_scheme(api);
    add_problem_schemas(api);
}

/// `application/problem+json` responses, one per `(status, description)`, each with the headers sent with it.
pub fn problem_responses(described: &[Described]) -> BTreeMap<String, RefOr<Response>> {
    described
        .iter()
        .map(|(status, description)| {
            let mut response = ResponseBuilder::new().description(*description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(Problem::name())))
                    .build(),
            );
            match *status {
                "429" | "503" => {
                    response = response.header(
                        "Retry-After",
                        HeaderBuilder::new()
                            .schema(u64::schema())
                            .description(Some("Seconds to wait"))
                            .build(),
                    );
                }
                "401" => {
                    response = response.header(
                        "WWW-Authenticate",
                        HeaderBuilder::new()
                            .schema(String::schema())
                            .description(Some("`Bearer`"))
                            .build(),
                    );
                }
                _ => {}
            }
            ((*status).to_owned(), RefOr::T(response.build()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::problem_responses! {
        Declared = [UNAUTHORIZED, ("404", "No such thing"), RATE_LIMITED, UNAVAILABLE]
    }

    #[test]
    fn declared_problems_refer_to_the_problem_schema_with_their_headers() {
        let responses = serde_json::to_value(<Declared as utoipa::IntoResponses>::responses()).unwrap();
        let statuses: Vec<&String> = responses.as_object().unwrap().keys().collect();
        assert_eq!(statuses, ["401", "404", "429", "503"]);
        for status in ["401", "404", "429", "503"] {
            assert_eq!(
                responses[status]["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem"
            );
        }
        assert_eq!(responses["404"]["description"], "No such thing");
        assert!(responses["429"]["headers"]["Retry-After"].is_object());
        assert!(responses["503"]["headers"]["Retry-After"].is_object());
        assert!(responses["401"]["headers"]["WWW-Authenticate"].is_object());
        assert!(responses["404"].get("headers").is_none());
    }

    #[test]
    fn shared_components_declare_the_problem_schema_and_bearer_scheme() {
        let mut api = OpenApi::default();
        add_shared_components(&mut api);
        let document = serde_json::to_value(&api).unwrap();
        assert!(document["components"]["schemas"]["Problem"].is_object());
        assert!(document["components"]["schemas"]["FieldError"].is_object());
        assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    }
}
