//! A verified person's data is encrypted at rest: after a run on the MRZ walkthrough's passport
//! (OCR → age → screening → risk → approve), the raw database holds none of its values.

use crate::harness::TestApp;
use serde_json::json;
use verifa_testkit::{TestDatabase, both_backends};

/// The values of the walkthrough's TD3 MRZ, as the checks extract them.
const SECRETS: [&str; 7] = [
    "ERIKSSON",
    "Eriksson",
    "ANNA",
    "Anna",
    "L898902C3",
    "1974-08-12",
    "740812",
];

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn run_leaves_no_plaintext(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let key = app.live_key.clone();
    let wf = app
        .post("/api/v1/workflows")
        .key(&key)
        .json(json!({"name": "KYC", "is_default": true, "graph": {"entry": "start", "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "age", "on_fail": "reject"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"}}}}))
        .send()
        .await;
    assert!(
        wf.status.is_success(),
        "{}",
        String::from_utf8_lossy(&wf.bytes)
    );
    let id = crate::sessions::session_with_id_front(&app, &key).await;
    let r = app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .key(&key)
        .send()
        .await;
    assert!(r.status.is_success());
    app.worker().run_until_idle().await.unwrap();
    let result = app
        .get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await
        .json();
    // The run really read the passport: the API shows what the database must not.
    assert_eq!(
        result["extracted_data"]["last_name"], "ERIKSSON",
        "{result}"
    );
    assert_eq!(
        result["extracted_data"]["document_number"], "L898902C3",
        "{result}"
    );
    let run = app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await
        .json();
    assert_eq!(run["final_status"], "approved", "{run}");
    let raw = app.raw_contents().await;
    assert!(raw.len() > 1000, "the scan read the database");
    let found: Vec<&str> = SECRETS
        .iter()
        .copied()
        .filter(|s| contains(&raw, s))
        .collect();
    assert!(found.is_empty(), "plaintext at rest: {found:?}");
}
both_backends!(pii_is_encrypted_at_rest, run_leaves_no_plaintext);
