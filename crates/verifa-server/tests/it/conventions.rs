//! Cross-cutting conventions (CONTRACT §1): error bodies for bad input, versions, inflection,
//! request ids and rate limits.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::json;
use verifa_testkit::{TestDatabase, both_backends};

/// One malformed request and the answer the contract requires.
struct BadInput {
    name: &'static str,
    method: Method,
    path: &'static str,
    key: KeyChoice,
    headers: &'static [(&'static str, &'static str)],
    body: Body,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

enum KeyChoice {
    Admin,
    None,
    Raw(&'static str),
}

enum Body {
    None,
    Json(serde_json::Value),
    Raw(&'static str, Option<&'static str>),
    Large,
}

/// 256 characters: one more than an idempotency key may have.
const LONG_KEY: &str = concat!(
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
);

fn table() -> Vec<BadInput> {
    assert_eq!(LONG_KEY.len(), 256);
    use Body as B;
    use KeyChoice as K;
    let bad = |name, method, path, key, headers, body, status, code, field| BadInput {
        name,
        method,
        path,
        key,
        headers,
        body,
        status,
        code,
        field,
    };
    vec![
        bad(
            "unknown route",
            Method::GET,
            "/api/v1/does-not-exist",
            K::Admin,
            &[],
            B::None,
            404,
            "not_found",
            None,
        ),
        bad(
            "unknown root route",
            Method::GET,
            "/nope",
            K::None,
            &[],
            B::None,
            404,
            "not_found",
            None,
        ),
        bad(
            "method not allowed",
            Method::DELETE,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::None,
            405,
            "method_not_allowed",
            None,
        ),
        bad(
            "missing key",
            Method::GET,
            "/api/v1/api-keys",
            K::None,
            &[],
            B::None,
            401,
            "unauthorized",
            None,
        ),
        bad(
            "malformed key",
            Method::GET,
            "/api/v1/api-keys",
            K::Raw("hello"),
            &[],
            B::None,
            401,
            "unauthorized",
            None,
        ),
        bad(
            "unknown key",
            Method::GET,
            "/api/v1/api-keys",
            K::Raw("vk_sandbox_0000000000000000000000000000000000000000"),
            &[],
            B::None,
            401,
            "unauthorized",
            None,
        ),
        bad(
            "key in the query string",
            Method::GET,
            "/api/v1/api-keys?api_key=vk_sandbox_x",
            K::None,
            &[],
            B::None,
            401,
            "unauthorized",
            None,
        ),
        bad(
            "malformed JSON",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Raw("{\"label\": ", Some("application/json")),
            400,
            "invalid_json",
            None,
        ),
        bad(
            "wrong content type",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Raw("label=x", Some("application/x-www-form-urlencoded")),
            415,
            "unsupported_media_type",
            None,
        ),
        bad(
            "no content type",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Raw("{}", None),
            415,
            "unsupported_media_type",
            None,
        ),
        bad(
            "body too large",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Large,
            413,
            "payload_too_large",
            None,
        ),
        bad(
            "unknown field",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"lable": "typo"})),
            422,
            "validation_error",
            Some("lable"),
        ),
        bad(
            "wrong type",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"label": 5})),
            422,
            "validation_error",
            Some("label"),
        ),
        bad(
            "body is not an object",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!([1, 2])),
            422,
            "validation_error",
            None,
        ),
        bad(
            "unknown scope",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"scopes": ["x:y"]})),
            422,
            "validation_error",
            Some("scopes[0]"),
        ),
        bad(
            "bad type value",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"type": "admin"})),
            422,
            "validation_error",
            Some("type"),
        ),
        bad(
            "label too long",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"label": "x".repeat(201)})),
            422,
            "validation_error",
            Some("label"),
        ),
        bad(
            "expiry in the past",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"expires_at": "2001-01-01T00:00:00Z"})),
            422,
            "validation_error",
            Some("expires_at"),
        ),
        bad(
            "malformed timestamp",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"expires_at": "tomorrow"})),
            422,
            "validation_error",
            Some("expires_at"),
        ),
        bad(
            "unknown api version in body",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"api_version": "1999-01-01"})),
            422,
            "validation_error",
            Some("api_version"),
        ),
        bad(
            "bad inflection in body",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[],
            B::Json(json!({"default_key_inflection": "pascal"})),
            422,
            "validation_error",
            Some("default_key_inflection"),
        ),
        bad(
            "limit zero",
            Method::GET,
            "/api/v1/api-keys?limit=0",
            K::Admin,
            &[],
            B::None,
            422,
            "validation_error",
            Some("limit"),
        ),
        bad(
            "limit too large",
            Method::GET,
            "/api/v1/api-keys?limit=101",
            K::Admin,
            &[],
            B::None,
            422,
            "validation_error",
            Some("limit"),
        ),
        bad(
            "negative offset",
            Method::GET,
            "/api/v1/api-keys?offset=-1",
            K::Admin,
            &[],
            B::None,
            422,
            "validation_error",
            Some("offset"),
        ),
        bad(
            "non-numeric limit",
            Method::GET,
            "/api/v1/api-keys?limit=ten",
            K::Admin,
            &[],
            B::None,
            422,
            "validation_error",
            Some("limit"),
        ),
        bad(
            "malformed version header",
            Method::GET,
            "/api/v1/api-keys",
            K::Admin,
            &[("verifa-version", "yesterday")],
            B::None,
            400,
            "unsupported_api_version",
            None,
        ),
        bad(
            "unknown version header",
            Method::GET,
            "/api/v1/api-keys",
            K::Admin,
            &[("verifa-version", "2030-01-01")],
            B::None,
            400,
            "unsupported_api_version",
            None,
        ),
        bad(
            "unknown inflection header",
            Method::GET,
            "/api/v1/api-keys",
            K::Admin,
            &[("key-inflection", "pascal")],
            B::None,
            400,
            "bad_request",
            None,
        ),
        bad(
            "idempotency key too long",
            Method::POST,
            "/api/v1/api-keys",
            K::Admin,
            &[("idempotency-key", LONG_KEY)],
            B::Json(json!({})),
            400,
            "bad_request",
            None,
        ),
        bad(
            "patch unknown field",
            Method::PATCH,
            "/api/v1/api-keys/key_x",
            K::Admin,
            &[],
            B::Json(json!({"is_active": true})),
            422,
            "validation_error",
            Some("is_active"),
        ),
        bad(
            "patch unknown id",
            Method::PATCH,
            "/api/v1/api-keys/key_x",
            K::Admin,
            &[],
            B::Json(json!({"label": "x"})),
            404,
            "not_found",
            None,
        ),
    ]
}

async fn malformed_requests_get_the_contract_error(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let cases = table();
    assert!(cases.len() >= 20);
    for case in cases {
        let mut req = app.req(case.method.clone(), case.path);
        req = match case.key {
            KeyChoice::Admin => req,
            KeyChoice::None => req.no_key(),
            KeyChoice::Raw(k) => req.key(k),
        };
        for (n, v) in case.headers {
            req = req.header(n, v);
        }
        req = match case.body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::Raw(text, ct) => req.raw(text, ct),
            Body::Large => req.raw(
                format!("{{\"label\": \"{}\"}}", "x".repeat(1_100_000)),
                Some("application/json"),
            ),
        };
        let r = req.send().await;
        assert!(
            r.status.as_u16() < 500,
            "{}: server error {}",
            case.name,
            r.status
        );
        assert_eq!(
            r.status.as_u16(),
            case.status,
            "{}: body {}",
            case.name,
            String::from_utf8_lossy(&r.bytes)
        );
        let body = r.assert_error(case.status, case.code);
        if let Some(field) = case.field {
            let fields: Vec<&str> = body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["field"].as_str())
                .collect();
            assert!(
                fields.contains(&field),
                "{}: expected field {field} in {body}",
                case.name
            );
        }
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{}",
            case.name
        );
    }
}
both_backends!(bad_inputs, malformed_requests_get_the_contract_error);

async fn versions_inflection_and_request_ids(db: TestDatabase) {
    let app = TestApp::with_settings(db, &[("API__RETIRED_VERSIONS", "2025-06-01")]).await;
    let r = app.get("/api/v1/api-keys").send().await;
    assert_eq!(r.header("verifa-version"), Some("2026-01-01"));
    let r = app
        .get("/api/v1/api-keys")
        .header("verifa-version", "2026-01-01")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let retired = app
        .get("/api/v1/api-keys")
        .header("verifa-version", "2025-06-01")
        .send()
        .await
        .assert_error(400, "unsupported_api_version");
    assert!(retired["detail"].as_str().unwrap().contains("retired"));

    // Inflection: response keys change, data keys do not; kebab too; the key's default applies.
    let camel = app
        .get("/api/v1/api-keys")
        .header("key-inflection", "camel")
        .send()
        .await
        .json();
    assert!(
        camel["data"][0].get("keyPrefix").is_some() && camel["data"][0].get("key_prefix").is_none()
    );
    let kebab = app
        .get("/api/v1/rate-limits")
        .header("key-inflection", "kebab")
        .send()
        .await
        .json();
    assert!(
        kebab["rate-limit"].get("reset-in-seconds").is_some(),
        "{kebab}"
    );
    let (id, _) = app.key_with_scopes(&["api_keys:read"]).await;
    let patched = app
        .patch(&format!("/api/v1/api-keys/{id}"))
        .json(json!({"default_key_inflection": "kebab"}))
        .send()
        .await
        .json();
    let secret = app
        .post(&format!(
            "/api/v1/api-keys/{}/clone",
            patched["id"].as_str().unwrap()
        ))
        .send()
        .await
        .json()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_default = app.get("/api/v1/api-keys").key(&secret).send().await.json();
    assert!(
        by_default["data"][0].get("key-prefix").is_some(),
        "{by_default}"
    );
    // Error bodies are inflected too.
    let err = app
        .get("/api/v1/api-keys/key_nope")
        .header("key-inflection", "camel")
        .send()
        .await
        .json();
    assert_eq!(err["statusCode"], 404);

    // Request ids: echoed when sane, generated otherwise, and in error bodies.
    let r = app
        .get("/api/v1/api-keys")
        .header("x-request-id", "trace-abc_123")
        .send()
        .await;
    assert_eq!(r.header("x-request-id"), Some("trace-abc_123"));
    let r = app
        .get("/api/v1/api-keys/key_nope")
        .header("x-request-id", "bad id with spaces")
        .send()
        .await;
    let generated = r.header("x-request-id").unwrap().to_owned();
    assert!(generated.starts_with("req_"));
    assert_eq!(r.json()["request_id"], generated.as_str());
}
both_backends!(versions_and_inflection, versions_inflection_and_request_ids);

async fn rate_limits_apply_per_key(db: TestDatabase) {
    let app = TestApp::with_settings(db, &[("RATE_LIMIT__REQUESTS_PER_MINUTE", "3")]).await;
    // The status endpoint reports without spending.
    let status = app.get("/api/v1/rate-limits").send().await.json();
    assert_eq!(status["rate_limit"]["limit"], 3);
    assert_eq!(status["rate_limit"]["remaining"], 3);
    assert_eq!(status["environment"], "sandbox");
    for remaining in [2, 1, 0] {
        let r = app.get("/api/v1/api-keys").send().await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(
            r.header("x-ratelimit-remaining").unwrap(),
            remaining.to_string()
        );
        assert!(
            r.header("x-ratelimit-reset")
                .unwrap()
                .parse::<i64>()
                .unwrap()
                > 1_700_000_000
        );
    }
    let limited = app.get("/api/v1/api-keys").send().await;
    let body = limited.assert_error(429, "rate_limited");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(
        body["detail"],
        format!("Rate limit exceeded. Retry after {retry_after} seconds.")
    );
    // Another key has its own budget.
    assert_eq!(
        app.get("/api/v1/api-keys")
            .key(&app.live_key)
            .send()
            .await
            .status,
        StatusCode::OK
    );
}
both_backends!(rate_limits, rate_limits_apply_per_key);
