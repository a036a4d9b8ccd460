//! The audit trail on the fakes: each use case records what it changed (names, not values), by
//! whom and in which chain; refused changes record nothing; jobs and operator commands are
//! `system`; listing filters and verification see tampering.

mod support;

use chrono::Duration;
use support::*;
use verifa_app::AppError;
use verifa_app::audit::EventQuery;
use verifa_app::org_users::{NewOrgUser, OrgUserChanges};
use verifa_domain::audit::{AuditEvent, RequestMeta};
use verifa_domain::tenancy::{Environment, Tenant};

async fn trail(w: &World, caller: &verifa_app::api_keys::Caller) -> Vec<AuditEvent> {
    w.services
        .audit
        .list(caller, EventQuery::default(), all())
        .await
        .unwrap()
        .items
}

fn actions(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|e| e.action.as_str()).collect()
}

#[tokio::test]
async fn a_session_lifecycle_is_recorded_by_its_caller() {
    let mut w = World::new().await;
    w.live.request = RequestMeta {
        ip_address: Some("198.51.100.4".into()),
        method: Some("POST".into()),
        path: Some("/api/v1/sessions".into()),
        request_id: Some("req_test".into()),
    };
    w.workflow(&w.live, two_checks()).await;
    let session = w.submitted_session(&w.live).await;

    let events = trail(&w, &w.live).await;
    assert_eq!(
        actions(&events)[..3],
        [
            "session.submitted",
            "session.document_uploaded",
            "session.created"
        ]
    );
    let submitted = &events[0];
    assert_eq!(submitted.resource_id, session.id);
    assert_eq!(
        submitted.actor,
        format!("api_key:{}", w.live.key.key_prefix)
    );
    assert_eq!(submitted.changes, ["status"]);
    assert_eq!(submitted.ip_address.as_deref(), Some("198.51.100.4"));
    assert_eq!(submitted.request_id.as_deref(), Some("req_test"));
    assert_eq!(events[1].metadata["document_type"], "id_front");
    assert_eq!(actions(&events)[3], "workflow.created");
    assert!(
        trail(&w, &w.sandbox).await.len() < events.len(),
        "the sandbox chain does not see live events"
    );
}

#[tokio::test]
async fn refused_changes_record_nothing_and_jobs_are_system() {
    let w = World::new().await;
    let session = w.capturing_session(&w.live).await;
    let before = trail(&w, &w.live).await.len();

    // An illegal transition (submitting twice is fine; expiring an expired session is not).
    w.services
        .sessions
        .expire(&w.live, &session.id)
        .await
        .unwrap();
    let err = w.services.sessions.expire(&w.live, &session.id).await;
    assert!(matches!(err, Err(AppError::InvalidState(_))), "{err:?}");
    let events = trail(&w, &w.live).await;
    assert_eq!(events.len(), before + 1, "one expiry, one event");
    assert_eq!(events[0].action, "session.expired");

    // The stale-capture job expires as `system`.
    let stale = w.capturing_session(&w.live).await;
    w.clock.advance(Duration::minutes(21));
    assert_eq!(w.services.sessions.expire_stale(w.now()).await.unwrap(), 1);
    let events = trail(&w, &w.live).await;
    assert_eq!(
        (
            events[0].action.as_str(),
            events[0].actor.as_str(),
            events[0].resource_id.as_str()
        ),
        ("session.expired", "system", stale.id.as_str())
    );
    assert!(events[0].request_path.is_none());
}

#[tokio::test]
async fn org_user_changes_join_the_live_chain_by_name_only() {
    let w = World::new().await;
    let users = &w.services.org_users;
    let ana = users
        .create(
            &w.live,
            NewOrgUser {
                email: Some("ana@example.com".into()),
                name: Some("Ana Admin".into()),
                role: Some("admin".into()),
            },
        )
        .await
        .unwrap()
        .user;
    let rita = users
        .create(
            &w.live,
            NewOrgUser {
                email: Some("rita@example.com".into()),
                name: Some("Rita".into()),
                role: Some("reviewer".into()),
            },
        )
        .await
        .unwrap()
        .user;
    users
        .update(
            &w.live,
            &rita.id,
            OrgUserChanges {
                name: Some("Rita Reviewer".into()),
                ..OrgUserChanges::default()
            },
        )
        .await
        .unwrap();
    users.reset_password(&w.live, &rita.id).await.unwrap();
    // The last admin stays: refused, and not recorded.
    let refused = users.deactivate(&w.live, &ana.id).await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    users
        .reset_password_by_email("rita@example.com", None)
        .await
        .unwrap();

    let events = trail(&w, &w.live).await;
    let user_events: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.resource_type == "org_user")
        .collect();
    let got: Vec<(&str, &[String])> = user_events
        .iter()
        .map(|e| (e.action.as_str(), e.changes.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            ("org_user.password_reset", &["password".to_owned()][..]),
            ("org_user.password_reset", &["password".to_owned()][..]),
            ("org_user.updated", &["name".to_owned()][..]),
            (
                "org_user.created",
                &["email".to_owned(), "name".to_owned(), "role".to_owned()][..]
            ),
            (
                "org_user.created",
                &["email".to_owned(), "name".to_owned(), "role".to_owned()][..]
            ),
        ]
    );
    assert_eq!(user_events[0].actor, "system", "the operator command");
    assert!(
        user_events
            .iter()
            .all(|e| e.environment == Environment::Live)
    );
    let text = format!("{user_events:?}");
    assert!(
        !text.contains("Rita Reviewer") && !text.contains("rita@"),
        "{text}"
    );
}

#[tokio::test]
async fn verification_finds_a_rewritten_or_deleted_event() {
    let w = World::new().await;
    for _ in 0..4 {
        w.capturing_session(&w.sandbox).await;
    }
    let report = w
        .services
        .audit
        .verify(&w.sandbox, None, None)
        .await
        .unwrap();
    assert!(report.valid, "{report:?}");
    let head = report.head_sequence;
    assert!(head >= 9, "bootstrap key + 4 × (created, uploaded): {head}");

    let t: Tenant = tenant(&w.sandbox);
    assert!(
        w.store
            .tamper_audit_event(&t, 5, |e| e.actor = "system".into())
    );
    let report = w
        .services
        .audit
        .verify(&w.sandbox, None, None)
        .await
        .unwrap();
    assert_eq!(
        (report.valid, report.first_invalid_sequence),
        (false, Some(5))
    );
    // A range after the change still verifies; one across it does not.
    let later = w
        .services
        .audit
        .verify(&w.sandbox, Some(6), None)
        .await
        .unwrap();
    assert!(later.valid, "{later:?}");
    let across = w
        .services
        .audit
        .verify(&w.sandbox, Some(3), Some(6))
        .await
        .unwrap();
    assert_eq!(across.first_invalid_sequence, Some(5));

    assert!(w.store.delete_audit_event(&t, 7));
    let report = w
        .services
        .audit
        .verify(&w.sandbox, Some(6), None)
        .await
        .unwrap();
    assert_eq!(
        (report.valid, report.first_invalid_sequence),
        (false, Some(7))
    );
    let verdicts = w.services.audit.verify_all(None, None).await.unwrap();
    let broken: Vec<_> = verdicts.iter().filter(|v| !v.report.valid).collect();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].tenant, t);

    let bad = w.services.audit.verify(&w.sandbox, Some(0), None).await;
    assert!(matches!(bad, Err(AppError::Validation(_))), "{bad:?}");
}
