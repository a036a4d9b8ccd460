//! Manual-review cases (CONTRACT §8) through the real router on both databases: a session sent
//! to review opens its case in the same change; reviewers claim, release, take the next case,
//! escalate and decide; a final decision completes the session, sets its result, upserts its
//! identity and appends the webhooks; dual review needs a second reviewer; 21 concurrent `next`
//! calls claim 20 cases, never one twice; 20 concurrent approvals of one case make one decision.

use crate::harness::{TestApp, TestResponse};
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

pub(crate) fn ok(r: &TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "{}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

pub(crate) async fn user(app: &TestApp, email: &str, role: &str) -> String {
    let r = app
        .post("/api/v1/org-users")
        .key(&app.live_key)
        .json(json!({"email": email, "name": email, "role": role}))
        .send()
        .await;
    ok(&r)["id"].as_str().unwrap().to_owned()
}

/// A session of `person` sent to review by a simulation; returns (session id, case).
pub(crate) async fn in_review(app: &TestApp, person: &str) -> (String, Value) {
    let s = ok(&app
        .post("/api/v1/sessions")
        .json(json!({"external_ref": person}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": "require-review"}))
        .send()
        .await);
    let list = ok(&app.get(&format!("/api/v1/cases?q={id}")).send().await);
    assert_eq!(list["pagination"]["total"], 1, "{list}");
    (id, list["data"][0].clone())
}

fn event_types(events: &Value) -> Vec<String> {
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["event_type"]
                .as_str()
                .or(e["type"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn review_and_reject(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let bob = user(&app, "bob@example.com", "reviewer").await;
    let val = user(&app, "val@example.com", "viewer").await;

    let (session_id, case) = in_review(&app, "user_case").await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    assert!(case_id.starts_with("case_"));
    assert_eq!(case["status"], "open");
    assert_eq!(case["source"], "simulate");
    assert_eq!(case["priority"], "normal");
    assert_eq!(case["sla"]["status"], "green");
    assert!(
        case["review_reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("review:terminal"))
    );
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(session["status"], "under_review");
    assert_eq!(session["case_id"], case_id.as_str());
    assert_eq!(session["case_status"], "open");
    let tabs = ok(&app.get("/api/v1/cases/tab-counts").send().await);
    assert_eq!(
        tabs,
        json!({"unassigned": 1, "mine": 0, "pending_second_review": 0, "escalated": 0, "all": 1})
    );

    app.post(&format!("/api/v1/cases/{case_id}/claim"))
        .json(json!({"reviewer_id": val}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let claimed = ok(&app
        .post(&format!("/api/v1/cases/{case_id}/claim"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await);
    assert_eq!(claimed["status"], "in_review");
    assert_eq!(claimed["assigned_to"], ann.as_str());
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(
        session["case_status"], "in_review",
        "the link follows the case"
    );
    ok(&app
        .post(&format!("/api/v1/cases/{case_id}/claim"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await);
    app.post(&format!("/api/v1/cases/{case_id}/claim"))
        .json(json!({"reviewer_id": bob}))
        .send()
        .await
        .assert_error(409, "conflict");
    app.post("/api/v1/cases/next")
        .json(json!({"reviewer_id": bob}))
        .send()
        .await
        .assert_error(404, "not_found");
    let tabs = ok(&app
        .get(&format!("/api/v1/cases/tab-counts?reviewer_id={ann}"))
        .send()
        .await);
    assert_eq!(tabs["mine"], 1);
    assert_eq!(tabs["unassigned"], 0);

    let note = app
        .post(&format!("/api/v1/cases/{case_id}/notes"))
        .json(json!({"content": "Selfie does not match the document photo."}))
        .send()
        .await;
    assert_eq!(note.status, 201);
    assert_eq!(note.json()["author_type"], "api");
    app.post(&format!("/api/v1/cases/{case_id}/notes"))
        .json(json!({"content": ""}))
        .send()
        .await
        .assert_error(422, "validation_error");

    app.post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": bob}))
        .send()
        .await
        .assert_error(409, "conflict");
    let rejected = ok(&app
        .post(&format!("/api/v1/cases/{case_id}/reject"))
        .json(json!({"reviewer_id": ann, "rejection_reason": "Face mismatch", "notes": "Checked twice."}))
        .send()
        .await);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision"], "rejected");
    assert_eq!(rejected["decided_by"], ann.as_str());
    assert!(
        rejected["identity_id"]
            .as_str()
            .unwrap()
            .starts_with("idn_")
    );
    app.post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await
        .assert_error(409, "invalid_state");

    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(session["status"], "completed");
    assert_eq!(session["case_id"], case_id.as_str());
    assert_eq!(session["case_status"], "rejected");
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(result["status"], "rejected");
    assert_eq!(result["rejection_reason"], "Face mismatch");
    assert_eq!(result["case_id"], case_id.as_str());
    assert_eq!(result["decided_by"], ann.as_str());
    let identity = ok(&app.get("/api/v1/identities/user_case").send().await);
    assert_eq!(identity["status"], "rejected", "a reviewer's rejection");
    assert_eq!(identity["id"], rejected["identity_id"]);

    let detail = ok(&app.get(&format!("/api/v1/cases/{case_id}")).send().await);
    let notes = detail["review"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1]["content"], "Checked twice.");
    assert_eq!(notes[1]["author_id"], ann.as_str());
    assert_eq!(detail["review"]["session"]["id"], session_id.as_str());
    assert_eq!(detail["review"]["result"]["status"], "rejected");

    let events = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/events"))
        .send()
        .await);
    let types = event_types(&events);
    for expected in [
        "session.requires-review",
        "case.created",
        "case.assigned",
        "case.rejected",
        "session.declined",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    let audit = ok(&app
        .get(&format!("/api/v1/events?resource_id={case_id}"))
        .send()
        .await);
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in [
        "case.created",
        "case.claimed",
        "case.note_added",
        "case.rejected",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(
        !audit.to_string().contains("Selfie"),
        "note text never reaches the trail"
    );
    app.get("/api/v1/cases?status=closed")
        .send()
        .await
        .assert_error(422, "validation_error");
    let (other_live, _) = app.other_org().await;
    app.get(&format!("/api/v1/cases/{case_id}"))
        .key(&other_live)
        .send()
        .await
        .assert_error(404, "not_found");
}
both_backends!(case_review_and_reject, review_and_reject);

async fn escalation_and_dual_review(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let lead = user(&app, "lead@example.com", "admin").await;
    let (session_id, case) = in_review(&app, "user_dual").await;
    let case_id = case["id"].as_str().unwrap().to_owned();

    app.post(&format!("/api/v1/cases/{case_id}/escalate"))
        .json(json!({"reason": "PEP?"}))
        .send()
        .await
        .assert_error(409, "invalid_state");
    ok(&app
        .post(&format!("/api/v1/cases/{case_id}/claim"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await);
    app.post(&format!("/api/v1/cases/{case_id}/escalate"))
        .json(json!({"reason": ""}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let escalated = ok(&app
        .post(&format!("/api/v1/cases/{case_id}/escalate"))
        .json(json!({"reason": "Possible PEP match", "escalated_to": lead, "reviewer_id": ann}))
        .send()
        .await);
    assert_eq!(escalated["status"], "escalated");
    assert_eq!(escalated["requires_dual_review"], true);
    assert_eq!(escalated["assigned_to"], lead.as_str());

    let recommended = ok(&app
        .post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": lead, "notes": "Not the same person."}))
        .send()
        .await);
    assert_eq!(recommended["status"], "pending_second_review");
    assert_eq!(recommended["recommendation"]["decision"], "approved");
    assert_eq!(recommended["recommendation"]["reviewer_id"], lead.as_str());
    assert_eq!(recommended["assigned_to"], Value::Null);
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(
        session["status"], "under_review",
        "a recommendation decides nothing"
    );
    app.post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": lead}))
        .send()
        .await
        .assert_error(409, "conflict");
    let tabs = ok(&app.get("/api/v1/cases/tab-counts").send().await);
    assert_eq!(tabs["pending_second_review"], 1);

    let approved = ok(&app
        .post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], ann.as_str());
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(result["status"], "approved");
    let identity = ok(&app.get("/api/v1/identities/user_dual").send().await);
    assert_eq!(identity["status"], "approved");
}
both_backends!(case_escalation_and_dual_review, escalation_and_dual_review);

async fn next_never_shares_a_case(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let mut reviewers = Vec::new();
    for n in 0..21 {
        reviewers.push(user(&app, &format!("rev{n}@example.com"), "reviewer").await);
    }
    for n in 0..20 {
        in_review(&app, &format!("user_q{n}")).await;
    }
    let calls = reviewers.iter().map(|r| {
        app.post("/api/v1/cases/next")
            .json(json!({"reviewer_id": r}))
            .send()
    });
    let answers = futures::future::join_all(calls).await;
    let mut taken: Vec<String> = answers
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    let empty = answers.iter().filter(|r| r.status == 404).count();
    assert_eq!(
        (taken.len(), empty),
        (20, 1),
        "twenty cases for twenty-one reviewers at once"
    );
    taken.sort();
    taken.dedup();
    assert_eq!(taken.len(), 20, "no case was handed out twice");
    let first = answers.iter().find(|r| r.status == 200).unwrap().json();
    assert!(
        first["review"]["session"]["id"].is_string(),
        "next answers the review material"
    );
}
both_backends!(case_next_never_shares_a_case, next_never_shares_a_case);

async fn one_decision_from_twenty_approvals(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let mut reviewers = Vec::new();
    for n in 0..20 {
        reviewers.push(user(&app, &format!("rev{n}@example.com"), "reviewer").await);
    }
    let (session_id, case) = in_review(&app, "user_race").await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/cases/{case_id}/approve");
    let calls = reviewers
        .iter()
        .map(|r| app.post(&path).json(json!({"reviewer_id": r})).send());
    let answers = futures::future::join_all(calls).await;
    let won: Vec<String> = answers
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| {
            r.json()["decided_by"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(won.len(), 1, "exactly one decision: {won:?}");
    for r in answers.iter().filter(|r| r.status != 200) {
        let code = r.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(
            r.status == 409 && (code == "conflict" || code == "invalid_state"),
            "{}: {code}",
            r.status
        );
    }
    let case = ok(&app.get(&format!("/api/v1/cases/{case_id}")).send().await);
    assert_eq!(
        (case["status"].as_str(), case["decided_by"].as_str()),
        (Some("approved"), Some(won[0].as_str()))
    );
    let events = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/events"))
        .send()
        .await);
    let approvals = event_types(&events)
        .iter()
        .filter(|t| t.as_str() == "case.approved")
        .count();
    assert_eq!(approvals, 1, "one case.approved webhook");
}
both_backends!(
    case_twenty_approvals_one_decision,
    one_decision_from_twenty_approvals
);
