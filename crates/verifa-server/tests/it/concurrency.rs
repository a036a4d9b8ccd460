//! Concurrent read-modify-writes lose nothing: sessions, workflow heads, drafts, webhook
//! endpoints and API keys are each changed by many requests at once, and every change lands.

use crate::harness::{TestApp, TestResponse};
use futures::future::join_all;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

fn ok(r: &TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "{}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

/// Sends every PATCH of `bodies` to `path` at once and checks that each one succeeded.
async fn patch_all(app: &TestApp, path: &str, bodies: Vec<Value>) {
    let requests = bodies
        .into_iter()
        .map(|body| app.patch(path).json(body).send());
    for r in join_all(requests).await {
        ok(&r);
    }
}

async fn session_metadata_merges_all_land(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let id = ok(&app.post("/api/v1/sessions").json(json!({})).send().await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/sessions/{id}");
    let bodies = (0..20)
        .map(|i| json!({"metadata": {format!("k{i}"): i}}))
        .collect();
    patch_all(&app, &path, bodies).await;
    let metadata = ok(&app.get(&path).send().await)["metadata"].clone();
    for i in 0..20 {
        assert_eq!(metadata[format!("k{i}")], i, "k{i} was lost: {metadata}");
    }
}
both_backends!(
    concurrent_session_metadata_updates,
    session_metadata_merges_all_land
);

/// Changes two fields of `path` at once, many rounds; both changes must survive every round.
async fn two_fields_both_land(app: &TestApp, path: &str, a: &str, b: &str) {
    for round in 0..8 {
        patch_all(
            app,
            path,
            vec![
                json!({a: format!("{a} {round}")}),
                json!({b: format!("{b} {round}")}),
            ],
        )
        .await;
        let now = ok(&app.get(path).send().await);
        assert_eq!(now[a], format!("{a} {round}"), "{a} lost in round {round}");
        assert_eq!(now[b], format!("{b} {round}"), "{b} lost in round {round}");
    }
}

fn graph() -> Value {
    json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "approve"},
        "approve": {"type": "terminal", "outcome": "approved"}}})
}

async fn workflow_heads_and_drafts_lose_nothing(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = ok(&app
        .post("/api/v1/workflows")
        .json(json!({"name": "Flow", "graph": graph()}))
        .send()
        .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/workflows/{wf}");
    two_fields_both_land(&app, &path, "name", "description").await;
    let draft = ok(&app
        .post(&format!("/api/v1/workflows/{wf}/drafts"))
        .json(json!({}))
        .send()
        .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    two_fields_both_land(
        &app,
        &format!("/api/v1/workflows/{wf}/drafts/{draft}"),
        "name",
        "description",
    )
    .await;
}
both_backends!(
    concurrent_workflow_and_draft_updates,
    workflow_heads_and_drafts_lose_nothing
);

async fn endpoints_and_keys_lose_nothing(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ep = ok(&app
        .post("/api/v1/webhooks/endpoints")
        .json(json!({"url": "https://hooks.example.com/verifa"}))
        .send()
        .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    two_fields_both_land(
        &app,
        &format!("/api/v1/webhooks/endpoints/{ep}"),
        "label",
        "description",
    )
    .await;
    let (key, _) = app.key_with_scopes(&["sessions:read"]).await;
    two_fields_both_land(&app, &format!("/api/v1/api-keys/{key}"), "label", "note").await;
}
both_backends!(
    concurrent_endpoint_and_key_updates,
    endpoints_and_keys_lose_nothing
);

/// Concurrent state changes of one session: exactly one submit wins, the others are told the
/// session is no longer submittable (never a silent double start).
async fn one_submit_wins(db: TestDatabase) {
    let app = TestApp::new(db).await;
    ok(&app
        .post("/api/v1/workflows")
        .key(&app.live_key)
        .json(json!({"name": "Flow", "graph": graph(), "is_default": true}))
        .send()
        .await);
    let id = crate::sessions::session_with_id_front(&app, &app.live_key).await;
    let path = format!("/api/v1/sessions/{id}/submit");
    let submits = (0..10).map(|_| app.post(&path).key(&app.live_key).send());
    let statuses: Vec<u16> = join_all(submits)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&app.live_key)
        .send()
        .await);
    assert_eq!(session["processing_attempts"], 1, "one run started");
}
both_backends!(concurrent_submits, one_submit_wins);
