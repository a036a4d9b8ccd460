//! The retention sweeper (CONTRACT §11.3) under a manual clock, on both databases: the
//! sensitive-data window hides a session's data, the end of its retention period redacts it
//! (with `auto_redact_on_retention_expiry`) or announces it once (without), and after the
//! redaction the raw database and the document store hold none of the person's values.

use crate::harness::TestApp;
use crate::redaction::{SECRETS, contains, files_under, hashes_of, ok, verified_session};
use crate::sessions::{JPEG, upload};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use verifa_app::sessions::RetentionSweep;
use verifa_testkit::{TestDatabase, both_backends};

fn events_of_type<'a>(events: &'a Value, event_type: &str) -> Vec<&'a Value> {
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == event_type)
        .collect()
}

async fn retention_hides_then_redacts(db: TestDatabase) {
    let store = tempfile::tempdir().unwrap();
    let storage_url = format!("file://{}", store.path().display());
    let app = TestApp::with_settings(db, &[("STORAGE__URL", &storage_url)]).await;
    let key = app.live_key.clone();
    let id = verified_session(&app, &key).await;
    ok(&app
        .patch("/api/v1/settings")
        .key(&key)
        .json(
            json!({"data_retention_days": 30, "sensitive_data_retention_days": 7,
                     "auto_redact_on_retention_expiry": true}),
        )
        .send()
        .await);
    let hashes = hashes_of(&app, &id).await;
    assert!(!hashes.is_empty());
    let now = Utc::now();
    let sweep = |days: i64| {
        app.services
            .sessions
            .sweep_retention(now + Duration::days(days))
    };

    assert_eq!(
        sweep(6).await.unwrap(),
        RetentionSweep::default(),
        "too early"
    );

    // Day 8: the sensitive-data window closed. The API hides the data; the store keeps it.
    let s = sweep(8).await.unwrap();
    assert_eq!(s.sensitive_expired, 1, "{s:?}");
    assert_eq!((s.redacted, s.retention_expired), (0, 0));
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&key)
        .send()
        .await);
    assert_eq!(session["retention_status"], "sensitive_redacted");
    let result = ok(&app
        .get(&format!("/api/v1/sessions/{id}/result"))
        .key(&key)
        .send()
        .await);
    assert_eq!(result["extracted_data"], json!({}));
    assert_eq!(result["sensitive_data_expired"], true);
    assert_eq!(result["status"], "approved");
    let docs = ok(&app
        .get(&format!("/api/v1/sessions/{id}/documents"))
        .key(&key)
        .send()
        .await);
    assert_eq!(docs["data"], json!([]));
    let e = app
        .post(&format!("/api/v1/sessions/{id}/reprocess"))
        .key(&key)
        .send()
        .await
        .assert_error(409, "invalid_state");
    assert!(e["detail"].as_str().unwrap().contains("retention"), "{e}");
    assert_eq!(
        files_under(store.path()).len(),
        2,
        "the documents stay stored"
    );
    let raw = app.raw_contents().await;
    assert!(
        hashes.iter().all(|h| contains(&raw, h.as_bytes())),
        "data kept"
    );
    assert_eq!(
        sweep(8).await.unwrap(),
        RetentionSweep::default(),
        "idempotent"
    );

    // Day 31: the retention period ended; two sweepers at once redact it once.
    let (a, b) = tokio::join!(sweep(31), sweep(31));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.redacted + b.redacted, 1, "{a:?} {b:?}");
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{id}"))
        .key(&key)
        .send()
        .await);
    assert_eq!(session["retention_status"], "redacted");
    let events = ok(&app
        .get(&format!("/api/v1/sessions/{id}/events"))
        .key(&key)
        .send()
        .await);
    let expired = events_of_type(&events, "session.retention-expired");
    assert_eq!(expired.len(), 1, "{events}");
    assert_eq!(expired[0]["data"]["data_redacted"], true);
    assert_eq!(expired[0]["data"]["documents_removed"], 2);
    assert!(events_of_type(&events, "session.redacted").is_empty());
    assert_eq!(files_under(store.path()).len(), 0, "blobs deleted");
    let raw = app.raw_contents().await;
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
    assert_eq!(sweep(400).await.unwrap(), RetentionSweep::default());
    let audit = ok(&app
        .get(&format!(
            "/api/v1/events?resource_id={id}&action=session.redacted"
        ))
        .key(&key)
        .send()
        .await);
    assert_eq!(audit["data"][0]["actor"], "system", "{audit}");
}
both_backends!(
    retention_hides_then_redacts_the_data,
    retention_hides_then_redacts
);

async fn retention_without_auto_redaction(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let sandbox = app.sandbox_key.clone();
    let created = |body: Value| {
        let app = &app;
        async move {
            ok(&app.post("/api/v1/sessions").json(body).send().await)["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let done = created(json!({})).await;
    ok(&upload(&app, &sandbox, &done, "id_front", JPEG, None).await);
    ok(&app
        .post(&format!("/api/v1/sessions/{done}/simulate"))
        .json(json!({"action": "approve"}))
        .send()
        .await);
    let in_review = created(json!({})).await;
    ok(&app
        .post(&format!("/api/v1/sessions/{in_review}/simulate"))
        .json(json!({"action": "require-review"}))
        .send()
        .await);
    let pending = created(json!({})).await;
    ok(&app
        .patch("/api/v1/settings")
        .json(json!({"data_retention_days": 1}))
        .send()
        .await);
    let now = Utc::now();
    let s = app
        .services
        .sessions
        .sweep_retention(now + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(
        s,
        RetentionSweep {
            retention_expired: 1,
            ..RetentionSweep::default()
        }
    );
    let events = ok(&app
        .get(&format!("/api/v1/sessions/{done}/events"))
        .send()
        .await);
    let expired = events_of_type(&events, "session.retention-expired");
    assert_eq!(expired.len(), 1, "{events}");
    assert_eq!(expired[0]["data"]["data_redacted"], false);
    assert_eq!(expired[0]["data"]["retention_status"], "active");
    let docs = ok(&app
        .get(&format!("/api/v1/sessions/{done}/documents"))
        .send()
        .await);
    assert_eq!(docs["data"].as_array().unwrap().len(), 1, "the data stays");
    for later in [3, 400] {
        let again = app
            .services
            .sessions
            .sweep_retention(now + Duration::days(later))
            .await
            .unwrap();
        assert_eq!(again, RetentionSweep::default(), "announced once");
    }
    for untouched in [&in_review, &pending] {
        let s = ok(&app
            .get(&format!("/api/v1/sessions/{untouched}"))
            .send()
            .await);
        assert_eq!(s["retention_status"], "active", "{s}");
        let events = ok(&app
            .get(&format!("/api/v1/sessions/{untouched}/events"))
            .send()
            .await);
        assert!(events_of_type(&events, "session.retention-expired").is_empty());
    }
    // The data stays until redacted by hand.
    let r = ok(&app
        .delete(&format!("/api/v1/sessions/{done}/data"))
        .send()
        .await);
    assert_eq!(
        (r["status"].as_str(), r["documents_removed"].as_u64()),
        (Some("deleted"), Some(1))
    );
    // Another environment's settings do not apply: the live tenant kept no retention.
    let live = verified_session_less(&app).await;
    let s = app
        .services
        .sessions
        .sweep_retention(now + Duration::days(400))
        .await
        .unwrap();
    assert_eq!(s, RetentionSweep::default());
    let session = ok(&app
        .get(&format!("/api/v1/sessions/{live}"))
        .key(&app.live_key)
        .send()
        .await);
    assert_eq!(session["retention_status"], "active");
}
both_backends!(
    retention_without_auto_redaction_announces_once,
    retention_without_auto_redaction
);

/// A live session, expired at once (finished, so retention would apply to it).
async fn verified_session_less(app: &TestApp) -> String {
    let s = ok(&app
        .post("/api/v1/sessions")
        .key(&app.live_key)
        .json(json!({}))
        .send()
        .await);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/expire"))
        .key(&app.live_key)
        .send()
        .await);
    id
}
