//! Identities (CONTRACT §7) through the real router on both databases: a completed session
//! upserts its identity; get by id or external reference; PATCH with identity types; tags,
//! flag, archive, monitoring; merge; the audit log; and the errors of each.

use crate::harness::{TestApp, TestResponse};
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

fn ok(r: &TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "{}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

/// A session of `person`, completed by a simulated `action` (`approve`, `decline`).
async fn completed_session(app: &TestApp, person: &str, action: &str) -> String {
    let s = ok(&app
        .post("/api/v1/sessions")
        .json(json!({"external_ref": person}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": action}))
        .send()
        .await);
    id
}

async fn lifecycle(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let first = completed_session(&app, "user_jane", "approve").await;
    let by_ref = ok(&app.get("/api/v1/identities/user_jane").send().await);
    let id = by_ref["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("idn_"));
    assert_eq!(by_ref["status"], "approved");
    assert_eq!(by_ref["is_sandbox"], true);
    assert_eq!(by_ref["session_count"], 1);
    assert_eq!(by_ref["latest_session_id"], first.as_str());
    assert_eq!(by_ref["latest_result_id"], first.as_str());
    assert_eq!(by_ref["extracted_data"]["first_name"], "Jane");
    assert_eq!(
        by_ref["verification_history"][0]["session_id"],
        first.as_str()
    );
    assert_eq!(by_ref["screening_status"], "not_screened");
    let session = ok(&app.get(&format!("/api/v1/sessions/{first}")).send().await);
    assert_eq!(
        session["identity_id"],
        id.as_str(),
        "the session links its identity"
    );

    let second = completed_session(&app, "user_jane", "decline").await;
    let by_id = ok(&app.get(&format!("/api/v1/identities/{id}")).send().await);
    assert_eq!(
        by_id["status"], "failed",
        "the status follows the latest session"
    );
    assert_eq!(by_id["session_count"], 2);
    assert_eq!(by_id["latest_session_id"], second.as_str());
    assert!(by_id["first_verified_at"].is_string());

    let list = ok(&app.get("/api/v1/identities?status=failed").send().await);
    assert_eq!(list["pagination"]["total"], 1);
    assert!(
        list["data"][0].get("extracted_data").is_none(),
        "lists omit extracted data"
    );
    let verified = ok(&app.get("/api/v1/identities?status=verified").send().await);
    assert_eq!(verified["pagination"]["total"], 0);
    app.get("/api/v1/identities?status=happy")
        .send()
        .await
        .assert_error(422, "validation_error");
    let sessions = ok(&app
        .get(&format!("/api/v1/identities/{id}/sessions"))
        .send()
        .await);
    assert_eq!(sessions["pagination"]["total"], 2);
    assert_eq!(sessions["data"][0]["session_id"], second.as_str());

    // Tags, flag, archive, monitoring.
    let tags = ok(&app
        .post(&format!("/api/v1/identities/{id}/tags"))
        .json(json!({"tag": "vip"}))
        .send()
        .await);
    assert_eq!(tags, json!({"id": id, "tags": ["vip"]}));
    let tags = ok(&app
        .put(&format!("/api/v1/identities/{id}/tags"))
        .json(json!({"tags": ["vip", "eu", "eu"]}))
        .send()
        .await);
    assert_eq!(tags["tags"], json!(["vip", "eu"]));
    app.post(&format!("/api/v1/identities/{id}/tags"))
        .json(json!({"tag": ""}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let tags = ok(&app
        .delete(&format!("/api/v1/identities/{id}/tags/vip"))
        .send()
        .await);
    assert_eq!(tags["tags"], json!(["eu"]));
    let tagged = ok(&app.get("/api/v1/identities?tag=eu").send().await);
    assert_eq!(tagged["data"][0]["id"], id.as_str());

    let flagged = ok(&app
        .post(&format!("/api/v1/identities/{id}/flag"))
        .json(json!({"reason": "Possible PEP", "flagged_by": "ana@example.com"}))
        .send()
        .await);
    assert_eq!(flagged["is_flagged"], true);
    assert_eq!(flagged["flag_reason"], "Possible PEP");
    let unflagged = ok(&app
        .post(&format!("/api/v1/identities/{id}/unflag"))
        .send()
        .await);
    assert_eq!(unflagged["is_flagged"], false);
    assert_eq!(unflagged["flagged_by"], Value::Null);

    app.post(&format!("/api/v1/identities/{id}/monitoring/resume"))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let patched = ok(&app
        .patch(&format!("/api/v1/identities/{id}"))
        .json(json!({"monitoring_enabled": true, "custom_fields": {"tier": "gold", "x": 1}}))
        .send()
        .await);
    assert_eq!(patched["monitoring_enabled"], true);
    assert_eq!(patched["custom_fields"], json!({"tier": "gold", "x": 1}));
    let patched = ok(&app
        .patch(&format!("/api/v1/identities/{id}"))
        .json(json!({"custom_fields": {"x": null}}))
        .send()
        .await);
    assert_eq!(patched["custom_fields"], json!({"tier": "gold"}));
    let too_many: serde_json::Map<String, Value> =
        (0..50).map(|n| (format!("k{n}"), json!(n))).collect();
    app.patch(&format!("/api/v1/identities/{id}"))
        .json(json!({"custom_fields": too_many}))
        .send()
        .await
        .assert_error(422, "validation_error");

    let archived = ok(&app
        .post(&format!("/api/v1/identities/{id}/archive"))
        .send()
        .await);
    assert!(archived["archived_at"].is_string());
    assert_eq!(archived["monitoring_paused_reason"], "archived");
    app.post(&format!("/api/v1/identities/{id}/archive"))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let hidden = ok(&app.get("/api/v1/identities").send().await);
    assert_eq!(
        hidden["pagination"]["total"], 0,
        "archived identities are hidden"
    );
    let shown = ok(&app
        .get("/api/v1/identities?include_archived=true")
        .send()
        .await);
    assert_eq!(shown["pagination"]["total"], 1);
    app.post(&format!("/api/v1/identities/{id}/monitoring/resume"))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let restored = ok(&app
        .post(&format!("/api/v1/identities/{id}/restore"))
        .send()
        .await);
    assert_eq!(restored["archived_at"], Value::Null);
    assert_eq!(restored["monitoring_paused_reason"], Value::Null);
    let paused = ok(&app
        .post(&format!("/api/v1/identities/{id}/monitoring/pause"))
        .send()
        .await);
    assert_eq!(paused["monitoring_paused_reason"], "manual");

    // The audit log covers the identity and its sessions, by field name only.
    let log = ok(&app
        .get(&format!("/api/v1/identities/{id}/audit-log"))
        .send()
        .await);
    let actions: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in [
        "identity.created",
        "identity.updated",
        "identity.tags_updated",
        "identity.flagged",
        "identity.archived",
        "identity.monitoring_paused",
        "session.simulated",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(
        !log.to_string().contains("Possible PEP"),
        "values never reach the trail"
    );

    app.get("/api/v1/identities/nobody")
        .send()
        .await
        .assert_error(404, "not_found");
    let (live_key, _) = app.other_org().await;
    app.get(&format!("/api/v1/identities/{id}"))
        .key(&live_key)
        .send()
        .await
        .assert_error(404, "not_found");
}
both_backends!(identity_lifecycle, lifecycle);

async fn create_types_and_merge(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let kind = ok(&app
        .post("/api/v1/identity-types")
        .json(json!({"name": "customer", "label": "Customer", "statuses": ["active", "closed"], "is_default": true}))
        .send()
        .await);
    let kind_id = kind["id"].as_str().unwrap().to_owned();
    assert_eq!(kind["default_status"], "active");
    app.post("/api/v1/identity-types")
        .json(json!({"name": "customer", "label": "Again", "statuses": ["a"]}))
        .send()
        .await
        .assert_error(409, "conflict");
    let bad = app
        .post("/api/v1/identity-types")
        .json(json!({"name": "Bad Name", "label": "", "statuses": [], "default_status": "x"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "label", "statuses", "default_status"]);

    let created = app
        .post("/api/v1/identities")
        .json(json!({"external_ref": "user_a"}))
        .send()
        .await;
    assert_eq!(created.status, 201);
    let a = created.json();
    assert_eq!(a["upserted"], false);
    assert_eq!(a["status"], "pending");
    app.post("/api/v1/identities")
        .json(json!({"external_ref": "user_a"}))
        .send()
        .await
        .assert_error(409, "conflict");
    let again = app
        .post("/api/v1/identities")
        .json(json!({"external_ref": "user_a", "upsert": true}))
        .send()
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], a["id"]);
    assert_eq!(again.json()["upserted"], true);
    app.post("/api/v1/identities")
        .json(json!({"external_ref": "user_a", "upsert": true, "custom_fields": {"": 1}}))
        .send()
        .await
        .assert_error(422, "validation_error");
    let a_id = a["id"].as_str().unwrap().to_owned();
    let typed = ok(&app.get(&format!("/api/v1/identities/{a_id}")).send().await);
    assert_eq!(
        typed["identity_type_id"],
        kind_id.as_str(),
        "the default type"
    );
    assert_eq!(typed["type_status"], "active");
    let closed = ok(&app
        .patch(&format!("/api/v1/identities/{a_id}"))
        .json(json!({"type_status": "closed"}))
        .send()
        .await);
    assert_eq!(closed["type_status"], "closed");
    app.patch(&format!("/api/v1/identities/{a_id}"))
        .json(json!({"type_status": "gone"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.delete(&format!("/api/v1/identity-types/{kind_id}"))
        .send()
        .await
        .assert_error(409, "conflict");

    completed_session(&app, "user_b", "approve").await;
    let b = ok(&app.get("/api/v1/identities/user_b").send().await);
    let b_id = b["id"].as_str().unwrap().to_owned();
    ok(&app
        .post(&format!("/api/v1/identities/{b_id}/tags"))
        .json(json!({"tag": "vip"}))
        .send()
        .await);
    let body = json!({"primary_identity_id": a_id, "secondary_identity_id": b_id});
    let preview = ok(&app
        .post("/api/v1/identities/merge/preview")
        .json(body.clone())
        .send()
        .await);
    assert_eq!(preview["result"]["status"], "approved");
    assert_eq!(preview["result"]["session_count"], 1);
    assert_eq!(preview["result"]["tags"], json!(["vip"]));
    assert_eq!(preview["transfers"]["sessions"], 1);
    let still = ok(&app.get(&format!("/api/v1/identities/{b_id}")).send().await);
    assert_eq!(still["status"], "approved", "a preview writes nothing");

    let merged = ok(&app
        .post("/api/v1/identities/merge")
        .json(body.clone())
        .send()
        .await);
    assert_eq!(merged["primary"]["session_count"], 1);
    assert_eq!(merged["primary"]["status"], "approved");
    assert_eq!(merged["secondary"]["status"], "merged");
    assert_eq!(merged["secondary"]["merged_into_id"], a_id.as_str());
    let followed = ok(&app.get("/api/v1/identities/user_b").send().await);
    assert_eq!(
        followed["id"],
        a_id.as_str(),
        "a merged reference resolves to the primary"
    );
    app.post("/api/v1/identities/merge")
        .json(body)
        .send()
        .await
        .assert_error(422, "validation_error");
    app.post("/api/v1/identities/merge-multiple")
        .json(json!({"primary_identity_id": a_id, "secondary_identity_ids": []}))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.post("/api/v1/identities/merge")
        .json(json!({"primary_identity_id": a_id, "secondary_identity_id": "idn_nope"}))
        .send()
        .await
        .assert_error(404, "not_found");

    // A later session of the merged person feeds the primary.
    completed_session(&app, "user_b", "approve").await;
    let primary = ok(&app.get(&format!("/api/v1/identities/{a_id}")).send().await);
    assert_eq!(primary["session_count"], 2);

    let (_, read_only) = app.key_with_scopes(&["identities:read"]).await;
    app.post(&format!("/api/v1/identities/{a_id}/archive"))
        .key(&read_only)
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    app.post("/api/v1/identity-types")
        .key(&read_only)
        .json(json!({"name": "x", "label": "X", "statuses": ["a"]}))
        .send()
        .await
        .assert_error(403, "insufficient_scope");
}
both_backends!(identity_types_and_merges, create_types_and_merge);

/// Cursor mode of `GET /identities` (CONTRACT §7.2): walking `next_cursor` visits every
/// identity once, newest first; `prev_cursor` walks back; filters still apply; a cursor that is
/// not one is 422.
async fn cursor_pages(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let mut made = Vec::new();
    for n in 0..5 {
        let r = ok(&app
            .post("/api/v1/identities")
            .json(json!({"external_ref": format!("cursor_{n}")}))
            .send()
            .await);
        made.push(r["id"].as_str().unwrap().to_owned());
    }
    ok(&app
        .post("/api/v1/identities")
        .json(json!({"external_ref": "other_person"}))
        .send()
        .await);
    made.reverse();
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = |query: String| {
        let app = &app;
        async move {
            ok(&app
                .get(&format!("/api/v1/identities?q=cursor_&{query}"))
                .send()
                .await)
        }
    };
    let first = get("page[after]=&page[size]=2".into()).await;
    assert_eq!(ids(&first), made[0..2]);
    let p = &first["pagination"];
    assert_eq!(
        (p["page_size"].as_u64(), p["has_more"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(p["prev_cursor"], serde_json::Value::Null);
    let second = get(format!(
        "page[after]={}&page[size]=2",
        p["next_cursor"].as_str().unwrap()
    ))
    .await;
    assert_eq!(ids(&second), made[2..4]);
    let next = second["pagination"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = get(format!("page[after]={next}&page[size]=2")).await;
    assert_eq!(ids(&last), made[4..5]);
    assert_eq!(last["pagination"]["has_more"], false);
    assert_eq!(last["pagination"]["next_cursor"], serde_json::Value::Null);
    let back = last["pagination"]["prev_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let previous = get(format!("page[before]={back}&page[size]=2")).await;
    assert_eq!(
        ids(&previous),
        made[2..4],
        "walking back gives the page before"
    );
    assert_eq!(
        previous["pagination"]["has_more"], true,
        "newer rows remain"
    );
    let offset = ok(&app.get("/api/v1/identities?q=cursor_&limit=2").send().await);
    assert_eq!(offset["pagination"]["total"], 5, "offset mode is unchanged");
    let bad = app
        .get("/api/v1/identities?page[after]=not-a-cursor")
        .send()
        .await
        .assert_error(422, "validation_error");
    assert_eq!(bad["errors"][0]["field"], "page[after]");
    app.get("/api/v1/identities?page[size]=500")
        .send()
        .await
        .assert_error(422, "validation_error");
    app.get("/api/v1/identities?page[before]=&page[size]=50")
        .send()
        .await
        .assert_error(422, "validation_error");
}
both_backends!(identity_cursor_pages, cursor_pages);
