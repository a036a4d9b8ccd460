//! Unit tests of reviewer overrides in the executor (CONTRACT §8.4): an overridden check
//! passes and the run goes on at its pass edge; the rule of what may be overridden.

use super::tests::{Run, contract_graph, exec, finished, t};
use super::*;
use crate::workflow::model::{Graph, Outcome};
use serde_json::json;

fn override_of(node: &str) -> Event {
    Event::OverrideCheck {
        node_id: node.into(),
        by: "orguser_ann".into(),
        reason: "the photo is fine".into(),
    }
}

/// A run whose OCR errored and sent it to review.
fn run_in_review() -> Run {
    let mut r = Run::new(contract_graph());
    r.ok(Event::Start, 0);
    let mut errored = finished("ocr", 1, CheckStatus::Error, json!({"reason": "blurry"}));
    if let Event::CheckFinished { error, .. } = &mut errored {
        *error = Some("the image is unreadable".into());
    }
    r.ok(errored, 1);
    assert_eq!(r.state.final_status, Some(Outcome::NeedsReview));
    r
}

#[test]
fn an_override_passes_the_node_and_goes_on_at_its_pass_edge() {
    let mut r = run_in_review();
    assert_eq!(
        r.ok(override_of("ocr"), 5),
        [exec("age", "age_verification", 1)]
    );
    let ocr = &r.state.node_results["ocr"];
    assert_eq!(ocr.status, CheckStatus::Passed);
    assert_eq!(ocr.passed, Some(true));
    assert_eq!(ocr.next_node.as_deref(), Some("age"));
    let o = ocr.check_override.as_ref().expect("override recorded");
    assert_eq!(
        (o.by.as_str(), o.original_status, o.at),
        ("orguser_ann", CheckStatus::Error, t(5))
    );
    assert_eq!(r.state.status, RunStatus::Running);
    assert_eq!((r.state.final_status, r.state.completed_at), (None, None));
    assert_eq!(
        r.state.attempts[0].status,
        CheckStatus::Error,
        "the attempt keeps what the check said"
    );
    assert_eq!(
        r.state.lookup("checks.document_ocr.status").as_deref(),
        Some(&json!("passed")),
        "conditions see the overridden status"
    );
    assert_eq!(r.state.latest_override(), Some(o).cloned().as_ref());
    let effects = r.ok(
        finished("age", 1, CheckStatus::Failed, json!({"age": 16})),
        6,
    );
    assert_eq!(
        effects,
        [Effect::Complete {
            outcome: Outcome::Rejected
        }]
    );
    assert_eq!(r.state.path, ["start", "ocr", "review", "age", "reject"]);
    assert_eq!(r.state.completed_at, Some(t(6)));
}

#[test]
fn an_override_ending_at_a_terminal_completes_at_once() {
    let graph: Graph = serde_json::from_value(json!({
        "entry": "start",
        "nodes": {
          "start": {"type": "start", "next": "face"},
          "face": {"type": "policy", "policy": "face_match", "on_pass": "ok", "on_fail": "review"},
          "ok": {"type": "terminal", "outcome": "approved"},
          "review": {"type": "terminal", "outcome": "needs_review"}}}))
    .expect("graph");
    let mut r = Run::new(graph);
    r.ok(Event::Start, 0);
    r.ok(
        finished("face", 1, CheckStatus::Failed, json!({"score": 0.4})),
        1,
    );
    assert_eq!(
        r.ok(override_of("face"), 2),
        [Effect::Complete {
            outcome: Outcome::Approved
        }]
    );
    let verdict = crate::run::verdict_of(&r.state, Outcome::Approved);
    assert_eq!(verdict.summary.face_match_passed, Some(true));
}

#[test]
fn overrides_are_refused_where_the_contract_says() {
    let mut r = run_in_review();
    let refused = |r: &mut Run, node: &str| match r.send(override_of(node), 5) {
        Err(ExecError::NotOverridable { detail, .. }) => detail,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(refused(&mut r, "start").contains("not a policy node"));
    assert!(refused(&mut r, "nowhere").contains("not a policy node"));
    assert!(refused(&mut r, "age").contains("never reached"));
    let before = r.state.clone();
    r.ok(override_of("ocr"), 5);
    assert!(
        refused(&mut r, "ocr").contains("has not finished"),
        "a running run"
    );
    r.ok(
        finished("age", 1, CheckStatus::Passed, json!({"age": 20})),
        6,
    );
    assert_eq!(
        r.state.final_status,
        Some(Outcome::NeedsReview),
        "age < 21 goes to review"
    );
    assert!(refused(&mut r, "ocr").contains("overridden before"));
    assert!(refused(&mut r, "age").contains("'passed'"));
    assert_ne!(before, r.state);
}
