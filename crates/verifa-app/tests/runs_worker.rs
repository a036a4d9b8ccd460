//! The run worker on fakes: a run from start to verdict, retries under the manual clock, gates
//! and external decisions, a lost lease, a refused engine event, and routing steps committed
//! with the check that follows them. Checks are scripted, so every step is deterministic.

mod support;

use chrono::Duration;
use serde_json::json;
use std::sync::Arc;
use support::*;
use verifa_domain::identity::lookup::LookupField;
use verifa_domain::session::SessionStatus;
use verifa_domain::workflow::{CheckStatus, Node, Outcome, RunStatus};
use verifa_fakes::MemoryStore;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRegistry, CheckRequest};
use verifa_ports::runs::RunStore;
use verifa_ports::sessions::{RunWrite, SessionChange, SessionStore};
use verifa_ports::workflows::VersionRecord;

fn event_types(events: &[verifa_ports::sessions::EventRecord]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

#[tokio::test]
async fn a_run_goes_from_start_through_its_checks_to_a_verdict() {
    let w = World::new().await;
    w.workflow(&w.live, two_checks()).await;
    let session = w.submitted_session(&w.live).await;
    assert_eq!(session.status, SessionStatus::Processing);
    let (doc, risk) = (
        ScriptedCheck::passing("doc_check", 1),
        ScriptedCheck::passing("risk_check", 1),
    );
    let worker = w.worker(&[doc.clone(), risk.clone()]);

    assert_eq!(worker.run_until_idle().await.unwrap(), 1);

    let tenant = tenant(&w.live);
    let stored = w.store.get(&tenant, &session.id).await.unwrap();
    assert_eq!(stored.status, SessionStatus::Completed);
    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status(), RunStatus::Completed);
    assert_eq!(run.final_status(), Some(Outcome::Approved));
    assert_eq!(run.due, None, "nothing left to do");
    let result = w.store.result(&tenant, &session.id).await.unwrap().unwrap();
    assert_eq!(result.verdict.outcome, Outcome::Approved);
    assert_eq!(result.workflow_run_id.as_deref(), Some(run.id.as_str()));
    let executions = w
        .store
        .executions(&tenant, &session.id, None)
        .await
        .unwrap();
    let nodes: Vec<&str> = executions
        .iter()
        .map(|e| e.attempt.node_id.as_str())
        .collect();
    assert_eq!(nodes, ["doc", "risk"]);
    let seen: &CheckRequest = &doc.requests()[0];
    assert_eq!(
        (seen.session_id.as_str(), seen.attempt),
        (session.id.as_str(), 1)
    );
    assert_eq!(seen.tenant, tenant);
    assert_eq!(
        seen.documents.len(),
        1,
        "the check sees the uploaded id_front"
    );
    assert_eq!(risk.requests().len(), 1);
    let events = w
        .services
        .sessions
        .events(&w.live, &session.id, all())
        .await
        .unwrap();
    assert_eq!(event_types(&events.items).last(), Some(&"session.approved"));
    assert_eq!(worker.stats().snapshot().decisions, 1);
}

#[tokio::test]
async fn requires_retry_is_due_only_after_the_backoff() {
    let w = World::new().await;
    w.workflow(&w.live, two_checks()).await;
    let session = w.submitted_session(&w.live).await;
    let doc = ScriptedCheck::new(
        "doc_check",
        [
            CheckOutcome::retry("vendor busy"),
            CheckOutcome::decided(true, json!({})),
        ],
    );
    let worker = w.worker(&[doc.clone(), ScriptedCheck::passing("risk_check", 1)]);
    let tenant = tenant(&w.live);

    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        run.due,
        Some(w.now() + Duration::seconds(10)),
        "the first backoff"
    );
    assert_eq!(run.lease.until, None, "a waiting run holds no lease");
    let executions = w
        .store
        .executions(&tenant, &session.id, None)
        .await
        .unwrap();
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].attempt.status, CheckStatus::RequiresRetry);

    w.clock.advance(Duration::seconds(9));
    assert!(!worker.tick().await.unwrap(), "not due before the backoff");
    assert_eq!(doc.requests().len(), 1);

    w.clock.advance(Duration::seconds(1));
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    let attempts: Vec<u32> = doc.requests().iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, [1, 2]);
    let stored = w.store.get(&tenant, &session.id).await.unwrap();
    assert_eq!(stored.status, SessionStatus::Completed);
}

/// start → doc_check → gate → risk_check → approved (the gate rejects on `fail`).
fn gated() -> serde_json::Value {
    json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "doc"},
            "doc": {"type": "policy", "policy": "doc_check", "on_pass": "gate", "on_fail": "rejected"},
            "gate": {"type": "wait", "next": "risk", "on_fail": {"action": "reject"}},
            "risk": {"type": "policy", "policy": "risk_check", "on_pass": "approved", "on_fail": "rejected"},
            "approved": {"type": "terminal", "outcome": "approved"},
            "rejected": {"type": "terminal", "outcome": "rejected"}
        }
    })
}

#[tokio::test]
async fn a_gate_pauses_the_session_until_an_external_decision() {
    let w = World::new().await;
    w.workflow(&w.live, gated()).await;
    let session = w.submitted_session(&w.live).await;
    let risk = ScriptedCheck::passing("risk_check", 1);
    let worker = w.worker(&[ScriptedCheck::passing("doc_check", 1), risk.clone()]);
    let tenant = tenant(&w.live);

    worker.run_until_idle().await.unwrap();
    let paused = w.store.get(&tenant, &session.id).await.unwrap();
    assert_eq!(paused.status, SessionStatus::AwaitingExternal);
    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status(), RunStatus::Paused);
    assert_eq!(run.state.paused_at_node.as_deref(), Some("gate"));
    assert_eq!(run.due, None, "a gate without timeout waits forever");
    let events = w
        .services
        .sessions
        .events(&w.live, &session.id, all())
        .await
        .unwrap();
    let last = events.items.last().unwrap();
    assert_eq!(last.event_type, "session.awaiting_external");
    assert_eq!(last.data["paused_at_node"], json!("gate"));
    assert!(risk.requests().is_empty());
    assert!(!worker.tick().await.unwrap(), "nothing to do while paused");

    let resumed = w
        .services
        .sessions
        .external_decision(&w.live, &session.id, "continue", Some(json!({"by": "ops"})))
        .await
        .unwrap();
    assert_eq!(resumed.status, SessionStatus::Processing);
    worker.run_until_idle().await.unwrap();

    assert_eq!(risk.requests().len(), 1);
    let done = w.store.get(&tenant, &session.id).await.unwrap();
    assert_eq!(done.status, SessionStatus::Completed);
    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.final_status(), Some(Outcome::Approved));
    assert_eq!(run.state.external_decisions.len(), 1);
}

/// A check during which the worker's lease lapses and another worker claims the run.
struct LeaseThief {
    store: Arc<MemoryStore>,
    at: chrono::DateTime<chrono::Utc>,
}

#[async_trait::async_trait]
impl CheckExecutor for LeaseThief {
    fn spec(&self) -> verifa_domain::workflow::PolicySpec {
        spec("doc_check")
    }

    async fn execute(&self, _: &CheckRequest) -> CheckOutcome {
        let stolen = self
            .store
            .claim_run("thief", self.at, self.at + Duration::seconds(60))
            .await
            .unwrap();
        assert!(stolen.is_some(), "the lapsed run is claimable");
        CheckOutcome::decided(true, json!({}))
    }
}

#[tokio::test]
async fn a_lost_lease_is_not_an_error() {
    let w = World::new().await;
    w.workflow(&w.live, two_checks()).await;
    let session = w.submitted_session(&w.live).await;
    let mut registry = CheckRegistry::new();
    registry.register(Arc::new(LeaseThief {
        store: w.store.clone(),
        at: w.now() + Duration::seconds(61),
    }));
    let worker = w.worker_with(registry);

    assert!(
        worker.tick().await.unwrap(),
        "the run was claimed; losing it is no error"
    );

    assert_eq!(worker.stats().snapshot().lost_leases, 1);
    let tenant = tenant(&w.live);
    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.lease.owner.as_deref(), Some("thief"));
    assert!(
        run.state.attempts.is_empty(),
        "the late step was not written"
    );
    assert!(
        w.store
            .executions(&tenant, &session.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = w.store.get(&tenant, &session.id).await.unwrap();
    assert_eq!(stored.status, SessionStatus::Processing);
}

#[tokio::test]
async fn a_refused_engine_event_fails_the_run_and_the_session() {
    let w = World::new().await;
    w.workflow(&w.live, two_checks()).await;
    let session = w.submitted_session(&w.live).await;
    let tenant = tenant(&w.live);
    // The pinned graph goes nowhere after doc_check (a corrupt snapshot): the engine refuses
    // the check's result.
    let mut run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    let graph = run.graph.as_mut().unwrap();
    if let Some(Node::Policy(doc)) = graph.nodes.get_mut("doc") {
        doc.on_pass = "nowhere".into();
    }
    run.id = format!("{}_broken", run.id);
    let mut after = session.clone();
    after.revision += 1;
    let broken = SessionChange {
        session: after,
        expected_status: SessionStatus::Processing,
        expected_revision: session.revision,
        events: vec![],
        result: Default::default(),
        run: Some(RunWrite::Start(Box::new(run))),
        audit: Vec::new(),
        identity: None,
        case: None,
    };
    w.store.apply(&broken).await.unwrap();
    let worker = w.worker(&[ScriptedCheck::passing("doc_check", 1)]);

    assert_eq!(worker.run_until_idle().await.unwrap(), 1);

    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status(), RunStatus::Failed);
    assert_eq!(run.due, None);
    let stored = w.store.get(&tenant, &session.id).await.unwrap();
    assert_eq!(stored.status, SessionStatus::Failed);
    assert_eq!(w.store.result(&tenant, &session.id).await.unwrap(), None);
    assert!(
        !worker.tick().await.unwrap(),
        "a failed run is not picked up again"
    );
}

/// start → doc_check → a conditional on its status → risk_check → approved.
fn routed() -> serde_json::Value {
    json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "doc"},
            "doc": {"type": "policy", "policy": "doc_check", "on_pass": "route", "on_fail": "route"},
            "route": {"type": "conditional", "default": "rejected", "conditions": [
                {"field": "checks.doc_check.status", "operator": "==", "value": "passed", "next": "risk"}
            ]},
            "risk": {"type": "policy", "policy": "risk_check", "on_pass": "approved", "on_fail": "rejected"},
            "approved": {"type": "terminal", "outcome": "approved"},
            "rejected": {"type": "terminal", "outcome": "rejected"}
        }
    })
}

#[tokio::test]
async fn routing_steps_are_committed_with_the_next_check() {
    let w = World::new().await;
    w.workflow(&w.live, routed()).await;
    let session = w.submitted_session(&w.live).await;
    let worker = w.worker(&[
        ScriptedCheck::passing("doc_check", 1),
        ScriptedCheck::passing("risk_check", 1),
    ]);

    assert_eq!(worker.run_until_idle().await.unwrap(), 1);

    let tenant = tenant(&w.live);
    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        run.state.path,
        ["start", "doc", "route", "risk", "approved"]
    );
    assert_eq!(run.final_status(), Some(Outcome::Approved));
    let stats = worker.stats().snapshot();
    // Start and the conditional have no outside effect: one commit per check, no park.
    assert_eq!(stats.step_commits, 2, "{stats:?}");
    assert_eq!(stats.parks, 0);
    assert_eq!(stats.claims, 1);
    // Claim, then one revision per commit.
    assert_eq!(run.revision, 3);
}

/// The version a session's run pinned is the workflow's version 1.
#[tokio::test]
async fn a_run_pins_the_live_version_of_the_sessions_workflow() {
    let w = World::new().await;
    let workflow_id = w.workflow(&w.live, two_checks()).await;
    let session = w.submitted_session(&w.live).await;
    let tenant = tenant(&w.live);

    let run = w
        .store
        .run_for_session(&tenant, &session.id)
        .await
        .unwrap()
        .unwrap();
    let v1: VersionRecord =
        verifa_ports::workflows::WorkflowStore::version(w.store.as_ref(), &tenant, &workflow_id, 1)
            .await
            .unwrap();
    assert_eq!(
        (run.workflow_id.as_str(), run.workflow_version),
        (workflow_id.as_str(), 1)
    );
    assert_eq!(
        serde_json::to_value(run.graph.as_ref().unwrap()).unwrap(),
        serde_json::from_str::<serde_json::Value>(&v1.graph_json).unwrap()
    );
}

#[tokio::test]
async fn a_run_records_lookup_hashes_that_find_its_person() {
    let w = World::new().await;
    w.workflow(&w.live, two_checks()).await;
    let fields = json!({"email": "Ada@Example.org"});
    let created = w
        .services
        .sessions
        .create(
            &w.live,
            verifa_app::sessions::NewSession {
                external_ref: Some("user_ada".into()),
                fields: fields.as_object().cloned(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let id = created.session.id;
    w.services
        .sessions
        .upload_document(&w.live, &id, "id_front", jpeg(b"front"), None)
        .await
        .unwrap();
    w.services.sessions.submit(&w.live, &id).await.unwrap();
    let extracted = json!({"extracted_data": {"first_name": "Ada", "last_name": "Lovelace",
        "date_of_birth": "1815-12-10"}});
    let worker = w.worker(&[
        ScriptedCheck::new("doc_check", [CheckOutcome::decided(true, extracted)]),
        ScriptedCheck::passing("risk_check", 1),
    ]);
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);

    let search = |pairs: &[(LookupField, &str)]| verifa_app::identities::SearchQuery {
        hashed: pairs.iter().map(|(f, v)| (*f, (*v).to_owned())).collect(),
        ..Default::default()
    };
    let found = |query| async {
        w.services
            .identities
            .search(&w.live, query, all())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.external_ref.unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let by_name = search(&[
        (LookupField::FirstName, "ADA"),
        (LookupField::LastName, "lovelace"),
        (LookupField::DateOfBirth, "1815-12-10"),
    ]);
    assert_eq!(
        found(by_name).await,
        ["user_ada"],
        "from the run's extracted data"
    );
    let by_email = search(&[(LookupField::Email, "ada@example.org")]);
    assert_eq!(
        found(by_email).await,
        ["user_ada"],
        "from the pre-fill fields"
    );
    let other = search(&[(LookupField::Email, "grace@example.org")]);
    assert!(found(other).await.is_empty());
}
