//! Unit tests of the executor: the shared fixtures, walking and routing, illegal events and
//! loops. Waiting (retries, gates, resume) is in `waiting_tests`, overrides in `override_tests`.

use super::waiting_tests::paused_run;
use super::*;
use crate::workflow::model::{Graph, Outcome};
use chrono::TimeDelta;
use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::json;

pub(super) fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_770_000_000 + secs, 0).unwrap_or_default()
}

pub(super) fn contract_graph() -> Graph {
    serde_json::from_value(json!({
       "entry": "start",
       "nodes": {
         "start":   {"type": "start", "next": "ocr"},
         "ocr":     {"type": "policy", "policy": "document_ocr", "config": {"x": 1},
                     "on_pass": "age", "on_fail": "reject", "on_error": "review", "max_retries": 4},
         "age":     {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18},
                     "on_pass": "risk", "on_fail": "reject"},
         "risk":    {"type": "conditional",
                     "conditions": [{"field": "extracted_data.country", "operator": "==",
                                     "value": "KP", "next": "reject"},
                                    {"field": "checks.age_verification.age", "operator": "<",
                                     "value": 21, "next": "review"}],
                     "default": "gate"},
         "gate":    {"type": "wait", "next": "approve",
                     "on_fail": {"action": "goto", "node": "review"}, "timeout_seconds": 86400},
         "approve": {"type": "terminal", "outcome": "approved"},
         "reject":  {"type": "terminal", "outcome": "rejected"},
         "review":  {"type": "terminal", "outcome": "needs_review"}}}))
    .expect("graph")
}

pub(super) struct Run {
    pub(super) graph: Graph,
    pub(super) state: RunState,
    pub(super) settings: ExecutorSettings,
}

impl Run {
    pub(super) fn new(graph: Graph) -> Self {
        Self {
            graph,
            state: RunState::new(RunContext::default()),
            settings: ExecutorSettings::default(),
        }
    }

    pub(super) fn send(&mut self, event: Event, at: i64) -> Result<Vec<Effect>, ExecError> {
        let tr = step(&self.graph, &self.state, event, t(at), &self.settings)?;
        self.state = tr.state;
        Ok(tr.effects)
    }

    pub(super) fn ok(&mut self, event: Event, at: i64) -> Vec<Effect> {
        match self.send(event, at) {
            Ok(e) => e,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
}

pub(super) fn finished(node: &str, attempt: u32, status: CheckStatus, output: Value) -> Event {
    Event::CheckFinished {
        node_id: node.into(),
        attempt,
        status,
        output,
        error: None,
        duration_ms: 250,
    }
}

pub(super) fn exec(node: &str, policy: &str, attempt: u32) -> Effect {
    Effect::ExecuteCheck {
        node_id: node.into(),
        policy: policy.into(),
        config: match node {
            "ocr" => json!({"x": 1}),
            "age" => json!({"minimum_age": 18}),
            _ => json!({}),
        },
        attempt,
    }
}

#[test]
fn happy_path_through_the_contract_example() {
    let mut r = Run::new(contract_graph());
    assert_eq!(r.ok(Event::Start, 0), [exec("ocr", "document_ocr", 1)]);
    assert_eq!(r.state.status, RunStatus::Running);
    assert_eq!(r.state.node_results["ocr"].status, CheckStatus::Pending);
    let out = json!({"extracted_data": {"country": "FR", "full_name": "Jane Doe"}});
    assert_eq!(
        r.ok(finished("ocr", 1, CheckStatus::Passed, out), 1),
        [exec("age", "age_verification", 1)]
    );
    assert_eq!(r.state.context.extracted_data["country"], json!("FR"));
    let effects = r.ok(
        finished("age", 1, CheckStatus::Passed, json!({"age": 30})),
        2,
    );
    assert_eq!(
        effects,
        [Effect::PauseAtGate {
            node_id: "gate".into(),
            timeout_at: Some(t(2 + 86_400))
        }]
    );
    assert_eq!(r.state.status, RunStatus::Paused);
    assert_eq!(r.state.paused_at_node.as_deref(), Some("gate"));
    assert_eq!(
        r.state.node_results["risk"].output,
        json!({"matched_condition": null})
    );
    let effects = r.ok(
        Event::ExternalDecision {
            decision: Decision::Continue,
            metadata: json!({"by": "ops"}),
        },
        10,
    );
    assert_eq!(
        effects,
        [Effect::Complete {
            outcome: Outcome::Approved
        }]
    );
    let s = &r.state;
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.final_status, Some(Outcome::Approved));
    assert_eq!(s.path, ["start", "ocr", "age", "risk", "gate", "approve"]);
    assert_eq!(s.duration_ms, Some(10_000));
    assert_eq!(s.paused_at_node, None);
    assert_eq!(s.external_decisions.len(), 1);
    assert_eq!(s.external_decisions[0].decided_at, t(10));
    assert_eq!(s.node_results["gate"].status, CheckStatus::Passed);
    assert_eq!(s.node_results["gate"].duration_ms, Some(8_000));
    assert_eq!(s.attempts.len(), 2);
    assert_eq!(
        s.attempts[0].started_at,
        t(1) - TimeDelta::milliseconds(250)
    );

    let ocr = serde_json::to_value(&s.node_results["ocr"]).expect("serialises");
    let keys: Vec<&String> = ocr.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "node_type",
            "policy",
            "status",
            "passed",
            "attempts",
            "started_at",
            "completed_at",
            "duration_ms",
            "next_node",
            "output",
            "error"
        ]
    );
    assert_eq!(ocr["node_type"], json!("policy"));
    assert_eq!(ocr["status"], json!("passed"));
    assert_eq!(ocr["passed"], json!(true));
    assert_eq!(ocr["next_node"], json!("age"));
    assert_eq!(ocr["started_at"], json!("2026-02-02T02:40:00Z"));
    assert_eq!(r.send(Event::Start, 11), Err(ExecError::RunCompleted));
}

#[test]
fn conditions_see_latest_check_outputs_and_extracted_data() {
    let mut r = Run::new(contract_graph());
    r.ok(Event::Start, 0);
    r.ok(
        finished(
            "ocr",
            1,
            CheckStatus::Passed,
            json!({"extracted_data": {"country": "US"}}),
        ),
        0,
    );
    r.ok(
        finished("age", 1, CheckStatus::Passed, json!({"age": 19})),
        0,
    );
    assert_eq!(r.state.final_status, Some(Outcome::NeedsReview));
    assert_eq!(
        r.state.node_results["risk"].output,
        json!({"matched_condition": 1})
    );

    let mut r = Run::new(contract_graph());
    r.ok(Event::Start, 0);
    r.ok(
        finished(
            "ocr",
            1,
            CheckStatus::Passed,
            json!({"extracted_data": {"country": "KP"}}),
        ),
        0,
    );
    r.ok(
        finished("age", 1, CheckStatus::Passed, json!({"age": 19})),
        0,
    );
    assert_eq!(r.state.final_status, Some(Outcome::Rejected));
    assert_eq!(r.state.path.last().map(String::as_str), Some("reject"));
    assert_eq!(
        r.state.lookup("checks.age_verification.status").as_deref(),
        Some(&json!("passed"))
    );
    assert_eq!(
        r.state.lookup("checks.age_verification.age").as_deref(),
        Some(&json!(19))
    );
    assert_eq!(
        r.state.lookup("session.is_sandbox").as_deref(),
        Some(&json!(false))
    );
    assert_eq!(r.state.lookup("session.country"), None);
}

#[test]
fn routing_table_for_check_statuses() {
    // (status, on_error, on_skip, expected last path node or None = ended without terminal, outcome)
    type Case = (
        CheckStatus,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Outcome,
    );
    let cases: Vec<Case> = vec![
        (
            CheckStatus::Passed,
            None,
            None,
            Some("ok"),
            Outcome::Approved,
        ),
        (
            CheckStatus::Failed,
            None,
            None,
            Some("no"),
            Outcome::Rejected,
        ),
        (
            CheckStatus::Error,
            Some("rev"),
            None,
            Some("rev"),
            Outcome::NeedsReview,
        ),
        (CheckStatus::Error, None, None, None, Outcome::NeedsReview),
        (
            CheckStatus::Skipped,
            Some("rev"),
            Some("ok"),
            Some("ok"),
            Outcome::Approved,
        ),
        (
            CheckStatus::Skipped,
            Some("rev"),
            None,
            Some("rev"),
            Outcome::NeedsReview,
        ),
        (CheckStatus::Skipped, None, None, None, Outcome::NeedsReview),
    ];
    for (status, on_error, on_skip, last, outcome) in cases {
        let mut nodes = json!({
            "s": {"type": "start", "next": "p"},
            "p": {"type": "policy", "policy": "x", "on_pass": "ok", "on_fail": "no"},
            "ok": {"type": "terminal", "outcome": "approved"},
            "no": {"type": "terminal", "outcome": "rejected"},
            "rev": {"type": "terminal", "outcome": "needs_review"}});
        if let Some(e) = on_error {
            nodes["p"]["on_error"] = json!(e);
        }
        if let Some(s) = on_skip {
            nodes["p"]["on_skip"] = json!(s);
        }
        let g: Graph =
            serde_json::from_value(json!({"entry": "s", "nodes": nodes})).expect("graph");
        let mut r = Run::new(g);
        r.ok(Event::Start, 0);
        let effects = r.ok(finished("p", 1, status, json!({})), 1);
        assert_eq!(effects, [Effect::Complete { outcome }], "{status:?}");
        assert_eq!(r.state.final_status, Some(outcome));
        let want_last = last.unwrap_or("p");
        assert_eq!(
            r.state.path.last().map(String::as_str),
            Some(want_last),
            "{status:?}"
        );
        assert_eq!(r.state.node_results["p"].next_node.as_deref(), last);
    }
}

#[test]
fn illegal_events_are_typed_errors() {
    let decide = Event::ExternalDecision {
        decision: Decision::Continue,
        metadata: json!({}),
    };
    let mut r = Run::new(contract_graph());
    assert_eq!(
        r.send(finished("ocr", 1, CheckStatus::Passed, json!({})), 0),
        Err(ExecError::NotStarted)
    );
    assert_eq!(
        r.send(decide.clone(), 0),
        Err(ExecError::NotPaused(String::new()))
    );
    assert_eq!(
        r.send(
            Event::ResumeFrom {
                node_id: "ocr".into()
            },
            0
        ),
        Err(ExecError::NotResumable)
    );
    r.ok(Event::Start, 0);
    assert_eq!(r.send(Event::Start, 0), Err(ExecError::AlreadyStarted));
    assert_eq!(
        r.send(finished("age", 1, CheckStatus::Passed, json!({})), 0),
        Err(ExecError::NotPendingNode("age".into()))
    );
    assert_eq!(
        r.send(finished("ocr", 2, CheckStatus::Passed, json!({})), 0),
        Err(ExecError::WrongAttempt {
            node_id: "ocr".into(),
            expected: 1,
            got: 2
        })
    );
    assert_eq!(
        r.send(finished("ocr", 1, CheckStatus::Pending, json!({})), 0),
        Err(ExecError::PendingResult)
    );
    assert_eq!(r.send(decide, 0), Err(ExecError::NotPaused(String::new())));
    // Errors leave the state untouched.
    assert_eq!(r.state.path, ["start", "ocr"]);

    let mut r = paused_run();
    assert_eq!(
        r.send(
            Event::ResumeFrom {
                node_id: "nope".into()
            },
            1
        ),
        Err(ExecError::UnknownNode("nope".into()))
    );
}

#[test]
fn refuses_to_loop_or_follow_dangling_edges() {
    let g: Graph = serde_json::from_value(json!({"entry": "s", "nodes": {
        "s": {"type": "start", "next": "a"},
        "a": {"type": "conditional", "conditions": [], "default": "b"},
        "b": {"type": "conditional", "conditions": [], "default": "a"}}}))
    .expect("graph");
    let mut r = Run::new(g);
    assert_eq!(r.send(Event::Start, 0), Err(ExecError::LoopLimit(4)));
    assert_eq!(r.state.status, RunStatus::Pending);

    let g: Graph = serde_json::from_value(json!({"entry": "s", "nodes": {
        "s": {"type": "start", "next": "ghost"}}}))
    .expect("graph");
    let mut r = Run::new(g);
    assert!(matches!(
        r.send(Event::Start, 0),
        Err(ExecError::GraphInconsistent { .. })
    ));
    let g: Graph = serde_json::from_value(json!({"entry": "nope", "nodes": {}})).expect("graph");
    let mut r = Run::new(g);
    assert!(r.send(Event::Start, 0).is_err());
}
