//! The Workflows group through the real router (CONTRACT §2.2–§2.3).

use crate::harness::{TestApp, TestResponse};
use axum::http::StatusCode;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

fn age_graph(minimum_age: u32) -> Value {
    json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "age"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": minimum_age}, "on_pass": "risk_gate", "on_fail": "reject"},
            "risk_gate": {"type": "conditional", "conditions": [{"field": "checks.age_verification.age", "operator": ">=", "value": 65, "next": "review"}], "default": "approve"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"},
            "review": {"type": "terminal", "outcome": "needs_review"}
        }
    })
}

async fn create(app: &TestApp, body: Value) -> Value {
    let r = app.post("/api/v1/workflows").json(body).send().await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

fn ok(r: &TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "status {}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

async fn lifecycle(db: TestDatabase) {
    let app = TestApp::new(db).await;
    // -- create: version 1 at 100 %, the first workflow becomes the default
    let wf = create(
        &app,
        json!({"name": "Age check", "format": "graph", "graph": age_graph(18)}),
    )
    .await;
    let id = wf["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wfl_"));
    assert_eq!(wf["version"], 1);
    assert_eq!(wf["is_default"], true);
    assert_eq!(wf["step_count"], 1);
    assert_eq!(wf["graph"]["nodes"]["age"]["config"]["minimum_age"], 18);
    let v1_before = app
        .get(&format!("/api/v1/workflows/{id}/versions"))
        .send()
        .await;
    let v1_bytes = serde_json::to_vec(&ok(&v1_before)["data"][0]).unwrap();

    // -- draft from the live version, edited
    let draft = app
        .post(&format!("/api/v1/workflows/{id}/drafts"))
        .send()
        .await;
    assert_eq!(draft.status, StatusCode::CREATED);
    let draft = draft.json();
    let draft_id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(draft["status"], "open");
    assert_eq!(draft["base_version"], 1);
    assert_eq!(draft["validation"]["valid"], true);
    let edited = ok(&app
        .patch(&format!("/api/v1/workflows/{id}/drafts/{draft_id}"))
        .json(json!({"graph": age_graph(21)}))
        .send()
        .await);
    assert_eq!(edited["graph"]["nodes"]["age"]["config"]["minimum_age"], 21);

    // -- diff: only a config changed → patch
    let diff = ok(&app
        .get(&format!("/api/v1/workflows/{id}/drafts/{draft_id}/diff"))
        .send()
        .await);
    assert_eq!(diff["classification"], "patch");
    assert_eq!(
        diff["changed_nodes"],
        json!([{"id": "age", "fields": ["config"]}])
    );
    assert_eq!(diff["counts"]["policy_changed"], 1);
    assert_eq!(diff["added_nodes"], json!([]));
    assert_eq!(diff["suggested_rollout_percentage"], 25);

    // -- dry-run of the draft: a 19-year-old fails the new minimum
    let dry = ok(&app
        .post(&format!("/api/v1/workflows/{id}/drafts/{draft_id}/dry-run"))
        .json(json!({"input": {"check_results": {"age_verification": {"status": "failed", "output": {"age": 19}}}}}))
        .send()
        .await);
    assert_eq!(dry["final_status"], "rejected");
    assert_eq!(dry["path"], json!(["start", "age", "reject"]));
    assert_eq!(dry["node_results"]["age"]["status"], "failed");

    // -- publish at 25 %: rollout shows 25/75
    let published = ok(&app
        .post(&format!("/api/v1/workflows/{id}/drafts/{draft_id}/publish"))
        .json(json!({"rollout_percentage": 25}))
        .send()
        .await);
    assert_eq!(published["workflow"]["version"], 2);
    assert_eq!(published["draft"]["status"], "published");
    assert_eq!(published["draft"]["published_version"], 2);
    let rollout = ok(&app
        .get(&format!("/api/v1/workflows/{id}/rollout"))
        .send()
        .await);
    assert_eq!(
        rollout["entries"],
        json!([{"version": 2, "percentage": 25}, {"version": 1, "percentage": 75}])
    );
    // A published draft cannot be published or edited again.
    app.post(&format!("/api/v1/workflows/{id}/drafts/{draft_id}/publish"))
        .send()
        .await
        .assert_error(409, "invalid_state");

    // -- update the rollout, then read the versions newest first
    let put = ok(&app.put(&format!("/api/v1/workflows/{id}/rollout")).json(json!({"entries": [{"version": 1, "percentage": 50}, {"version": 2, "percentage": 50}]})).send().await);
    assert_eq!(
        put["entries"],
        json!([{"version": 2, "percentage": 50}, {"version": 1, "percentage": 50}])
    );
    let bad = app.put(&format!("/api/v1/workflows/{id}/rollout")).json(json!({"entries": [{"version": 1, "percentage": 50}, {"version": 9, "percentage": 40}]})).send().await;
    let body = bad.assert_error(422, "validation_error");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"entries[1].version"), "{body}");
    assert!(fields.iter().any(|f| f.starts_with("entries")), "{body}");
    let versions = ok(&app
        .get(&format!("/api/v1/workflows/{id}/versions"))
        .send()
        .await);
    assert_eq!(versions["pagination"]["total"], 2);
    assert_eq!(versions["data"][0]["version"], 2);
    assert_eq!(versions["data"][0]["source"], "publish");
    assert_eq!(versions["data"][0]["draft_id"], draft_id.as_str());
    assert_eq!(versions["data"][1]["source"], "create");
    assert_ne!(
        versions["data"][0]["content_hash"],
        versions["data"][1]["content_hash"]
    );
    // -- version 1 is byte-identical after later publishes
    let v1_after = serde_json::to_vec(&versions["data"][1]).unwrap();
    assert_eq!(v1_after, v1_bytes, "an old version must never change");

    // -- metadata PATCH creates no version; graph PATCH does, at the given share
    let renamed = ok(&app
        .patch(&format!("/api/v1/workflows/{id}"))
        .json(json!({"name": "Age check v2", "description": "d"}))
        .send()
        .await);
    assert_eq!(renamed["version"], 2);
    assert_eq!(renamed["name"], "Age check v2");
    let updated = ok(&app
        .patch(&format!("/api/v1/workflows/{id}"))
        .json(json!({"graph": age_graph(25), "rollout_percentage": 10}))
        .send()
        .await);
    assert_eq!(updated["version"], 3);
    let rollout = ok(&app
        .get(&format!("/api/v1/workflows/{id}/rollout"))
        .send()
        .await);
    assert_eq!(
        rollout["entries"],
        json!([{"version": 3, "percentage": 10}, {"version": 2, "percentage": 45}, {"version": 1, "percentage": 45}])
    );
    app.patch(&format!("/api/v1/workflows/{id}"))
        .json(json!({"name": "x", "rollout_percentage": 10}))
        .send()
        .await
        .assert_error(422, "validation_error");

    // -- the draft list and discard
    let d2 = ok(&app
        .post(&format!("/api/v1/workflows/{id}/drafts"))
        .json(json!({"name": "next"}))
        .send()
        .await);
    let d2_id = d2["id"].as_str().unwrap();
    let discarded = ok(&app
        .delete(&format!("/api/v1/workflows/{id}/drafts/{d2_id}"))
        .send()
        .await);
    assert_eq!(discarded["status"], "discarded");
    let open = ok(&app
        .get(&format!("/api/v1/workflows/{id}/drafts?status=open"))
        .send()
        .await);
    assert_eq!(open["pagination"]["total"], 0);
    let all = ok(&app
        .get(&format!("/api/v1/workflows/{id}/drafts"))
        .send()
        .await);
    assert_eq!(all["pagination"]["total"], 2);
}
both_backends!(workflow_lifecycle, lifecycle);

async fn validation_reports_every_problem(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let graph = json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject"},
            "x": {"type": "policy", "policy": "telepathy", "config": {}, "on_pass": "approve", "on_fail": "reject"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": "old"}, "on_pass": "approve", "on_fail": "reject"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"}
        }
    });
    let r = app
        .post("/api/v1/workflows")
        .json(json!({"name": "broken", "graph": graph}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    let fields: Vec<String> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for expected in ["graph.nodes.ocr.on_pass", "graph.nodes.x.policy"] {
        assert!(
            fields.iter().any(|f| f == expected),
            "missing {expected} in {fields:?}"
        );
    }
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("graph.nodes.age.config")),
        "config schema error missing: {fields:?}"
    );
    assert!(
        fields.len() >= 4,
        "every problem at once (incl. unreachable nodes): {fields:?}"
    );
    // Missing name and no definition at all.
    let r = app
        .post("/api/v1/workflows")
        .json(json!({"name": " "}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"graph"),
        "{fields:?}"
    );
    // A cycle.
    let cyclic = json!({"entry": "s", "nodes": {
        "s": {"type": "start", "next": "a"},
        "a": {"type": "policy", "policy": "age_verification", "config": {}, "on_pass": "b", "on_fail": "r"},
        "b": {"type": "policy", "policy": "document_expiration", "config": {}, "on_pass": "a", "on_fail": "r"},
        "r": {"type": "terminal", "outcome": "rejected"}}});
    let body = app
        .post("/api/v1/workflows")
        .json(json!({"name": "loop", "graph": cyclic}))
        .send()
        .await
        .assert_error(422, "validation_error");
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("cycle")),
        "{body}"
    );
}
both_backends!(workflow_validation, validation_reports_every_problem);

/// A structural slip in one node hides none of the other problems (issue #12.7).
async fn a_structural_problem_hides_no_other(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let graph = json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "ocr"},
        "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face"},
        "x": {"type": "policy", "policy": "telepathy", "config": {}, "on_pass": "approve", "on_fail": "reject"},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"}}});
    let body = app
        .post("/api/v1/workflows")
        .json(json!({"name": "slip", "graph": graph}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for expected in [
        "graph.nodes.ocr.on_fail",
        "graph.nodes.ocr.on_pass",
        "graph.nodes.x.policy",
        "graph.nodes.x",
    ] {
        assert!(
            fields.contains(&expected),
            "missing {expected} in {fields:?}"
        );
    }
    // A draft holding the same graph reports the same problems on every read.
    let wf = create(&app, json!({"name": "ok", "graph": age_graph(18)})).await;
    let id = wf["id"].as_str().unwrap();
    let draft = app
        .post(&format!("/api/v1/workflows/{id}/drafts"))
        .json(json!({"graph": graph}))
        .send()
        .await;
    assert_eq!(draft.status, StatusCode::CREATED);
    let errors = draft.json()["validation"]["errors"].clone();
    for expected in ["graph.nodes.ocr.on_fail", "graph.nodes.x.policy"] {
        assert!(
            errors
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == expected),
            "draft misses {expected}: {errors}"
        );
    }
}
both_backends!(
    workflow_validation_complete,
    a_structural_problem_hides_no_other
);

/// A draft may be invalid, but its graph is an object and its steps an array (issue #12.5).
async fn drafts_keep_the_shape_of_a_definition(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = create(&app, json!({"name": "shape", "graph": age_graph(18)})).await;
    let id = wf["id"].as_str().unwrap();
    let draft = app
        .post(&format!("/api/v1/workflows/{id}/drafts"))
        .send()
        .await
        .json();
    let draft_id = draft["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"graph": "nodes"}), "graph"),
        (json!({"graph": [1, 2]}), "graph"),
        (json!({"graph": 7}), "graph"),
        (
            json!({"format": "steps", "steps": {"policy": "document_ocr"}}),
            "steps",
        ),
        (json!({"steps": "document_ocr"}), "steps"),
    ] {
        for r in [
            app.post(&format!("/api/v1/workflows/{id}/drafts"))
                .json(body.clone())
                .send()
                .await,
            app.patch(&format!("/api/v1/workflows/{id}/drafts/{draft_id}"))
                .json(body.clone())
                .send()
                .await,
        ] {
            let err = r.assert_error(422, "validation_error");
            assert_eq!(err["errors"][0]["field"], field, "{body}: {err}");
        }
    }
    // Nothing was stored: the draft still holds the live graph, and no other draft was made.
    let stored = ok(&app
        .get(&format!("/api/v1/workflows/{id}/drafts/{draft_id}"))
        .send()
        .await);
    assert_eq!(stored["graph"]["nodes"]["age"]["config"]["minimum_age"], 18);
    let all = ok(&app
        .get(&format!("/api/v1/workflows/{id}/drafts"))
        .send()
        .await);
    assert_eq!(all["pagination"]["total"], 1);
}
both_backends!(workflow_draft_shape, drafts_keep_the_shape_of_a_definition);

async fn steps_and_auto_injection(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = create(&app, json!({"name": "Legacy", "steps": [{"policy": "document_ocr", "config": {}}, {"policy": "age_verification", "config": {"minimum_age": 21}}]})).await;
    assert_eq!(wf["format"], "steps");
    assert_eq!(
        wf["steps"],
        json!([{"policy": "document_ocr", "config": {}}, {"policy": "age_verification", "config": {"minimum_age": 21}}])
    );
    let nodes = wf["graph"]["nodes"].as_object().unwrap();
    // document_ocr without screening/risk gets both injected on its pass edge.
    assert!(
        nodes.contains_key("auto_watchlist_screening")
            && nodes.contains_key("auto_risk_assessment"),
        "{nodes:?}"
    );
    assert_eq!(nodes["step_1"]["on_pass"], "auto_watchlist_screening");
    assert_eq!(nodes["auto_risk_assessment"]["on_pass"], "step_2");
    assert_eq!(wf["step_count"], 4);
    let policies = ok(&app
        .get(&format!(
            "/api/v1/workflows/{}/verification-policies",
            wf["id"].as_str().unwrap()
        ))
        .send()
        .await);
    let names: Vec<&str> = policies["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"watchlist_screening") && names.contains(&"age_verification"),
        "{names:?}"
    );
    // The catalogue.
    let catalogue = ok(&app.get("/api/v1/verification-policies").send().await);
    let entries = catalogue["data"].as_array().unwrap();
    assert!(entries.len() >= 15, "{}", entries.len());
    let age = entries
        .iter()
        .find(|p| p["name"] == "age_verification")
        .unwrap();
    assert_eq!(age["config_schema"]["type"], "object");
    assert!(age["outputs"].get("age").is_some());
    assert!(
        entries
            .iter()
            .any(|p| p["name"] == "watchlist_screening" && p["auto_injected"] == true)
    );
}
both_backends!(workflow_steps_and_injection, steps_and_auto_injection);

async fn defaults_deactivation_and_clone(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let a = create(&app, json!({"name": "A", "graph": age_graph(18)})).await;
    let b = create(
        &app,
        json!({"name": "B", "graph": age_graph(18), "is_default": true}),
    )
    .await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    assert_eq!(
        ok(&app.get(&format!("/api/v1/workflows/{a_id}")).send().await)["is_default"],
        false
    );
    assert_eq!(b["is_default"], true);
    // The default cannot be deactivated.
    app.post(&format!("/api/v1/workflows/{b_id}/deactivate"))
        .send()
        .await
        .assert_error(409, "conflict");
    let moved = ok(&app
        .post(&format!("/api/v1/workflows/{a_id}/set-default"))
        .send()
        .await);
    assert_eq!(moved["is_default"], true);
    let deactivated = ok(&app
        .post(&format!("/api/v1/workflows/{b_id}/deactivate"))
        .send()
        .await);
    assert_eq!(deactivated["is_active"], false);
    app.post(&format!("/api/v1/workflows/{b_id}/set-default"))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let active = ok(&app.get("/api/v1/workflows?is_active=true").send().await);
    assert_eq!(active["pagination"]["total"], 1);
    assert_eq!(
        ok(&app.get("/api/v1/workflows?is_active=false").send().await)["data"][0]["id"],
        b_id
    );
    app.get("/api/v1/workflows?is_active=maybe")
        .send()
        .await
        .assert_error(422, "validation_error");
    let defaults = ok(&app.get("/api/v1/workflows?limit=100").send().await)["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["is_default"] == true)
        .count();
    assert_eq!(defaults, 1, "exactly one default");
    // Clone: new workflow, version 1 = the source's current version, not default.
    let clone = app
        .post(&format!("/api/v1/workflows/{a_id}/clone"))
        .json(json!({"name": "A copy"}))
        .send()
        .await;
    assert_eq!(clone.status, StatusCode::CREATED);
    let clone = clone.json();
    assert_ne!(clone["id"], a_id);
    assert_eq!(clone["version"], 1);
    assert_eq!(clone["is_default"], false);
    assert_eq!(clone["graph"], a["graph"]);
    let versions = ok(&app
        .get(&format!(
            "/api/v1/workflows/{}/versions",
            clone["id"].as_str().unwrap()
        ))
        .send()
        .await);
    assert_eq!(versions["data"][0]["source"], "clone");
    // The database itself refuses a second default.
    let tenant = app
        .services
        .api_keys
        .authenticate(Some(&app.sandbox_key), None)
        .await
        .unwrap()
        .tenant();
    use verifa_ports::workflows::WorkflowStore;
    let mut head = app.db.get(&tenant, b_id).await.unwrap();
    head.id = "wfl_sneaky".into();
    head.is_default = true;
    let version = app.db.version(&tenant, a_id, 1).await.unwrap();
    let raw_insert = {
        use sea_orm::ConnectionTrait;
        let sql = format!(
            "INSERT INTO workflows (id, org_id, environment, name, version, is_default, is_active, format, rollout, rollout_updated_at, created_at, updated_at) VALUES ('wfl_sneaky', '{}', 'sandbox', 'x', 1, {}, {}, 'graph', '[]', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
            tenant.org_id,
            if app.db.backend_name() == "sqlite" {
                "1"
            } else {
                "true"
            },
            if app.db.backend_name() == "sqlite" {
                "1"
            } else {
                "true"
            }
        );
        app.db.connection().execute_unprepared(&sql).await
    };
    assert!(
        raw_insert.is_err(),
        "a second default must violate the unique index"
    );
    let _ = (head, version);
}
both_backends!(workflow_defaults, defaults_deactivation_and_clone);

async fn concurrent_publishes_do_not_both_win(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = create(&app, json!({"name": "Race", "graph": age_graph(18)})).await;
    let id = wf["id"].as_str().unwrap();
    let d1 = ok(&app
        .post(&format!("/api/v1/workflows/{id}/drafts"))
        .json(json!({"graph": age_graph(19)}))
        .send()
        .await);
    let d2 = ok(&app
        .post(&format!("/api/v1/workflows/{id}/drafts"))
        .json(json!({"graph": age_graph(20)}))
        .send()
        .await);
    let p1_path = format!(
        "/api/v1/workflows/{id}/drafts/{}/publish",
        d1["id"].as_str().unwrap()
    );
    let p2_path = format!(
        "/api/v1/workflows/{id}/drafts/{}/publish",
        d2["id"].as_str().unwrap()
    );
    let (r1, r2) = tokio::join!(app.post(&p1_path).send(), app.post(&p2_path).send());
    let statuses = [r1.status.as_u16(), r2.status.as_u16()];
    assert!(
        statuses.contains(&200) && statuses.contains(&409),
        "one publish wins, the other gets 409: {statuses:?}"
    );
    let loser = if r1.status == StatusCode::CONFLICT {
        r1
    } else {
        r2
    };
    loser.assert_error(409, "conflict");
    assert_eq!(
        ok(&app.get(&format!("/api/v1/workflows/{id}")).send().await)["version"],
        2
    );
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/workflows/{id}/versions"))
            .send()
            .await)["pagination"]["total"],
        2
    );
}
both_backends!(workflow_publish_race, concurrent_publishes_do_not_both_win);

async fn dry_run_writes_nothing(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let graph = json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "age"},
        "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "gate", "on_fail": "reject", "max_retries": 2},
        "gate": {"type": "wait", "next": "approve", "on_fail": {"action": "goto", "node": "review"}},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"},
        "review": {"type": "terminal", "outcome": "needs_review"}}});
    let wf = create(&app, json!({"name": "Gate", "graph": graph})).await;
    let id = wf["id"].as_str().unwrap();
    // No results given: the sandbox provider's values are used and the warning says so; no
    // decision for the gate: the run is paused there.
    let paused = ok(&app
        .post(&format!("/api/v1/workflows/{id}/dry-run"))
        .json(json!({}))
        .send()
        .await);
    assert_eq!(paused["final_status"], Value::Null);
    assert_eq!(paused["paused_at_node"], "gate");
    assert!(
        paused["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("age")),
        "{paused}"
    );
    let decided = ok(&app
        .post(&format!("/api/v1/workflows/{id}/dry-run"))
        .json(json!({"version": 1, "input": {"check_results": {"age": {"status": "passed", "output": {"age": 30}}}, "external_decisions": {"gate": "fail"}}}))
        .send()
        .await);
    assert_eq!(decided["final_status"], "needs_review");
    assert!(
        decided["warnings"].as_array().unwrap().is_empty(),
        "{decided}"
    );
    app.post(&format!("/api/v1/workflows/{id}/dry-run"))
        .json(json!({"version": 7}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let bad = app
        .post(&format!("/api/v1/workflows/{id}/dry-run"))
        .json(json!({"input": {"check_results": {"age": {"status": "maybe"}}}}))
        .send()
        .await;
    assert!(
        bad.assert_error(422, "validation_error")["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("input.check_results")
    );
    // Nothing was written.
    let stats = ok(&app
        .get(&format!("/api/v1/workflows/{id}/analytics"))
        .send()
        .await);
    assert_eq!(stats["total_runs"], 0);
    assert_eq!(
        ok(&app
            .get(&format!("/api/v1/workflows/{id}/versions"))
            .send()
            .await)["pagination"]["total"],
        1
    );
}
both_backends!(workflow_dry_run, dry_run_writes_nothing);

async fn scopes_and_isolation(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let wf = create(&app, json!({"name": "Scoped", "graph": age_graph(18)})).await;
    let id = wf["id"].as_str().unwrap();
    let (_, reader) = app.key_with_scopes(&["workflows:read"]).await;
    let (_, none) = app.key_with_scopes(&["sessions:read"]).await;
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{id}"))
            .key(&reader)
            .send()
            .await
            .status,
        StatusCode::OK
    );
    let body = app
        .post("/api/v1/workflows")
        .key(&reader)
        .json(json!({"name": "x", "graph": age_graph(18)}))
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    assert!(body["detail"].as_str().unwrap().contains("workflows:write"));
    app.get("/api/v1/workflows")
        .key(&none)
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    // Another environment and another organization get 404 on every route with the id.
    let (other_live, other_sandbox) = app.other_org().await;
    for key in [
        app.live_key.as_str(),
        other_live.as_str(),
        other_sandbox.as_str(),
    ] {
        for path in [
            "",
            "/versions",
            "/rollout",
            "/drafts",
            "/analytics",
            "/verification-policies",
        ] {
            app.get(&format!("/api/v1/workflows/{id}{path}"))
                .key(key)
                .send()
                .await
                .assert_error(404, "not_found");
        }
        app.post(&format!("/api/v1/workflows/{id}/set-default"))
            .key(key)
            .send()
            .await
            .assert_error(404, "not_found");
        app.post(&format!("/api/v1/workflows/{id}/dry-run"))
            .key(key)
            .json(json!({}))
            .send()
            .await
            .assert_error(404, "not_found");
        app.patch(&format!("/api/v1/workflows/{id}"))
            .key(key)
            .json(json!({"name": "stolen"}))
            .send()
            .await
            .assert_error(404, "not_found");
    }
    assert_eq!(
        ok(&app.get("/api/v1/workflows").key(&app.live_key).send().await)["pagination"]["total"],
        0
    );
}
both_backends!(workflow_scopes, scopes_and_isolation);

async fn analytics_from_runs(db: TestDatabase) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::new(db).await;
    let wf = create(&app, json!({"name": "Stats", "graph": age_graph(18)})).await;
    let id = wf["id"].as_str().unwrap();
    let tenant = app
        .services
        .api_keys
        .authenticate(Some(&app.sandbox_key), None)
        .await
        .unwrap()
        .tenant();
    let (t, f) = if app.db.backend_name() == "sqlite" {
        ("1", "0")
    } else {
        ("true", "false")
    };
    let _ = t;
    let runs = [
        (
            "r1",
            "completed",
            Some("approved"),
            1,
            Some(100),
            "2026-03-01",
        ),
        (
            "r2",
            "completed",
            Some("rejected"),
            1,
            Some(300),
            "2026-03-02",
        ),
        (
            "r3",
            "completed",
            Some("approved"),
            2,
            Some(200),
            "2026-03-03",
        ),
        ("r4", "paused", None, 2, None, "2026-03-04"),
    ];
    for (run_id, status, final_status, version, duration, day) in runs {
        let fs = final_status
            .map(|s| format!("'{s}'"))
            .unwrap_or_else(|| "NULL".into());
        let d = duration
            .map(|d: i64| d.to_string())
            .unwrap_or_else(|| "NULL".into());
        let sql = format!(
            "INSERT INTO workflow_runs (id, org_id, environment, session_id, workflow_id, workflow_version, status, final_status, graph_snapshot, state, simulated, revision, duration_ms, created_at, updated_at) \
             VALUES ('{run_id}', '{}', 'sandbox', 'ses_{run_id}', '{id}', {version}, '{status}', {fs}, '{{}}', '{{}}', {f}, 0, {d}, '{day}T10:00:00+00:00', '{day}T10:00:00+00:00')",
            tenant.org_id
        );
        app.db.connection().execute_unprepared(&sql).await.unwrap();
    }
    let execs = [
        ("e1", "r1", "age", "passed", 1, 10),
        ("e2", "r2", "age", "requires_retry", 1, 30),
        ("e3", "r2", "age", "failed", 2, 50),
        ("e4", "r3", "age", "error", 1, 20),
    ];
    for (eid, run, node, status, attempt, ms) in execs {
        let sql = format!(
            "INSERT INTO workflow_node_executions (id, run_id, org_id, environment, session_id, workflow_id, workflow_version, node_id, node_type, policy, status, attempt, started_at, completed_at, duration_ms, created_at) \
             VALUES ('{eid}', '{run}', '{}', 'sandbox', 'ses_{run}', '{id}', 1, '{node}', 'policy', 'age_verification', '{status}', {attempt}, '2026-03-01T10:00:00+00:00', '2026-03-01T10:00:01+00:00', {ms}, '2026-03-02T10:00:00+00:00')",
            tenant.org_id
        );
        app.db.connection().execute_unprepared(&sql).await.unwrap();
    }
    let a = ok(&app
        .get(&format!("/api/v1/workflows/{id}/analytics"))
        .send()
        .await);
    assert_eq!(a["total_runs"], 4);
    assert_eq!(
        a["outcomes"],
        json!({"approved": 2, "in_progress": 1, "rejected": 1})
    );
    assert_eq!(a["paused"], 1);
    assert_eq!(a["by_version"], json!({"1": 2, "2": 2}));
    assert_eq!(a["median_duration_ms"], 200);
    assert_eq!(a["p95_duration_ms"], 300);
    let age = &a["by_node"]["age"];
    assert_eq!(age["executions"], 4);
    assert_eq!(age["passed"], 1);
    assert_eq!(age["failed"], 1);
    assert_eq!(age["errors"], 1);
    assert_eq!(age["retries"], 1);
    assert_eq!(age["p50_ms"], 20);
    assert_eq!(age["p95_ms"], 50);
    let filtered = ok(&app
        .get(&format!(
            "/api/v1/workflows/{id}/analytics?version=2&date_from=2026-03-03"
        ))
        .send()
        .await);
    assert_eq!(filtered["total_runs"], 2);
    let until = ok(&app
        .get(&format!(
            "/api/v1/workflows/{id}/analytics?date_to=2026-03-02"
        ))
        .send()
        .await);
    assert_eq!(until["total_runs"], 2);
    app.get(&format!(
        "/api/v1/workflows/{id}/analytics?date_from=yesterday"
    ))
    .send()
    .await
    .assert_error(422, "validation_error");
}
both_backends!(workflow_analytics, analytics_from_runs);
