//! The OpenAPI document (see [`crate::openapi`]) and a readable HTML page that renders it on
//! the server, so it works offline with no script or CDN.

use axum::Extension;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::Arc;

/// The generated document, serialised once at start.
#[derive(Clone)]
pub struct ApiDocument {
    /// The document.
    pub value: Arc<serde_json::Value>,
    /// Its JSON text.
    pub json: Arc<String>,
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json(Extension(doc): Extension<ApiDocument>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.json.as_str().to_owned(),
    )
        .into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Human-readable API reference.
#[utoipa::path(get, path = "/docs", tag = "operations", responses((status = 200, description = "HTML API reference", content_type = "text/html")))]
pub async fn docs_page(Extension(doc): Extension<ApiDocument>) -> Html<String> {
    Html(render(&doc.value))
}

/// A `{"$ref": "#/components/…"}` replaced by what it names (shared parameters, responses).
fn resolve<'a>(doc: &'a serde_json::Value, v: &'a serde_json::Value) -> &'a serde_json::Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn render(doc: &serde_json::Value) -> String {
    let text = |v: &serde_json::Value| v.as_str().map(esc).unwrap_or_default();
    let mut out = String::new();
    let title = text(&doc["info"]["title"]);
    let _ = write!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}}\
.op{{border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.4em .8em}}\
.m{{display:inline-block;min-width:4.5em;font-weight:bold;font-family:monospace}}\
.get{{color:#1b6}}.post{{color:#16b}}.patch{{color:#b71}}.put{{color:#a5a}}.delete{{color:#c33}}\
code,pre{{background:#f6f6f6;padding:.1em .3em;border-radius:3px}}pre{{overflow:auto;padding:.6em}}\
summary{{cursor:pointer}}</style></head><body><h1>{title} <small>{}</small></h1><p>{}</p>\
<p>Machine-readable document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>. \
Authenticate with the <code>X-API-Key</code> header.</p>",
        text(&doc["info"]["version"]),
        text(&doc["info"]["description"])
    );
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                let op = &item[method];
                if op.is_null() {
                    continue;
                }
                let summary = if op["summary"].is_string() {
                    text(&op["summary"])
                } else {
                    text(&op["description"])
                };
                let _ = write!(
                    out,
                    "<div class=\"op\"><details><summary><span class=\"m {method}\">{}</span> <code>{}</code> {summary}</summary>",
                    method.to_uppercase(),
                    esc(path)
                );
                if let Some(desc) = op["description"].as_str() {
                    let _ = write!(out, "<p>{}</p>", esc(desc));
                }
                if let Some(params) = op["parameters"].as_array() {
                    out.push_str("<p><b>Parameters</b></p><ul>");
                    for p in params {
                        let p = resolve(doc, p);
                        let required = if p["required"].as_bool() == Some(true) {
                            ", required"
                        } else {
                            ""
                        };
                        let _ = write!(
                            out,
                            "<li><code>{}</code> (in {}{required}) {}</li>",
                            text(&p["name"]),
                            text(&p["in"]),
                            text(&p["description"])
                        );
                    }
                    out.push_str("</ul>");
                }
                if !op["requestBody"].is_null() {
                    let json = serde_json::to_string_pretty(&op["requestBody"]).unwrap_or_default();
                    let _ = write!(out, "<p><b>Request body</b></p><pre>{}</pre>", esc(&json));
                }
                if let Some(responses) = op["responses"].as_object() {
                    out.push_str("<p><b>Responses</b></p><ul>");
                    for (status, resp) in responses {
                        let resp = resolve(doc, resp);
                        let json = serde_json::to_string(&resp["content"]).unwrap_or_default();
                        let _ = write!(
                            out,
                            "<li><code>{}</code> {} <small>{}</small></li>",
                            esc(status),
                            text(&resp["description"]),
                            esc(&json)
                        );
                    }
                    out.push_str("</ul>");
                }
                out.push_str("</details></div>");
            }
        }
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        out.push_str("<h2>Schemas</h2>");
        for (name, schema) in schemas {
            let json = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                out,
                "<details><summary><code>{}</code></summary><pre>{}</pre></details>",
                esc(name),
                esc(&json)
            );
        }
    }
    out.push_str("</body></html>");
    out
}
