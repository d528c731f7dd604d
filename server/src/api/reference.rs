//! The staff app's API reference: the OpenAPI document, read into the
//! domain's plain reference types.

use domain::api_keys::{ApiEndpoint, ApiParameter, ApiReference};
use serde_json::Value;

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A `$ref`'s schema name, or the schema's type.
fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema["type"].as_str() {
        Some("array") => format!("[{}]", schema_name(&schema["items"])),
        Some(t) => t.to_string(),
        None => "object".into(),
    }
}

/// Every operation of the document, in the document's path order.
pub fn reference(doc: &utoipa::openapi::OpenApi) -> ApiReference {
    let doc = serde_json::to_value(doc).unwrap_or_default();
    let mut endpoints = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                let op = &item[method];
                if !op.is_object() {
                    continue;
                }
                let parameters = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| ApiParameter {
                                name: text(&p["name"]),
                                location: text(&p["in"]),
                                required: p["required"].as_bool().unwrap_or(false),
                                description: text(&p["description"]),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = op["requestBody"]["content"]["application/json"]["schema"]
                    .as_object()
                    .map(|_| {
                        schema_name(&op["requestBody"]["content"]["application/json"]["schema"])
                    });
                let responses = op["responses"]
                    .as_object()
                    .map(|rs| {
                        rs.iter()
                            .map(|(status, r)| {
                                let schema = &r["content"]["application/json"]["schema"];
                                let what = if schema.is_object() {
                                    schema_name(schema)
                                } else {
                                    text(&r["description"])
                                };
                                (status.clone(), what)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let scopes = op["security"]
                    .as_array()
                    .and_then(|s| s.first())
                    .and_then(|s| s["api_key"].as_array())
                    .map(|s| s.iter().map(text).collect())
                    .unwrap_or_default();
                endpoints.push(ApiEndpoint {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    tag: op["tags"]
                        .as_array()
                        .and_then(|t| t.first())
                        .map(text)
                        .unwrap_or_default(),
                    summary: text(&op["summary"]),
                    description: text(&op["description"]),
                    scopes,
                    parameters,
                    body,
                    responses,
                });
            }
        }
    }
    ApiReference {
        title: text(&doc["info"]["title"]),
        version: text(&doc["info"]["version"]),
        description: text(&doc["info"]["description"]),
        endpoints,
    }
}
