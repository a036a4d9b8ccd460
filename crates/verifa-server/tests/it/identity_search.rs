//! `POST /identities/search` (CONTRACT §7.3) through the real router on both databases: values
//! recorded by a session (pre-fill fields and extracted data) find its identity whatever their
//! case, accents or punctuation; the name needs its two companions; filters combine with AND;
//! bad bodies are 422 naming the field; the database holds keyed hashes, never the values.

use crate::cases::ok;
use crate::harness::TestApp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verifa_testkit::{TestDatabase, both_backends};

/// A sandbox session of `person` with pre-fill `fields`, completed by a simulated `action`.
async fn completed(app: &TestApp, person: &str, fields: Value, action: &str) -> String {
    let s = ok(&app
        .post("/api/v1/sessions")
        .json(json!({"external_ref": person, "fields": fields}))
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

async fn search(app: &TestApp, body: Value) -> (Vec<String>, Value) {
    let page = ok(&app
        .post("/api/v1/identities/search")
        .json(body)
        .send()
        .await);
    let refs = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["external_ref"].as_str().unwrap().to_owned())
        .collect();
    (refs, page["pagination"].clone())
}

async fn refused(app: &TestApp, body: Value) -> Vec<String> {
    let error = app
        .post("/api/v1/identities/search")
        .json(body)
        .send()
        .await
        .assert_error(422, "validation_error");
    error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn searches(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let emile = json!({"first_name": "Émile", "last_name": "Zola", "date_of_birth": "1840-04-02",
        "email": "Emile.Zola@Example.fr", "phone": "+1 (555) 010-9999",
        "address": {"city": "Paris", "postal_code": "75 001"}});
    completed(&app, "user_emile", emile, "approve").await;
    let bob = json!({"email": "bob@example.com", "city": "Paris", "documentNumber": "X-123"});
    completed(&app, "user_bob", bob, "decline").await;

    let (refs, pagination) = search(&app, json!({"email": "  EMILE.zola@example.FR "})).await;
    assert_eq!(refs, ["user_emile"]);
    assert_eq!(pagination["total"], 1);
    let (refs, _) = search(
        &app,
        json!({"first_name": "emile", "last_name": "ZOLA", "date_of_birth": "1840-04-02"}),
    )
    .await;
    assert_eq!(refs, ["user_emile"], "case and accents do not matter");
    let (refs, _) = search(&app, json!({"phone": "555.010.9999", "zip_code": "75001"})).await;
    assert_eq!(refs, ["user_emile"]);
    let (refs, _) = search(&app, json!({"document_number": "x123"})).await;
    assert_eq!(refs, ["user_bob"], "camelCase pre-fill keys count too");
    let (refs, _) = search(&app, json!({"city": "PARIS"})).await;
    assert_eq!(refs, ["user_bob", "user_emile"], "newest first");
    let (refs, _) = search(&app, json!({"city": "paris", "status": "failed"})).await;
    assert_eq!(refs, ["user_bob"], "filters combine with AND");
    let (refs, _) = search(&app, json!({"city": "paris", "email": "bob@example.com"})).await;
    assert_eq!(refs, ["user_bob"]);
    let (refs, _) = search(
        &app,
        json!({"email": "bob@example.com", "zip_code": "75001"}),
    )
    .await;
    assert!(refs.is_empty(), "every value must come from one session");
    let (refs, _) = search(
        &app,
        json!({"external_ref": "user_emile", "status": "verified"}),
    )
    .await;
    assert_eq!(refs, ["user_emile"]);
    let (refs, pagination) = search(&app, json!({"city": "Paris", "limit": 1, "offset": 1})).await;
    assert_eq!(refs, ["user_emile"]);
    assert_eq!(pagination["total"], 2);
    assert_eq!(pagination["limit"], 1);
    let (refs, _) = search(
        &app,
        json!({"first_name": "Jane", "last_name": "Doe",
        "date_of_birth": "1997-06-15"}),
    )
    .await;
    assert_eq!(
        refs.len(),
        2,
        "the sandbox's extracted data is recorded too"
    );

    let live = app
        .post("/api/v1/identities/search")
        .key(&app.live_key.clone())
        .json(json!({"city": "Paris"}))
        .send()
        .await;
    assert_eq!(
        ok(&live)["data"],
        json!([]),
        "live sees no sandbox identity"
    );

    // What a search result shows: the identity, never the personal data searched for.
    let page = ok(&app
        .post("/api/v1/identities/search")
        .json(json!({"email": "emile.zola@example.fr"}))
        .send()
        .await);
    assert!(page["data"][0].get("extracted_data").is_none());
    assert!(!String::from_utf8_lossy(&page.to_string().into_bytes()).contains("Zola"));

    // The database holds keyed hashes: neither the values nor their plain SHA-256.
    let raw = app.raw_contents().await;
    for secret in [
        "emile.zola@example.fr",
        "Emile.Zola@Example.fr",
        "5550109999",
    ] {
        let plain_hash = hex::encode(Sha256::digest(format!("email:{secret}")));
        for needle in [secret.to_owned(), plain_hash] {
            assert!(
                !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} is stored in clear"
            );
        }
    }

    assert_eq!(
        refused(&app, json!({"first_name": "Émile"})).await,
        ["last_name", "date_of_birth"]
    );
    assert_eq!(refused(&app, json!({})).await, ["body"]);
    assert_eq!(refused(&app, json!({"email": "   "})).await, ["body"]);
    assert_eq!(
        refused(
            &app,
            json!({"email": "nobody", "phone": "12", "country": "FRA"})
        )
        .await,
        ["country", "email", "phone"]
    );
    assert_eq!(
        refused(
            &app,
            json!({"first_name": "A", "last_name": "B",
            "date_of_birth": "1840-02-30"})
        )
        .await,
        ["date_of_birth"]
    );
    assert_eq!(
        refused(&app, json!({"city": "Paris", "limit": 0})).await,
        ["limit"]
    );
    let unknown = app
        .post("/api/v1/identities/search")
        .json(json!({"nationality": "FR"}))
        .send()
        .await;
    assert_eq!(unknown.status.as_u16(), 422, "an unknown field is refused");
    let (_, no_scope) = app.key_with_scopes(&["sessions:read"]).await;
    app.post("/api/v1/identities/search")
        .key(&no_scope)
        .json(json!({"city": "Paris"}))
        .send()
        .await
        .assert_error(403, "insufficient_scope");
}

both_backends!(identity_search, searches);
