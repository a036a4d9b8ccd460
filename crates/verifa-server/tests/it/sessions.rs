//! Sessions and durable workflow runs through the real router (CONTRACT §3, §2.4).

use crate::harness::{TestApp, TestResponse};
use axum::http::StatusCode;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

pub(crate) const MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
pub(crate) const JPEG: &[u8] =
    b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00fake-jpeg-body";

fn ok(r: &TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "status {}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

fn multipart(document_type: &str, file: &[u8], text: Option<&str>) -> (Vec<u8>, String) {
    let boundary = "verifa-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\n{document_type}\r\n").as_bytes());
    if let Some(t) = text {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{t}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

pub(crate) async fn upload(
    app: &TestApp,
    key: &str,
    session: &str,
    document_type: &str,
    file: &[u8],
    text: Option<&str>,
) -> TestResponse {
    let (body, ct) = multipart(document_type, file, text);
    app.post(&format!("/api/v1/sessions/{session}/documents"))
        .key(key)
        .raw(body, Some(&ct))
        .send()
        .await
}

/// A new session with an `id_front` (MRZ text) uploaded; returns its id.
pub(crate) async fn session_with_id_front(app: &TestApp, key: &str) -> String {
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(key)
        .json(json!({}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&upload(app, key, &id, "id_front", JPEG, Some(MRZ)).await);
    id
}

async fn workflow(app: &TestApp, key: &str, graph: Value) -> String {
    let r = app
        .post("/api/v1/workflows")
        .key(key)
        .json(json!({"name": "Flow", "graph": graph, "is_default": true}))
        .send()
        .await;
    ok(&r)["id"].as_str().unwrap().to_owned()
}

fn simple_graph() -> Value {
    json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "ocr"},
        "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "age", "on_fail": "reject"},
        "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"}}})
}

async fn create_and_read(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = workflow(&app, &app.live_key, simple_graph()).await;
    // Aliases, camelCase keys and the JSON:API envelope are accepted.
    let r = app
        .post("/api/v1/sessions")
        .key(&app.live_key)
        .json(json!({"data": {"attributes": {"externalRef": "user_1", "countryCode": "us", "metadata": {"plan": "pro", "drop": 1}, "prefill": {"firstName": "Anna"}, "redirect-url": "https://app.example/done"}}}))
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let s = r.json();
    let id = s["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ses_"));
    assert_eq!(s["status"], "pending");
    assert_eq!(s["is_sandbox"], false);
    assert_eq!(s["external_ref"], "user_1");
    assert_eq!(s["country"], "US");
    assert_eq!(
        s["workflow_id"],
        wf.as_str(),
        "the default workflow is used"
    );
    assert!(s["capture_url"].as_str().unwrap().contains("/verify/tok_"));
    assert!(
        s["qr_code_data_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let created: chrono::DateTime<chrono::Utc> = s["created_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> = s["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        (expires - created).num_minutes(),
        20,
        "capture tokens last 20 minutes"
    );
    // Read back; the capture link is not shown again, the pre-fill fields never are.
    let got = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&app.live_key)
        .send()
        .await);
    assert_eq!(got["metadata"], json!({"plan": "pro", "drop": 1}));
    assert!(got.get("fields").is_none() && got["capture_url"].is_null());
    // PATCH merges metadata; null deletes a key.
    let patched = ok(&app
        .patch(&format!("/api/v1/sessions/{id}"))
        .key(&app.live_key)
        .json(json!({"metadata": {"drop": null, "tier": 2}}))
        .send()
        .await);
    assert_eq!(patched["metadata"], json!({"plan": "pro", "tier": 2}));
    app.patch(&format!("/api/v1/sessions/{id}"))
        .key(&app.live_key)
        .json(json!({"status": "completed"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    // List filters.
    let listed = ok(&app
        .get("/api/v1/sessions?external_ref=user_1")
        .key(&app.live_key)
        .send()
        .await);
    assert_eq!(
        listed["pagination"],
        json!({"total": 1, "limit": 50, "offset": 0})
    );
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/sessions?q={id}"))
            .key(&app.live_key)
            .send()
            .await)["pagination"]["total"],
        1
    );
    assert_eq!(
        ok(&app
            .get("/api/v1/sessions?status=completed")
            .key(&app.live_key)
            .send()
            .await)["pagination"]["total"],
        0
    );
    app.get("/api/v1/sessions?status=bogus")
        .key(&app.live_key)
        .send()
        .await
        .assert_error(422, "validation_error");
    // Isolation: the sandbox key and another organization get 404.
    app.get(&format!("/api/v1/sessions/{id}"))
        .send()
        .await
        .assert_error(404, "not_found");
    let (other_live, _) = app.other_org().await;
    app.get(&format!("/api/v1/sessions/{id}"))
        .key(&other_live)
        .send()
        .await
        .assert_error(404, "not_found");
    // Validation: metadata limits, country, deactivated workflow.
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    app.post("/api/v1/sessions")
        .key(&app.live_key)
        .json(json!({"metadata": many}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let body = app
        .post("/api/v1/sessions")
        .key(&app.live_key)
        .json(json!({"country": "USA"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    assert_eq!(body["errors"][0]["field"], "country");
    let other_wf = ok(&app
        .post("/api/v1/workflows")
        .key(&app.live_key)
        .json(json!({"name": "Other", "graph": simple_graph()}))
        .send()
        .await);
    let other_id = other_wf["id"].as_str().unwrap();
    ok(&app
        .post(&format!("/api/v1/workflows/{other_id}/deactivate"))
        .key(&app.live_key)
        .send()
        .await);
    let body = app
        .post("/api/v1/sessions")
        .key(&app.live_key)
        .json(json!({"workflow_id": other_id}))
        .send()
        .await
        .assert_error(422, "validation_error");
    assert_eq!(body["errors"][0]["field"], "workflow_id");
    // The event log has the creation.
    let events = ok(&app
        .get(&format!("/api/v1/sessions/{id}/events"))
        .key(&app.live_key)
        .send()
        .await);
    assert_eq!(events["data"][0]["event_type"], "session.created");
    assert_eq!(events["data"][0]["data"]["session_id"], id.as_str());
}
both_backends!(session_create_and_read, create_and_read);

async fn documents_and_transitions(db: TestDatabase) {
    let app = TestApp::new(db).await;
    workflow(&app, &app.live_key, simple_graph()).await;
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(&app.live_key)
        .json(json!({}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    let key = app.live_key.clone();
    // Submitting without documents lists what is missing.
    let body = app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .key(&key)
        .send()
        .await
        .assert_error(422, "validation_error");
    assert_eq!(body["errors"][0]["field"], "documents.id_front");
    // Content is sniffed; the declared type does not matter.
    let body = upload(&app, &key, &id, "id_front", b"just some text", None)
        .await
        .assert_error(422, "validation_error");
    assert_eq!(body["errors"][0]["field"], "file");
    upload(&app, &key, &id, "passport_photo", JPEG, None)
        .await
        .assert_error(422, "validation_error");
    app.post(&format!("/api/v1/sessions/{id}/documents"))
        .key(&key)
        .json(json!({"file": "x"}))
        .send()
        .await
        .assert_error(415, "unsupported_media_type");
    let doc = upload(&app, &key, &id, "id_front", JPEG, Some(MRZ)).await;
    assert_eq!(
        doc.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&doc.bytes)
    );
    let doc = doc.json();
    assert_eq!(doc["mime_type"], "image/jpeg");
    assert_eq!(doc["file_size_bytes"], JPEG.len());
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/sessions/{id}"))
            .key(&key)
            .send()
            .await)["status"],
        "capturing"
    );
    // The same type again replaces the first.
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-rest";
    ok(&upload(&app, &key, &id, "id_front", png, Some(MRZ)).await);
    let docs = ok(&app
        .get(&format!("/api/v1/sessions/{id}/documents"))
        .key(&key)
        .send()
        .await);
    assert_eq!(docs["data"].as_array().unwrap().len(), 1);
    assert_eq!(docs["data"][0]["mime_type"], "image/png");
    // Lifecycle: expire, illegal second expire names the status, resume issues a new link.
    let expired = ok(&app
        .post(&format!("/api/v1/sessions/{id}/expire"))
        .key(&key)
        .send()
        .await);
    assert_eq!(expired["status"], "expired");
    let body = app
        .post(&format!("/api/v1/sessions/{id}/expire"))
        .key(&key)
        .send()
        .await
        .assert_error(409, "invalid_state");
    assert!(
        body["detail"].as_str().unwrap().contains("'expired'"),
        "{body}"
    );
    upload(&app, &key, &id, "id_back", JPEG, None)
        .await
        .assert_error(409, "invalid_state");
    let resumed = ok(&app
        .post(&format!("/api/v1/sessions/{id}/resume"))
        .key(&key)
        .send()
        .await);
    assert_eq!(resumed["status"], "pending");
    assert!(
        resumed["capture_url"]
            .as_str()
            .unwrap()
            .contains("/verify/tok_")
    );
    let link = ok(&app
        .post(&format!("/api/v1/sessions/{id}/generate-one-time-link"))
        .key(&key)
        .json(json!({"expires_in_minutes": 5}))
        .send()
        .await);
    assert_eq!(link["status"], "active");
    assert_ne!(
        link["capture_url"], resumed["capture_url"],
        "a new link revokes the previous one"
    );
    // Simulation is sandbox-only; decisions need a paused run; results need a decision.
    app.post(&format!("/api/v1/sessions/{id}/simulate"))
        .key(&key)
        .json(json!({"action": "approve"}))
        .send()
        .await
        .assert_error(403, "sandbox_only");
    app.post(&format!("/api/v1/sessions/{id}/external-decision"))
        .key(&key)
        .json(json!({"decision": "continue"}))
        .send()
        .await
        .assert_error(409, "invalid_state");
    app.get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await
        .assert_error(404, "not_found");
    app.post(&format!("/api/v1/sessions/{id}/reprocess"))
        .key(&key)
        .send()
        .await
        .assert_error(409, "invalid_state");
    let types: Vec<String> = ok(&app
        .get(&format!("/api/v1/sessions/{id}/events"))
        .key(&key)
        .send()
        .await)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        vec![
            "session.created",
            "session.started",
            "session.expired",
            "session.link_generated"
        ]
    );
}
both_backends!(session_documents_and_transitions, documents_and_transitions);

async fn submit_runs_the_workflow(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = workflow(&app, &app.live_key, simple_graph()).await;
    let key = app.live_key.clone();
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(&key)
        .json(json!({"external_ref": "u9"}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&upload(&app, &key, &id, "id_front", JPEG, Some(MRZ)).await);
    let submitted = ok(&app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .key(&key)
        .send()
        .await);
    assert_eq!(submitted["status"], "processing");
    assert_eq!(submitted["processing_attempts"], 1);
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await);
    assert_eq!(run["status"], "pending");
    app.get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await
        .assert_error(404, "not_found");
    // The worker drives the run to its outcome.
    let worker = app.worker();
    assert!(worker.run_until_idle().await.unwrap() >= 1);
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&key)
        .send()
        .await);
    assert_eq!(session["status"], "completed");
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await);
    assert_eq!(run["status"], "completed");
    assert_eq!(run["final_status"], "approved");
    assert_eq!(run["workflow_id"], wf.as_str());
    assert_eq!(run["workflow_version"], 1);
    assert_eq!(
        run["path"],
        json!([
            "start",
            "ocr",
            "auto_watchlist_screening",
            "auto_risk_assessment",
            "age",
            "approve"
        ])
    );
    assert_eq!(run["node_results"]["ocr"]["status"], "passed");
    assert_eq!(
        run["node_results"]["age"]["output"]["age"],
        chrono::Utc::now()
            .years_since("1974-08-12T00:00:00Z".parse().unwrap())
            .unwrap()
    );
    assert!(
        run["graph_snapshot"]["nodes"]
            .get("auto_risk_assessment")
            .is_some()
    );
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await);
    assert_eq!(result["status"], "approved");
    assert_eq!(result["external_ref"], "u9");
    assert_eq!(result["age_check_passed"], true);
    assert_eq!(result["extracted_data"]["last_name"], "ERIKSSON");
    assert_eq!(result["workflow_run_id"], run["id"]);
    assert_eq!(
        result["check_results"]["document_ocr"],
        json!({"status": "passed", "passed": true})
    );
    let verifications = ok(&app
        .get(&format!("/api/v1/sessions/{id}/verifications"))
        .key(&key)
        .send()
        .await);
    assert_eq!(verifications["data"].as_array().unwrap().len(), 4);
    let attempts = ok(&app
        .get(&format!(
            "/api/v1/sessions/{id}/verifications/age_verification/attempts"
        ))
        .key(&key)
        .send()
        .await);
    assert_eq!(attempts["attempts"].as_array().unwrap().len(), 1);
    let types: Vec<String> = ok(&app
        .get(&format!("/api/v1/sessions/{id}/events"))
        .key(&key)
        .send()
        .await)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.last().map(String::as_str), Some("session.approved"));
    // Nothing is left to do, and PII never appears in the event log.
    assert_eq!(worker.run_until_idle().await.unwrap(), 0);
    let log = String::from_utf8(
        app.get(&format!("/api/v1/sessions/{id}/events"))
            .key(&key)
            .send()
            .await
            .bytes,
    )
    .unwrap();
    assert!(!log.contains("ERIKSSON") && !log.contains("1974"), "{log}");
    // Analytics now see the run.
    let stats = ok(&app
        .get(&format!("/api/v1/workflows/{wf}/analytics"))
        .key(&key)
        .send()
        .await);
    assert_eq!(stats["outcomes"]["approved"], 1);
    assert_eq!(stats["by_node"]["age"]["executions"], 1);
    // Re-run: reprocess replaces the run; trigger does too.
    let again = app
        .post(&format!("/api/v1/sessions/{id}/reprocess"))
        .key(&key)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.json()["status"], "processing");
    app.get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await
        .assert_error(404, "not_found");
    worker.run_until_idle().await.unwrap();
    let triggered = app
        .post(&format!("/api/v1/workflows/{wf}/trigger"))
        .key(&key)
        .json(json!({"session_id": id}))
        .send()
        .await;
    assert_eq!(
        triggered.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&triggered.bytes)
    );
    assert_eq!(
        triggered.json(),
        json!({"session_id": id, "workflow_id": wf, "status": "processing"})
    );
    worker.run_until_idle().await.unwrap();
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&key)
        .send()
        .await);
    assert_eq!(session["processing_attempts"], 3);
    assert_eq!(
        ok(&app
            .get(&format!(
                "/api/v1/sessions/{id}/verifications/age_verification/attempts"
            ))
            .key(&key)
            .send()
            .await)["attempts"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the previous run was replaced"
    );
}
both_backends!(session_submit_runs_workflow, submit_runs_the_workflow);

async fn sandbox_simulation(db: TestDatabase) {
    let app = TestApp::new(db).await;
    workflow(&app, &app.sandbox_key, simple_graph()).await;
    let s = ok(&app.post("/api/v1/sessions").json(json!({})).send().await);
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["is_sandbox"], true);
    ok(&upload(&app, &app.sandbox_key, &id, "id_front", JPEG, None).await);
    assert_eq!(
        ok(&app
            .post(&format!("/api/v1/sessions/{id}/submit"))
            .send()
            .await)["status"],
        "sandbox_pending"
    );
    app.post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": "explode"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let sim = ok(&app
        .post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": "decline"}))
        .send()
        .await);
    assert_eq!(
        sim,
        json!({"id": id, "action": "decline", "status": "completed", "simulated": true})
    );
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{id}/result"))
        .send()
        .await);
    assert_eq!(result["status"], "rejected");
    assert_eq!(result["processing_mode"], "simulated");
    assert_eq!(result["extracted_data"]["first_name"], "Jane");
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .send()
        .await);
    assert_eq!(run["simulated"], true);
    assert_eq!(run["final_status"], "rejected");
    app.post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": "approve"}))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let events: Vec<String> = ok(&app
        .get(&format!("/api/v1/sessions/{id}/events"))
        .send()
        .await)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events.last().map(String::as_str), Some("session.declined"));
    // A second session: require-review → under_review.
    let s2 = ok(&app.post("/api/v1/sessions").json(json!({})).send().await);
    let id2 = s2["id"].as_str().unwrap();
    let sim = ok(&app
        .post(&format!("/api/v1/sessions/{id2}/simulate"))
        .json(json!({"action": "require-review"}))
        .send()
        .await);
    assert_eq!(sim["status"], "under_review");
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/sessions/{id2}/result"))
            .send()
            .await)["status"],
        "needs_review"
    );
}
both_backends!(session_sandbox_simulation, sandbox_simulation);

/// A simulation reads like a real decision of its outcome (issue #12.10): the run names the
/// workflow and version it pinned, and the per-check results agree with the outcome.
async fn simulations_look_like_real_decisions(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let simulate = |id: String, action: &'static str| {
        let app = &app;
        async move {
            ok(&app
                .post(&format!("/api/v1/sessions/{id}/simulate"))
                .json(json!({"action": action}))
                .send()
                .await);
            let result = ok(&app
                .get(&format!("/api/v1/sessions/{id}/result"))
                .send()
                .await);
            let run = app
                .get(&format!("/api/v1/sessions/{id}/workflow-run"))
                .send()
                .await;
            (result, run)
        }
    };
    let new_session = || async {
        ok(&app.post("/api/v1/sessions").json(json!({})).send().await)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // No workflow yet: the standard checks are simulated and no run is recorded.
    let (result, run) = simulate(new_session().await, "approve").await;
    assert_eq!(result["status"], "approved");
    assert_eq!(result["workflow_run_id"], Value::Null);
    run.assert_error(404, "not_found");
    for policy in ["document_ocr", "face_match", "age_verification"] {
        assert_eq!(result["check_results"][policy]["passed"], true, "{result}");
    }
    assert_eq!(result["face_match_score"], 0.95);

    let wf = workflow(
        &app,
        &app.sandbox_key,
        json!({"entry": "start", "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject"},
            "face": {"type": "policy", "policy": "face_match", "config": {}, "on_pass": "age", "on_fail": "reject"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "screen", "on_fail": "reject"},
            "screen": {"type": "policy", "policy": "watchlist_screening", "config": {}, "on_pass": "approve", "on_fail": "review"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"},
            "review": {"type": "terminal", "outcome": "needs_review"}}}),
    )
    .await;

    let (result, run) = simulate(new_session().await, "approve").await;
    let run = ok(&run);
    assert_eq!(run["workflow_id"], wf.as_str());
    assert_eq!(run["workflow_version"], 1);
    assert_eq!(result["workflow_run_id"], run["id"]);
    assert_eq!(run["path"].as_array().unwrap().last().unwrap(), "approve");
    for policy in [
        "document_ocr",
        "face_match",
        "age_verification",
        "watchlist_screening",
    ] {
        assert_eq!(
            result["check_results"][policy]["status"], "passed",
            "{result}"
        );
    }
    assert_eq!(result["face_match_passed"], true);
    assert_eq!(result["age_check_passed"], true);
    assert_eq!(
        result["extracted_age"], run["node_results"]["age"]["output"]["age"],
        "the result reads the run"
    );

    // A decline: the first check whose failure rejects is the face match (the document and
    // the auto-injected risk assessment cannot reject); it fails with a failing score, and
    // nothing after it runs.
    let (result, run) = simulate(new_session().await, "decline").await;
    let run = ok(&run);
    assert_eq!(result["status"], "rejected");
    assert_eq!(result["face_match_passed"], false, "{result}");
    assert!(
        result["face_match_score"].as_f64().unwrap()
            < run["node_results"]["face"]["output"]["threshold"]
                .as_f64()
                .unwrap(),
        "{result}"
    );
    assert!(
        result["rejection_reason"]
            .as_str()
            .unwrap()
            .contains("face_match"),
        "{result}"
    );
    assert_eq!(
        result["check_results"].get("age_verification"),
        None,
        "{result}"
    );
    assert_eq!(run["path"].as_array().unwrap().last().unwrap(), "reject");

    // A review: the auto-injected risk assessment routes a failure to review; it fails blocked.
    let (result, run) = simulate(new_session().await, "require-review").await;
    let run = ok(&run);
    assert_eq!(result["status"], "needs_review");
    assert_eq!(
        result["check_results"]["risk_assessment"]["status"],
        "failed"
    );
    assert_eq!(
        result["face_match_passed"],
        Value::Null,
        "the face match never ran"
    );
    assert_eq!(
        run["node_results"]["auto_risk_assessment"]["output"]["blocked"],
        true
    );
    assert_eq!(run["final_status"], "needs_review");
}
both_backends!(
    session_simulations_look_real,
    simulations_look_like_real_decisions
);

/// A local vendor that answers 503 to the first face_match call and passes afterwards.
async fn flaky_vendor() -> String {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let router = axum::Router::new().route(
        "/checks/{policy}",
        axum::routing::post(move |axum::extract::Path(policy): axum::extract::Path<String>| {
            let calls = calls.clone();
            async move {
                if policy == "face_match" && calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": "busy"})));
                }
                (StatusCode::OK, axum::Json(json!({"status": "passed", "output": {"face_match_score": 0.97, "passed": true}})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

async fn gate_retry_and_conditional_match_a_dry_run(db: TestDatabase) {
    let vendor = flaky_vendor().await;
    let app = TestApp::with_settings(
        db,
        &[
            ("CHECKS__VENDOR__BASE_URL", vendor.as_str()),
            ("RUNS__RETRY_BACKOFF_SECS", "0,0"),
        ],
    )
    .await;
    let key = app.live_key.clone();
    let graph = json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "ocr"},
        "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject"},
        "face": {"type": "policy", "policy": "face_match", "config": {}, "on_pass": "nationality", "on_fail": "review", "max_retries": 2},
        "nationality": {"type": "conditional", "conditions": [{"field": "extracted_data.nationality", "operator": "in", "value": ["UTO", "XYZ"], "next": "gate"}], "default": "approve"},
        "gate": {"type": "wait", "next": "approve", "on_fail": {"action": "goto", "node": "review"}},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"},
        "review": {"type": "terminal", "outcome": "needs_review"}}});
    let wf = workflow(&app, &key, graph).await;
    let id = session_with_id_front(&app, &key).await;
    ok(&upload(&app, &key, &id, "selfie", JPEG, None).await);
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .key(&key)
        .send()
        .await);
    let worker = app.worker();
    worker.run_until_idle().await.unwrap();
    // Paused at the gate after one retried face match.
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&key)
        .send()
        .await);
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await);
    assert_eq!(
        session["status"], "awaiting_external",
        "run: {}",
        run["node_results"]
    );
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await);
    assert_eq!(run["status"], "paused");
    assert_eq!(run["paused_at_node"], "gate");
    assert_eq!(run["node_results"]["face"]["attempts"], 2);
    let attempts = ok(&app
        .get(&format!(
            "/api/v1/sessions/{id}/verifications/face_match/attempts"
        ))
        .key(&key)
        .send()
        .await);
    let statuses: Vec<&str> = attempts["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["requires_retry", "passed"]);
    // The decision resumes the run.
    let d = app
        .post(&format!("/api/v1/sessions/{id}/external-decision"))
        .key(&key)
        .json(json!({"decision": "continue", "metadata": {"by": "ops"}}))
        .send()
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    assert_eq!(d.json()["status"], "processing");
    worker.run_until_idle().await.unwrap();
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await);
    assert_eq!(run["final_status"], "approved");
    assert_eq!(run["external_decisions"][0]["decision"], "continue");
    assert_eq!(
        run["external_decisions"][0]["metadata"],
        json!({"by": "ops"})
    );
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/sessions/{id}"))
            .key(&key)
            .send()
            .await)["status"],
        "completed"
    );

    // The same inputs through a dry-run give the same path and outcome.
    let mut check_results = serde_json::Map::new();
    let all = ok(&app
        .get(&format!("/api/v1/sessions/{id}/verifications"))
        .key(&key)
        .send()
        .await);
    for v in all["data"].as_array().unwrap() {
        let policy = v["policy"].as_str().unwrap();
        let node = v["node_id"].as_str().unwrap();
        let attempts = ok(&app
            .get(&format!(
                "/api/v1/sessions/{id}/verifications/{policy}/attempts"
            ))
            .key(&key)
            .send()
            .await);
        let list: Vec<Value> = attempts["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| json!({"status": a["status"], "output": a["output"]}))
            .collect();
        check_results.insert(node.to_owned(), Value::Array(list));
    }
    let dry = ok(&app
        .post(&format!("/api/v1/workflows/{wf}/dry-run"))
        .key(&key)
        .json(json!({"input": {"check_results": check_results, "external_decisions": {"gate": "continue"}}}))
        .send()
        .await);
    assert_eq!(dry["final_status"], run["final_status"]);
    assert_eq!(
        dry["path"], run["path"],
        "the durable run and the dry-run agree"
    );
    for node in run["path"].as_array().unwrap() {
        let node = node.as_str().unwrap();
        assert_eq!(
            dry["node_results"][node]["status"], run["node_results"][node]["status"],
            "node {node}"
        );
    }
    assert!(dry["warnings"].as_array().unwrap().is_empty(), "{dry}");
}
both_backends!(
    session_gate_retry_conditional,
    gate_retry_and_conditional_match_a_dry_run
);

async fn kyc_workflow_end_to_end(db: TestDatabase) {
    use verifa_ports::watchlists::{WatchlistRecord, WatchlistRepository};
    let vendor = flaky_vendor().await;
    let app = TestApp::with_settings(
        db,
        &[
            ("CHECKS__VENDOR__BASE_URL", vendor.as_str()),
            ("RUNS__RETRY_BACKOFF_SECS", "0,0"),
        ],
    )
    .await;
    let key = app.live_key.clone();
    // The reference's KYC order: OCR → face match → (auto) screening → (auto) risk → auto-approve.
    let graph = json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "ocr"},
        "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject"},
        "face": {"type": "policy", "policy": "face_match", "config": {"security_level": "standard"}, "on_pass": "decide", "on_fail": "review"},
        "decide": {"type": "policy", "policy": "auto_approve", "config": {}, "on_pass": "approve", "on_fail": "review"},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"},
        "review": {"type": "terminal", "outcome": "needs_review"}}});
    workflow(&app, &key, graph).await;
    let run_one = |external_ref: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let s = ok(&app
                .post("/api/v1/sessions")
                .key(&key)
                .json(json!({"external_ref": external_ref}))
                .send()
                .await);
            let id = s["id"].as_str().unwrap().to_owned();
            ok(&upload(app, &key, &id, "id_front", JPEG, Some(MRZ)).await);
            ok(&upload(app, &key, &id, "selfie", JPEG, None).await);
            ok(&app
                .post(&format!("/api/v1/sessions/{id}/submit"))
                .key(&key)
                .send()
                .await);
            app.worker().run_until_idle().await.unwrap();
            ok(&app
                .get(&format!("/api/v1/sessions/{id}/workflow-run"))
                .key(&key)
                .send()
                .await)
        }
    };
    let clean = run_one("clean").await;
    assert_eq!(
        clean["final_status"], "approved",
        "{}",
        clean["node_results"]
    );
    assert_eq!(
        clean["path"],
        json!([
            "start",
            "ocr",
            "auto_watchlist_screening",
            "auto_risk_assessment",
            "face",
            "decide",
            "approve"
        ])
    );
    assert_eq!(
        clean["node_results"]["auto_risk_assessment"]["output"]["risk_level"],
        "low"
    );
    // Put the document holder on a watchlist: screening now hits and routes to review.
    let record = WatchlistRecord {
        id: "test-1".into(),
        name: "ERIKSSON, Anna Maria".into(),
        aliases: vec![],
        list: "Test List".into(),
        country: Some("UTO".into()),
        date_of_birth: Some("1974-08-12".into()),
    };
    app.db.replace_list("Test List", &[record]).await.unwrap();
    let listed = run_one("listed").await;
    assert_eq!(
        listed["final_status"], "needs_review",
        "{}",
        listed["node_results"]
    );
    let screening = &listed["node_results"]["auto_watchlist_screening"];
    assert_eq!(screening["status"], "failed");
    assert_eq!(screening["output"]["hits"][0]["entry_id"], "test-1");
    assert_eq!(screening["output"]["hits"][0]["list"], "Test List");
    assert!(screening["output"]["hits"][0]["score"].as_f64().unwrap() >= 0.9);
}
both_backends!(session_kyc_end_to_end, kyc_workflow_end_to_end);

async fn lapsed_links_expire_and_runs_resume(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let key = app.live_key.clone();
    let graph = json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "age"},
        "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "gate", "on_fail": "reject", "on_skip": "gate"},
        "gate": {"type": "wait", "next": "approve", "on_fail": {"action": "reject"}, "timeout_seconds": 1},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"}}});
    workflow(&app, &key, graph).await;
    // A capture link that lapses expires its session (the background sweep).
    let idle = ok(&app
        .post("/api/v1/sessions")
        .key(&key)
        .json(json!({}))
        .send()
        .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let later = chrono::Utc::now() + chrono::Duration::minutes(21);
    assert_eq!(
        app.services
            .sessions
            .expire_stale(chrono::Utc::now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(app.services.sessions.expire_stale(later).await.unwrap(), 1);
    let s = ok(&app
        .get(&format!("/api/v1/sessions/{idle}"))
        .key(&key)
        .send()
        .await);
    assert_eq!(s["status"], "expired");
    let events = ok(&app
        .get(&format!("/api/v1/sessions/{idle}/events"))
        .key(&key)
        .send()
        .await);
    assert_eq!(events["data"][1]["event_type"], "session.expired");
    assert_eq!(events["data"][1]["data"]["reason"], "capture_token_expired");
    // A gate with a timeout applies its on_fail when no decision comes in time; the run can be
    // resumed from a node afterwards only when paused or failed.
    let id = ok(&app
        .post("/api/v1/sessions")
        .key(&key)
        .json(json!({}))
        .send()
        .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&upload(&app, &key, &id, "id_front", JPEG, None).await);
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .key(&key)
        .send()
        .await);
    let worker = app.worker();
    worker.run_until_idle().await.unwrap();
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/sessions/{id}/workflow-run"))
            .key(&key)
            .send()
            .await)["paused_at_node"],
        "gate"
    );
    // Resume from a node re-enters it (the age check is skipped: no DOB, on_skip → gate).
    let r = app
        .post(&format!("/api/v1/sessions/{id}/workflow-run/resume"))
        .key(&key)
        .json(json!({"policy": "age_verification"}))
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    assert_eq!(r.json()["node_id"], "age");
    worker.run_until_idle().await.unwrap();
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await);
    assert_eq!(run["paused_at_node"], "gate");
    let attempts = ok(&app
        .get(&format!(
            "/api/v1/sessions/{id}/verifications/age_verification/attempts"
        ))
        .key(&key)
        .send()
        .await);
    let numbers: Vec<i64> = attempts["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2], "the resumed visit is a new attempt");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    worker.run_until_idle().await.unwrap();
    let run = ok(&app
        .get(&format!("/api/v1/sessions/{id}/workflow-run"))
        .key(&key)
        .send()
        .await);
    assert_eq!(run["final_status"], "rejected", "{}", run["node_results"]);
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/sessions/{id}"))
            .key(&key)
            .send()
            .await)["status"],
        "completed"
    );
    app.post(&format!("/api/v1/sessions/{id}/workflow-run/resume"))
        .key(&key)
        .json(json!({"node_id": "age"}))
        .send()
        .await
        .assert_error(409, "invalid_state");
    app.post(&format!("/api/v1/sessions/{id}/workflow-run/resume"))
        .key(&key)
        .json(json!({"node_id": "age", "policy": "x"}))
        .send()
        .await
        .assert_error(409, "invalid_state");
}
both_backends!(
    session_expiry_timeout_resume,
    lapsed_links_expire_and_runs_resume
);

/// A metadata patch keeps the limits as sent, even when deleting keys would bring the result
/// within them (found by the API fuzzer).
async fn metadata_patch_limits(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(&app.sandbox_key)
        .json(json!({"metadata": {"plan": "pro"}}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap();
    let deletions: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), Value::Null)).collect();
    for patch in [
        json!({"metadata": deletions}),
        json!({"metadata": {"": null}}),
    ] {
        let body = app
            .patch(&format!("/api/v1/sessions/{id}"))
            .key(&app.sandbox_key)
            .json(patch)
            .send()
            .await
            .assert_error(422, "validation_error");
        assert!(
            body["errors"][0]["field"]
                .as_str()
                .unwrap()
                .starts_with("metadata"),
            "{body}"
        );
    }
    let kept = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&app.sandbox_key)
        .send()
        .await);
    assert_eq!(
        kept["metadata"],
        json!({"plan": "pro"}),
        "a refused patch changes nothing"
    );
}
both_backends!(session_metadata_patch_limits, metadata_patch_limits);
