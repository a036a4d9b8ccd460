//! The API keys resource, tenancy isolation, scopes and IP allowlists.

use crate::harness::TestApp;
use axum::http::StatusCode;
use serde_json::json;
use verifa_testkit::{TestDatabase, both_backends};

async fn key_lifecycle(db: TestDatabase) {
    let app = TestApp::new(db).await;
    // -- create: secret shown once, defaults applied
    let r = app
        .post("/api/v1/api-keys")
        .json(json!({"label": "backend", "note": "n"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("key_"));
    assert!(secret.starts_with("vk_sandbox_") && secret.len() >= "vk_sandbox_".len() + 32);
    assert_eq!(created["key_prefix"], secret[..12]);
    assert_eq!(created["environment"], "sandbox");
    assert_eq!(created["type"], "secret");
    assert_eq!(
        created["scopes"],
        json!([
            "identities:read",
            "sessions:create",
            "sessions:read",
            "sessions:write",
            "verifications:read"
        ])
    );
    assert!(created["warning"].as_str().is_some());

    // -- get: never the secret again
    let got = app
        .get(&format!("/api/v1/api-keys/{id}"))
        .send()
        .await
        .json();
    assert_eq!(got["id"], id.as_str());
    assert!(
        got.get("secret").is_none(),
        "secret must not be shown again: {got}"
    );
    assert_eq!(got["label"], "backend");

    // -- the new key authenticates, and its default scopes do not include api_keys:read
    let r = app.get("/api/v1/api-keys").key(&secret).send().await;
    let body = r.assert_error(403, "insufficient_scope");
    assert!(body["detail"].as_str().unwrap().contains("api_keys:read"));

    // -- list: newest first, envelope and counts
    let list = app.get("/api/v1/api-keys?limit=1").send().await.json();
    assert_eq!(
        list["pagination"],
        json!({"total": 2, "limit": 1, "offset": 0})
    );
    assert_eq!(list["data"][0]["id"], id.as_str());
    let second = app
        .get("/api/v1/api-keys?limit=1&offset=1")
        .send()
        .await
        .json();
    assert_ne!(second["data"][0]["id"], id.as_str());

    // -- patch: only sent fields change, null clears
    let patched = app
        .patch(&format!("/api/v1/api-keys/{id}"))
        .json(
            json!({"label": null, "scopes": ["workflows:read"], "default_key_inflection": "camel"}),
        )
        .send()
        .await;
    assert_eq!(
        patched.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&patched.bytes)
    );
    let patched = patched.json();
    assert_eq!(patched["label"], serde_json::Value::Null);
    assert_eq!(patched["note"], "n");
    assert_eq!(patched["scopes"], json!(["workflows:read"]));
    assert_eq!(patched["default_key_inflection"], "camel");

    // -- clone: same settings, fresh secret
    let clone = app
        .post(&format!("/api/v1/api-keys/{id}/clone"))
        .send()
        .await;
    assert_eq!(clone.status, StatusCode::CREATED);
    let clone = clone.json();
    assert_ne!(clone["id"], id.as_str());
    assert_ne!(clone["secret"], secret.as_str());
    assert_eq!(clone["scopes"], json!(["workflows:read"]));
    assert_eq!(clone["default_key_inflection"], "camel");

    // -- expire: the key stops working at once
    let expired = app
        .post(&format!("/api/v1/api-keys/{id}/expire"))
        .send()
        .await
        .json();
    assert_eq!(expired["is_active"], false);
    assert!(expired["expires_at"].is_string());
    app.get("/api/v1/rate-limits")
        .key(&secret)
        .send()
        .await
        .assert_error(401, "unauthorized");

    // -- unknown id
    app.get("/api/v1/api-keys/key_doesnotexist")
        .send()
        .await
        .assert_error(404, "not_found");
}
both_backends!(api_key_lifecycle, key_lifecycle);

async fn environments_and_orgs_are_isolated(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let live = app
        .post("/api/v1/api-keys")
        .key(&app.live_key)
        .json(json!({"label": "live one"}))
        .send()
        .await
        .json();
    let live_id = live["id"].as_str().unwrap();
    assert_eq!(live["environment"], "live");
    // A sandbox key asking for a live object gets 404, never 403.
    for path in [
        format!("/api/v1/api-keys/{live_id}"),
        format!("/api/v1/api-keys/{live_id}/expire"),
        format!("/api/v1/api-keys/{live_id}/clone"),
    ] {
        let r = if path.ends_with("expire") || path.ends_with("clone") {
            app.post(&path).send().await
        } else {
            app.get(&path).send().await
        };
        r.assert_error(404, "not_found");
    }
    app.patch(&format!("/api/v1/api-keys/{live_id}"))
        .json(json!({"label": "x"}))
        .send()
        .await
        .assert_error(404, "not_found");
    let sandbox_list = app.get("/api/v1/api-keys").send().await.json();
    assert!(
        sandbox_list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["environment"] == "sandbox")
    );
    // Another organization sees none of it, even in the same environment.
    let (other_live, other_sandbox) = app.other_org().await;
    app.get(&format!("/api/v1/api-keys/{live_id}"))
        .key(&other_live)
        .send()
        .await
        .assert_error(404, "not_found");
    let other_list = app
        .get("/api/v1/api-keys")
        .key(&other_sandbox)
        .send()
        .await
        .json();
    assert_eq!(other_list["pagination"]["total"], 1);
    // Creating a key in the other environment is refused.
    let r = app
        .post("/api/v1/api-keys")
        .json(json!({"environment": "live"}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    assert_eq!(body["errors"][0]["field"], "environment");
}
both_backends!(tenancy_isolation, environments_and_orgs_are_isolated);

async fn scopes_are_enforced_and_cannot_escalate(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let (_, limited) = app
        .key_with_scopes(&["api_keys:read", "api_keys:write"])
        .await;
    app.get("/api/v1/api-keys").key(&limited).send().await;
    let r = app
        .post("/api/v1/api-keys")
        .key(&limited)
        .json(json!({"scopes": ["webhooks:write", "api_keys:read", "nope:nope"]}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["scopes[2]"],
        "unknown scope reported first: {body}"
    );
    let r = app
        .post("/api/v1/api-keys")
        .key(&limited)
        .json(json!({"scopes": ["webhooks:write"]}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("webhooks:write")
    );
    // Publishable keys may only create sessions.
    let r = app
        .post("/api/v1/api-keys")
        .json(json!({"type": "publishable"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let pubkey = r.json();
    assert!(
        pubkey["secret"]
            .as_str()
            .unwrap()
            .starts_with("vk_pub_sandbox_")
    );
    assert_eq!(pubkey["scopes"], json!(["sessions:create"]));
    app.get("/api/v1/api-keys")
        .key(pubkey["secret"].as_str().unwrap())
        .send()
        .await
        .assert_error(403, "insufficient_scope");
}
both_backends!(scopes, scopes_are_enforced_and_cannot_escalate);

async fn allowed_ips_restrict_callers(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let r = app
        .post("/api/v1/api-keys")
        .json(json!({"scopes": ["api_keys:read"], "allowed_ips": ["10.0.0.0/8", "192.0.2.7"]}))
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/api-keys")
            .key(&secret)
            .with_peer_ip("10.20.30.40")
            .send()
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/api-keys")
            .key(&secret)
            .with_peer_ip("192.0.2.7")
            .send()
            .await
            .status,
        StatusCode::OK
    );
    app.get("/api/v1/api-keys")
        .key(&secret)
        .with_peer_ip("192.0.2.8")
        .send()
        .await
        .assert_error(403, "ip_not_allowed");
    // X-Forwarded-For is not trusted by default: it cannot be used to get in.
    app.get("/api/v1/api-keys")
        .key(&secret)
        .with_peer_ip("203.0.113.1")
        .header("x-forwarded-for", "10.0.0.1")
        .send()
        .await
        .assert_error(403, "ip_not_allowed");
    let bad = app
        .post("/api/v1/api-keys")
        .json(json!({"allowed_ips": ["10.0.0.0/8", "not-an-ip"]}))
        .send()
        .await;
    assert_eq!(
        bad.assert_error(422, "validation_error")["errors"][0]["field"],
        "allowed_ips[1]"
    );
}
both_backends!(allowed_ips, allowed_ips_restrict_callers);

/// A key never grants a scope it does not hold: not explicitly, not by omitting `scopes` on
/// create, not by resetting them to the defaults with `"scopes": null`.
async fn defaults_are_grants_too(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let (narrow_id, narrow) = app
        .key_with_scopes(&["api_keys:read", "api_keys:write"])
        .await;
    let r = app
        .post("/api/v1/api-keys")
        .key(&narrow)
        .json(json!({"label": "sneaky"}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    assert_eq!(body["errors"][0]["field"], "scopes", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("sessions:read"),
        "{body}"
    );
    let r = app
        .patch(&format!("/api/v1/api-keys/{narrow_id}"))
        .key(&narrow)
        .json(json!({"scopes": null}))
        .send()
        .await;
    r.assert_error(422, "validation_error");
    let stored = app
        .get(&format!("/api/v1/api-keys/{narrow_id}"))
        .send()
        .await
        .json();
    assert_eq!(
        stored["scopes"],
        json!(["api_keys:read", "api_keys:write"]),
        "nothing was granted"
    );
    // A key holding the defaults may create a default key.
    let (_, defaults) = app
        .key_with_scopes(&[
            "sessions:read",
            "sessions:create",
            "sessions:write",
            "verifications:read",
            "identities:read",
            "api_keys:write",
        ])
        .await;
    let r = app
        .post("/api/v1/api-keys")
        .key(&defaults)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
}
both_backends!(api_key_default_scopes_are_grants, defaults_are_grants_too);

/// A key manages only keys whose scopes it holds, and a tenant always keeps a key that can
/// manage keys.
async fn weaker_keys_cannot_manage_stronger_ones(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let admin_id = app.get("/api/v1/api-keys").send().await.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["scopes"].as_array().unwrap().len() > 10)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, narrow) = app
        .key_with_scopes(&["api_keys:read", "api_keys:write"])
        .await;
    let admin_path = format!("/api/v1/api-keys/{admin_id}");
    for r in [
        app.post(&format!("{admin_path}/expire"))
            .key(&narrow)
            .send()
            .await,
        app.patch(&admin_path)
            .key(&narrow)
            .json(json!({"allowed_ips": ["10.0.0.1"]}))
            .send()
            .await,
        app.patch(&admin_path)
            .key(&narrow)
            .json(json!({"scopes": ["api_keys:read"]}))
            .send()
            .await,
        app.post(&format!("{admin_path}/clone"))
            .key(&narrow)
            .send()
            .await,
    ] {
        let body = r.assert_error(403, "insufficient_scope");
        assert!(
            body["detail"].as_str().unwrap().contains("webhooks:write"),
            "{body}"
        );
    }
    let admin = app.get(&admin_path).send().await.json();
    assert_eq!(admin["is_active"], true);
    assert_eq!(admin["allowed_ips"], json!(null));
    // The narrow key may manage an equally narrow one.
    let (peer_id, _) = app.key_with_scopes(&["api_keys:read"]).await;
    let r = app
        .patch(&format!("/api/v1/api-keys/{peer_id}"))
        .key(&narrow)
        .json(json!({"label": "peer"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
both_backends!(
    api_key_management_needs_the_scopes,
    weaker_keys_cannot_manage_stronger_ones
);

async fn the_last_key_administrator_stays(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let keys = app.get("/api/v1/api-keys").send().await.json();
    let admin_id = keys["data"][0]["id"].as_str().unwrap().to_owned();
    // The only key holding api_keys:write cannot be stripped of it nor expired.
    let r = app
        .patch(&format!("/api/v1/api-keys/{admin_id}"))
        .json(json!({"scopes": ["sessions:read", "api_keys:read"]}))
        .send()
        .await;
    r.assert_error(409, "conflict");
    let r = app
        .post(&format!("/api/v1/api-keys/{admin_id}/expire"))
        .send()
        .await;
    r.assert_error(409, "conflict");
    // Two equal administrators expiring each other at once: one of them stays.
    let (a_id, a) = app
        .key_with_scopes(&["api_keys:read", "api_keys:write"])
        .await;
    let (b_id, b) = app
        .key_with_scopes(&["api_keys:read", "api_keys:write"])
        .await;
    let r = app
        .post(&format!("/api/v1/api-keys/{admin_id}/expire"))
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let (ra, rb) = tokio::join!(
        app.post(&format!("/api/v1/api-keys/{b_id}/expire"))
            .key(&a)
            .send(),
        app.post(&format!("/api/v1/api-keys/{a_id}/expire"))
            .key(&b)
            .send()
    );
    let statuses = [ra.status.as_u16(), rb.status.as_u16()];
    assert!(statuses.contains(&200), "{statuses:?}");
    let active: Vec<bool> = [&a, &b]
        .iter()
        .map(|k| app.get("/api/v1/api-keys").key(k).send())
        .collect::<futures::future::JoinAll<_>>()
        .await
        .iter()
        .map(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(
        active.iter().filter(|x| **x).count(),
        1,
        "exactly one administrator left: {statuses:?}"
    );
}
both_backends!(api_key_last_administrator, the_last_key_administrator_stays);
