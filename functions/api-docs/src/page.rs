//! Renders the OpenAPI document into one plain HTML page, server-side, with no script and nothing fetched from
//! elsewhere, so it reads the same offline: operations grouped by tag, then every schema.

use std::fmt::Write;

use serde_json::Value;

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];
const UNTAGGED: &str = "other";

const STYLE: &str =
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
    h2{border-bottom:2px solid #ccc;margin-top:2.5rem}section{border:1px solid #ddd;border-radius:6px;padding:0 1rem;\
    margin:1rem 0}.method{display:inline-block;min-width:4.5rem;font-weight:bold;text-transform:uppercase}\
    pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;font-size:13px}table{border-collapse:collapse}\
    td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}nav a{margin-right:1rem}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Pretty JSON of a schema, with each `$ref` to a component schema turned into a link to it on this page.
fn schema_block(schema: &Value) -> String {
    let mut html = escape(&serde_json::to_string_pretty(schema).unwrap_or_default());
    const PREFIX: &str = "&quot;#/components/schemas/";
    let mut from = 0;
    while let Some(start) = html[from..].find(PREFIX).map(|i| i + from) {
        let name_start = start + PREFIX.len();
        let Some(name_len) = html[name_start..].find("&quot;") else {
            break;
        };
        let name = html[name_start..name_start + name_len].to_owned();
        let link = format!("<a href=\"#schema-{name}\">&quot;#/components/schemas/{name}&quot;</a>");
        html.replace_range(start..name_start + name_len + "&quot;".len(), &link);
        from = start + link.len();
    }
    format!("<pre>{html}</pre>")
}

/// Every operation as (first tag, path, method, operation), in path order.
fn operations(document: &Value) -> Vec<(String, &str, &'static str, &Value)> {
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| {
                let operation = item.get(*method)?;
                let tag = operation
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or(UNTAGGED)
                    .to_owned();
                Some((tag, path.as_str(), *method, operation))
            })
        })
        .collect()
}

/// Tags in the document's declared order, then any others used by operations, alphabetically.
fn tag_order(document: &Value, operations: &[(String, &str, &str, &Value)]) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = document
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|tag| (text(tag, "name").to_owned(), text(tag, "description").to_owned()))
        .collect();
    let mut undeclared: Vec<String> = operations
        .iter()
        .map(|(tag, ..)| tag.clone())
        .filter(|tag| !tags.iter().any(|(name, _)| name == tag))
        .collect();
    undeclared.sort();
    undeclared.dedup();
    tags.extend(undeclared.into_iter().map(|name| (name, String::new())));
    tags.retain(|(name, _)| operations.iter().any(|(tag, ..)| tag == name));
    tags
}

fn security_note(document: &Value, operation: &Value) -> &'static str {
    let requirements = operation.get("security").or_else(|| document.get("security"));
    let needs_token = requirements
        .and_then(Value::as_array)
        .is_some_and(|all| !all.is_empty() && all.iter().all(|r| r.as_object().is_some_and(|r| !r.is_empty())));
    if needs_token {
        "Requires <code>Authorization: Bearer &lt;access token&gt;</code>."
    } else {
        "No authentication."
    }
}

fn render_operation(html: &mut String, document: &Value, path: &str, method: &str, operation: &Value) {
    let _ = write!(
        html,
        "<section><h3><span class=\"method\">{method}</span> <code>{}</code></h3><p><strong>{}</strong></p>",
        escape(path),
        escape(text(operation, "summary"))
    );
    if let Some(description) = operation.get("description").and_then(Value::as_str) {
        let _ = write!(html, "<p>{}</p>", escape(description));
    }
    let _ = write!(html, "<p>{}</p>", security_note(document, operation));
    if let Some(parameters) = operation.get("parameters").and_then(Value::as_array) {
        html.push_str("<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th><th>Description</th><th>Schema</th></tr>");
        for parameter in parameters {
            let required = parameter.get("required").and_then(Value::as_bool).unwrap_or(false);
            let _ = write!(
                html,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(text(parameter, "name")),
                escape(text(parameter, "in")),
                if required { "yes" } else { "no" },
                escape(text(parameter, "description")),
                parameter.get("schema").map(schema_block).unwrap_or_default()
            );
        }
        html.push_str("</table>");
    }
    if let Some(body) = operation.get("requestBody") {
        html.push_str("<h4>Request body</h4>");
        render_content(html, body);
    }
    if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
        html.push_str("<h4>Responses</h4>");
        for (status, response) in responses {
            let _ = write!(
                html,
                "<p><strong>{}</strong> — {}</p>",
                escape(status),
                escape(text(response, "description"))
            );
            render_content(html, response);
        }
    }
    html.push_str("</section>");
}

/// The media types of a request body or response, each with its schema.
fn render_content(html: &mut String, holder: &Value) {
    let Some(content) = holder.get("content").and_then(Value::as_object) else {
        return;
    };
    for (media_type, media) in content {
        let _ = write!(html, "<p><code>{}</code></p>", escape(media_type));
        if let Some(schema) = media.get("schema") {
            html.push_str(&schema_block(schema));
        }
    }
}

/// The page for `document` (an OpenAPI document as JSON).
pub fn render(document: &Value) -> String {
    let title = document.pointer("/info/title").and_then(Value::as_str).unwrap_or("API");
    let version = document.pointer("/info/version").and_then(Value::as_str).unwrap_or("");
    let operations = operations(document);
    let tags = tag_order(document, &operations);

    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{0}</title><style>{STYLE}</style></head><body>\
         <h1>{0} <small>{1}</small></h1><p>{2}</p><p>Machine-readable: <a href=\"/api/v1/openapi.json\">\
         /api/v1/openapi.json</a> (OpenAPI {3}).</p><nav>",
        escape(title),
        escape(version),
        escape(
            document
                .pointer("/info/description")
                .and_then(Value::as_str)
                .unwrap_or("")
        ),
        escape(text(document, "openapi")),
    );
    for (tag, _) in &tags {
        let _ = write!(html, "<a href=\"#tag-{0}\">{0}</a>", escape(tag));
    }
    html.push_str("<a href=\"#schemas\">schemas</a></nav>");
    for (tag, description) in &tags {
        let _ = write!(
            html,
            "<h2 id=\"tag-{0}\">{0}</h2><p>{1}</p>",
            escape(tag),
            escape(description)
        );
        for (_, path, method, operation) in operations.iter().filter(|(t, ..)| t == tag) {
            render_operation(&mut html, document, path, method, operation);
        }
    }
    html.push_str("<h2 id=\"schemas\">Schemas</h2>");
    if let Some(schemas) = document.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, schema) in schemas {
            let _ = write!(
                html,
                "<h3 id=\"schema-{0}\">{0}</h3>{1}",
                escape(name),
                schema_block(schema)
            );
        }
    }
    html.push_str("</body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_operations_by_tag_with_escaped_text_and_linked_schemas() {
        let document = json!({
            "openapi": "3.1.0",
            "info": {"title": "T", "version": "1"},
            "security": [{"bearer": []}],
            "tags": [{"name": "b", "description": "second declared first"}],
            "paths": {
                "/x": {"get": {"tags": ["a"], "summary": "<read>", "security": [{}],
                    "responses": {"200": {"description": "ok", "content": {"application/json":
                        {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
                "/y": {"post": {"tags": ["b"], "summary": "write", "responses": {"204": {"description": "done"}}}}
            },
            "components": {"schemas": {"Thing": {"type": "object"}}}
        });
        let html = render(&document);
        assert!(html.contains("&lt;read&gt;") && !html.contains("<read>"));
        assert!(html.find("id=\"tag-b\"").unwrap() < html.find("id=\"tag-a\"").unwrap());
        assert!(html.contains("<a href=\"#schema-Thing\">&quot;#/components/schemas/Thing&quot;</a>"));
        assert!(html.contains("id=\"schema-Thing\""));
        let section = |path: &str| {
            let start = html.find(&format!("<code>{path}</code>")).unwrap();
            &html[start..start + html[start..].find("</section>").unwrap()]
        };
        assert!(section("/x").contains("No authentication."));
        assert!(section("/y").contains("Requires <code>Authorization"));
        assert!(!html.contains("<script"));
    }
}
