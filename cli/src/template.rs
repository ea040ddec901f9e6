//! `glucolens template`: writes each HTTP function's API Gateway route events in `template.yaml` from the one route
//! table (`glucolens_web::routes::ROUTES`), so the deployed API and `glucolens serve` cannot drift apart.

use std::path::PathBuf;

use glucolens_web::routes::{Route, ROUTES};

#[derive(clap::Args)]
pub struct Args {
    /// The SAM template to update in place.
    #[arg(long, default_value = "template.yaml")]
    pub file: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let current = std::fs::read_to_string(&args.file)?;
    let rendered = render(&current)?;
    if rendered != current {
        std::fs::write(&args.file, rendered)?;
        println!("{}: route events updated", args.file.display());
    } else {
        println!("{}: route events already up to date", args.file.display());
    }
    Ok(())
}

const BEGIN: &str = "# routes:begin ";
const END: &str = "# routes:end";

/// Replaces the lines between every `# routes:begin <FunctionId>` and `# routes:end` marker with that function's
/// `HttpApi` events.
pub fn render(template: &str) -> anyhow::Result<String> {
    let mut output = String::with_capacity(template.len());
    let mut lines = template.split_inclusive('\n');
    while let Some(line) = lines.next() {
        output.push_str(line);
        let Some(marker) = line.trim_start().strip_prefix(BEGIN) else {
            continue;
        };
        let function_id = marker.split_whitespace().next().unwrap_or_default();
        let indent = &line[..line.len() - line.trim_start().len()];
        let routes: Vec<&Route> = ROUTES
            .iter()
            .filter(|r| r.function.template_id() == function_id)
            .collect();
        anyhow::ensure!(
            !routes.is_empty(),
            "template.yaml names {function_id}, which serves no route"
        );
        for route in routes {
            output.push_str(&event(indent, route));
        }
        let end = lines.by_ref().find(|l| l.trim_start().starts_with(END));
        let end = end.ok_or_else(|| anyhow::anyhow!("`{BEGIN}{function_id}` has no `{END}`"))?;
        output.push_str(end);
    }
    Ok(output)
}

fn event(indent: &str, route: &Route) -> String {
    format!(
        "{indent}{name}:\n{indent}  Type: HttpApi\n{indent}  Properties:\n{indent}    ApiId: !Ref HttpApi\n\
         {indent}    Path: {path}\n{indent}    Method: {method}\n",
        name = event_name(route),
        path = route.path,
        method = route.method,
    )
}

/// `GET /api/v1/tasks/status/{task_id}` → `GetApiV1TasksStatusTaskId` (CloudFormation wants alphanumeric names).
fn event_name(route: &Route) -> String {
    let mut name = String::new();
    for word in std::iter::once(route.method).chain(route.path.split(|c: char| !c.is_ascii_alphanumeric())) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_yaml_routes_match_the_route_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        let template = std::fs::read_to_string(path).unwrap();
        assert!(
            render(&template).unwrap() == template,
            "template.yaml is out of date with ROUTES: run `cargo run -p glucolens-cli -- template`"
        );
        for route in ROUTES {
            assert!(
                template.contains(&format!("Path: {}\n", route.path)),
                "{} missing",
                route.path
            );
        }
    }

    /// The lines of resource `id` of `template`, each ending with a newline.
    fn resource(template: &str, id: &str) -> String {
        let header = format!("  {id}:");
        let lines = template.lines().skip_while(|line| *line != header).skip(1);
        let body: Vec<&str> = lines
            .take_while(|line| line.is_empty() || line.starts_with("    "))
            .collect();
        assert!(!body.is_empty(), "{id} missing");
        body.iter().map(|line| format!("{line}\n")).collect()
    }

    #[test]
    fn the_auth_function_may_write_exports_to_the_bucket_and_they_expire() {
        use glucolens_aws::storage::{BUCKET_ENV, EXPORT_PREFIX};
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        let template = std::fs::read_to_string(path).unwrap();
        let auth = resource(&template, "AuthFunction");
        assert!(
            auth.contains(&format!("{BUCKET_ENV}: !Sub \"glucolens-imports-")),
            "{auth}"
        );
        for action in ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"] {
            assert!(auth.contains(&format!("- {action}\n")), "{action} missing: {auth}");
        }
        assert!(auth.contains(&format!("/{EXPORT_PREFIX}*\"")), "{auth}");
        let bucket = resource(&template, "ImportBucket");
        let rule = &bucket[bucket
            .find(&format!("Prefix: {EXPORT_PREFIX}\n"))
            .expect("an exports rule")..];
        assert!(
            rule.contains("ExpirationInDays: 1\n") && rule.contains("DaysAfterInitiation: 1\n"),
            "{bucket}"
        );
    }

    #[test]
    fn event_names_are_alphanumeric_and_distinct() {
        let names: std::collections::HashSet<String> = ROUTES.iter().map(event_name).collect();
        assert_eq!(names.len(), ROUTES.len());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_alphanumeric())));
        let route = Route {
            method: "GET",
            path: "/api/v1/tasks/status/{task_id}",
            function: ROUTES[0].function,
        };
        assert_eq!(event_name(&route), "GetApiV1TasksStatusTaskId");
    }
}
