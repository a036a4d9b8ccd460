//! `verifa keys rotate-master` on both databases: after the rotation a server holding only the
//! new master key reads every session's documents and extracted data, though neither was
//! rewritten; before it, such a server could not.

use crate::harness::TestApp;
use crate::redaction::{files_under, ok, verified_session};
use crate::sessions::JPEG;
use verifa_app::sessions::LinkQuery;
use verifa_server::compose::{build_application, connect};
use verifa_server::settings::Settings;
use verifa_testkit::{TestDatabase, both_backends};

const OLD: &str = "b2xkLW1hc3Rlci1rZXktZm9yLXJvdGF0aW9uLXRlc3Q=";
const NEW: &str = "bmV3LW1hc3Rlci1rZXktZm9yLXJvdGF0aW9uLXRlc3Q=";

/// The session's document and extracted data as a server with `keys` reads them.
async fn read_with(
    url: &str,
    storage: &str,
    keys: &[(&str, &str)],
    secret: &str,
    id: &str,
) -> (Result<Vec<u8>, String>, Result<serde_json::Value, String>) {
    let mut overrides = vec![("STORAGE__URL", storage)];
    overrides.extend_from_slice(keys);
    let settings = Settings::for_tests(url, &overrides).unwrap();
    let db = connect(&settings, false).await.unwrap();
    let app = build_application(&settings, db.clone()).unwrap();
    let caller = app
        .services
        .api_keys
        .authenticate(Some(secret), None)
        .await
        .unwrap();
    let docs = app
        .services
        .sessions
        .signed_documents(&caller, id)
        .await
        .unwrap();
    let link = &docs[0].url;
    let query = |name: &str| {
        link.split(&format!("{name}="))
            .nth(1)
            .map(|v| v.split('&').next().unwrap_or_default().to_owned())
    };
    let bytes = app
        .services
        .sessions
        .download_by_link(
            id,
            "id_front",
            &LinkQuery {
                expires: query("expires"),
                sig: query("sig"),
            },
        )
        .await
        .map(|d| d.bytes)
        .map_err(|e| e.to_string());
    let extracted = app
        .services
        .sessions
        .result(&caller, id)
        .await
        .map(|r| serde_json::Value::Object(r.extracted_data))
        .map_err(|e| e.to_string());
    db.close().await;
    (bytes, extracted)
}

async fn rotation(db: TestDatabase) {
    let store = tempfile::tempdir().unwrap();
    let storage = format!("file://{}", store.path().display());
    let app = TestApp::with_settings(
        db,
        &[
            ("STORAGE__URL", &storage),
            ("SECURITY__ENCRYPTION_KEY", OLD),
        ],
    )
    .await;
    let key = app.live_key.clone();
    let id = verified_session(&app, &key).await;
    let before: Vec<Vec<u8>> = files_under(store.path())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let url = app.database_url().to_owned();
    let only_new = [("SECURITY__ENCRYPTION_KEY", NEW)];
    let (bytes, _) = read_with(&url, &storage, &only_new, &key, &id).await;
    assert!(bytes.is_err(), "the new key alone cannot read yet");

    let rotating = [
        ("SECURITY__ENCRYPTION_KEY", NEW),
        ("SECURITY__PREVIOUS_ENCRYPTION_KEYS", OLD),
    ];
    let (bytes, extracted) = read_with(&url, &storage, &rotating, &key, &id).await;
    assert_eq!(
        bytes.unwrap(),
        JPEG,
        "the retired key still opens during the rotation"
    );
    assert_eq!(extracted.unwrap()["document_number"], "L898902C3");
    let settings = Settings::for_tests(&url, &rotating).unwrap();
    verifa_server::commands::keys::rotate_master(&settings, 1)
        .await
        .unwrap();
    // Resumable: a second run has nothing left to do, and succeeds.
    verifa_server::commands::keys::rotate_master(&settings, 500)
        .await
        .unwrap();

    let (bytes, extracted) = read_with(&url, &storage, &only_new, &key, &id).await;
    assert_eq!(bytes.unwrap(), JPEG, "readable with the new key alone");
    assert_eq!(extracted.unwrap()["document_number"], "L898902C3");
    let after: Vec<Vec<u8>> = files_under(store.path())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(after, before, "the blobs were not rewritten");
    let s = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&key)
        .send()
        .await);
    assert_eq!(s["retention_status"], "active");
}
both_backends!(master_key_rotation_rewraps_without_touching_data, rotation);
