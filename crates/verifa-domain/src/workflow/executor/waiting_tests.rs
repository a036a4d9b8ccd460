//! Unit tests of the executor's waiting: retries with backoff, gates (decisions and timeouts)
//! and resuming a paused run.

use super::tests::{Run, contract_graph, exec, finished, t};
use super::*;
use crate::workflow::model::{Node, Outcome};
use serde_json::json;
use std::time::Duration;

#[test]
fn retries_with_backoff_then_error() {
    let mut r = Run::new(contract_graph());
    r.settings.retry_backoff = [1, 2, 4].map(Duration::from_secs).to_vec();
    r.ok(Event::Start, 0);
    let mut now = 0;
    // attempts 1..=4 are retried (max_retries 4 → 5 attempts), delays 1,2,4,4 (clamped).
    for (attempt, delay) in [(1u32, 1i64), (2, 2), (3, 4), (4, 4)] {
        let effects = r.ok(
            finished("ocr", attempt, CheckStatus::RequiresRetry, json!({})),
            now,
        );
        assert_eq!(
            effects,
            [Effect::ScheduleRetry {
                node_id: "ocr".into(),
                attempt: attempt + 1,
                at: t(now + delay)
            }]
        );
        assert_eq!(
            r.state.node_results["ocr"].status,
            CheckStatus::RequiresRetry
        );
        assert_eq!(
            r.send(
                finished("ocr", attempt + 1, CheckStatus::Passed, json!({})),
                now
            ),
            Err(ExecError::NotPendingNode("ocr".into()))
        );
        now += delay;
        assert_eq!(
            r.send(
                Event::RetryDue {
                    node_id: "age".into()
                },
                now
            ),
            Err(ExecError::NoRetryScheduled("age".into()))
        );
        assert_eq!(
            r.ok(
                Event::RetryDue {
                    node_id: "ocr".into()
                },
                now
            ),
            [exec("ocr", "document_ocr", attempt + 1)]
        );
    }
    let effects = r.ok(
        finished("ocr", 5, CheckStatus::RequiresRetry, json!({})),
        now,
    );
    assert_eq!(
        effects,
        [Effect::Complete {
            outcome: Outcome::NeedsReview
        }]
    );
    assert_eq!(r.state.path.last().map(String::as_str), Some("review"));
    assert_eq!(r.state.attempts.len(), 5);
    assert_eq!(r.state.node_results["ocr"].attempts, 5);
    assert_eq!(r.state.node_results["ocr"].status, CheckStatus::Error);
    assert_eq!(r.state.node_results["ocr"].duration_ms, Some(5 * 250));
}

#[test]
fn max_retries_zero_means_no_retry() {
    let mut g = contract_graph();
    if let Some(Node::Policy(p)) = g.nodes.get_mut("ocr") {
        p.max_retries = Some(0);
    }
    let mut r = Run::new(g);
    r.ok(Event::Start, 0);
    let effects = r.ok(finished("ocr", 1, CheckStatus::RequiresRetry, json!({})), 0);
    assert_eq!(
        effects,
        [Effect::Complete {
            outcome: Outcome::NeedsReview
        }]
    );
}

pub(super) fn paused_run() -> Run {
    let mut r = Run::new(contract_graph());
    r.ok(Event::Start, 0);
    r.ok(finished("ocr", 1, CheckStatus::Passed, json!({})), 0);
    r.ok(
        finished("age", 1, CheckStatus::Passed, json!({"age": 40})),
        0,
    );
    assert_eq!(r.state.status, RunStatus::Paused);
    r
}

#[test]
fn gate_decisions_and_timeouts() {
    let decide = |d| Event::ExternalDecision {
        decision: d,
        metadata: json!({}),
    };
    let mut r = paused_run();
    r.ok(decide(Decision::Reject), 5);
    assert_eq!(r.state.final_status, Some(Outcome::Rejected));
    assert_eq!(r.state.node_results["gate"].status, CheckStatus::Failed);

    let mut r = paused_run();
    r.ok(decide(Decision::Fail), 5);
    assert_eq!(r.state.final_status, Some(Outcome::NeedsReview));
    assert_eq!(r.state.path.last().map(String::as_str), Some("review"));

    let mut r = paused_run();
    assert_eq!(
        r.send(
            Event::GateTimeout {
                node_id: "other".into()
            },
            5
        ),
        Err(ExecError::NotPaused("other".into()))
    );
    r.ok(
        Event::GateTimeout {
            node_id: "gate".into(),
        },
        5,
    );
    assert_eq!(r.state.path.last().map(String::as_str), Some("review"));
    assert_eq!(
        r.state.node_results["gate"].error.as_deref(),
        Some("gate timed out")
    );
    assert!(r.state.external_decisions.is_empty());

    for (action, outcome) in [
        ("review", Outcome::NeedsReview),
        ("reject", Outcome::Rejected),
    ] {
        let mut r = paused_run();
        if let Some(Node::Wait(w)) = r.graph.nodes.get_mut("gate") {
            w.on_fail = serde_json::from_value(json!({ "action": action })).expect("action");
        }
        let effects = r.ok(decide(Decision::Fail), 5);
        assert_eq!(effects, [Effect::Complete { outcome }]);
        assert_eq!(r.state.path.last().map(String::as_str), Some("gate"));
    }
}

#[test]
fn resume_from_a_paused_run() {
    let mut r = paused_run();
    let effects = r.ok(
        Event::ResumeFrom {
            node_id: "age".into(),
        },
        7,
    );
    assert_eq!(effects, [exec("age", "age_verification", 2)]);
    assert_eq!(r.state.paused_at_node, None);
    assert_eq!(r.state.status, RunStatus::Running);
    r.ok(finished("age", 2, CheckStatus::Failed, json!({})), 8);
    assert_eq!(r.state.final_status, Some(Outcome::Rejected));
    assert_eq!(
        r.state.path,
        ["start", "ocr", "age", "risk", "gate", "age", "reject"]
    );

    let mut failed = paused_run();
    failed.state.status = RunStatus::Failed;
    assert!(
        failed
            .send(
                Event::ResumeFrom {
                    node_id: "approve".into()
                },
                1
            )
            .is_ok()
    );
}

#[test]
fn huge_timeout_is_an_error_not_a_panic() {
    let mut g = contract_graph();
    if let Some(Node::Wait(w)) = g.nodes.get_mut("gate") {
        w.timeout_seconds = Some(u64::MAX);
    }
    let mut r = Run::new(g);
    r.ok(Event::Start, 0);
    r.ok(finished("ocr", 1, CheckStatus::Passed, json!({})), 0);
    assert_eq!(
        r.send(
            finished("age", 1, CheckStatus::Passed, json!({"age": 40})),
            0
        ),
        Err(ExecError::TimeOverflow)
    );
}
