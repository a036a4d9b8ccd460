//! Redaction by crypto-shredding through the real router (CONTRACT §11.2, §11.4), on both
//! databases: a session whose name, document number, date of birth, e-mail and image bytes are
//! known is redacted, then the raw database (the SQLite file and its WAL, or a `pg_dump`) and
//! the document store are scanned byte by byte for those values and their lookup hashes.

use crate::harness::TestApp;
use crate::sessions::{JPEG, MRZ, upload};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use verifa_testkit::{TestDatabase, both_backends};

pub(crate) const EMAIL: &str = "anna.maria.eriksson@example.se";

/// What the walkthrough's passport and the pre-fill fields say about the person.
pub(crate) const SECRETS: [&str; 8] = [
    "ERIKSSON",
    "Eriksson",
    "ANNA",
    "L898902C3",
    "1974-08-12",
    "740812",
    EMAIL,
    "fake-jpeg-body",
];

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

pub(crate) fn ok(r: &crate::harness::TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "{}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

/// The session's lookup hashes and duplicate fingerprints, read straight from the database.
pub(crate) async fn hashes_of(app: &TestApp, session_id: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let conn = app.db.connection();
    let backend = conn.get_database_backend();
    let mut hashes = Vec::new();
    for (sql, column) in [
        (
            "SELECT hash AS h FROM result_lookups WHERE session_id = $1",
            "h",
        ),
        (
            "SELECT fingerprint AS h FROM duplicate_fingerprints WHERE session_id = $1",
            "h",
        ),
    ] {
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [session_id.into()],
            ))
            .await
            .unwrap();
        for row in rows {
            hashes.push(row.try_get::<String>("", column).unwrap());
        }
    }
    hashes
}

/// A live session with pre-filled e-mail, a passport front (with its MRZ) and a selfie, run
/// through OCR, duplicate detection and the age check to approval.
pub(crate) async fn verified_session(app: &TestApp, key: &str) -> String {
    ok(&app
        .post("/api/v1/workflows")
        .key(key)
        .json(json!({"name": "KYC", "is_default": true, "graph": {"entry": "start", "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "dup", "on_fail": "reject"},
            "dup": {"type": "policy", "policy": "duplicate_detection", "config": {}, "on_pass": "age", "on_fail": "age"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"}}}}))
        .send()
        .await);
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(key)
        .json(json!({"fields": {"email": EMAIL}}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&upload(app, key, &id, "id_front", JPEG, Some(MRZ)).await);
    ok(&upload(app, key, &id, "selfie", JPEG, None).await);
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .key(key)
        .send()
        .await);
    app.worker().run_until_idle().await.unwrap();
    id
}

async fn redaction_leaves_nothing_readable(db: TestDatabase) {
    let store = tempfile::tempdir().unwrap();
    let storage_url = format!("file://{}", store.path().display());
    let app = TestApp::with_settings(db, &[("STORAGE__URL", &storage_url)]).await;
    let key = app.live_key.clone();
    let id = verified_session(&app, &key).await;

    // The run really read the person: the API shows what must be destroyed.
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await);
    assert_eq!(result["status"], "approved", "{result}");
    assert_eq!(result["extracted_data"]["document_number"], "L898902C3");
    let hashes = hashes_of(&app, &id).await;
    assert!(
        hashes.len() >= 3,
        "lookup hashes and fingerprints: {hashes:?}"
    );
    let before = app.raw_contents().await;
    for h in &hashes {
        assert!(contains(&before, h.as_bytes()), "the scan sees hash {h}");
    }
    // Blobs copied out of the store now, as a backup or a thief would.
    let copies: Vec<(String, Vec<u8>)> = files_under(store.path())
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    assert_eq!(copies.len(), 2, "front and selfie");
    let master = verifa_server::compose::cipher(&app.settings).unwrap();
    let tenant = verifa_domain::tenancy::Tenant::new(
        app.org_id.clone(),
        verifa_domain::tenancy::Environment::Live,
    );
    let stored = app.services.sessions.session(&tenant, &id).await.unwrap();
    let wrapped = stored.data_key.clone().expect("a data key of its own");
    let data_key = master.open_data_key(&wrapped, &id).unwrap();
    for (doc_id, sealed) in &copies {
        assert!(!contains(sealed, b"fake-jpeg-body"), "stored encrypted");
        assert!(
            master.open(sealed, doc_id.as_bytes()).is_err(),
            "not under the master key"
        );
        assert_eq!(
            data_key.open(sealed, doc_id.as_bytes()).unwrap(),
            JPEG,
            "under the session's key"
        );
    }

    let r = ok(&app
        .delete(&format!("/api/v1/sessions/{id}/data"))
        .key(&key)
        .send()
        .await);
    assert_eq!(
        r,
        json!({"status": "deleted", "session_id": id, "documents_removed": 2,
               "message": "Session data permanently redacted."})
    );
    assert_eq!(
        files_under(store.path()),
        Vec::<PathBuf>::new(),
        "blobs deleted"
    );

    // The wrapped key is gone, and with it every way to read the copies.
    let after = app.services.sessions.session(&tenant, &id).await.unwrap();
    assert_eq!(after.data_key, None);
    let raw = app.raw_contents().await;
    assert!(raw.len() > 1000, "the scan read the database");
    let wrapped_sealed = wrapped.split_once(':').unwrap().1;
    assert!(
        !contains(&raw, wrapped_sealed.as_bytes()),
        "the wrapped key is destroyed"
    );
    for (doc_id, sealed) in &copies {
        assert!(master.open(sealed, doc_id.as_bytes()).is_err());
    }
    let mut leaked: Vec<String> = SECRETS
        .iter()
        .filter(|s| contains(&raw, s.as_bytes()))
        .map(|s| (*s).to_owned())
        .collect();
    leaked.extend(
        hashes
            .iter()
            .filter(|h| contains(&raw, h.as_bytes()))
            .cloned(),
    );
    assert!(leaked.is_empty(), "left in the database: {leaked:?}");

    // The API: the session answers, with nothing personal left.
    let s = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&key)
        .send()
        .await);
    assert_eq!(s["retention_status"], "redacted", "{s}");
    assert_eq!(s["status"], "completed");
    assert!(s["redacted_at"].is_string(), "{s}");
    assert_eq!(s["consent_ip"], Value::Null);
    let docs = ok(&app
        .get(&format!("/api/v1/sessions/{id}/documents"))
        .key(&key)
        .send()
        .await);
    assert_eq!(docs["data"], json!([]));
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await);
    assert_eq!(result["status"], "approved", "the decision stays");
    assert_eq!(result["extracted_data"], json!({}));
    let attempts = ok(&app
        .get(&format!(
            "/api/v1/sessions/{id}/verifications/document_ocr/attempts"
        ))
        .key(&key)
        .send()
        .await);
    assert!(
        !attempts.to_string().contains("ERIKSSON"),
        "check outputs are gone: {attempts}"
    );
    let events = ok(&app
        .get(&format!("/api/v1/sessions/{id}/events"))
        .key(&key)
        .send()
        .await);
    let redacted: Vec<&Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "session.redacted")
        .collect();
    assert_eq!(redacted.len(), 1, "{events}");
    assert_eq!(redacted[0]["data"]["documents_removed"], 2);
    let audit = ok(&app
        .get(&format!(
            "/api/v1/events?action=session.redacted&resource_id={id}"
        ))
        .key(&key)
        .send()
        .await);
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    // Idempotent, and irreversible.
    let again = ok(&app
        .delete(&format!("/api/v1/sessions/{id}/data"))
        .key(&key)
        .send()
        .await);
    assert_eq!(again["status"], "already_redacted");
    assert_eq!(again["documents_removed"], 0);
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v1/sessions/{id}"),
            json!({"metadata": {"a": "b"}}),
        ),
        ("POST", format!("/api/v1/sessions/{id}/resume"), json!({})),
        ("POST", format!("/api/v1/sessions/{id}/expire"), json!({})),
        (
            "POST",
            format!("/api/v1/sessions/{id}/reprocess"),
            json!({}),
        ),
        (
            "POST",
            format!("/api/v1/sessions/{id}/generate-one-time-link"),
            json!({}),
        ),
    ] {
        let r = app
            .req(method.parse().unwrap(), &path)
            .key(&key)
            .json(body)
            .send()
            .await;
        let e = r.assert_error(409, "invalid_state");
        assert!(
            e["detail"].as_str().unwrap().contains("redacted"),
            "{path}: {e}"
        );
    }
    let upload = upload(&app, &key, &id, "id_back", JPEG, None).await;
    upload.assert_error(409, "invalid_state");
    let audit_after = ok(&app
        .get(&format!(
            "/api/v1/events?resource_id={id}&action=session.updated"
        ))
        .key(&key)
        .send()
        .await);
    assert_eq!(audit_after["data"], json!([]), "refusals change nothing");
}
both_backends!(
    redaction_destroys_the_data,
    redaction_leaves_nothing_readable
);

async fn single_redaction_errors(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let key = app.live_key.clone();
    let unknown = app
        .delete("/api/v1/sessions/ses_unknown/data")
        .key(&key)
        .send()
        .await;
    unknown.assert_error(404, "not_found");

    // A live session is invisible to the sandbox key and to another organization.
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(&key)
        .json(json!({}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/api/v1/sessions/{id}/data"))
        .key(&app.sandbox_key)
        .send()
        .await
        .assert_error(404, "not_found");
    let (other_live, _) = app.other_org().await;
    app.delete(&format!("/api/v1/sessions/{id}/data"))
        .key(&other_live)
        .send()
        .await
        .assert_error(404, "not_found");

    // Either scope allows it; neither is refused, naming both.
    let (_, reader) = app.key_with_scopes(&["sessions:read"]).await;
    let refused = app
        .delete("/api/v1/sessions/ses_x/data")
        .key(&reader)
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    assert!(
        refused["detail"].as_str().unwrap().contains("redact:write"),
        "{refused}"
    );
    // A pending session is expired, then redacted (a sandbox key for the scoped key's env).
    let (_, eraser) = app.key_with_scopes(&["redact:write"]).await;
    let pending = ok(&app.post("/api/v1/sessions").json(json!({})).send().await);
    let pending_id = pending["id"].as_str().unwrap().to_owned();
    let r = ok(&app
        .delete(&format!("/api/v1/sessions/{pending_id}/data"))
        .key(&eraser)
        .send()
        .await);
    assert_eq!(r["status"], "deleted");
    assert_eq!(r["documents_removed"], 0);
    let s = ok(&app
        .get(&format!("/api/v1/sessions/{pending_id}"))
        .send()
        .await);
    assert_eq!(s["status"], "expired", "{s}");
    assert_eq!(s["retention_status"], "redacted");
    assert_eq!(s["capture_url"], Value::Null);

    // A session whose run is under way is refused, and keeps its data.
    let processing = processing_session(&app, &key).await;
    let e = app
        .delete(&format!("/api/v1/sessions/{processing}/data"))
        .key(&key)
        .send()
        .await
        .assert_error(409, "invalid_state");
    assert!(e["detail"].as_str().unwrap().contains("processing"), "{e}");
    let docs = ok(&app
        .get(&format!("/api/v1/sessions/{processing}/documents"))
        .key(&key)
        .send()
        .await);
    assert_eq!(docs["data"].as_array().unwrap().len(), 1);
}
both_backends!(redaction_refuses_what_it_must, single_redaction_errors);

/// A live session submitted to a one-check workflow whose run has not been worked yet.
async fn processing_session(app: &TestApp, key: &str) -> String {
    let workflows = ok(&app.get("/api/v1/workflows").key(key).send().await);
    if workflows["data"].as_array().is_none_or(Vec::is_empty) {
        ok(&app
            .post("/api/v1/workflows")
            .key(key)
            .json(json!({"name": "OCR", "is_default": true, "graph": {"entry": "start", "nodes": {
                "start": {"type": "start", "next": "ocr"},
                "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "approve", "on_fail": "approve"},
                "approve": {"type": "terminal", "outcome": "approved"}}}}))
            .send()
            .await);
    }
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(key)
        .json(json!({}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&upload(app, key, &id, "id_front", JPEG, Some(MRZ)).await);
    let submitted = ok(&app
        .post(&format!("/api/v1/sessions/{id}/submit"))
        .key(key)
        .send()
        .await);
    assert_eq!(submitted["status"], "processing", "{submitted}");
    id
}

async fn bulk_reports_each_session(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let key = app.live_key.clone();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let s = ok(&app
            .post("/api/v1/sessions")
            .key(&key)
            .json(json!({}))
            .send()
            .await);
        ids.push(s["id"].as_str().unwrap().to_owned());
    }
    ok(&app
        .delete(&format!("/api/v1/sessions/{}/data", ids[1]))
        .key(&key)
        .send()
        .await);
    let with_document = ok(&app
        .post("/api/v1/sessions")
        .key(&key)
        .json(json!({}))
        .send()
        .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&upload(&app, &key, &with_document, "id_front", JPEG, None).await);
    let processing = processing_session(&app, &key).await;
    let sandbox_session = ok(&app.post("/api/v1/sessions").json(json!({})).send().await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = [
        ids[0].clone(),
        ids[1].clone(),
        "ses_nobody".to_owned(),
        processing.clone(),
        with_document.clone(),
        sandbox_session.clone(),
    ];
    let r = ok(&app
        .post("/api/v1/sessions/bulk-redact")
        .key(&key)
        .json(json!({"session_ids": listed}))
        .send()
        .await);
    assert_eq!(
        r,
        json!({"total": 6, "results": [
            {"session_id": ids[0], "status": "deleted", "documents_removed": 0},
            {"session_id": ids[1], "status": "already_redacted", "documents_removed": 0},
            {"session_id": "ses_nobody", "status": "not_found", "documents_removed": 0},
            {"session_id": processing, "status": "invalid_state", "documents_removed": 0},
            {"session_id": with_document, "status": "deleted", "documents_removed": 1},
            {"session_id": sandbox_session, "status": "not_found", "documents_removed": 0},
        ]})
    );
    let s = ok(&app
        .get(&format!("/api/v1/sessions/{sandbox_session}"))
        .send()
        .await);
    assert_eq!(
        s["retention_status"], "active",
        "another environment is untouched"
    );

    for (body, why) in [
        (json!({"session_ids": []}), "empty"),
        (
            json!({"session_ids": (0..101).map(|i| format!("ses_{i}")).collect::<Vec<_>>()}),
            "101",
        ),
        (json!({"session_ids": ["ses_a", "ses_a"]}), "twice"),
    ] {
        let e = app
            .post("/api/v1/sessions/bulk-redact")
            .key(&key)
            .json(body)
            .send()
            .await
            .assert_error(422, "validation_error");
        assert!(e.to_string().contains("session_ids"), "{why}: {e}");
    }
    app.post("/api/v1/sessions/bulk-redact")
        .key(&key)
        .json(json!({"ids": ["ses_a"]}))
        .send()
        .await
        .assert_error(422, "validation_error");
}
both_backends!(
    bulk_redaction_reports_each_session,
    bulk_reports_each_session
);
