//! Data-subject access exports (CONTRACT §11.4) through the real router on both databases:
//! everything held about a session, decrypted, with 24-hour document links, audited.

use crate::harness::TestApp;
use crate::redaction::{EMAIL, ok, verified_session};
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

async fn export(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let key = app.live_key.clone();
    let endpoint = ok(&app
        .post("/api/v1/webhooks/endpoints")
        .key(&key)
        .json(json!({"url": "https://hooks.example.com/verifa", "enabled_events": ["session.approved"]}))
        .send()
        .await);
    let id = verified_session(&app, &key).await;
    app.services
        .webhooks
        .dispatcher("test")
        .fan_out_once()
        .await
        .unwrap();

    let e = ok(&app
        .get(&format!("/api/v1/sessions/{id}/export"))
        .key(&key)
        .send()
        .await);
    assert_eq!(e["session"]["id"], id.as_str(), "{e}");
    assert_eq!(
        e["fields"]["email"], EMAIL,
        "pre-fill fields are personal data held"
    );
    assert_eq!(e["result"]["status"], "approved");
    assert_eq!(
        e["result"]["extracted_data"]["document_number"],
        "L898902C3"
    );
    let documents = e["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 2);
    let link = documents[0]["download_url"].as_str().unwrap();
    let expires: i64 = link
        .split("expires=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap()
        .parse()
        .unwrap();
    let ttl = expires - chrono::Utc::now().timestamp();
    assert!((86_000..=86_400).contains(&ttl), "24 h links: {ttl}");
    let path = link
        .split_once("/api/v1/")
        .map(|(_, p)| format!("/api/v1/{p}"))
        .unwrap();
    let bytes = app.get(&path).no_key().send().await;
    assert!(
        bytes.status.is_success(),
        "the export's link serves the document"
    );
    assert_eq!(e["workflow_run"]["final_status"], "approved");
    let mut policies: Vec<&str> = e["check_attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["policy"].as_str().unwrap())
        .collect();
    policies.sort_unstable();
    // The live workflow also screens and scores risk (added to every live graph).
    assert_eq!(
        policies,
        [
            "age_verification",
            "document_ocr",
            "duplicate_detection",
            "risk_assessment",
            "watchlist_screening"
        ]
    );
    assert!(
        e["check_attempts"].to_string().contains("ERIKSSON"),
        "check outputs included"
    );
    assert_eq!(
        e["webhook_deliveries"],
        json!([{"event": "session.approved", "url": endpoint["url"], "status": "pending", "attempts": 0}])
    );
    for empty in ["screening", "list_matches", "fraud_signals", "case_notes"] {
        assert_eq!(e[empty], json!([]), "{empty}");
    }
    assert_eq!(e["review_case"], Value::Null);
    assert!(e["exported_at"].is_string());
    let audit = ok(&app
        .get(&format!(
            "/api/v1/events?resource_id={id}&action=api.session.export"
        ))
        .key(&key)
        .send()
        .await);
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    // Past the sensitive window the data is exported, but no link serves documents.
    ok(&app
        .patch("/api/v1/settings")
        .key(&key)
        .json(json!({"sensitive_data_retention_days": 0}))
        .send()
        .await);
    app.services
        .sessions
        .sweep_retention(chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    let e = ok(&app
        .get(&format!("/api/v1/sessions/{id}/export"))
        .key(&key)
        .send()
        .await);
    assert_eq!(e["result"]["sensitive_data_expired"], true);
    assert_eq!(
        e["result"]["extracted_data"]["document_number"],
        "L898902C3"
    );
    assert_eq!(e["documents"].as_array().unwrap().len(), 2);
    assert_eq!(e["documents"][0]["download_url"], Value::Null);

    // After redaction the export says what is left: the decision, no personal data.
    ok(&app
        .delete(&format!("/api/v1/sessions/{id}/data"))
        .key(&key)
        .send()
        .await);
    let e = ok(&app
        .get(&format!("/api/v1/sessions/{id}/export"))
        .key(&key)
        .send()
        .await);
    assert_eq!(e["result"]["extracted_data"], json!({}));
    assert_eq!(e["documents"], json!([]));
    assert!(!e.to_string().contains("ERIKSSON"), "{e}");
    assert!(!e.to_string().contains(EMAIL));

    // Unknown, another environment's, or without the scope.
    app.get("/api/v1/sessions/ses_nobody/export")
        .key(&key)
        .send()
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/api/v1/sessions/{id}/export"))
        .key(&app.sandbox_key)
        .send()
        .await
        .assert_error(404, "not_found");
    let (_, writer) = app.key_with_scopes(&["sessions:create"]).await;
    app.get(&format!("/api/v1/sessions/{id}/export"))
        .key(&writer)
        .send()
        .await
        .assert_error(403, "insufficient_scope");
}
both_backends!(session_export_holds_everything, export);

/// A sandbox session of `person`, completed by `simulate approve`.
async fn approved(app: &TestApp, person: &str) -> String {
    let s = ok(&app
        .post("/api/v1/sessions")
        .json(json!({"external_ref": person}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": "approve"}))
        .send()
        .await);
    id
}

async fn identity_export(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let first = approved(&app, "user_dsar").await;
    let second = approved(&app, "user_dsar").await;
    let old = approved(&app, "user_dsar_old").await;
    let primary = ok(&app.get("/api/v1/identities/user_dsar").send().await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secondary = ok(&app.get("/api/v1/identities/user_dsar_old").send().await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&app
        .post("/api/v1/identities/merge")
        .json(json!({"primary_identity_id": primary, "secondary_identity_id": secondary}))
        .send()
        .await);

    let e = ok(&app.get("/api/v1/identities/user_dsar/export").send().await);
    assert_eq!(e["identity"]["id"], primary.as_str(), "{e}");
    assert_eq!(e["identity"]["external_ref"], "user_dsar");
    let mut exported: Vec<&str> = e["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session"]["id"].as_str().unwrap())
        .collect();
    exported.sort_unstable();
    let mut expected = vec![first.as_str(), second.as_str(), old.as_str()];
    expected.sort_unstable();
    assert_eq!(exported, expected, "the merged identity's session too");
    assert!(
        e["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["result"]["extracted_data"]["first_name"] == "Jane"),
        "decrypted: {e}"
    );
    assert_eq!(
        e["identity_links"],
        json!([{"identity_id": secondary, "kind": "merged"}])
    );
    for empty in ["checks", "findings", "identity_relationships"] {
        assert_eq!(e[empty], json!([]), "{empty}");
    }
    assert_eq!(e["face_embeddings_count"], 0);
    let audit = ok(&app
        .get(&format!(
            "/api/v1/events?resource_id={primary}&action=api.identity.export"
        ))
        .send()
        .await);
    assert_eq!(
        audit["data"].as_array().unwrap().len(),
        1,
        "audited once: {audit}"
    );
    app.get("/api/v1/identities/user_nobody/export")
        .send()
        .await
        .assert_error(404, "not_found");
    let (_, reader) = app.key_with_scopes(&["sessions:read"]).await;
    app.get(&format!("/api/v1/identities/{primary}/export"))
        .key(&reader)
        .send()
        .await
        .assert_error(403, "insufficient_scope");
}
both_backends!(identity_export_holds_every_session, identity_export);
