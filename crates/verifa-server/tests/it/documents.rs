//! Session documents by signed, expiring links (CONTRACT §11.5), through the real router.

use super::cases::ok;
use crate::harness::TestApp;
use crate::sessions::{JPEG, MRZ, upload};
use serde_json::json;
use verifa_app::crypto::UrlSigner;
use verifa_server::settings::DEV_URL_SIGNING_KEY;
use verifa_testkit::{TestDatabase, both_backends};

/// The link's path and query, as a client sends them.
fn path_of(url: &str) -> String {
    let at = url.find("/api/v1/").expect("an API path");
    url[at..].to_owned()
}

/// A link signed with the test server's (public, development) key.
fn signed(session: &str, doc_type: &str, expires: i64) -> String {
    let signer = UrlSigner::new(DEV_URL_SIGNING_KEY.as_bytes()).expect("a signer");
    let sig = signer.sign(&format!("{session}.{doc_type}.{expires}"));
    format!("/api/v1/sessions/{session}/documents/{doc_type}?expires={expires}&sig={sig}")
}

async fn signed_links(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let key = app.live_key.clone();
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(&key)
        .json(json!({}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&upload(&app, &key, &id, "id_front", JPEG, Some(MRZ)).await);

    let listed = ok(&app
        .get(&format!("/api/v1/sessions/{id}/documents"))
        .key(&key)
        .send()
        .await);
    let doc = &listed["data"][0];
    assert_eq!(doc["document_type"], "id_front");
    assert_eq!(
        doc["expires_in"], 300,
        "image_url_expiry_seconds by default"
    );
    let url = doc["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/api/v1/sessions/{id}/documents/id_front?expires=",
            app.settings.server.public_url.trim_end_matches('/')
        )),
        "{url}"
    );
    let link = path_of(url);

    // The link alone fetches the bytes, which went to storage encrypted.
    let got = app.get(&link).no_key().send().await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.bytes));
    assert_eq!(got.bytes, JPEG);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert_eq!(got.header("cache-control"), Some("private, no-store"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));

    // Any byte of the session id, the type, the expiry or the signature edited: 403.
    let (path, query) = link.split_once('?').unwrap();
    let id_at = path.find(&id).unwrap();
    let type_at = path.rfind("id_front").unwrap();
    let expires_at = link.find("expires=").unwrap() + "expires=".len();
    let sig_at = link.find("sig=").unwrap() + "sig=".len();
    let expires_end = expires_at + query.split('&').next().unwrap().len() - "expires=".len();
    let spans = [
        id_at..id_at + id.len(),
        type_at..type_at + "id_front".len(),
        expires_at..expires_end,
        sig_at..link.len(),
    ];
    let mut edits = 0;
    for i in spans.into_iter().flatten() {
        edits += 1;
        let replacement = if link.as_bytes()[i] == b'1' {
            b'2'
        } else {
            b'1'
        };
        let mut edited = link.clone().into_bytes();
        edited[i] = replacement;
        let edited = String::from_utf8(edited).unwrap();
        app.get(&edited)
            .no_key()
            .send()
            .await
            .assert_error(403, "invalid_signature");
    }
    assert!(
        edits > id.len() + 64,
        "every signed byte was edited ({edits})"
    );
    let upper = format!(
        "{}{}",
        &link[..link.len() - 4],
        link[link.len() - 4..].to_uppercase()
    );
    if upper != link {
        app.get(&upper)
            .no_key()
            .send()
            .await
            .assert_error(403, "invalid_signature");
    }
    let (without_sig, _) = link.split_once("&sig=").unwrap();
    for bad in [
        without_sig.to_owned(),
        format!("{link}&extra=1"),
        format!("{link}&sig=00"),
        format!("/api/v1/sessions/{id}/documents/id_front"),
    ] {
        let body = app
            .get(&bad)
            .no_key()
            .send()
            .await
            .assert_error(403, "invalid_signature");
        assert!(
            body["detail"].as_str().unwrap().contains("fresh link"),
            "{body}"
        );
    }

    // A well-signed link past its expiry: 403; an unknown document or session: 404.
    let past = chrono::Utc::now().timestamp() - 5;
    app.get(&signed(&id, "id_front", past))
        .no_key()
        .send()
        .await
        .assert_error(403, "invalid_signature");
    let future = chrono::Utc::now().timestamp() + 60;
    app.get(&signed(&id, "id_back", future))
        .no_key()
        .send()
        .await
        .assert_error(404, "not_found");
    app.get(&signed("ses_unknown", "id_front", future))
        .no_key()
        .send()
        .await
        .assert_error(404, "not_found");
    app.get(&signed(&id, "passport", future))
        .no_key()
        .send()
        .await
        .assert_error(404, "not_found");

    // The organization's expiry setting shapes new links.
    ok(&app
        .patch("/api/v1/settings")
        .key(&key)
        .json(json!({"image_url_expiry_seconds": 60}))
        .send()
        .await);
    let listed = ok(&app
        .get(&format!("/api/v1/sessions/{id}/documents"))
        .key(&key)
        .send()
        .await);
    assert_eq!(listed["data"][0]["expires_in"], 60);
    let expires: i64 = listed["data"][0]["url"]
        .as_str()
        .unwrap()
        .split("expires=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now + 55..=now + 61).contains(&expires),
        "{expires} vs {now}"
    );

    // Another tenant's key sees no document of this session.
    app.get(&format!("/api/v1/sessions/{id}/documents"))
        .key(&app.sandbox_key)
        .send()
        .await
        .assert_error(404, "not_found");
}
both_backends!(session_documents_by_signed_links, signed_links);
