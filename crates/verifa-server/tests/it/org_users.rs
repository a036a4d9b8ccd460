//! Organization users (CONTRACT §6.1) through the real router on both databases: the
//! lifecycle, one-time passwords that verify and are never shown again, case-insensitive email
//! uniqueness, live-only writes, scopes, and the last active admin.

use crate::harness::TestApp;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

async fn create(app: &TestApp, body: Value) -> Value {
    let r = app
        .post("/api/v1/org-users")
        .key(&app.live_key)
        .json(body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.bytes));
    r.json()
}

/// The user as stored (with its password hash), read through the store port.
async fn stored_user(app: &TestApp, email: &str) -> verifa_domain::org_user::OrgUser {
    use verifa_ports::org_users::OrgUserRepository;
    app.db
        .find_by_email(email)
        .await
        .unwrap()
        .expect("stored user")
}

async fn lifecycle(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let ana = create(
        &app,
        json!({"email": "Ana@Example.com", "name": "Ana Admin", "role": "admin"}),
    )
    .await;
    let id = ana["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("orguser_"), "{ana}");
    assert_eq!(ana["email"], "Ana@Example.com");
    assert_eq!(
        (ana["role"].as_str(), ana["is_active"].as_bool()),
        (Some("admin"), Some(true))
    );
    assert_eq!(ana["last_login_at"], Value::Null);
    let otp = ana["one_time_password"].as_str().unwrap().to_owned();
    assert!(otp.len() >= 12, "{otp}");
    assert!(ana.get("password_hash").is_none(), "{ana}");

    // The one-time password is stored as an argon2id hash that verifies it.
    let stored = stored_user(&app, "ana@example.com").await;
    assert!(
        stored
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert!(verifa_crypto::passwords::verify_password(
        &stored.password_hash,
        &otp
    ));
    assert!(stored.password_is_temporary);

    // Reads never show it again.
    let got = app
        .get(&format!("/api/v1/org-users/{id}"))
        .key(&app.live_key)
        .send()
        .await
        .json();
    assert!(got.get("one_time_password").is_none(), "{got}");
    assert_eq!(got["name"], "Ana Admin");

    let rev = create(
        &app,
        json!({"email": "rev@example.com", "name": "Rita Reviewer", "role": "reviewer"}),
    )
    .await;
    let rev_id = rev["id"].as_str().unwrap().to_owned();
    let r = app
        .patch(&format!("/api/v1/org-users/{rev_id}"))
        .key(&app.live_key)
        .json(json!({"name": "Rita R.", "role": "viewer"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    let patched = r.json();
    assert_eq!(
        (patched["name"].as_str(), patched["role"].as_str()),
        (Some("Rita R."), Some("viewer"))
    );

    // Listing: newest first, with filters and a total.
    let list = |query: &'static str| {
        let app = &app;
        async move {
            let body = app
                .get(&format!("/api/v1/org-users{query}"))
                .key(&app.live_key)
                .send()
                .await
                .json();
            let ids: Vec<String> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned())
                .collect();
            (body["pagination"]["total"].as_u64().unwrap(), ids)
        }
    };
    assert_eq!(list("").await, (2, vec![rev_id.clone(), id.clone()]));
    assert_eq!(list("?role=viewer").await, (1, vec![rev_id.clone()]));
    assert_eq!(list("?q=ANA").await, (1, vec![id.clone()]));

    // Deactivation is idempotent; the deactivated user is filtered by `is_active`.
    for _ in 0..2 {
        let r = app
            .post(&format!("/api/v1/org-users/{rev_id}/deactivate"))
            .key(&app.live_key)
            .send()
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["is_active"], false);
    }
    assert_eq!(list("?is_active=false").await, (1, vec![rev_id.clone()]));
    assert_eq!(list("?is_active=true").await, (1, vec![id.clone()]));

    // A password reset gives a new one-time password; the old one stops working.
    let r = app
        .post(&format!("/api/v1/org-users/{id}/reset-password"))
        .key(&app.live_key)
        .send()
        .await;
    assert_eq!(r.status, 200);
    let reset = r.json();
    assert_eq!(reset["id"], id.as_str());
    let fresh = reset["one_time_password"].as_str().unwrap();
    assert_ne!(fresh, otp);
    let stored = stored_user(&app, "ana@example.com").await;
    assert!(verifa_crypto::passwords::verify_password(
        &stored.password_hash,
        fresh
    ));
    assert!(!verifa_crypto::passwords::verify_password(
        &stored.password_hash,
        &otp
    ));
}
both_backends!(org_user_lifecycle, lifecycle);

async fn bad_input(db: TestDatabase) {
    let app = TestApp::new(db).await;
    create(
        &app,
        json!({"email": "taken@example.com", "name": "T", "role": "admin"}),
    )
    .await;

    let r = app
        .post("/api/v1/org-users")
        .key(&app.live_key)
        .json(json!({"email": "TAKEN@example.com", "name": "Copy", "role": "viewer"}))
        .send()
        .await;
    r.assert_error(409, "conflict");

    let r = app
        .post("/api/v1/org-users")
        .key(&app.live_key)
        .json(json!({"email": "not-an-email", "name": " ", "role": "owner"}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "name", "role"], "{body}");

    let r = app
        .post("/api/v1/org-users")
        .key(&app.live_key)
        .json(json!({"email": "x@example.com", "name": "X"}))
        .send()
        .await;
    r.assert_error(422, "validation_error");

    let r = app
        .get("/api/v1/org-users?role=owner")
        .key(&app.live_key)
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    assert_eq!(body["errors"][0]["field"], "role");
    let r = app
        .get("/api/v1/org-users?is_active=maybe")
        .key(&app.live_key)
        .send()
        .await;
    r.assert_error(422, "validation_error");

    let r = app
        .get("/api/v1/org-users/orguser_nope")
        .key(&app.live_key)
        .send()
        .await;
    r.assert_error(404, "not_found");
}
both_backends!(org_user_bad_input, bad_input);

async fn access(db: TestDatabase) {
    let app = TestApp::new(db).await;
    // Sandbox keys may read but never write: a login would see live data.
    let r = app
        .post("/api/v1/org-users")
        .json(json!({"email": "s@example.com", "name": "S", "role": "admin"}))
        .send()
        .await;
    r.assert_error(403, "live_only");
    let r = app.get("/api/v1/org-users").send().await;
    assert_eq!(r.status, 200);

    // Scopes: settings:read to read, settings:write to write; neither is a default.
    let r = app
        .post("/api/v1/api-keys")
        .key(&app.live_key)
        .json(json!({}))
        .send()
        .await;
    let defaults = r.json()["secret"].as_str().unwrap().to_owned();
    let r = app.get("/api/v1/org-users").key(&defaults).send().await;
    r.assert_error(403, "insufficient_scope");
    let r = app
        .post("/api/v1/api-keys")
        .key(&app.live_key)
        .json(json!({"scopes": ["settings:read"]}))
        .send()
        .await;
    let reader = r.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/org-users")
            .key(&reader)
            .send()
            .await
            .status,
        200
    );
    let r = app
        .post("/api/v1/org-users")
        .key(&reader)
        .json(json!({"email": "r@example.com", "name": "R", "role": "viewer"}))
        .send()
        .await;
    r.assert_error(403, "insufficient_scope");

    // Another organization's users are invisible.
    let user = create(
        &app,
        json!({"email": "mine@example.com", "name": "M", "role": "admin"}),
    )
    .await;
    let (other_live, _) = app.other_org().await;
    let r = app
        .get(&format!(
            "/api/v1/org-users/{}",
            user["id"].as_str().unwrap()
        ))
        .key(&other_live)
        .send()
        .await;
    r.assert_error(404, "not_found");
    let listed = app
        .get("/api/v1/org-users")
        .key(&other_live)
        .send()
        .await
        .json();
    assert_eq!(listed["pagination"]["total"], 0);
}
both_backends!(org_user_access, access);

async fn last_admin(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let a = create(
        &app,
        json!({"email": "a@example.com", "name": "A", "role": "admin"}),
    )
    .await;
    let a_id = a["id"].as_str().unwrap().to_owned();
    for (path, body) in [
        (
            format!("/api/v1/org-users/{a_id}"),
            Some(json!({"role": "reviewer"})),
        ),
        (
            format!("/api/v1/org-users/{a_id}"),
            Some(json!({"is_active": false})),
        ),
        (format!("/api/v1/org-users/{a_id}/deactivate"), None),
    ] {
        let req = match body {
            Some(b) => app.patch(&path).json(b),
            None => app.post(&path),
        };
        let r = req.key(&app.live_key).send().await;
        let err = r.assert_error(409, "conflict");
        assert!(
            err["detail"]
                .as_str()
                .unwrap()
                .contains("last active admin"),
            "{err}"
        );
    }
    let stored = app
        .get(&format!("/api/v1/org-users/{a_id}"))
        .key(&app.live_key)
        .send()
        .await
        .json();
    assert_eq!(
        (stored["role"].as_str(), stored["is_active"].as_bool()),
        (Some("admin"), Some(true))
    );

    // With a second admin, the first may step down.
    create(
        &app,
        json!({"email": "b@example.com", "name": "B", "role": "admin"}),
    )
    .await;
    let r = app
        .patch(&format!("/api/v1/org-users/{a_id}"))
        .key(&app.live_key)
        .json(json!({"role": "reviewer"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
}
both_backends!(org_user_last_admin, last_admin);
