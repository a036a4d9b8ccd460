//! The real router (`verifa_http::router`) over Services on in-memory fakes: authentication and
//! scopes, the error body, body limits, pagination bounds, key inflection, idempotency keys,
//! request ids, and a session from creation through upload, submission and a run to its result.
//! No adapter is involved: the layer rule says HTTP tests use port fakes.

mod support;

use serde_json::json;
use std::sync::Arc;
use support::*;
use verifa_app::runs::{RunWorker, WorkerSettings};
use verifa_app::workflows::{DefinitionInput, NewWorkflow};
use verifa_domain::workflow::{ExecutorSettings, PolicySpec};
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRegistry, CheckRequest};
use verifa_ports::sessions::{SessionFilter, SessionStore};

#[tokio::test]
async fn a_missing_or_unknown_key_is_401() {
    let app = App::new().await;

    app.get("/api/v1/sessions")
        .no_key()
        .send()
        .await
        .error(401, "unauthorized");
    app.get("/api/v1/sessions")
        .key("vk_sandbox_0000000000000000000000000000000000000000")
        .send()
        .await
        .error(401, "unauthorized");
    app.get("/api/v1/sessions").send().await.ok(200);
}

#[tokio::test]
async fn a_missing_scope_is_403_naming_the_scope() {
    let app = App::new().await;
    let created = app
        .post("/api/v1/api-keys")
        .json(json!({"scopes": ["sessions:read"]}))
        .send()
        .await
        .ok(201);
    let secret = created["secret"].as_str().unwrap();

    let body = app
        .get("/api/v1/api-keys")
        .key(secret)
        .send()
        .await
        .error(403, "insufficient_scope");

    assert!(
        body["detail"].as_str().unwrap().contains("api_keys:read"),
        "{body}"
    );
    app.get("/api/v1/sessions").key(secret).send().await.ok(200);
}

#[tokio::test]
async fn a_sandbox_key_does_not_see_a_live_session() {
    let app = App::new().await;
    let id = app
        .post("/api/v1/sessions")
        .json(json!({}))
        .send()
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = format!("/api/v1/sessions/{id}");
    app.get(&path)
        .key(&app.sandbox)
        .send()
        .await
        .error(404, "not_found");
    app.post(&format!("{path}/expire"))
        .key(&app.sandbox)
        .send()
        .await
        .error(404, "not_found");
    let live = app.get(&path).send().await.ok(200);
    assert_eq!(
        (live["id"].as_str(), live["status"].as_str()),
        (Some(id.as_str()), Some("pending"))
    );
}

#[tokio::test]
async fn unknown_routes_methods_and_bodies_get_the_error_body() {
    let app = App::new().await;

    app.get("/api/v1/no-such-thing")
        .send()
        .await
        .error(404, "not_found");
    app.req(axum::http::Method::DELETE, "/api/v1/api-keys")
        .send()
        .await
        .error(405, "method_not_allowed");
    app.post("/api/v1/sessions")
        .raw("{\"external_ref\": ", "application/json")
        .send()
        .await
        .error(400, "invalid_json");
    let oversized = json!({"metadata": {"x": "a".repeat(MAX_BODY)}});
    app.post("/api/v1/sessions")
        .json(oversized)
        .send()
        .await
        .error(413, "payload_too_large");

    let listed = app
        .store
        .list(&tenant_of(&app).await, &SessionFilter::default(), page())
        .await
        .unwrap();
    assert_eq!(listed.total, 0, "no refused request created a session");
}

#[tokio::test]
async fn pagination_bounds_are_422_naming_the_parameter() {
    let app = App::new().await;

    for (query, fields) in [
        ("limit=0", vec!["limit"]),
        ("limit=101", vec!["limit"]),
        ("offset=-1", vec!["offset"]),
        ("limit=0&offset=-1", vec!["limit", "offset"]),
    ] {
        let reply = app.get(&format!("/api/v1/sessions?{query}")).send().await;
        assert_eq!(reply.error_fields(), fields, "{query}");
    }
    let page = app
        .get("/api/v1/sessions?limit=100&offset=0")
        .send()
        .await
        .ok(200);
    assert_eq!(page["pagination"]["limit"], 100);
}

#[tokio::test]
async fn key_inflection_camel_renames_response_keys_not_data() {
    let app = App::new().await;

    let body = app
        .post("/api/v1/sessions")
        .header("key-inflection", "camel")
        .json(json!({"external_ref": "user-1", "metadata": {"plan_name": "gold"}}))
        .send()
        .await
        .ok(201);

    assert_eq!(body["externalRef"], "user-1", "{body}");
    assert!(
        body.get("external_ref").is_none() && body.get("isSandbox").is_some(),
        "{body}"
    );
    assert_eq!(
        body["metadata"],
        json!({"plan_name": "gold"}),
        "caller data keeps its keys"
    );
    let err = app
        .get("/api/v1/sessions/ses_nope")
        .header("key-inflection", "camel")
        .send()
        .await
        .json();
    assert_eq!(
        err["statusCode"], 404,
        "error bodies are inflected too: {err}"
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_and_refuses_other_parameters() {
    let app = App::new().await;
    let create = |external_ref: &str| {
        app.post("/api/v1/sessions")
            .header("idempotency-key", "create-1")
            .json(json!({"external_ref": external_ref}))
    };

    let first = create("user-1").send().await;
    assert_eq!(first.status.as_u16(), 201);
    assert!(first.header("idempotent-replayed").is_none());
    let again = create("user-1").send().await;
    assert_eq!(again.status.as_u16(), 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.bytes, first.bytes, "replayed byte for byte");
    create("user-2")
        .send()
        .await
        .error(422, "idempotency_mismatch");

    let listed = app
        .store
        .list(&tenant_of(&app).await, &SessionFilter::default(), page())
        .await
        .unwrap();
    assert_eq!(
        listed.total, 1,
        "one session, however often the request came"
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = App::new().await;

    let echoed = app
        .get("/api/v1/sessions")
        .header("x-request-id", "trace-abc_123")
        .send()
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-abc_123"));
    let failed = app
        .get("/api/v1/sessions/ses_nope")
        .header("x-request-id", "trace-def_456")
        .send()
        .await;
    assert_eq!(
        failed.error(404, "not_found")["request_id"],
        "trace-def_456"
    );
    let generated = app
        .get("/api/v1/sessions")
        .header("x-request-id", "not sane")
        .send()
        .await;
    assert!(
        generated
            .header("x-request-id")
            .is_some_and(|r| r.starts_with("req_"))
    );
}

/// A check that always passes.
struct Passing;

#[async_trait::async_trait]
impl CheckExecutor for Passing {
    fn spec(&self) -> PolicySpec {
        spec()
    }

    async fn execute(&self, _: &CheckRequest) -> CheckOutcome {
        CheckOutcome::decided(true, json!({"score": 1}))
    }
}

#[tokio::test]
async fn a_session_goes_from_creation_to_its_result_through_the_router() {
    let app = App::new().await;
    let caller = app
        .services
        .api_keys
        .authenticate(Some(&app.live), None)
        .await
        .unwrap();
    let graph = json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "doc"},
            "doc": {"type": "policy", "policy": "doc_check", "on_pass": "ok", "on_fail": "ko"},
            "ok": {"type": "terminal", "outcome": "approved"},
            "ko": {"type": "terminal", "outcome": "rejected"}
        }
    });
    app.services
        .workflows
        .create(
            &caller,
            NewWorkflow {
                name: "Router flow".into(),
                definition: DefinitionInput {
                    format: Some("graph".into()),
                    graph: Some(graph),
                    steps: None,
                },
                is_default: true,
                ..NewWorkflow::default()
            },
        )
        .await
        .unwrap();

    let id = app
        .post("/api/v1/sessions")
        .json(json!({}))
        .send()
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (body, content_type) = multipart("id_front", &jpeg());
    let doc = app
        .post(&format!("/api/v1/sessions/{id}/documents"))
        .raw(body, &content_type)
        .send()
        .await
        .ok(201);
    assert_eq!(doc["mime_type"], "image/jpeg", "{doc}");
    let submitted = app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .send()
        .await
        .ok(200);
    assert_eq!(submitted["status"], "processing");
    app.get(&format!("/api/v1/sessions/{id}/result"))
        .send()
        .await
        .error(404, "not_found");

    let mut checks = CheckRegistry::new();
    checks.register(Arc::new(Passing));
    let worker = RunWorker::new(
        &app.ports,
        checks.clone(),
        checks,
        cipher(),
        WorkerSettings {
            owner: "router-test".into(),
            lease: chrono::Duration::seconds(60),
            executor: ExecutorSettings::default(),
            lookup_key: support::lookup_key(),
        },
    );
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);

    let session = app
        .get(&format!("/api/v1/sessions/{id}"))
        .send()
        .await
        .ok(200);
    assert_eq!(session["status"], "completed");
    let result = app
        .get(&format!("/api/v1/sessions/{id}/result"))
        .send()
        .await
        .ok(200);
    assert_eq!(result["status"], "approved", "{result}");
    let events = app
        .get(&format!("/api/v1/sessions/{id}/events"))
        .send()
        .await
        .ok(200);
    let types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types.last(), Some(&"session.approved"), "{events}");
}
