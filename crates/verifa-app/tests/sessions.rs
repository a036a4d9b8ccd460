//! Session use cases on fakes: validation listing every field, metadata merges, uploads
//! (sniffed, encrypted, replacing and deleting the old blob), submission (missing documents,
//! sandbox), simulations, expiry of stale capture sessions under the manual clock, illegal
//! transitions and tenant isolation.

mod support;

use chrono::Duration;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use support::*;
use verifa_app::AppError;
use verifa_app::sessions::NewSession;
use verifa_domain::session::SessionStatus;
use verifa_domain::workflow::{CheckStatus, Outcome};
use verifa_ports::runs::RunStore;
use verifa_ports::sessions::{SessionFilter, SessionStore};
use verifa_ports::storage::DocumentStorage;

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn fields(err: AppError) -> BTreeSet<String> {
    match err {
        AppError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn invalid_state(err: AppError) -> String {
    match err {
        AppError::InvalidState(message) => message,
        other => panic!("expected an invalid state, got {other:?}"),
    }
}

#[tokio::test]
async fn create_reports_every_invalid_field_and_stores_nothing() {
    let w = World::new().await;
    let input = NewSession {
        external_ref: Some("   ".into()),
        metadata: Some(object(json!({"big": "x".repeat(17 * 1024), "ok": 1}))),
        country: Some("FRA".into()),
        checks: Some(vec![String::new()]),
        workflow_id: Some("wfl_missing".into()),
        redirect_url: Some("ftp://example.com".into()),
        fields: None,
    };

    let err = w
        .services
        .sessions
        .create(&w.live, input)
        .await
        .unwrap_err();

    let expected = [
        "external_ref",
        "metadata.big",
        "country",
        "checks",
        "workflow_id",
        "redirect_url",
    ];
    assert_eq!(fields(err), expected.map(String::from).into());
    let listed = w
        .store
        .list(&tenant(&w.live), &SessionFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
}

#[tokio::test]
async fn metadata_updates_merge_and_null_deletes() {
    let w = World::new().await;
    let created = w
        .services
        .sessions
        .create(
            &w.live,
            NewSession {
                metadata: Some(object(json!({"a": 1, "b": 2}))),
                ..NewSession::default()
            },
        )
        .await
        .unwrap()
        .session;

    let patch = object(json!({"b": null, "c": {"nested": true}}));
    let updated = w
        .services
        .sessions
        .update(
            &w.live,
            &created.id,
            Some(Some("user-7".into())),
            Some(patch),
        )
        .await
        .unwrap();

    let expected = object(json!({"a": 1, "c": {"nested": true}}));
    assert_eq!(updated.metadata, expected);
    let stored = w.store.get(&tenant(&w.live), &created.id).await.unwrap();
    assert_eq!(stored.metadata, expected);
    assert_eq!(stored.external_ref.as_deref(), Some("user-7"));
}

#[tokio::test]
async fn uploads_are_sniffed_and_a_replacement_deletes_the_old_blob() {
    let w = World::new().await;
    let id = w
        .services
        .sessions
        .create(&w.live, NewSession::default())
        .await
        .unwrap()
        .session
        .id;
    let sessions = &w.services.sessions;

    let err = sessions
        .upload_document(
            &w.live,
            &id,
            "id_front",
            b"GIF89a not allowed".to_vec(),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["file".to_owned()].into());
    let err = sessions
        .upload_document(&w.live, &id, "passport_scan", png(b"x"), None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["document_type".to_owned()].into());
    assert!(w.blobs.keys().is_empty(), "refused uploads store no bytes");

    let first = sessions
        .upload_document(&w.live, &id, "id_front", png(b"first"), None)
        .await
        .unwrap();
    assert_eq!(first.mime_type, "image/png");
    assert_eq!(w.blobs.keys(), std::slice::from_ref(&first.storage_key));
    let sealed = w.blobs.get(&first.storage_key).await.unwrap();
    assert_ne!(sealed, png(b"first"), "bytes are encrypted at rest");
    let stored = w.store.get(&tenant(&w.live), &id).await.unwrap();
    assert_eq!(stored.status, SessionStatus::Capturing);

    let second = sessions
        .upload_document(&w.live, &id, "id_front", jpeg(b"second"), None)
        .await
        .unwrap();
    assert_eq!(second.mime_type, "image/jpeg");
    assert_eq!(
        w.blobs.keys(),
        std::slice::from_ref(&second.storage_key),
        "the old blob is gone"
    );
    let docs = sessions.documents(&w.live, &id).await.unwrap();
    assert_eq!(docs, [second]);
}

#[tokio::test]
async fn submit_lists_every_missing_document() {
    let w = World::new().await;
    let id = w
        .services
        .sessions
        .create(
            &w.live,
            NewSession {
                metadata: Some(object(json!({"document_type": "drivers_license"}))),
                ..NewSession::default()
            },
        )
        .await
        .unwrap()
        .session
        .id;

    let err = w.services.sessions.submit(&w.live, &id).await.unwrap_err();
    assert_eq!(
        fields(err),
        [
            "documents.id_front".to_owned(),
            "documents.id_back".to_owned()
        ]
        .into()
    );
    w.services
        .sessions
        .upload_document(&w.live, &id, "id_back", jpeg(b"back"), None)
        .await
        .unwrap();
    let err = w.services.sessions.submit(&w.live, &id).await.unwrap_err();
    assert_eq!(fields(err), ["documents.id_front".to_owned()].into());
    let stored = w.store.get(&tenant(&w.live), &id).await.unwrap();
    assert_eq!(stored.status, SessionStatus::Capturing);
    assert_eq!(
        w.store
            .run_for_session(&tenant(&w.live), &id)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_sandbox_submission_waits_for_a_simulation() {
    let w = World::new().await;
    w.workflow(&w.sandbox, two_checks()).await;
    let id = w.capturing_session(&w.sandbox).await.id;

    let submitted = w.services.sessions.submit(&w.sandbox, &id).await.unwrap();

    assert_eq!(submitted.status, SessionStatus::SandboxPending);
    let t = tenant(&w.sandbox);
    assert_eq!(
        w.store.get(&t, &id).await.unwrap().status,
        SessionStatus::SandboxPending
    );
    assert_eq!(
        w.store.run_for_session(&t, &id).await.unwrap(),
        None,
        "no run starts"
    );
}

#[tokio::test]
async fn simulations_reach_each_outcome_in_the_sandbox_only() {
    let w = World::new().await;
    // Without a workflow the standard checks are simulated and no run is recorded.
    let t = tenant(&w.sandbox);
    let id = w.capturing_session(&w.sandbox).await.id;
    w.services.sessions.submit(&w.sandbox, &id).await.unwrap();
    w.services
        .sessions
        .simulate(&w.sandbox, &id, "approve")
        .await
        .unwrap();
    let result = w.store.result(&t, &id).await.unwrap().unwrap();
    assert_eq!(result.workflow_run_id, None);
    assert_eq!(w.store.run_for_session(&t, &id).await.unwrap(), None);
    assert_eq!(
        result
            .verdict
            .summary
            .check_results
            .keys()
            .collect::<Vec<_>>(),
        ["age_verification", "document_ocr", "face_match"]
    );
    // doc_check rejects, risk_check sends to review.
    let workflow = w
        .workflow(
            &w.sandbox,
            json!({"entry": "start", "nodes": {
                "start": {"type": "start", "next": "doc"},
                "doc": {"type": "policy", "policy": "doc_check", "on_pass": "risk", "on_fail": "rejected"},
                "risk": {"type": "policy", "policy": "risk_check", "on_pass": "approved", "on_fail": "review"},
                "approved": {"type": "terminal", "outcome": "approved"},
                "rejected": {"type": "terminal", "outcome": "rejected"},
                "review": {"type": "terminal", "outcome": "needs_review"}}}),
        )
        .await;
    let cases = [
        ("approve", SessionStatus::Completed, Some(Outcome::Approved)),
        ("decline", SessionStatus::Completed, Some(Outcome::Rejected)),
        (
            "require-review",
            SessionStatus::UnderReview,
            Some(Outcome::NeedsReview),
        ),
        ("expire", SessionStatus::Expired, None),
    ];
    for (action, status, outcome) in cases {
        let id = w.capturing_session(&w.sandbox).await.id;
        w.services.sessions.submit(&w.sandbox, &id).await.unwrap();

        let (session, _) = w
            .services
            .sessions
            .simulate(&w.sandbox, &id, action)
            .await
            .unwrap();

        assert_eq!(session.status, status, "{action}");
        assert_eq!(
            w.store.get(&t, &id).await.unwrap().status,
            status,
            "{action}"
        );
        let result = w.store.result(&t, &id).await.unwrap();
        assert_eq!(
            result.as_ref().map(|r| r.verdict.outcome),
            outcome,
            "{action}"
        );
        if let Some(r) = result {
            assert!(r.simulated, "{action}");
            let run = w.store.run_for_session(&t, &id).await.unwrap().unwrap();
            assert!(
                run.simulated && r.workflow_run_id == Some(run.id.clone()),
                "{action}"
            );
            assert_eq!(
                (run.workflow_id.as_str(), run.workflow_version),
                (workflow.as_str(), 1)
            );
            assert_eq!(run.state.final_status, outcome, "{action}");
            // The checks that ran, in order, and how each ended: consistent with the outcome.
            let checks: Vec<(String, bool)> = run
                .state
                .attempts
                .iter()
                .map(|a| (a.policy.clone(), a.status == CheckStatus::Passed))
                .collect();
            let expected: &[(&str, bool)] = match action {
                "approve" => &[("doc_check", true), ("risk_check", true)],
                "decline" => &[("doc_check", false)],
                _ => &[("doc_check", true), ("risk_check", false)],
            };
            let expected: Vec<(String, bool)> = expected
                .iter()
                .map(|(p, ok)| ((*p).to_owned(), *ok))
                .collect();
            assert_eq!(checks, expected, "{action}");
            assert_eq!(r.verdict.summary.check_results.len(), expected.len());
        }
    }

    let id = w.capturing_session(&w.sandbox).await.id;
    let err = w
        .services
        .sessions
        .simulate(&w.sandbox, &id, "approved")
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["action".to_owned()].into());
    let live = w.capturing_session(&w.live).await.id;
    let err = w
        .services
        .sessions
        .simulate(&w.live, &live, "approve")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Forbidden {
                code: "sandbox_only",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(w.store.result(&tenant(&w.live), &live).await.unwrap(), None);
}

#[tokio::test]
async fn stale_capture_sessions_expire_once_their_token_lapsed() {
    let w = World::new().await;
    let stale = w
        .services
        .sessions
        .create(&w.live, NewSession::default())
        .await
        .unwrap()
        .session;
    w.workflow(&w.live, two_checks()).await;
    let submitted = w.submitted_session(&w.live).await;

    assert_eq!(
        w.services
            .sessions
            .expire_stale(w.now() + Duration::minutes(19))
            .await
            .unwrap(),
        0
    );
    w.clock.advance(Duration::minutes(21));
    assert_eq!(w.services.sessions.expire_stale(w.now()).await.unwrap(), 1);
    assert_eq!(
        w.services.sessions.expire_stale(w.now()).await.unwrap(),
        0,
        "once"
    );

    let t = tenant(&w.live);
    let expired = w.store.get(&t, &stale.id).await.unwrap();
    assert_eq!(expired.status, SessionStatus::Expired);
    assert_eq!(expired.expired_at, Some(w.now()));
    let events = w
        .services
        .sessions
        .events(&w.live, &stale.id, all())
        .await
        .unwrap();
    let last = events.items.last().unwrap();
    assert_eq!(last.event_type, "session.expired");
    assert_eq!(last.data["reason"], json!("capture_token_expired"));
    let processing = w.store.get(&t, &submitted.id).await.unwrap();
    assert_eq!(
        processing.status,
        SessionStatus::Processing,
        "only capture sessions expire"
    );
}

#[tokio::test]
async fn illegal_transitions_name_the_status() {
    let w = World::new().await;
    let id = w.capturing_session(&w.sandbox).await.id;
    w.services.sessions.submit(&w.sandbox, &id).await.unwrap();
    w.services
        .sessions
        .simulate(&w.sandbox, &id, "approve")
        .await
        .unwrap();
    let sessions = &w.services.sessions;

    let submit = invalid_state(sessions.submit(&w.sandbox, &id).await.unwrap_err());
    assert!(submit.contains("completed"), "{submit}");
    let upload = sessions
        .upload_document(&w.sandbox, &id, "selfie", jpeg(b"late"), None)
        .await
        .unwrap_err();
    let upload = invalid_state(upload);
    assert!(upload.contains("completed"), "{upload}");
    let expire = invalid_state(sessions.expire(&w.sandbox, &id).await.unwrap_err());
    assert!(expire.contains("completed"), "{expire}");

    let pending = sessions
        .create(&w.sandbox, NewSession::default())
        .await
        .unwrap()
        .session;
    let decide = sessions
        .external_decision(&w.sandbox, &pending.id, "continue", None)
        .await
        .unwrap_err();
    let decide = invalid_state(decide);
    assert!(decide.contains("pending"), "{decide}");
    let stored = w.store.get(&tenant(&w.sandbox), &id).await.unwrap();
    assert_eq!(stored.status, SessionStatus::Completed);
}

#[tokio::test]
async fn another_tenant_sees_no_session() {
    let w = World::new().await;
    let session = w.capturing_session(&w.live).await;
    let sessions = &w.services.sessions;

    for stranger in [&w.stranger, &w.sandbox] {
        let not_found = |r: Result<_, AppError>| matches!(r, Err(AppError::NotFound(_)));
        assert!(not_found(
            sessions.get(stranger, &session.id).await.map(drop)
        ));
        assert!(not_found(
            sessions.submit(stranger, &session.id).await.map(drop)
        ));
        assert!(not_found(
            sessions.expire(stranger, &session.id).await.map(drop)
        ));
        assert!(not_found(
            sessions
                .update(stranger, &session.id, None, Some(object(json!({"x": 1}))))
                .await
                .map(drop)
        ));
        assert!(not_found(
            sessions
                .upload_document(stranger, &session.id, "selfie", jpeg(b"s"), None)
                .await
                .map(drop)
        ));
        assert!(not_found(
            sessions.documents(stranger, &session.id).await.map(drop)
        ));
        assert!(not_found(
            sessions
                .events(stranger, &session.id, all())
                .await
                .map(drop)
        ));
        let listed = sessions
            .list(stranger, SessionFilter::default(), all())
            .await
            .unwrap();
        assert_eq!(listed.total, 0);
    }
    let stored = w.store.get(&tenant(&w.live), &session.id).await.unwrap();
    assert_eq!(stored, session, "nothing a stranger did changed it");
    assert_eq!(w.blobs.keys().len(), 1);
}
