//! Dry-runs (CONTRACT §2.3 #15/#17): drive the real executor over a graph with caller-supplied
//! check results and gate decisions; no IO. Missing check results come from a caller-supplied
//! fallback (the sandbox provider's values) and are named in `warnings`; a gate without a decision
//! leaves the run paused.
//!
//! The graph must already have auto-injected checks applied (stored versions always do; for a
//! draft call [`crate::workflow::inject_auto_checks`] first) — `dry_run` runs exactly what it is
//! given.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::executor::{
    CheckStatus, Decision, Effect, Event, ExecError, ExecutorSettings, NodeResult, RunContext,
    RunState, RunStatus, SessionFacts, step_into,
};
use super::model::{Graph, Outcome};

/// A simulated check result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedCheck {
    /// Status to report.
    pub status: CheckStatus,
    /// Output fields.
    #[serde(default = "empty_object")]
    pub output: Value,
}

/// A check result given in the input: one result for every attempt, or (extension) a list
/// giving attempt 1, 2, … with the last repeated — handy to simulate a retry that then passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CheckResultInput {
    /// Same result on every attempt.
    One(SimulatedCheck),
    /// Result per attempt.
    PerAttempt(Vec<SimulatedCheck>),
}

/// Session facts of a dry-run input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRunSession {
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
    /// Metadata.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Sandbox flag (extension; default false).
    #[serde(default)]
    pub is_sandbox: bool,
}

/// The `input` of a dry-run request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRunInput {
    /// Seed extracted data.
    #[serde(default)]
    pub extracted_data: Map<String, Value>,
    /// Session facts.
    #[serde(default)]
    pub session: DryRunSession,
    /// Results keyed by node id or policy name (node id wins).
    #[serde(default)]
    pub check_results: BTreeMap<String, CheckResultInput>,
    /// Gate decisions keyed by wait node id.
    #[serde(default)]
    pub external_decisions: BTreeMap<String, Decision>,
}

impl DryRunInput {
    /// What the types do not say: a per-attempt list gives at least one result, and every
    /// result's `output` is an object (the fields conditions read).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for (key, given) in &self.check_results {
            let path = format!("check_results.{key}");
            let results: Vec<(String, &SimulatedCheck)> = match given {
                CheckResultInput::One(c) => vec![(path.clone(), c)],
                CheckResultInput::PerAttempt(list) if list.is_empty() => {
                    problems.push((path, "must give at least one result".to_owned()));
                    continue;
                }
                CheckResultInput::PerAttempt(list) => list
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("{path}[{i}]"), c))
                    .collect(),
            };
            for (at, c) in results {
                if !c.output.is_object() {
                    problems.push((format!("{at}.output"), "must be an object".to_owned()));
                }
            }
        }
        problems
    }
}

/// What a dry-run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRunReport {
    /// Outcome, or null when paused.
    pub final_status: Option<Outcome>,
    /// Nodes entered, in order.
    pub path: Vec<String>,
    /// Result per node.
    pub node_results: BTreeMap<String, NodeResult>,
    /// Gate the run stopped at for lack of a decision.
    pub paused_at_node: Option<String>,
    /// Notes such as simulated results.
    pub warnings: Vec<String>,
}

/// Upper bound on events in one dry-run: every node may run its check at most five times
/// (1 + 4 retries) and a gate needs one decision; more means the (unvalidated) graph loops.
fn event_budget(graph: &Graph) -> usize {
    graph.nodes.len().saturating_mul(6).saturating_add(2)
}

/// Runs `graph` against `input`. `fallback(policy, config)` supplies results the input lacks.
/// Time stands still at `now` except that scheduled retries advance it to their due time.
pub fn dry_run(
    graph: &Graph,
    input: &DryRunInput,
    fallback: &dyn Fn(&str, &Value) -> SimulatedCheck,
    now: DateTime<Utc>,
) -> Result<DryRunReport, ExecError> {
    let (state, warnings) = dry_run_state(graph, input, fallback, now)?;
    Ok(DryRunReport {
        final_status: state.final_status,
        path: state.path,
        node_results: state.node_results,
        paused_at_node: if state.status == RunStatus::Paused {
            state.paused_at_node
        } else {
            None
        },
        warnings,
    })
}

/// [`dry_run`], answering the run's whole final state (every attempt included) and the warnings.
pub fn dry_run_state(
    graph: &Graph,
    input: &DryRunInput,
    fallback: &dyn Fn(&str, &Value) -> SimulatedCheck,
    now: DateTime<Utc>,
) -> Result<(RunState, Vec<String>), ExecError> {
    let settings = ExecutorSettings::default();
    let mut state = RunState::new(RunContext {
        extracted_data: input.extracted_data.clone(),
        session: SessionFacts {
            country: input.session.country.clone(),
            metadata: input.session.metadata.clone(),
            is_sandbox: input.session.is_sandbox,
        },
    });
    let mut warnings = Vec::new();
    let mut clock = now;
    // Effects are handled in order; `scratch` receives each step's, `queue` holds the rest.
    let mut scratch = Vec::with_capacity(2);
    step_into(
        graph,
        &mut state,
        Event::Start,
        clock,
        &settings,
        &mut scratch,
    )?;
    let mut queue: VecDeque<Effect> = scratch.drain(..).collect();
    let budget = event_budget(graph);
    let mut events = 1usize;
    while let Some(effect) = queue.pop_front() {
        let event = match effect {
            Effect::ExecuteCheck {
                node_id,
                policy,
                config,
                attempt,
            } => {
                let given = input
                    .check_results
                    .get(&node_id)
                    .or_else(|| input.check_results.get(&policy));
                let sim = match given {
                    Some(CheckResultInput::One(c)) => c.clone(),
                    Some(CheckResultInput::PerAttempt(list)) => {
                        let i = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
                        match list.get(i).or(list.last()) {
                            Some(c) => c.clone(),
                            None => simulated(
                                &mut warnings,
                                fallback,
                                &node_id,
                                &policy,
                                &config,
                                attempt,
                            ),
                        }
                    }
                    None => simulated(&mut warnings, fallback, &node_id, &policy, &config, attempt),
                };
                Event::CheckFinished {
                    node_id,
                    attempt,
                    status: sim.status,
                    output: sim.output,
                    error: None,
                    duration_ms: 0,
                }
            }
            Effect::ScheduleRetry { node_id, at, .. } => {
                clock = at;
                Event::RetryDue { node_id }
            }
            Effect::PauseAtGate { node_id, .. } => match input.external_decisions.get(&node_id) {
                Some(d) => Event::ExternalDecision {
                    decision: *d,
                    metadata: empty_object(),
                },
                None => {
                    warnings.push(format!(
                        "no external decision for gate '{node_id}'; the run stays paused"
                    ));
                    break;
                }
            },
            Effect::Complete { .. } => break,
        };
        events += 1;
        if events > budget {
            return Err(ExecError::LoopLimit(budget));
        }
        step_into(graph, &mut state, event, clock, &settings, &mut scratch)?;
        queue.extend(scratch.drain(..));
    }
    Ok((state, warnings))
}

fn simulated(
    warnings: &mut Vec<String>,
    fallback: &dyn Fn(&str, &Value) -> SimulatedCheck,
    node_id: &str,
    policy: &str,
    config: &Value,
    attempt: u32,
) -> SimulatedCheck {
    // One warning per node, not per retry attempt.
    if attempt <= 1
        || !warnings
            .iter()
            .any(|w| w.contains(&format!("node '{node_id}'")))
    {
        warnings.push(format!(
            "no check result given for node '{node_id}' (policy '{policy}'); used the sandbox provider's values"
        ));
    }
    fallback(policy, config)
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph() -> Graph {
        serde_json::from_value(json!({
           "entry": "start",
           "nodes": {
             "start":   {"type": "start", "next": "ocr"},
             "ocr":     {"type": "policy", "policy": "document_ocr", "config": {},
                         "on_pass": "risk", "on_fail": "reject", "on_error": "review"},
             "risk":    {"type": "conditional",
                         "conditions": [{"field": "checks.risk_assessment.risk_level", "operator": "in",
                                         "value": ["high", "critical"], "next": "review"}],
                         "default": "gate"},
             "gate":    {"type": "wait", "next": "approve", "on_fail": {"action": "review"}},
             "approve": {"type": "terminal", "outcome": "approved"},
             "reject":  {"type": "terminal", "outcome": "rejected"},
             "review":  {"type": "terminal", "outcome": "needs_review"}}}))
        .expect("graph")
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_770_000_000, 0).unwrap_or_default()
    }

    fn pass(_: &str, _: &Value) -> SimulatedCheck {
        SimulatedCheck {
            status: CheckStatus::Passed,
            output: json!({"extracted_data": {"full_name": "Jane Doe"}}),
        }
    }

    #[test]
    fn missing_results_and_decisions() {
        let r = dry_run(&graph(), &DryRunInput::default(), &pass, t0()).expect("runs");
        assert_eq!(r.path, ["start", "ocr", "risk", "gate"]);
        assert_eq!(r.paused_at_node.as_deref(), Some("gate"));
        assert_eq!(r.final_status, None);
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("'ocr'") && r.warnings[0].contains("'document_ocr'"));
    }

    #[test]
    fn node_id_wins_over_policy_and_decisions_apply() {
        let input: DryRunInput = serde_json::from_value(json!({
            "check_results": {
                "document_ocr": {"status": "failed"},
                "ocr": [{"status": "requires_retry"}, {"status": "passed", "output": {}}]
            },
            "external_decisions": {"gate": "continue"}
        }))
        .expect("input");
        let r = dry_run(&graph(), &input, &pass, t0()).expect("runs");
        assert_eq!(r.final_status, Some(Outcome::Approved));
        assert_eq!(r.path, ["start", "ocr", "risk", "gate", "approve"]);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.node_results.get("ocr").map(|n| n.attempts), Some(2));
    }

    #[test]
    fn routes_on_check_outputs() {
        let mut g = graph();
        // risk_assessment output is visible to the conditional.
        if let Some(super::super::model::Node::Policy(p)) = g.nodes.get_mut("ocr") {
            p.policy = "risk_assessment".into();
        }
        let input: DryRunInput = serde_json::from_value(json!({
            "check_results": {"risk_assessment": {"status": "passed", "output": {"risk_level": "high"}}}
        }))
        .expect("input");
        let r = dry_run(&g, &input, &pass, t0()).expect("runs");
        assert_eq!(r.final_status, Some(Outcome::NeedsReview));
        assert_eq!(r.path.last().map(String::as_str), Some("review"));
    }

    #[test]
    fn problems_the_types_do_not_catch() {
        let input: DryRunInput = serde_json::from_value(json!({"check_results": {
            "a": [], "b": {"status": "passed", "output": [1]},
            "c": [{"status": "passed"}, {"status": "failed", "output": 3}],
            "d": {"status": "passed", "output": {"x": 1}}}}))
        .expect("input");
        let fields: Vec<String> = input.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "check_results.a",
                "check_results.b.output",
                "check_results.c[1].output"
            ]
        );
    }

    #[test]
    fn rejects_unknown_input_fields() {
        let bad = serde_json::from_value::<DryRunInput>(json!({"check_result": {}}));
        assert!(bad.is_err());
    }
}
