//! A sandbox simulation that looks like a real decision: the workflow is dry-run on the
//! sandbox's values, and for a decline or a review the first check (then the first gate) whose
//! failure leads there is made to fail. The run state that results — path, node results, every
//! attempt — is the one a real run of that outcome would leave, so the verdict read from it is
//! consistent (a declined face match has a failing score).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::dry_run::{CheckResultInput, DryRunInput, SimulatedCheck, dry_run_state};
use super::executor::{Decision, ExecError, RunState, RunStatus};
use super::model::{Graph, Node, Outcome};

/// The sandbox's check results, as a simulation needs them.
pub trait SandboxChecks {
    /// The result the sandbox applicant gets.
    fn passing(&self, policy: &str, config: &Value) -> SimulatedCheck;
    /// A failed result consistent with the sandbox values, or `None` when the policy cannot
    /// fail for the sandbox applicant (the magic age, for one, is fixed).
    fn failing(&self, policy: &str, config: &Value) -> Option<SimulatedCheck>;
}

/// A simulated run.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// The run's final state (its `final_status` is the outcome asked for).
    pub state: RunState,
    /// True when no failure of a check or gate leads to the outcome, so it was set by fiat on
    /// the all-pass run.
    pub forced: bool,
}

/// Simulates a run of `graph` ending with `target` for a session described by `input`.
pub fn simulate_outcome(
    graph: &Graph,
    target: Outcome,
    input: &DryRunInput,
    checks: &dyn SandboxChecks,
    now: DateTime<Utc>,
) -> Result<Simulation, ExecError> {
    let passing = |policy: &str, config: &Value| checks.passing(policy, config);
    let mut input = input.clone();
    for (id, node) in &graph.nodes {
        if matches!(node, Node::Wait(_)) {
            input
                .external_decisions
                .entry(id.clone())
                .or_insert(Decision::Continue);
        }
    }
    let (plain, _) = dry_run_state(graph, &input, &passing, now)?;
    if plain.final_status == Some(target) {
        return Ok(Simulation {
            state: plain,
            forced: false,
        });
    }
    // Candidates in the order the all-pass run met them.
    let mut seen = Vec::new();
    for id in &plain.path {
        if !seen.contains(id) {
            seen.push(id.clone());
        }
    }
    for id in &seen {
        let Some(Node::Policy(p)) = graph.nodes.get(id) else {
            continue;
        };
        let Some(failed) = checks.failing(&p.policy, &p.config) else {
            continue;
        };
        let mut attempt = input.clone();
        attempt
            .check_results
            .insert(id.clone(), CheckResultInput::One(failed));
        let (state, _) = dry_run_state(graph, &attempt, &passing, now)?;
        if state.final_status == Some(target) {
            return Ok(Simulation {
                state,
                forced: false,
            });
        }
    }
    for id in &seen {
        if !matches!(graph.nodes.get(id), Some(Node::Wait(_))) {
            continue;
        }
        for decision in [Decision::Fail, Decision::Reject] {
            let mut attempt = input.clone();
            attempt.external_decisions.insert(id.clone(), decision);
            let (state, _) = dry_run_state(graph, &attempt, &passing, now)?;
            if state.final_status == Some(target) {
                return Ok(Simulation {
                    state,
                    forced: false,
                });
            }
        }
    }
    let mut state = plain;
    state.final_status = Some(target);
    state.status = RunStatus::Completed;
    state.completed_at.get_or_insert(now);
    Ok(Simulation {
        state,
        forced: true,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::workflow::CheckStatus;
    use serde_json::json;

    /// Passes everything; fails everything but the age (fixed in the sandbox).
    pub(crate) struct Sandbox;

    impl SandboxChecks for Sandbox {
        fn passing(&self, policy: &str, _: &Value) -> SimulatedCheck {
            let output = match policy {
                "face_match" => json!({"face_match_score": 0.95, "passed": true}),
                _ => json!({"passed": true}),
            };
            SimulatedCheck {
                status: CheckStatus::Passed,
                output,
            }
        }

        fn failing(&self, policy: &str, _: &Value) -> Option<SimulatedCheck> {
            let output = match policy {
                "age_verification" => return None,
                "face_match" => json!({"face_match_score": 0.21, "passed": false}),
                _ => json!({"passed": false}),
            };
            Some(SimulatedCheck {
                status: CheckStatus::Failed,
                output,
            })
        }
    }

    fn graph() -> Graph {
        serde_json::from_value(json!({"entry": "s", "nodes": {
            "s": {"type": "start", "next": "age"},
            "age": {"type": "policy", "policy": "age_verification", "on_pass": "face", "on_fail": "no"},
            "face": {"type": "policy", "policy": "face_match", "on_pass": "gate", "on_fail": "no", "on_error": "rev"},
            "gate": {"type": "wait", "next": "ok", "on_fail": {"action": "review"}},
            "ok": {"type": "terminal", "outcome": "approved"},
            "no": {"type": "terminal", "outcome": "rejected"},
            "rev": {"type": "terminal", "outcome": "needs_review"}}}))
        .unwrap()
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_770_000_000, 0).unwrap_or_default()
    }

    fn simulate(target: Outcome) -> Simulation {
        simulate_outcome(&graph(), target, &DryRunInput::default(), &Sandbox, t0()).unwrap()
    }

    fn statuses(state: &RunState) -> Vec<(String, CheckStatus)> {
        state
            .attempts
            .iter()
            .map(|a| (a.policy.clone(), a.status))
            .collect()
    }

    #[test]
    fn approval_passes_every_check_and_gate() {
        let sim = simulate(Outcome::Approved);
        assert!(!sim.forced);
        assert_eq!(sim.state.path, ["s", "age", "face", "gate", "ok"]);
        assert_eq!(
            statuses(&sim.state),
            [
                ("age_verification".into(), CheckStatus::Passed),
                ("face_match".into(), CheckStatus::Passed)
            ]
        );
    }

    #[test]
    fn a_decline_fails_the_first_check_that_can_fail() {
        let sim = simulate(Outcome::Rejected);
        assert!(!sim.forced);
        // The age cannot fail in the sandbox: the face match does, with a failing score.
        assert_eq!(sim.state.path, ["s", "age", "face", "no"]);
        assert_eq!(
            sim.state
                .attempts
                .last()
                .map(|a| a.output["face_match_score"].clone()),
            Some(json!(0.21))
        );
    }

    #[test]
    fn a_review_takes_the_gate_when_no_check_leads_there() {
        let sim = simulate(Outcome::NeedsReview);
        assert!(!sim.forced);
        // The gate's `on_fail` action ends the run in review at the gate.
        assert_eq!(sim.state.path, ["s", "age", "face", "gate"]);
        assert_eq!(sim.state.final_status, Some(Outcome::NeedsReview));
        assert!(
            statuses(&sim.state)
                .iter()
                .all(|(_, s)| *s == CheckStatus::Passed)
        );
    }

    #[test]
    fn an_outcome_the_graph_cannot_reach_is_forced_on_the_all_pass_run() {
        let only_approves: Graph = serde_json::from_value(json!({"entry": "s", "nodes": {
            "s": {"type": "start", "next": "ok"},
            "ok": {"type": "terminal", "outcome": "approved"}}}))
        .unwrap();
        let sim = simulate_outcome(
            &only_approves,
            Outcome::Rejected,
            &DryRunInput::default(),
            &Sandbox,
            t0(),
        )
        .unwrap();
        assert!(sim.forced);
        assert_eq!(sim.state.final_status, Some(Outcome::Rejected));
        assert_eq!(sim.state.path, ["s", "ok"]);
    }
}
