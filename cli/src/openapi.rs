//! `glucolens openapi`: writes the whole API's OpenAPI document (`functions/api-docs/openapi.json`, which the docs
//! function serves) from every API function's own part, so the docs function links none of them and the served
//! document cannot drift from the code (the test below fails when the committed file is out of date).

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The document to update in place.
    #[arg(long, default_value = "functions/api-docs/openapi.json")]
    pub file: PathBuf,
    /// Print the document instead of writing the file.
    #[arg(long)]
    pub stdout: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let rendered = render()?;
    if args.stdout {
        print!("{rendered}");
        return Ok(());
    }
    let current = std::fs::read_to_string(&args.file).unwrap_or_default();
    if rendered != current {
        std::fs::write(&args.file, rendered)?;
        println!("{}: OpenAPI document updated", args.file.display());
    } else {
        println!("{}: OpenAPI document already up to date", args.file.display());
    }
    Ok(())
}

/// The merged document of every API function: the docs function's part (info, servers, default security, meta
/// routes) with each API function's part merged into it.
pub fn document() -> utoipa::openapi::OpenApi {
    let parts = [
        api_auth::openapi(),
        api_ingestion::openapi(),
        api_retrieval::openapi(),
        api_insights::openapi(),
        api_tasks::openapi(),
        api_nightscout::openapi(),
        api_imports::openapi(),
        api_reports::openapi(),
    ];
    parts.into_iter().fold(api_docs::openapi(), |mut document, part| {
        document.merge(part);
        document
    })
}

/// [`document`] as the pretty JSON text of `openapi.json`, ending with a newline.
pub fn render() -> anyhow::Result<String> {
    Ok(document().to_pretty_json()? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_openapi_document_matches_the_functions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/api-docs/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap();
        assert!(
            render().unwrap() == committed,
            "functions/api-docs/openapi.json is out of date with the functions' annotations: run \
             `cargo run -p glucolens-cli -- openapi`"
        );
        assert!(
            committed == api_docs::DOCUMENT_JSON,
            "the docs function serves the committed file"
        );
    }

    #[test]
    fn every_route_is_documented_with_its_problems() {
        let document = serde_json::to_value(document()).unwrap();
        for route in glucolens_web::routes::ROUTES {
            let operation = &document["paths"][route.path][route.method.to_lowercase()];
            assert!(operation.is_object(), "{} {} is undocumented", route.method, route.path);
            let responses = operation["responses"].as_object().unwrap();
            // Nightscout clients speak their own protocol: its errors are not documented as problems.
            if route.function == glucolens_web::routes::Function::Nightscout {
                continue;
            }
            for (status, response) in responses.iter().filter(|(status, _)| status.as_str() >= "400") {
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{} {} {status}",
                    route.method, route.path
                );
            }
        }
    }
}
