//! Idempotency keys (CONTRACT §1.6).

use crate::harness::TestApp;
use axum::http::StatusCode;
use serde_json::json;
use verifa_ports::idempotency::StoredResponse;
use verifa_testkit::{TestDatabase, both_backends};

async fn replays_byte_for_byte_and_refuses_mismatches(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let first = app
        .post("/api/v1/api-keys")
        .header("idempotency-key", "signup_1")
        .json(json!({"label": "once"}))
        .send()
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(first.header("idempotent-replayed").is_none());
    let again = app
        .post("/api/v1/api-keys")
        .header("idempotency-key", "signup_1")
        .json(json!({"label": "once"}))
        .send()
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.bytes, first.bytes, "replay must be byte for byte");
    let total = app.get("/api/v1/api-keys").send().await.json()["pagination"]["total"].clone();
    assert_eq!(total, 2, "one admin key plus exactly one created key");
    let mismatch = app
        .post("/api/v1/api-keys")
        .header("idempotency-key", "signup_1")
        .json(json!({"label": "other"}))
        .send()
        .await;
    let body = mismatch.assert_error(422, "idempotency_mismatch");
    assert_eq!(
        body["detail"],
        "Idempotency key has already been used with different parameters."
    );
    // Keys are scoped per environment: the live key may reuse the same key name.
    let live = app
        .post("/api/v1/api-keys")
        .key(&app.live_key)
        .header("idempotency-key", "signup_1")
        .json(json!({"label": "once"}))
        .send()
        .await;
    assert_eq!(live.status, StatusCode::CREATED);
    assert!(live.header("idempotent-replayed").is_none());
    // Validation failures are replayed as well (same request, same answer).
    let v1 = app
        .post("/api/v1/api-keys")
        .header("idempotency-key", "bad_1")
        .json(json!({"scopes": ["x"]}))
        .send()
        .await;
    let v2 = app
        .post("/api/v1/api-keys")
        .header("idempotency-key", "bad_1")
        .json(json!({"scopes": ["x"]}))
        .send()
        .await;
    assert_eq!(v1.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v2.bytes, v1.bytes);
}
both_backends!(
    idempotent_replay,
    replays_byte_for_byte_and_refuses_mismatches
);

async fn in_progress_and_server_errors(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let caller = app
        .services
        .api_keys
        .authenticate(Some(&app.sandbox_key), None)
        .await
        .unwrap();
    let tenant = caller.tenant();
    let idem = &app.services.idempotency;
    // A claim that is still running answers 409 to a duplicate.
    let print = verifa_app::idempotency::fingerprint(&[b"x"]);
    assert_eq!(
        idem.begin(&tenant, "running", &print).await.unwrap(),
        verifa_app::idempotency::Decision::Proceed
    );
    assert_eq!(
        idem.begin(&tenant, "running", &print).await.unwrap(),
        verifa_app::idempotency::Decision::InProgress
    );
    // A 5xx is not stored: the key is free again.
    idem.finish(
        &tenant,
        "running",
        &StoredResponse {
            status: 503,
            headers: vec![],
            body: b"x".to_vec(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        idem.begin(&tenant, "running", &print).await.unwrap(),
        verifa_app::idempotency::Decision::Proceed
    );
    // Through HTTP: a request whose key is claimed by a running request gets 409.
    let http_print_holder = "held";
    assert_eq!(
        idem.begin(&tenant, http_print_holder, "someone-else")
            .await
            .unwrap(),
        verifa_app::idempotency::Decision::Proceed
    );
    app.post("/api/v1/api-keys")
        .header("idempotency-key", http_print_holder)
        .json(json!({}))
        .send()
        .await
        .assert_error(422, "idempotency_mismatch");
    assert_eq!(
        idem.sweep().await.unwrap(),
        0,
        "nothing is older than the window yet"
    );
}
both_backends!(idempotency_states, in_progress_and_server_errors);

async fn concurrent_duplicates_create_exactly_one(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let requests = (0..50).map(|_| {
        app.post("/api/v1/api-keys")
            .header("idempotency-key", "burst")
            .json(json!({"label": "burst"}))
            .send()
    });
    let responses = futures::future::join_all(requests).await;
    let mut created_ids = std::collections::BTreeSet::new();
    for r in &responses {
        match r.status.as_u16() {
            201 => {
                created_ids.insert(r.json()["id"].as_str().unwrap().to_owned());
            }
            409 => {
                r.assert_error(409, "idempotency_in_progress");
            }
            other => panic!(
                "unexpected status {other}: {}",
                String::from_utf8_lossy(&r.bytes)
            ),
        }
    }
    assert_eq!(created_ids.len(), 1, "every 201 must describe the same key");
    let listed = app.get("/api/v1/api-keys?limit=100").send().await.json();
    let bursts = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["label"] == "burst")
        .count();
    assert_eq!(
        bursts, 1,
        "exactly one key created by 50 concurrent identical requests"
    );
}
both_backends!(
    idempotent_concurrency,
    concurrent_duplicates_create_exactly_one
);
