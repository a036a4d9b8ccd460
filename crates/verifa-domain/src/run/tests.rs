use super::*;
use crate::session::{Action, RetentionStatus, Session, SessionStatus, VerdictSource};
use crate::tenancy::{Environment, Tenant};
use crate::workflow::{
    CheckStatus, Event, ExecutorSettings, Graph, Outcome, RunStatus, parse_definition,
};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};

fn at(sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, sec)
        .single()
        .unwrap_or_default()
}

fn graph(v: Value) -> Graph {
    let def = parse_definition(&v).unwrap_or_else(|e| panic!("{e:?}"));
    def.graph
}

fn kyc() -> Graph {
    graph(json!({"graph": {"entry": "start", "nodes": {
        "start": {"type": "start", "next": "age"},
        "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18},
                "on_pass": "gate", "on_fail": "reject", "max_retries": 1},
        "gate": {"type": "wait", "next": "approve", "on_fail": {"action": "reject"}},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"}}}}))
}

fn session() -> Session {
    Session {
        id: "ses_1".into(),
        tenant: Tenant::new("org_1", Environment::Live),
        status: SessionStatus::Processing,
        workflow_id: Some("wfl_1".into()),
        external_ref: None,
        identity_id: None,
        case_id: None,
        case_status: None,
        metadata: Map::new(),
        country: Some("DE".into()),
        checks: None,
        fields_sealed: None,
        data_key: None,
        redirect_url: None,
        capture_token_hash: None,
        token_expires_at: None,
        document_type: None,
        retention_status: RetentionStatus::Active,
        processing_attempts: 1,
        consent_ip: None,
        tags: vec![],
        expired_at: None,
        completed_at: None,
        redacted_at: None,
        retention_expired_at: None,
        created_at: at(0),
        updated_at: at(0),
        revision: 0,
    }
}

fn run() -> WorkflowRun {
    WorkflowRun::start(
        "wfr_1".into(),
        &session(),
        PinnedVersion {
            workflow_id: "wfl_1".into(),
            version: 3,
            graph: kyc(),
        },
        at(0),
    )
}

fn finished(node: &str, attempt: u32, status: CheckStatus, output: Value) -> Event {
    Event::CheckFinished {
        node_id: node.into(),
        attempt,
        status,
        output,
        error: None,
        duration_ms: 5,
    }
}

fn take(run: &mut WorkflowRun, now: DateTime<Utc>) -> Work {
    run.take_due_work(now)
        .unwrap_or_else(|| panic!("no work due at {now}"))
}

#[test]
fn a_new_run_starts_at_once_and_routing_needs_no_commit() {
    let mut r = run();
    assert_eq!(r.status(), RunStatus::Pending);
    let Work::Apply { event } = take(&mut r, at(0)) else {
        panic!("a new run applies Start first");
    };
    let step = advance(&mut r, event, at(1), &ExecutorSettings::default());
    assert!(step.continues);
    assert!(step.new_attempts.is_empty());
    assert_eq!(step.session, None);
    assert!(!step.must_commit(), "start only routes");
    assert_eq!(
        r.due,
        Some(at(0)),
        "work going on at once keeps its claimed due time"
    );
    assert!(matches!(
        r.work,
        Some(Work::Execute { ref node_id, attempt: 1, .. }) if node_id == "age"
    ));
}

#[test]
fn a_check_result_is_committed_and_a_gate_pauses_the_session() {
    let mut r = run();
    let s = ExecutorSettings::default();
    let _ = take(&mut r, at(0));
    advance(&mut r, Event::Start, at(0), &s);
    let _ = take(&mut r, at(0));
    let step = advance(
        &mut r,
        finished("age", 1, CheckStatus::Passed, json!({"age": 30})),
        at(2),
        &s,
    );
    assert_eq!(step.new_attempts.len(), 1);
    assert_eq!(step.new_attempts[0].policy, "age_verification");
    assert!(step.must_commit());
    assert!(
        !step.continues,
        "a gate without timeout waits for an outside event"
    );
    assert_eq!(r.due, None);
    assert_eq!(r.status(), RunStatus::Paused);
    assert_eq!(
        step.session,
        Some(Action::RunPaused {
            run_id: "wfr_1".into(),
            node_id: Some("gate".into())
        })
    );
    assert!(r.take_due_work(at(100)).is_none());
}

#[test]
fn a_decision_completes_the_run_with_a_verdict() {
    let mut r = run();
    let s = ExecutorSettings::default();
    advance(&mut r, Event::Start, at(0), &s);
    advance(
        &mut r,
        finished("age", 1, CheckStatus::Passed, json!({"age": 30})),
        at(2),
        &s,
    );
    r.queue(
        Event::ExternalDecision {
            decision: crate::workflow::Decision::Continue,
            metadata: json!({}),
        },
        at(3),
    );
    let Work::Apply { event } = take(&mut r, at(3)) else {
        panic!("a queued decision is applied");
    };
    let step = advance(&mut r, event, at(4), &s);
    assert_eq!(r.final_status(), Some(Outcome::Approved));
    let verdict = step
        .verdict
        .unwrap_or_else(|| panic!("a completed run has a verdict"));
    assert_eq!(verdict.outcome, Outcome::Approved);
    assert_eq!(verdict.summary.age_check_passed, Some(true));
    assert_eq!(verdict.summary.extracted_age, Some(30));
    assert_eq!(verdict.summary.country_used.as_deref(), Some("DE"));
    assert_eq!(verdict.rejection_reason, None);
    assert_eq!(
        step.session,
        Some(Action::RunCompleted {
            outcome: Outcome::Approved,
            source: VerdictSource::Run {
                run_id: "wfr_1".into(),
                face_match_passed: None,
                age_check_passed: Some(true),
            },
        })
    );
}

#[test]
fn a_rejection_names_the_failed_check() {
    let mut r = run();
    let s = ExecutorSettings::default();
    advance(&mut r, Event::Start, at(0), &s);
    let step = advance(
        &mut r,
        finished("age", 1, CheckStatus::Failed, json!({"age": 16})),
        at(2),
        &s,
    );
    let verdict = step
        .verdict
        .unwrap_or_else(|| panic!("rejected runs have a verdict"));
    assert_eq!(verdict.outcome, Outcome::Rejected);
    assert_eq!(
        verdict.rejection_reason.as_deref(),
        Some("age_verification failed")
    );
    assert!(!verdict.summary.check_results["age_verification"].passed);
}

#[test]
fn a_retry_is_due_later_and_releases_the_run() {
    let mut r = run();
    let s = ExecutorSettings::default();
    advance(&mut r, Event::Start, at(0), &s);
    let step = advance(
        &mut r,
        finished("age", 1, CheckStatus::RequiresRetry, json!({})),
        at(2),
        &s,
    );
    assert!(!step.continues);
    assert!(step.must_commit());
    assert_eq!(r.due, Some(at(3)), "first backoff is one second");
    assert!(r.take_due_work(at(2)).is_none(), "not due yet");
    assert!(matches!(
        take(&mut r, at(3)),
        Work::Apply {
            event: Event::RetryDue { .. }
        }
    ));
}

#[test]
fn a_refused_event_fails_the_run_and_the_session() {
    let mut r = run();
    let step = advance(
        &mut r,
        finished("age", 1, CheckStatus::Passed, json!({})),
        at(1),
        &ExecutorSettings::default(),
    );
    assert!(
        step.refused.is_some(),
        "a check result before Start is refused"
    );
    assert_eq!(r.status(), RunStatus::Failed);
    assert_eq!(step.session, Some(Action::RunFailed));
    assert!(step.must_commit());
}

#[test]
fn a_simulated_run_keeps_its_state_and_has_no_work() {
    let graph = kyc();
    let sim = crate::workflow::simulate_outcome(
        &graph,
        Outcome::Rejected,
        &crate::workflow::DryRunInput::default(),
        &crate::workflow::simulate::tests::Sandbox,
        at(0),
    )
    .unwrap();
    let pinned = PinnedVersion {
        workflow_id: "wfl_1".into(),
        version: 3,
        graph,
    };
    let mut r = WorkflowRun::simulated("wfr_2".into(), &session(), pinned, sim.state, at(0));
    assert!(r.simulated);
    assert_eq!((r.workflow_id.as_str(), r.workflow_version), ("wfl_1", 3));
    // The age cannot fail in the sandbox: the gate rejects.
    assert_eq!(r.state.path, ["start", "age", "gate"]);
    assert_eq!(r.status(), RunStatus::Completed);
    assert_eq!(r.final_status(), Some(Outcome::Rejected));
    assert!(r.take_due_work(at(10)).is_none());
    let step = advance(&mut r, Event::Start, at(1), &ExecutorSettings::default());
    assert!(step.refused.is_some());
}

#[test]
fn the_check_context_shows_latest_results_and_live_session_facts() {
    let mut r = run();
    let s = ExecutorSettings::default();
    advance(&mut r, Event::Start, at(0), &s);
    advance(
        &mut r,
        finished("age", 1, CheckStatus::Passed, json!({"age": 30})),
        at(2),
        &s,
    );
    let mut live = session();
    live.metadata.insert("tier".into(), json!("gold"));
    let mut fields = Map::new();
    fields.insert("email".into(), json!("a@b.c"));
    let ctx = check_context(&r.state, &live, fields);
    assert_eq!(ctx["checks"]["age_verification"]["status"], "passed");
    assert_eq!(ctx["checks"]["age_verification"]["age"], 30);
    assert_eq!(ctx["session"]["metadata"]["tier"], "gold");
    assert_eq!(ctx["session"]["fields"]["email"], "a@b.c");
    assert_eq!(ctx["session"]["is_sandbox"], false);
}
