//! Managing cases through the real router on both databases (CONTRACT §8.3–8.4): opening a
//! case by hand on a finished session, editing it, searching, bulk actions and correcting the
//! extracted data of its session.

use super::cases::{in_review, ok, user};
use crate::harness::TestApp;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

/// A session of `person` approved by a simulation; returns its id.
async fn approved_session(app: &TestApp, person: &str) -> String {
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

async fn opened_by_hand(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let session_id = approved_session(&app, "user_manual").await;

    let created = app
        .post("/api/v1/cases")
        .json(json!({"session_id": session_id, "priority": "high", "metadata": {"ticket": "T-7"}}))
        .send()
        .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.bytes)
    );
    let case = created.json();
    let case_id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(case["source"], "api");
    assert_eq!(case["priority"], "high");
    assert_eq!(case["status"], "open");
    assert_eq!(case["metadata"], json!({"ticket": "T-7"}));
    assert_eq!(case["review_reasons"], json!(["review:requested"]));

    let again = app
        .post("/api/v1/cases")
        .json(json!({"session_id": session_id}))
        .send()
        .await;
    assert_eq!(again.status, 200, "the active case, not a second one");
    assert_eq!(again.json()["id"], case_id.as_str());

    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(session["status"], "under_review");
    assert_eq!(session["case_id"], case_id.as_str());
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(result["status"], "needs_review");
    assert_eq!(result["case_id"], case_id.as_str());
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
    assert!(types.contains(&"session.requires-review"), "{types:?}");
    assert!(types.contains(&"case.created"), "{types:?}");

    let pending = ok(&app.post("/api/v1/sessions").json(json!({})).send().await);
    app.post("/api/v1/cases")
        .json(json!({"session_id": pending["id"]}))
        .send()
        .await
        .assert_error(409, "invalid_state");
    app.post("/api/v1/cases")
        .json(json!({"session_id": "ses_00000000000000000000000000000000"}))
        .send()
        .await
        .assert_error(404, "not_found");
    app.post("/api/v1/cases")
        .json(json!({"session_id": session_id, "priority": "asap"}))
        .send()
        .await
        .assert_error(422, "validation_error");

    let approved = ok(&app
        .post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await);
    assert_eq!(approved["status"], "approved");
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(result["status"], "approved");
    assert_eq!(result["decided_by"], ann.as_str());
    let reopened = app
        .post("/api/v1/cases")
        .json(json!({"session_id": session_id}))
        .send()
        .await;
    assert_eq!(
        reopened.status, 201,
        "a decided session may be reviewed again"
    );
    assert_ne!(reopened.json()["id"], case_id.as_str());
}
both_backends!(case_opened_by_hand, opened_by_hand);

async fn edited(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let bob = user(&app, "bob@example.com", "reviewer").await;
    let session_id = approved_session(&app, "user_edit").await;
    let case = ok(&app
        .post("/api/v1/cases")
        .json(json!({"session_id": session_id}))
        .send()
        .await);
    let case_id = case["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/cases/{case_id}");

    let patched = ok(&app
        .patch(&path)
        .json(
            json!({"priority": "urgent", "custom_fields": {"team": "emea", "gone": null},
                     "requires_dual_review": true}),
        )
        .send()
        .await);
    assert_eq!(patched["priority"], "urgent");
    assert_eq!(patched["custom_fields"], json!({"team": "emea"}));
    assert_eq!(patched["requires_dual_review"], true);
    let merged = ok(&app
        .patch(&path)
        .json(json!({"custom_fields": {"team": null, "queue": "kyc"}}))
        .send()
        .await);
    assert_eq!(merged["custom_fields"], json!({"queue": "kyc"}));
    assert_eq!(merged["priority"], "urgent", "fields left out stay");
    app.patch(&path)
        .json(json!({"priority": "asap"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.patch(&path)
        .json(json!({"metadata": {"": 1}}))
        .send()
        .await
        .assert_error(422, "validation_error");

    ok(&app
        .post(&format!("{path}/approve"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await);
    app.patch(&path)
        .json(json!({"requires_dual_review": false}))
        .send()
        .await
        .assert_error(409, "invalid_state");
    ok(&app
        .post(&format!("{path}/reject"))
        .json(json!({"reviewer_id": bob}))
        .send()
        .await);
    app.patch(&path)
        .json(json!({"priority": "low"}))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let annotated = ok(&app
        .patch(&path)
        .json(json!({"metadata": {"closed_in": "crm"}}))
        .send()
        .await);
    assert_eq!(annotated["metadata"], json!({"closed_in": "crm"}));

    let audit = ok(&app
        .get(&format!("/api/v1/events?resource_id={case_id}"))
        .send()
        .await);
    let updates: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "case.updated")
        .collect();
    assert_eq!(updates.len(), 3, "{audit}");
    assert!(
        !audit.to_string().contains("emea"),
        "the trail names fields, never their values"
    );
}
both_backends!(case_edited, edited);

async fn searched(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let mut ids = Vec::new();
    for (person, priority) in [
        ("user_s1", "high"),
        ("user_s2", "low"),
        ("user_s1", "urgent"),
    ] {
        let session_id = approved_session(&app, person).await;
        let case = ok(&app
            .post("/api/v1/cases")
            .json(json!({"session_id": session_id, "priority": priority}))
            .send()
            .await);
        ids.push(case["id"].as_str().unwrap().to_owned());
    }
    let found = ok(&app
        .post("/api/v1/cases/search")
        .json(json!({"external_ref": "user_s1"}))
        .send()
        .await);
    let got: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[0].as_str()], "newest first");
    assert_eq!(found["pagination"]["total"], 2);

    let found = ok(&app
        .post("/api/v1/cases/search")
        .json(json!({"priority": ["low", "urgent"], "status": ["open"], "limit": 1}))
        .send()
        .await);
    assert_eq!(found["pagination"]["total"], 2);
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    let none = ok(&app
        .post("/api/v1/cases/search")
        .json(json!({"created_after": "2999-01-01T00:00:00Z"}))
        .send()
        .await);
    assert_eq!(none["pagination"]["total"], 0);
    app.post("/api/v1/cases/search")
        .json(json!({"status": ["closed"]}))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.post("/api/v1/cases/search")
        .json(json!({"limit": 0}))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.post("/api/v1/cases/search")
        .json(json!({"created_after": "2026-02-01T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"}))
        .send()
        .await
        .assert_error(422, "validation_error");
}
both_backends!(case_search, searched);

async fn in_bulk(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let bob = user(&app, "bob@example.com", "reviewer").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let session_id = approved_session(&app, &format!("user_b{n}")).await;
        let case = ok(&app
            .post("/api/v1/cases")
            .json(json!({"session_id": session_id}))
            .send()
            .await);
        ids.push(case["id"].as_str().unwrap().to_owned());
    }
    let bulk = |body: Value| app.post("/api/v1/cases/bulk").json(body).send();

    let assigned = ok(&bulk(
        json!({"action": "assign", "case_ids": [ids[0], ids[1]], "reviewer_id": ann}),
    )
    .await);
    assert_eq!(
        (
            assigned["total"].clone(),
            assigned["succeeded"].clone(),
            assigned["failed"].clone()
        ),
        (json!(2), json!(2), json!(0))
    );
    let missing = "case_00000000000000000000000000000000";
    let approved = ok(&bulk(
        json!({"action": "approve", "case_ids": [ids[0], ids[2], missing], "reviewer_id": bob}),
    )
    .await);
    assert_eq!(approved["succeeded"], 1, "{approved}");
    let results = approved["results"].as_array().unwrap();
    assert_eq!(results[0]["case_id"], ids[0].as_str());
    assert_eq!(results[0]["status"], "error");
    assert_eq!(results[0]["error"], "conflict", "ann holds it");
    assert_eq!(results[1]["status"], "ok");
    assert!(results[1].get("error").is_none());
    assert_eq!(results[2]["error"], "not_found");
    let third = ok(&app.get(&format!("/api/v1/cases/{}", ids[2])).send().await);
    assert_eq!(third["status"], "approved");
    assert_eq!(third["decided_by"], bob.as_str());

    let prioritised =
        ok(&bulk(json!({"action": "set_priority", "case_ids": ids, "priority": "urgent"})).await);
    assert_eq!(prioritised["succeeded"], 2);
    assert_eq!(
        prioritised["results"][2]["error"], "invalid_state",
        "decided"
    );
    let rejected = ok(&bulk(
        json!({"action": "reject", "case_ids": [ids[0], ids[1]], "reviewer_id": ann,
                                   "rejection_reason": "Document expired"}),
    )
    .await);
    assert_eq!(rejected["succeeded"], 2);
    let result = ok(&app.get(&format!("/api/v1/cases/{}", ids[1])).send().await);
    assert_eq!(result["rejection_reason"], "Document expired");
    assert_eq!(result["priority"], "urgent");

    for body in [
        json!({"action": "approve", "case_ids": [ids[0]]}),
        json!({"action": "release", "case_ids": [ids[0], ids[0]]}),
        json!({"action": "release", "case_ids": []}),
        json!({"action": "close", "case_ids": [ids[0]]}),
        json!({"action": "set_priority", "case_ids": [ids[0]]}),
        json!({"action": "escalate", "case_ids": [ids[0]], "reason": " "}),
        json!({"action": "approve", "case_ids": [ids[0]], "reviewer_id": "orguser_nobody"}),
    ] {
        bulk(body.clone())
            .await
            .assert_error(422, "validation_error");
    }
}
both_backends!(case_bulk, in_bulk);

/// `PUT /cases/{id}/result/pii`: keys sent replace those keys, `null` removes one; sealed at
/// rest; audited by key name only; refused on a decided case.
async fn pii_corrected(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ann = user(&app, "ann@example.com", "reviewer").await;
    let (session_id, case) = in_review(&app, "user_pii").await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    let before = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(before["extracted_data"]["first_name"], "Jane");
    let path = format!("/api/v1/cases/{case_id}/result/pii");

    let corrected = ok(&app
        .put(&path)
        .json(json!({"extracted_data": {"first_name": "Janneke", "gender": null}, "reviewer_id": ann}))
        .send()
        .await);
    assert_eq!(corrected["session_id"], session_id.as_str());
    assert_eq!(corrected["status"], "needs_review");
    assert_eq!(corrected["extracted_data"]["first_name"], "Janneke");
    assert_eq!(
        corrected["extracted_data"].get("gender"),
        None,
        "null removes a key"
    );
    assert_eq!(
        corrected["extracted_data"]["last_name"], "Doe",
        "the others stay"
    );
    let after = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(after["extracted_data"], corrected["extracted_data"]);
    assert!(
        !String::from_utf8_lossy(&app.raw_contents().await).contains("Janneke"),
        "the corrected value is sealed at rest"
    );
    let audit = ok(&app
        .get(&format!(
            "/api/v1/events?action=case.pii_corrected&resource_id={case_id}"
        ))
        .send()
        .await);
    assert_eq!(
        audit["data"][0]["changes"],
        json!(["extracted_data.first_name", "extracted_data.gender"])
    );
    assert_eq!(audit["data"][0]["metadata"]["reviewer_id"], ann.as_str());
    assert!(
        !audit.to_string().contains("Janneke"),
        "names, never values"
    );

    let bad = app
        .put(&path)
        .json(json!({"extracted_data": {"iban": "DE00", "last_name": 7}}))
        .send()
        .await
        .assert_error(422, "validation_error");
    assert_eq!(bad["errors"].as_array().unwrap().len(), 2, "{bad}");
    app.put("/api/v1/cases/case_missing/result/pii")
        .json(json!({"extracted_data": {"first_name": "X"}}))
        .send()
        .await
        .assert_error(404, "not_found");
    ok(&app
        .post(&format!("/api/v1/cases/{case_id}/approve"))
        .json(json!({"reviewer_id": ann}))
        .send()
        .await);
    // The correction recomputed the lookup hashes: the person is found by the new name only.
    let found = |first: &'static str| {
        let app = &app;
        async move {
            ok(&app
                .post("/api/v1/identities/search")
                .json(
                    json!({"first_name": first, "last_name": "Doe", "date_of_birth": "1997-06-15"}),
                )
                .send()
                .await)["pagination"]["total"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(found("janneke").await, 1);
    assert_eq!(found("Jane").await, 0);
    app.put(&path)
        .json(json!({"extracted_data": {"first_name": "Jo"}}))
        .send()
        .await
        .assert_error(409, "invalid_state");
}
both_backends!(case_pii_correction, pii_corrected);
