//! Request bodies are read strictly (issue #12.6 and what the fuzzer found): a body in which an
//! object repeats a key means two things and is refused with 422 naming the repeated key's path;
//! a body is an object; `30.0` is the integer 30; an upload refuses parts it would otherwise
//! drop. Nothing refused is stored.

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

async fn new_session(app: &App) -> String {
    app.post("/api/v1/sessions")
        .json(serde_json::json!({}))
        .send()
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_body_is_an_object_and_integral_floats_are_integers() {
    let app = App::new().await;
    let id = new_session(&app).await;
    // A derived struct would read an array as its fields in order; a body is an object.
    let fields = app
        .req(axum::http::Method::PATCH, &format!("/api/v1/sessions/{id}"))
        .raw(raw_json(r#"[null, null]"#), "application/json")
        .send()
        .await
        .error_fields();
    assert_eq!(fields, ["body"]);
    // `30.0` is the integer 30 (JSON has one number type).
    let link = app
        .post(&format!("/api/v1/sessions/{id}/generate-one-time-link"))
        .raw(
            raw_json(r#"{"expires_in_minutes": 30.0}"#),
            "application/json",
        )
        .send()
        .await
        .ok(200);
    let created =
        chrono::DateTime::parse_from_rfc3339(link["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(link["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_minutes(), 30, "{link}");
    // A fraction is not an integer.
    let fields = app
        .post(&format!("/api/v1/sessions/{id}/generate-one-time-link"))
        .raw(
            raw_json(r#"{"expires_in_minutes": 30.5}"#),
            "application/json",
        )
        .send()
        .await
        .error_fields();
    assert_eq!(fields, ["expires_in_minutes"]);
}

/// A multipart body with the given parts, in order.
fn parts(list: &[(&str, &[u8])]) -> (Vec<u8>, String) {
    let boundary = "verifa-parts";
    let mut body = Vec::new();
    for (name, value) in list {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[tokio::test]
async fn an_upload_refuses_parts_it_would_drop() {
    let app = App::new().await;
    let id = new_session(&app).await;
    let path = format!("/api/v1/sessions/{id}/documents");
    let jpeg = jpeg();
    for (list, field) in [
        (
            vec![
                ("document_type", &b"id_front"[..]),
                ("file", &jpeg[..]),
                ("colour", b"red"),
            ],
            "colour",
        ),
        (
            vec![
                ("document_type", &b"id_front"[..]),
                ("file", &jpeg[..]),
                ("file", &jpeg[..]),
            ],
            "file",
        ),
    ] {
        let (body, content_type) = parts(&list);
        let fields = app
            .post(&path)
            .raw(body, &content_type)
            .send()
            .await
            .error_fields();
        assert_eq!(fields, [field]);
    }
    let listed = app.get(&path).send().await.ok(200);
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        0,
        "nothing was stored"
    );
    // The same form without the extra part is accepted.
    let (body, content_type) = parts(&[("document_type", b"id_front"), ("file", &jpeg)]);
    app.post(&path)
        .raw(body, &content_type)
        .send()
        .await
        .ok(201);
}
