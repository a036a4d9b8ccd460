//! Health, readiness, metrics, the OpenAPI document and the docs page, and the bootstrap.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use verifa_testkit::{TestDatabase, both_backends};

async fn operational_endpoints(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let backend = if app_backend_is_sqlite(&app).await {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(
        app.get("/healthz").no_key().send().await.json()["status"],
        "ok"
    );
    let ready = app.get("/readyz").no_key().send().await.json();
    assert_eq!(
        ready,
        serde_json::json!({"status": "ok", "database": backend})
    );
    app.get("/api/v1/api-keys").send().await;
    let metrics = app.get("/metrics").no_key().send().await;
    let text = String::from_utf8(metrics.bytes.clone()).unwrap();
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        text.contains(
            "verifa_http_requests_total{method=\"GET\",route=\"/api/v1/api-keys\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("verifa_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("verifa_db_pool_max_connections 16"), "{text}");
}
both_backends!(operations, operational_endpoints);

async fn app_backend_is_sqlite(app: &TestApp) -> bool {
    app.services.health.backend() == "sqlite"
}

async fn openapi_documents_every_route(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let doc = app.get("/api/v1/openapi.json").no_key().send().await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let concrete = path
                .replace("{key_id}", "key_missing")
                .replace("{endpoint_id}", "webhook_missing")
                .replace("{delivery_id}", "whd_missing");
            let r = app
                .req(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &concrete,
                )
                .send()
                .await;
            let unrouted = r.status == StatusCode::NOT_FOUND
                && r.json()["detail"] == "No route matches this path.";
            assert!(
                !unrouted && r.status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            // Every documented error status of an operation uses the shared error schema, and
            // every API operation documents the errors its middleware can answer.
            let responses = item[method]["responses"].as_object().unwrap();
            // Open to anyone (the spec itself; documents, by their signed link): no API-key
            // middleware, so none of its errors.
            let public = [
                "/api/v1/openapi.json",
                "/api/v1/sessions/{session_id}/documents/{doc_type}",
            ];
            if path.starts_with("/api/v1/") && !public.contains(&path.as_str()) {
                assert!(
                    item[method]["security"].is_array(),
                    "{method} {path} documents no API key"
                );
                for status in ["400", "401", "403", "429", "500"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
            for (status, response) in responses {
                // Shared responses are references into `components.responses`.
                let response = match response["$ref"].as_str() {
                    Some(r) => {
                        let name = r.trim_start_matches("#/components/responses/");
                        &doc["components"]["responses"][name]
                    }
                    None => response,
                };
                assert!(
                    response["headers"]["X-Request-Id"].is_object(),
                    "{method} {path} {status} documents no X-Request-Id"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(operations >= 11, "only {operations} operations documented");
    // The documented error schema matches what the server really sends.
    let schema = &doc["components"]["schemas"]["ErrorBody"];
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let real = app.get("/api/v1/api-keys/key_missing").send().await.json();
    for field in &required {
        assert!(
            real.get(*field).is_some(),
            "documented required field {field} missing from {real}"
        );
    }
    for key in real.as_object().unwrap().keys() {
        assert!(
            schema["properties"].get(key).is_some(),
            "real error field {key} is not documented"
        );
    }
    // And the reverse direction for the routes this service knows of.
    for (method, path) in [
        ("get", "/api/v1/api-keys"),
        ("post", "/api/v1/api-keys"),
        ("get", "/api/v1/api-keys/{key_id}"),
        ("patch", "/api/v1/api-keys/{key_id}"),
        ("post", "/api/v1/api-keys/{key_id}/expire"),
        ("post", "/api/v1/api-keys/{key_id}/clone"),
        ("get", "/api/v1/rate-limits"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/docs"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is routed but not documented"
        );
    }
    let page = app.get("/docs").no_key().send().await;
    let html = String::from_utf8(page.bytes).unwrap();
    assert!(
        html.contains("<code>/api/v1/api-keys</code>")
            && html.contains("ErrorBody")
            && !html.contains("<script")
    );
}
both_backends!(openapi, openapi_documents_every_route);

async fn first_start_bootstraps_once(db: TestDatabase) {
    let settings = verifa_server::settings::Settings::for_tests(&db.url, &[]).unwrap();
    let store = verifa_server::compose::connect(&settings, true)
        .await
        .unwrap();
    let app = verifa_server::build_application(&settings, store).unwrap();
    let created = app
        .services
        .organizations
        .bootstrap()
        .await
        .unwrap()
        .expect("first start creates the organization");
    assert_eq!(created.keys.len(), 2);
    let envs: Vec<&str> = created
        .keys
        .iter()
        .map(|k| k.key.environment.as_str())
        .collect();
    assert_eq!(envs, vec!["live", "sandbox"]);
    assert!(
        created
            .keys
            .iter()
            .all(|k| k.key.scopes.names().len() == verifa_domain::scopes::ALL_SCOPES.len())
    );
    assert!(
        app.services
            .organizations
            .bootstrap()
            .await
            .unwrap()
            .is_none(),
        "second start creates nothing"
    );
}
both_backends!(bootstrap, first_start_bootstraps_once);
