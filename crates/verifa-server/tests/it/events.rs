//! The audit trail (CONTRACT §6.2) through the real router on both databases: changes are
//! recorded with their actor and request, by field name only; listings filter and stay in the
//! tenant; the database refuses to rewrite an event; and a changed or deleted row is found by
//! `GET /events/verify` and by `verifa audit verify`.

use crate::harness::TestApp;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

async fn events(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/events{query}")).send().await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    r.json()["data"].as_array().unwrap().clone()
}

fn types(list: &[Value]) -> Vec<&str> {
    list.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

async fn records_changes(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let created = app
        .post("/api/v1/api-keys")
        .json(json!({"label": "Secret Label 42", "scopes": ["sessions:read"]}))
        .send()
        .await;
    assert_eq!(created.status, 201);
    let key_id = created.json()["id"].as_str().unwrap().to_owned();
    let patched = app
        .patch(&format!("/api/v1/api-keys/{key_id}"))
        .json(json!({"label": "Another Label 43"}))
        .send()
        .await;
    assert_eq!(patched.status, 200);
    let request_id = patched.header("x-request-id").unwrap().to_owned();
    let expired = app
        .post(&format!("/api/v1/api-keys/{key_id}/expire"))
        .send()
        .await;
    assert_eq!(expired.status, 200);

    let all = events(&app, "").await;
    assert_eq!(
        types(&all),
        [
            "api_key.expired",
            "api_key.updated",
            "api_key.created",
            "api_key.created"
        ],
        "newest first, after the bootstrap's key"
    );
    assert_eq!(all[3]["actor"], "system", "the organization's first key");
    let sequences: Vec<i64> = all
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, [4, 3, 2, 1]);

    let update = &all[1];
    let actor = update["actor"].as_str().unwrap();
    let prefix = actor.strip_prefix("api_key:").unwrap();
    assert!(
        prefix.len() >= 8 && app.sandbox_key.starts_with(prefix),
        "the actor is the calling key's public prefix: {actor}"
    );
    assert_eq!(update["resource_type"], "api_key");
    assert_eq!(update["resource_id"], key_id);
    assert_eq!(update["changes"], json!(["label"]));
    assert_eq!(update["request_method"], "PATCH");
    assert_eq!(update["request_path"], format!("/api/v1/api-keys/{key_id}"));
    assert_eq!(update["request_id"], request_id.as_str());
    assert_eq!(update["ip_address"], "127.0.0.1");
    assert_eq!(update["environment"], "sandbox");
    assert_eq!(update["prev_hash"], all[2]["hash"]);
    assert_eq!(all[0]["changes"], json!(["is_active", "expires_at"]));
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("Secret Label") && !text.contains("Another Label"),
        "events name fields, never values: {text}"
    );

    // Filters.
    assert_eq!(
        types(&events(&app, "?action=api_key.updated").await),
        ["api_key.updated"]
    );
    assert_eq!(
        events(&app, &format!("?resource_id={key_id}")).await.len(),
        3
    );
    assert_eq!(events(&app, "?actor=system").await.len(), 1);
    assert_eq!(events(&app, "?q=EXPIRED").await.len(), 1);
    assert_eq!(events(&app, "?limit=2&offset=1").await.len(), 2);
    assert!(events(&app, "?created_before=2000-01-01").await.is_empty());
    app.get("/api/v1/events?created_after=yesterday")
        .send()
        .await
        .assert_error(422, "validation_error");
    app.get("/api/v1/events?limit=0")
        .send()
        .await
        .assert_error(422, "validation_error");

    // One event; tenant isolation; the scope.
    let one = app
        .get(&format!(
            "/api/v1/events/{}",
            update["id"].as_str().unwrap()
        ))
        .send()
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json(), *update);
    app.get(&format!(
        "/api/v1/events/{}",
        update["id"].as_str().unwrap()
    ))
    .key(&app.live_key)
    .send()
    .await
    .assert_error(404, "not_found");
    let live = app
        .get("/api/v1/events")
        .key(&app.live_key)
        .send()
        .await
        .json();
    assert_eq!(
        types(live["data"].as_array().unwrap()),
        ["api_key.created"],
        "the live chain holds only the live bootstrap key"
    );
    let (_, reader) = app.key_with_scopes(&["sessions:read"]).await;
    app.get("/api/v1/events")
        .key(&reader)
        .send()
        .await
        .assert_error(403, "insufficient_scope");

    // The chain verifies, whole and in part.
    let verified = app.get("/api/v1/events/verify").send().await.json();
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["first_invalid_sequence"], Value::Null);
    assert_eq!(
        verified["head_sequence"], 5,
        "the reader key's creation is event 5"
    );
    assert_eq!(verified["checked"], 5);
    let part = app
        .get("/api/v1/events/verify?from_sequence=2&to_sequence=3")
        .send()
        .await
        .json();
    assert_eq!(
        (part["valid"].as_bool(), part["checked"].as_u64()),
        (Some(true), Some(2))
    );
    app.get("/api/v1/events/verify?from_sequence=0")
        .send()
        .await
        .assert_error(422, "validation_error");
    let empty = app
        .get("/api/v1/events/verify?from_sequence=3&to_sequence=2")
        .send()
        .await
        .json();
    assert_eq!(
        (empty["valid"].as_bool(), empty["checked"].as_u64()),
        (Some(true), Some(0))
    );
    assert!(
        events(&app, "?created_after=2026-01-02&created_before=2026-01-01")
            .await
            .is_empty(),
        "an inverted range matches nothing"
    );
}
both_backends!(audit_trail_records_changes, records_changes);

/// Runs raw SQL as a database owner would, bypassing the application.
async fn sql(app: &TestApp, statement: &str) -> Result<(), sea_orm::DbErr> {
    app.db
        .connection()
        .execute_unprepared(statement)
        .await
        .map(|_| ())
}

async fn tampering(db: TestDatabase) {
    let sqlite = db.backend() == "sqlite";
    let app = TestApp::new(db).await;
    for label in ["a", "b", "c"] {
        let r = app
            .post("/api/v1/api-keys")
            .json(json!({"label": label}))
            .send()
            .await;
        assert_eq!(r.status, 201);
    }
    let verify = || async { app.get("/api/v1/events/verify").send().await.json() };
    assert_eq!(verify().await["valid"], true);

    // The database itself refuses to rewrite or delete an event.
    let rewrite =
        "UPDATE audit_events SET actor = 'system' WHERE sequence = 2 AND environment = 'sandbox'";
    let err = sql(&app, rewrite).await.expect_err("append-only");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = sql(&app, "DELETE FROM audit_events WHERE sequence = 4")
        .await
        .expect_err("append-only");
    assert!(err.to_string().contains("append-only"), "{err}");

    // Someone with the database's keys lifts the guard and rewrites history: it shows.
    let unguard = if sqlite {
        "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete"
    } else {
        "ALTER TABLE audit_events DISABLE TRIGGER USER"
    };
    sql(&app, unguard).await.unwrap();
    sql(&app, rewrite).await.unwrap();
    let report = verify().await;
    assert_eq!(
        (
            report["valid"].as_bool(),
            report["first_invalid_sequence"].as_i64()
        ),
        (Some(false), Some(2)),
        "{report}"
    );
    let cli = verifa_server::commands::audit::verify(&app.settings, Some(&app.org_id), None).await;
    assert!(
        cli.as_ref()
            .is_err_and(|e| e.to_string().contains("1 of 2 audit chains are broken")),
        "{cli:?}"
    );
    assert!(
        verifa_server::commands::audit::verify(&app.settings, Some(&app.org_id), Some("live"))
            .await
            .is_ok(),
        "the live chain is untouched"
    );

    // A deleted event leaves a gap; a truncated tail disagrees with the head.
    sql(
        &app,
        "DELETE FROM audit_events WHERE sequence = 4 AND environment = 'sandbox'",
    )
    .await
    .unwrap();
    let report = app
        .get("/api/v1/events/verify?from_sequence=3")
        .send()
        .await
        .json();
    assert_eq!(
        (
            report["valid"].as_bool(),
            report["first_invalid_sequence"].as_i64()
        ),
        (Some(false), Some(4)),
        "{report}"
    );
    assert_eq!(report["head_sequence"], 4);
}
both_backends!(audit_tampering_is_detected, tampering);

fn graph(minimum_age: u32) -> Value {
    json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "age"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": minimum_age}, "on_pass": "approve", "on_fail": "reject"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"}
        }
    })
}

async fn ok(r: crate::harness::TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "{}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

async fn workflows_and_webhooks(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = ok(app
        .post("/api/v1/workflows")
        .json(json!({"name": "KYC", "graph": graph(18)}))
        .send()
        .await)
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(app
        .patch(&format!("/api/v1/workflows/{wf}"))
        .json(json!({"description": "Adults only"}))
        .send()
        .await)
    .await;
    let draft = ok(app
        .post(&format!("/api/v1/workflows/{wf}/drafts"))
        .json(json!({"graph": graph(21)}))
        .send()
        .await)
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(app
        .post(&format!("/api/v1/workflows/{wf}/drafts/{draft}/publish"))
        .json(json!({"rollout_percentage": 25}))
        .send()
        .await)
    .await;
    ok(app
        .post(&format!("/api/v1/workflows/{wf}/set-default"))
        .send()
        .await)
    .await;

    let ep = ok(app
        .post("/api/v1/webhooks/endpoints")
        .json(json!({"url": "https://hooks.example.com/verifa"}))
        .send()
        .await)
    .await;
    let ep_id = ep["id"].as_str().unwrap().to_owned();
    let secret = ep["secret"].as_str().unwrap().to_owned();
    ok(app
        .post(&format!("/api/v1/webhooks/endpoints/{ep_id}/rotate-secret"))
        .send()
        .await)
    .await;
    let r = app
        .delete(&format!("/api/v1/webhooks/endpoints/{ep_id}"))
        .send()
        .await;
    assert!(r.status.is_success(), "{}", r.status);

    let workflow_events = events(&app, &format!("?resource_id={wf}")).await;
    assert_eq!(
        types(&workflow_events),
        [
            "workflow.default_set",
            "workflow.updated",
            "workflow.created"
        ],
        "the draft's publication is recorded on the draft"
    );
    let updated = events(&app, "?action=workflow.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["changes"], json!(["description"]));
    let drafts = events(&app, &format!("?resource_id={draft}")).await;
    assert_eq!(
        types(&drafts),
        ["workflow_draft.published", "workflow_draft.created"]
    );
    assert_eq!(drafts[0]["metadata"]["workflow_id"], wf.as_str());
    assert_eq!(drafts[0]["metadata"]["version"], 2);

    let endpoint_events = events(&app, &format!("?resource_id={ep_id}")).await;
    assert_eq!(
        types(&endpoint_events),
        [
            "webhook_endpoint.deleted",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.created"
        ]
    );
    assert_eq!(endpoint_events[1]["changes"], json!(["secret"]));
    let text = serde_json::to_string(&endpoint_events).unwrap();
    assert!(!text.contains(&secret), "a secret never reaches the trail");
    let verified = app.get("/api/v1/events/verify").send().await.json();
    assert_eq!(verified["valid"], true, "{verified}");
}
both_backends!(audit_covers_workflows_and_webhooks, workflows_and_webhooks);
