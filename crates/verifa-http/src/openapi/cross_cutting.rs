//! What the middleware does to every operation, written into the document from the same rules
//! the middleware applies, so no operation can forget it: the `Verifa-Version` and
//! `Idempotency-Key` request headers, the errors every API operation can answer (bad version
//! 400, 401, 403, 429, 500, 503; with a body 400 `invalid_json`, 413, 415, 422; with a path
//! parameter 404; with query parameters 422; idempotent methods 409 and 422), and the response
//! headers (`X-Request-Id` on every response; `Verifa-Version` and `X-RateLimit-*` on the API's
//! successful ones). An operation's own entry for a status wins over the standard one.

use serde_json::{Map, Value, json};

use crate::middleware::idempotency::IDEMPOTENCY_HEADER;
use verifa_domain::pagination::{MAX_LIMIT, MAX_OFFSET};

/// The statuses every error response shares: `(status, component name, description)`.
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Malformed request: invalid JSON, an unsupported `Verifa-Version`, a bad `Idempotency-Key` (`bad_request`, `invalid_json`, `unsupported_api_version`).",
    ),
    (
        "401",
        "Unauthorized",
        "Missing, unknown, expired or publishable key (`unauthorized`).",
    ),
    (
        "403",
        "Forbidden",
        "The key lacks a scope, its IP allowlist refuses the caller, or the environment does not allow it (`insufficient_scope`, `ip_not_allowed`, `sandbox_only`, `live_only`).",
    ),
    (
        "404",
        "NotFound",
        "No such resource for this key (`not_found`).",
    ),
    (
        "409",
        "Conflict",
        "The resource is in the wrong state, or a request with this `Idempotency-Key` is still running (`conflict`, `invalid_state`, `idempotency_in_progress`).",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is over the size limit (`payload_too_large`).",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not of the media type the operation takes (`unsupported_media_type`).",
    ),
    (
        "422",
        "ValidationError",
        "A field, parameter or the `Idempotency-Key` is invalid; `errors` names each (`validation_error`, `idempotency_mismatch`).",
    ),
    (
        "429",
        "RateLimited",
        "Too many requests with this key; retry after `Retry-After` seconds (`rate_limited`).",
    ),
    (
        "500",
        "InternalError",
        "An unexpected error; the body never shows internals (`internal_error`).",
    ),
    (
        "503",
        "Unavailable",
        "A dependency is unavailable or the request took too long (`unavailable`).",
    ),
];

/// Completes `doc` (the document as JSON). `versions` are the API versions the server accepts.
pub fn complete(doc: &mut Value, versions: &[String]) {
    add_components(doc, versions);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if let Some(op) = op.as_object_mut() {
                complete_operation(path, method, op);
            }
        }
    }
}

fn complete_operation(path: &str, method: &str, op: &mut Map<String, Value>) {
    let is_api = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    bound_pagination(op);
    let params: Vec<Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has_in = |place: &str| params.iter().any(|p| p["in"] == place);
    let has_body = op.contains_key("requestBody");
    let idempotent = is_api && matches!(method, "post" | "patch");

    let mut statuses: Vec<&str> = Vec::new();
    if is_api {
        statuses.extend(["400", "401", "403", "429", "500", "503"]);
    } else {
        statuses.push("500");
    }
    if has_body {
        statuses.extend(["400", "413", "415", "422"]);
    }
    if has_in("path") || path.contains('{') {
        statuses.push("404");
    }
    if has_in("query") {
        statuses.push("422");
    }
    if idempotent {
        statuses.extend(["409", "422"]);
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    for status in statuses {
        if let Some((_, name, _)) = ERRORS.iter().find(|(s, ..)| *s == status) {
            responses
                .entry(status.to_owned())
                .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
        }
    }
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        if response.contains_key("$ref") {
            continue; // the shared responses carry their headers
        }
        response
            .entry("description")
            .or_insert_with(|| json!(default_description(status)));
        let headers = response
            .entry("headers")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        let Some(headers) = headers else {
            continue;
        };
        headers.insert(
            "X-Request-Id".into(),
            json!({"$ref": "#/components/headers/X-Request-Id"}),
        );
        if is_api && status.starts_with('2') {
            for name in [
                "Verifa-Version",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ] {
                headers.insert(
                    name.into(),
                    json!({"$ref": format!("#/components/headers/{name}")}),
                );
            }
        }
    }
    if is_api {
        let parameters = op
            .entry("parameters")
            .or_insert_with(|| json!([]))
            .as_array_mut();
        if let Some(parameters) = parameters {
            parameters.push(json!({"$ref": "#/components/parameters/VerifaVersion"}));
            if idempotent {
                parameters.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
            }
        }
    }
}

/// Every list's `limit` and `offset` have the bounds of CONTRACT §1.3, as the server checks them.
fn bound_pagination(op: &mut Map<String, Value>) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params.iter_mut().filter(|p| p["in"] == "query") {
        let bounds = match p["name"].as_str() {
            Some("limit") => json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
            Some("offset") => json!({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
            _ => continue,
        };
        p["schema"] = bounds;
    }
}

fn default_description(status: &str) -> &'static str {
    match status.chars().next() {
        Some('2') => "Success.",
        Some('3') => "Redirect.",
        _ => "Error (see the body's `error` and `detail`).",
    }
}

fn add_components(doc: &mut Value, versions: &[String]) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let components = root
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(components) = components else {
        return;
    };
    let error_body =
        json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}});
    let request_id = json!({"$ref": "#/components/headers/X-Request-Id"});
    let mut responses = Map::new();
    for (status, name, description) in ERRORS {
        let mut headers = json!({"X-Request-Id": request_id});
        match *status {
            "401" => {
                headers["WWW-Authenticate"] =
                    json!({"description": "`Bearer`.", "schema": {"type": "string"}});
            }
            "429" | "503" => {
                headers["Retry-After"] = json!({
                    "description": "Seconds to wait before retrying (on 503 when known).",
                    "schema": {"type": "integer", "minimum": 0}
                });
            }
            _ => {}
        }
        if *status == "429" {
            for name in [
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ] {
                headers[name] = json!({"$ref": format!("#/components/headers/{name}")});
            }
        }
        if *status == "503" {
            // Retry-After is only sent when a retry time is known.
            headers["Retry-After"]["required"] = json!(false);
        }
        responses.insert(
            (*name).to_owned(),
            json!({"description": description, "headers": headers, "content": error_body}),
        );
    }
    merge(components, "responses", responses);
    let mut headers = Map::new();
    headers.insert(
        "X-Request-Id".into(),
        json!({"description": "The request's id: the caller's `X-Request-Id` when it sent one, else `req_…`.",
               "required": true, "schema": {"type": "string", "minLength": 1}}),
    );
    headers.insert(
        "Verifa-Version".into(),
        json!({"description": "The API version the request was served with.", "required": true,
               "schema": {"type": "string", "enum": versions}}),
    );
    for (name, description) in [
        (
            "X-RateLimit-Limit",
            "Requests allowed per minute for this key and bucket.",
        ),
        (
            "X-RateLimit-Remaining",
            "Requests left in the current window.",
        ),
        (
            "X-RateLimit-Reset",
            "When the window resets (Unix seconds).",
        ),
    ] {
        headers.insert(
            name.into(),
            json!({"description": description, "required": true,
                   "schema": {"type": "integer", "minimum": 0}}),
        );
    }
    merge(components, "headers", headers);
    let mut parameters = Map::new();
    parameters.insert(
        "VerifaVersion".into(),
        json!({"name": "Verifa-Version", "in": "header", "required": false,
               "description": "API version (default: the key's pinned version).",
               "schema": {"type": "string", "enum": versions}}),
    );
    parameters.insert(
        "IdempotencyKey".into(),
        json!({"name": header_name(IDEMPOTENCY_HEADER), "in": "header", "required": false,
               "description": "Makes a retry safe: the first response is replayed for 24 h to a repeat of the same request; a different request with the same key is 422.",
               "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"}}),
    );
    merge(components, "parameters", parameters);
}

/// `idempotency-key` → `Idempotency-Key`.
fn header_name(lower: &str) -> String {
    lower
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn merge(components: &mut Map<String, Value>, key: &str, entries: Map<String, Value>) {
    let slot = components.entry(key).or_insert_with(|| json!({}));
    if let Some(slot) = slot.as_object_mut() {
        for (k, v) in entries {
            slot.entry(k).or_insert(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"paths": {
            "/api/v1/things/{id}": {"patch": {
                "security": [{"api_key": []}],
                "parameters": [{"name": "id", "in": "path", "required": true}],
                "requestBody": {"content": {}},
                "responses": {"200": {"description": "ok"}, "409": {"description": "own"}}}},
            "/healthz": {"get": {"responses": {"200": {"description": "ok"}}}}}})
    }

    #[test]
    fn an_api_operation_gets_every_error_its_middleware_can_answer() {
        let mut d = doc();
        complete(&mut d, &["2026-01-01".to_owned()]);
        let op = &d["paths"]["/api/v1/things/{id}"]["patch"];
        let mut statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        statuses.sort();
        assert_eq!(
            statuses,
            [
                "200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503"
            ]
        );
        assert_eq!(
            op["responses"]["409"]["description"], "own",
            "the operation's wins"
        );
        assert_eq!(
            op["responses"]["200"]["headers"]["X-RateLimit-Limit"]["$ref"],
            "#/components/headers/X-RateLimit-Limit"
        );
        let params: Vec<&Value> = op["parameters"].as_array().unwrap().iter().collect();
        assert!(
            params
                .iter()
                .any(|p| p["$ref"] == "#/components/parameters/IdempotencyKey")
        );
        assert_eq!(
            d["components"]["parameters"]["IdempotencyKey"]["name"],
            "Idempotency-Key"
        );
        assert_eq!(
            d["components"]["headers"]["Verifa-Version"]["schema"]["enum"],
            json!(["2026-01-01"])
        );
    }

    #[test]
    fn a_public_operation_gets_only_its_request_id_and_500() {
        let mut d = doc();
        complete(&mut d, &[]);
        let op = &d["paths"]["/healthz"]["get"];
        let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert_eq!(statuses, ["200", "500"]);
        assert!(
            op["responses"]["200"]["headers"]
                .get("X-RateLimit-Limit")
                .is_none()
        );
        assert!(
            op["responses"]["200"]["headers"]
                .get("X-Request-Id")
                .is_some()
        );
        assert!(op.get("parameters").is_none());
    }
}
