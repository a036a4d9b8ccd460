//! Trying review at once (CONTRACT §8.4): `POST /cases/demo` opens sandbox cases with specimen
//! documents (at most three, sandbox keys only), and `verifa seed` gives the demo organization
//! people with several sessions and a review queue in every state, once.

use super::cases::ok;
use crate::harness::TestApp;
use serde_json::json;
use verifa_testkit::{TestDatabase, both_backends};

async fn demo_cases(db: TestDatabase) {
    let app = TestApp::new(db).await;
    app.post("/api/v1/cases/demo")
        .key(&app.live_key)
        .send()
        .await
        .assert_error(403, "sandbox_only");
    let demo = app.post("/api/v1/cases/demo").send().await;
    assert_eq!(demo.status, 201, "{}", String::from_utf8_lossy(&demo.bytes));
    let case = demo.json();
    assert_eq!(case["source"], "demo");
    assert_eq!(case["status"], "open");
    assert_eq!(case["external_ref"], "demo_1");
    let session_id = case["session_id"].as_str().unwrap();
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}"))
        .send()
        .await);
    assert_eq!(session["status"], "under_review");
    assert_eq!(session["metadata"], json!({"demo": true}));
    let documents = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/documents"))
        .send()
        .await);
    let kinds: Vec<(&str, &str)> = documents["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let field = |k: &str| d[k].as_str().unwrap_or_default();
            (field("document_type"), field("mime_type"))
        })
        .collect();
    assert_eq!(
        kinds,
        [("id_front", "image/jpeg"), ("selfie", "image/jpeg")],
        "{documents}"
    );
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{session_id}/result"))
        .send()
        .await);
    assert_eq!(result["status"], "needs_review");
    assert!(
        result["check_results"]
            .as_object()
            .is_some_and(|c| !c.is_empty()),
        "{result}"
    );
    let detail = ok(&app
        .get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()))
        .send()
        .await);
    let reviewed: Vec<&str> = detail["review"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["document_type"].as_str())
        .collect();
    assert_eq!(
        reviewed,
        ["id_front", "selfie"],
        "the review lists the documents"
    );
    for n in 2..=3 {
        let again = ok(&app.post("/api/v1/cases/demo").send().await);
        assert_eq!(again["external_ref"], format!("demo_{n}"));
    }
    app.post("/api/v1/cases/demo")
        .send()
        .await
        .assert_error(409, "conflict");
    let listed = ok(&app.get("/api/v1/cases").send().await);
    assert_eq!(listed["pagination"]["total"], 3);
}
both_backends!(case_demo, demo_cases);

/// `verifa seed` gives the demo organization people with several sessions and a review queue
/// in each state, once.
async fn seeded_review_queue(db: TestDatabase) {
    use verifa_server::commands::seed::{DEMO_SANDBOX_SECRET, run};
    let settings = verifa_server::settings::Settings::for_tests(&db.url, &[]).expect("settings");
    let app = TestApp::new(db).await;
    run(&settings).await.expect("seed");
    run(&settings).await.expect("seed again");
    let key = DEMO_SANDBOX_SECRET;
    let tabs = ok(&app.get("/api/v1/cases/tab-counts").key(key).send().await);
    assert_eq!(tabs["escalated"], 1, "{tabs}");
    assert_eq!(tabs["pending_second_review"], 1, "{tabs}");
    assert!(tabs["unassigned"].as_u64().unwrap() >= 2, "{tabs}");
    let queue = ok(&app
        .get("/api/v1/cases?sort=queue&status=open")
        .key(key)
        .send()
        .await);
    assert_eq!(queue["data"][0]["priority"], "urgent", "{queue}");
    assert_eq!(queue["data"][0]["external_ref"], "seed_person_amara");
    let claimed = ok(&app
        .get("/api/v1/cases?status=in_review")
        .key(key)
        .send()
        .await);
    assert_eq!(claimed["pagination"]["total"], 1, "{claimed}");
    assert_eq!(claimed["data"][0]["priority"], "high");
    let rejected = ok(&app
        .get("/api/v1/cases?status=rejected")
        .key(key)
        .send()
        .await);
    assert_eq!(rejected["pagination"]["total"], 1, "{rejected}");
    let amara = ok(&app
        .get("/api/v1/identities/seed_person_amara")
        .key(key)
        .send()
        .await);
    // Her third session is under review: it joins the identity when its case is decided.
    assert_eq!(amara["session_count"], 2, "{amara}");
    assert_eq!(amara["status"], "approved", "the latest completed session");
    let sessions = ok(&app
        .get("/api/v1/sessions?external_ref=seed_person_dalia")
        .key(key)
        .send()
        .await);
    assert_eq!(
        sessions["pagination"]["total"], 3,
        "seeded once: {sessions}"
    );
}
both_backends!(case_seeded_queue, seeded_review_queue);
