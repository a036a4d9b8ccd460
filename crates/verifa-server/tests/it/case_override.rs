//! Override and continue (CONTRACT §8.4) through the real router and the run worker on both
//! databases: a reviewer takes the case with `next` and overrides the check that sent the
//! session to review; the run goes on at the node's pass edge, and its outcome decides the case
//! for that reviewer (under dual review: recommends); the audit chain of it all verifies.
//! Refusals: another reviewer, an unclaimed case, a node the run never reached or that passed,
//! a decided case.

use super::cases::{in_review, ok, user};
use crate::harness::TestApp;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

/// A sandbox workflow whose every check passes; the auto-injected risk assessment is what a
/// `require-review` simulation fails.
async fn sandbox_workflow(app: &TestApp) {
    ok(&app
        .post("/api/v1/workflows")
        .key(&app.sandbox_key)
        .json(json!({"name": "Flow", "is_default": true, "graph": {"entry": "start", "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject"},
            "face": {"type": "policy", "policy": "face_match", "config": {}, "on_pass": "approve", "on_fail": "reject"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"}}}}))
        .send()
        .await);
}

/// A session of `person` sent to review by its run, its case taken by `reviewer` with
/// `POST /cases/next` (the only case in the queue); returns (session id, case id, the node that
/// failed).
async fn claimed_review(app: &TestApp, person: &str, reviewer: &str) -> (String, String, String) {
    let (session_id, case) = in_review(app, person).await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/workflow-run"))
        .send()
        .await);
    let failed: Vec<String> = run["node_results"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["status"] == "failed")
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(failed.len(), 1, "{run}");
    let next = ok(&app
        .post("/api/v1/cases/next")
        .json(json!({"reviewer_id": reviewer}))
        .send()
        .await);
    assert_eq!(next["id"], case_id.as_str());
    assert_eq!(
        (next["status"].as_str(), next["assigned_to"].as_str()),
        (Some("in_review"), Some(reviewer))
    );
    (session_id, case_id, failed[0].clone())
}

fn override_body(node: &str, reviewer: &str) -> Value {
    json!({"node_id": node, "reason": "The document is clearly fine.", "reviewer_id": reviewer})
}

async fn overridden_and_approved(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let bob = user(&app, "bob@example.com", "reviewer").await;
    sandbox_workflow(&app).await;
    let (session_id, case_id, node) = claimed_review(&app, "user_override", &ann).await;
    let path = format!("/api/v1/cases/{case_id}/override-check-and-continue");

    app.post(&path)
        .json(override_body(&node, &bob))
        .send()
        .await
        .assert_error(409, "conflict");
    app.post(&path)
        .json(override_body("face", &ann))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.post(&path)
        .json(override_body("start", &ann))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.post(&path)
        .json(json!({"node_id": node, "reason": "  ", "reviewer_id": ann}))
        .send()
        .await
        .assert_error(422, "validation_error");

    let accepted = app
        .post(&path)
        .json(override_body(&node, &ann))
        .send()
        .await;
    assert_eq!(
        accepted.status,
        202,
        "{}",
        String::from_utf8_lossy(&accepted.bytes)
    );
    assert_eq!(
        accepted.json(),
        json!({"case_id": case_id, "session_id": session_id, "node_id": node, "status": "processing"})
    );
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(session["status"], "processing");
    assert_eq!(
        session["case_status"], "in_review",
        "the case waits for the run"
    );
    app.post(&path)
        .json(override_body(&node, &ann))
        .send()
        .await
        .assert_error(409, "invalid_state");

    app.worker().run_until_idle().await.expect("worker");

    let run = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/workflow-run"))
        .send()
        .await);
    let result = &run["node_results"][node.as_str()];
    assert_eq!(result["status"], "passed", "{run}");
    assert_eq!(result["override"]["by"], ann.as_str());
    assert_eq!(result["override"]["original_status"], "failed");
    assert_eq!(
        result["override"]["reason"],
        "The document is clearly fine."
    );
    assert_eq!(run["final_status"], "approved");
    assert_eq!(run["path"].as_array().unwrap().last().unwrap(), "approve");

    let case = ok(&app.get(&format!("/api/v1/cases/{case_id}")).send().await);
    assert_eq!(case["status"], "approved", "{case}");
    assert_eq!(case["decision"], "approved");
    assert_eq!(case["decided_by"], ann.as_str());
    assert!(
        case["identity_id"]
            .as_str()
            .is_some_and(|i| i.starts_with("idn_"))
    );
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(session["status"], "completed");
    assert_eq!(session["case_status"], "approved");
    let answer = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(answer["status"], "approved");
    assert_eq!(answer["case_id"], case_id.as_str());
    assert_eq!(answer["decided_by"], ann.as_str());
    let identity = ok(&app.get("/api/v1/identities/user_override").send().await);
    assert_eq!(identity["status"], "approved");
    let cases = ok(&app
        .get(&format!("/api/v1/cases?q={session_id}"))
        .send()
        .await);
    assert_eq!(cases["pagination"]["total"], 1, "no second case: {cases}");

    let notes = ok(&app
        .get(&format!("/api/v1/cases/{case_id}/notes"))
        .send()
        .await);
    assert!(
        notes["data"][0]["content"]
            .as_str()
            .is_some_and(|c| c.contains("clearly fine") && c.contains(node.as_str())),
        "{notes}"
    );
    let events = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/events"))
        .send()
        .await);
    let types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    for t in ["case.approved", "session.approved"] {
        assert!(types.contains(&t), "{t}: {types:?}");
    }
    let audit = ok(&app
        .get(&format!("/api/v1/events?resource_id={case_id}"))
        .key(&app.sandbox_key)
        .send()
        .await);
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(actions.contains(&"case.check_overridden"), "{actions:?}");
    assert!(actions.contains(&"case.approved"), "{actions:?}");
    assert!(
        !audit.to_string().contains("clearly fine"),
        "the reason stays out of the audit trail"
    );
    app.post(&path)
        .json(override_body(&node, &ann))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let chain = ok(&app.get("/api/v1/events/verify").send().await);
    assert_eq!(
        chain["valid"], true,
        "the audit chain of all of it verifies: {chain}"
    );
}
both_backends!(case_override_decides, overridden_and_approved);

async fn overridden_under_dual_review(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let bob = user(&app, "bob@example.com", "reviewer").await;
    sandbox_workflow(&app).await;
    let (session_id, case_id, node) = claimed_review(&app, "user_dual", &ann).await;
    ok(&app
        .patch(&format!("/api/v1/cases/{case_id}"))
        .json(json!({"requires_dual_review": true}))
        .send()
        .await);
    let path = format!("/api/v1/cases/{case_id}/override-check-and-continue");
    assert_eq!(
        app.post(&path)
            .json(override_body(&node, &ann))
            .send()
            .await
            .status,
        202
    );
    app.worker().run_until_idle().await.expect("worker");

    let case = ok(&app.get(&format!("/api/v1/cases/{case_id}")).send().await);
    assert_eq!(case["status"], "pending_second_review", "{case}");
    assert_eq!(case["recommendation"]["decision"], "approved");
    assert_eq!(case["recommendation"]["reviewer_id"], ann.as_str());
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(
        session["status"], "under_review",
        "back to review for the second decision"
    );
    let answer = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(answer["status"], "needs_review");

    app.post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await
        .assert_error(409, "conflict");
    let decided = ok(&app
        .post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": bob}))
        .send()
        .await);
    assert_eq!(decided["status"], "approved");
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(session["status"], "completed");
}
both_backends!(case_override_recommends, overridden_under_dual_review);

async fn override_needs_a_claimed_case(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    sandbox_workflow(&app).await;
    let (_, case_id, node) = claimed_review(&app, "user_unclaimed", &ann).await;
    ok(&app
        .post(&format!("/api/v1/cases/{case_id}/release"))
        .json(json!({}))
        .send()
        .await);
    app.post(&format!(
        "/api/v1/cases/{case_id}/override-check-and-continue"
    ))
    .json(override_body(&node, &ann))
    .send()
    .await
    .assert_error(409, "invalid_state");
    app.post("/api/v1/cases/case_missing/override-check-and-continue")
        .json(override_body(&node, &ann))
        .send()
        .await
        .assert_error(404, "not_found");
}
both_backends!(
    case_override_refused_when_open,
    override_needs_a_claimed_case
);
