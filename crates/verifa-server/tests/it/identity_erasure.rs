//! Erasing a person (CONTRACT §11.4, `DELETE /identities/{id}`) through the real router on both
//! databases: the identity and all its sessions are redacted in one transaction, or nothing is.

use crate::harness::TestApp;
use crate::redaction::ok;
use crate::sessions::{JPEG, upload};
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

/// A sandbox session of `person` completed by `simulate approve`, with a document when asked.
async fn completed(app: &TestApp, person: &str, with_document: bool) -> String {
    let s = ok(&app
        .post("/api/v1/sessions")
        .json(json!({"external_ref": person}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    if with_document {
        ok(&upload(app, &app.sandbox_key, &id, "id_front", JPEG, None).await);
    }
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": "approve"}))
        .send()
        .await);
    id
}

async fn retention_status(app: &TestApp, session: &str) -> Value {
    ok(&app.get(&format!("/api/v1/sessions/{session}")).send().await)["retention_status"].clone()
}

async fn erasure(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let (_, eraser) = app.key_with_scopes(&["redact:write"]).await;

    // A person with a session under review: refused, and nothing is redacted.
    let first_of_blocked = completed(&app, "user_blocked", true).await;
    let reviewed = completed(&app, "user_blocked", false).await;
    ok(&app
        .post("/api/v1/cases")
        .json(json!({"session_id": reviewed}))
        .send()
        .await);
    let e = app
        .delete("/api/v1/identities/user_blocked")
        .key(&eraser)
        .send()
        .await
        .assert_error(409, "invalid_state");
    let detail = e["detail"].as_str().unwrap();
    assert!(
        detail.contains(&reviewed) && detail.contains("under_review"),
        "{e}"
    );
    assert_eq!(retention_status(&app, &first_of_blocked).await, "active");
    let blocked = ok(&app.get("/api/v1/identities/user_blocked").send().await);
    assert_ne!(blocked["status"], "redacted");
    let docs = ok(&app
        .get(&format!("/api/v1/sessions/{first_of_blocked}/documents"))
        .send()
        .await);
    assert_eq!(
        docs["data"].as_array().unwrap().len(),
        1,
        "nothing was done"
    );

    // A person with two finished sessions: both redacted with the identity.
    let a = completed(&app, "user_erase", true).await;
    let b = completed(&app, "user_erase", false).await;
    ok(&app
        .post("/api/v1/identities/user_erase/tags")
        .json(json!({"tag": "vip"}))
        .send()
        .await);
    let before = ok(&app.get("/api/v1/identities/user_erase").send().await);
    let id = before["id"].as_str().unwrap().to_owned();
    assert_eq!(before["extracted_data"]["first_name"], "Jane", "{before}");
    let (_, writer) = app
        .key_with_scopes(&["sessions:write", "identities:write"])
        .await;
    app.delete(&format!("/api/v1/identities/{id}"))
        .key(&writer)
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    let r = ok(&app
        .delete("/api/v1/identities/user_erase")
        .key(&eraser)
        .send()
        .await);
    assert_eq!(
        r,
        json!({"status": "deleted", "identity_id": id, "sessions_redacted": 2,
               "documents_removed": 1, "checks_redacted": 0})
    );
    for s in [&a, &b] {
        assert_eq!(retention_status(&app, s).await, "redacted");
    }
    let after = ok(&app.get(&format!("/api/v1/identities/{id}")).send().await);
    assert_eq!(after["status"], "redacted", "{after}");
    assert_eq!(after["external_ref"], Value::Null);
    assert_eq!(after["tags"], json!([]));
    assert_eq!(after["extracted_data"], json!({}));
    assert!(after["redacted_at"].is_string(), "{after}");
    app.get("/api/v1/identities/user_erase")
        .send()
        .await
        .assert_error(404, "not_found");
    let audit = ok(&app
        .get(&format!(
            "/api/v1/events?resource_id={id}&action=identity.redacted"
        ))
        .send()
        .await);
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");
    let again = ok(&app
        .delete(&format!("/api/v1/identities/{id}"))
        .key(&eraser)
        .send()
        .await);
    assert_eq!(again["status"], "already_redacted");
    assert_eq!(again["sessions_redacted"], 0);
    app.delete("/api/v1/identities/idn_nobody")
        .key(&eraser)
        .send()
        .await
        .assert_error(404, "not_found");
    // Another environment's identity is invisible.
    let live_eraser = app.live_key.clone();
    app.delete(&format!("/api/v1/identities/{id}"))
        .key(&live_eraser)
        .send()
        .await
        .assert_error(404, "not_found");
}
both_backends!(identity_erasure_is_all_or_nothing, erasure);

async fn merge_redacting_the_secondary(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let kept = completed(&app, "user_keep", false).await;
    let moved = completed(&app, "user_alias", true).await;
    let primary = ok(&app.get("/api/v1/identities/user_keep").send().await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secondary = ok(&app.get("/api/v1/identities/user_alias").send().await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let preview = ok(&app
        .post("/api/v1/identities/merge/preview")
        .json(
            json!({"primary_identity_id": primary, "secondary_identity_id": secondary,
                     "redact_secondary": true}),
        )
        .send()
        .await);
    assert!(preview.to_string().contains(&secondary), "{preview}");
    ok(&app
        .post("/api/v1/identities/merge")
        .json(
            json!({"primary_identity_id": primary, "secondary_identity_id": secondary,
                     "redact_secondary": true}),
        )
        .send()
        .await);
    let gone = ok(&app
        .get(&format!("/api/v1/identities/{secondary}"))
        .send()
        .await);
    assert_eq!(gone["status"], "redacted", "{gone}");
    assert_eq!(gone["external_ref"], Value::Null);
    assert_eq!(gone["merged_into_id"], primary.as_str());
    app.get("/api/v1/identities/user_alias")
        .send()
        .await
        .assert_error(404, "not_found");
    let sessions = ok(&app
        .get(&format!("/api/v1/identities/{primary}/sessions"))
        .send()
        .await);
    let ids: Vec<&str> = sessions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&kept.as_str()) && ids.contains(&moved.as_str()),
        "{sessions}"
    );
    assert_eq!(
        retention_status(&app, &moved).await,
        "active",
        "the moved session is the same person's and stays"
    );
}
both_backends!(
    merge_can_redact_the_secondary,
    merge_redacting_the_secondary
);
