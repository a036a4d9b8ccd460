//! Cases on the fakes: a live run ending in `needs_review` opens its case in the run's commit
//! (source `workflow`, reasons from the failed checks, by `system`); the minute sweep releases
//! claims idle for 30 minutes and marks an SLA breach once, firing `case.sla_breached` once.

mod support;

use chrono::Duration;
use serde_json::json;
use support::*;
use verifa_app::org_users::NewOrgUser;
use verifa_domain::case::CaseStatus;
use verifa_domain::session::SessionStatus;
use verifa_ports::audit::{AuditFilter, AuditLog};
use verifa_ports::cases::{CaseFilter, CaseStore};
use verifa_ports::checks::CheckOutcome;
use verifa_ports::sessions::{SessionEventLog, SessionStore};

fn review_graph() -> serde_json::Value {
    json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "doc"},
        "doc": {"type": "policy", "policy": "doc_check", "on_pass": "risk", "on_fail": "rejected"},
        "risk": {"type": "policy", "policy": "risk_check", "on_pass": "approved", "on_fail": "review"},
        "approved": {"type": "terminal", "outcome": "approved"},
        "rejected": {"type": "terminal", "outcome": "rejected"},
        "review": {"type": "terminal", "outcome": "needs_review"}}})
}

async fn case_types(w: &World, session_id: &str) -> Vec<String> {
    w.store
        .events(&tenant(&w.live), session_id, all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.event_type)
        .filter(|t| t.starts_with("case."))
        .collect()
}

#[tokio::test]
async fn a_run_needing_review_opens_a_case_and_the_sweep_keeps_it_moving() {
    let w = World::new().await;
    w.workflow(&w.live, review_graph()).await;
    let session = w.submitted_session(&w.live).await;
    let worker = w.worker(&[
        ScriptedCheck::passing("doc_check", 1),
        ScriptedCheck::new("risk_check", [CheckOutcome::decided(false, json!({}))]),
    ]);
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    let t = tenant(&w.live);
    assert_eq!(
        SessionStore::get(w.store.as_ref(), &t, &session.id)
            .await
            .unwrap()
            .status,
        SessionStatus::UnderReview
    );
    let case = w
        .store
        .active_for_session(&t, &session.id)
        .await
        .unwrap()
        .expect("the run's commit opened the case");
    assert_eq!(case.source.as_str(), "workflow");
    assert_eq!(
        case.review_reasons,
        ["risk_check:failed", "review:terminal"]
    );
    assert_eq!(
        case.sla_due_at,
        case.entered_review_at + Duration::hours(24)
    );
    let opened = AuditLog::list(
        w.store.as_ref(),
        &t,
        &AuditFilter {
            resource_id: Some(case.id.clone()),
            ..AuditFilter::default()
        },
        all(),
    )
    .await
    .unwrap();
    assert_eq!(opened.items.len(), 1);
    assert_eq!(opened.items[0].action, "case.created");
    assert_eq!(opened.items[0].actor, "system");

    let reviewer = w
        .services
        .org_users
        .create(
            &w.live,
            NewOrgUser {
                email: Some("ann@example.com".into()),
                name: Some("Ann".into()),
                role: Some("reviewer".into()),
            },
        )
        .await
        .unwrap()
        .user
        .id;
    w.services
        .cases
        .claim(&w.live, &case.id, &reviewer)
        .await
        .unwrap();
    w.clock.advance(Duration::minutes(29));
    assert_eq!(w.services.cases.sweep().await.unwrap().released, 0);
    w.clock.advance(Duration::minutes(1));
    assert_eq!(w.services.cases.sweep().await.unwrap().released, 1);
    let released = w.services.cases.get(&w.live, &case.id).await.unwrap();
    assert_eq!(released.status, CaseStatus::Open);
    assert_eq!(released.assigned_to, None);
    assert_eq!(w.services.cases.sweep().await.unwrap().released, 0);

    w.clock.advance(Duration::hours(24));
    let red = CaseFilter {
        sla_statuses: vec![verifa_domain::case::SlaStatus::Red],
        ..CaseFilter::default()
    };
    assert_eq!(
        CaseStore::list(w.store.as_ref(), &t, &red, w.now(), all())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(w.services.cases.sweep().await.unwrap().breached, 1);
    assert_eq!(w.services.cases.sweep().await.unwrap().breached, 0, "once");
    let breached = w.services.cases.get(&w.live, &case.id).await.unwrap();
    assert_eq!(breached.sla_breached_at, Some(w.now()));
    let types = case_types(&w, &session.id).await;
    assert_eq!(
        types,
        ["case.created", "case.assigned", "case.sla_breached"],
        "one breach event, in order with the case's other events"
    );
}
