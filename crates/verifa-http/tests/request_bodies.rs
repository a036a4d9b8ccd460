//! Request bodies are read strictly (issue #12.6): a body in which an object repeats a key means
//! two things and is refused with 422 naming the repeated key's path, at any depth, on every
//! JSON route, and nothing is stored.

mod support;

use serde_json::Value;
use support::*;
use verifa_ports::sessions::{SessionFilter, SessionStore};

fn raw_json(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

#[tokio::test]
async fn a_repeated_key_is_422_naming_its_path() {
    let app = App::new().await;
    let cases = [
        (
            "/api/v1/sessions",
            r#"{"external_ref":"a","external_ref":"b"}"#,
            "external_ref",
        ),
        (
            "/api/v1/sessions",
            r#"{"metadata":{"plan":"gold","plan":"free"}}"#,
            "metadata.plan",
        ),
        (
            "/api/v1/workflows",
            r#"{"name":"w","graph":{"entry":"s","nodes":{
                "s":{"type":"start","next":"t"},
                "t":{"type":"terminal","outcome":"approved"},
                "t":{"type":"terminal","outcome":"rejected"}}}}"#,
            "graph.nodes.t",
        ),
        (
            "/api/v1/workflows",
            r#"{"name":"w","steps":[{"policy":"document_ocr"},{"policy":"a","policy":"b"}]}"#,
            "steps[1].policy",
        ),
        ("/api/v1/api-keys", r#"{"label":"x","label":"y"}"#, "label"),
    ];
    for (path, body, field) in cases {
        let reply = app
            .post(path)
            .raw(raw_json(body), "application/json")
            .send()
            .await;
        assert_eq!(reply.error_fields(), [field], "{path} {body}");
        let detail = reply.json()["errors"][0]["message"].clone();
        assert!(
            detail
                .as_str()
                .is_some_and(|m| m.contains("more than once")),
            "{detail}"
        );
    }
    let sessions = app
        .store
        .list(&tenant_of(&app).await, &SessionFilter::default(), page())
        .await
        .unwrap();
    assert_eq!(sessions.total, 0, "no refused body created a session");
}

#[tokio::test]
async fn the_same_key_in_sibling_objects_is_accepted() {
    let app = App::new().await;
    let created = app
        .post("/api/v1/sessions")
        .raw(
            raw_json(r#"{"metadata":{"a":{"k":1},"b":{"k":2}},"tags":["x","x"]}"#),
            "application/json",
        )
        .send()
        .await
        .ok(201);
    assert_eq!(created["metadata"]["b"]["k"], Value::from(2));
}
