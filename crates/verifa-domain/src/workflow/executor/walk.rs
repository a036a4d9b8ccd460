//! Applying events: [`step`] and its variants, and the walk through routing nodes until the run
//! must wait (a check, a gate) or ends (a terminal).

use super::state::{
    AttemptRecord, CheckStatus, Decision, Effect, Event, ExecError, ExecutorSettings,
    ExternalDecision, NodeResult, RunState, RunStatus, Transition,
};
use crate::workflow::condition::evaluate_resolved;
use crate::workflow::model::{GateFailAction, Graph, Node, NodeKind, Outcome};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

/// Applies one event, returning the new state and effects. The input state is not modified.
pub fn step(
    graph: &Graph,
    state: &RunState,
    event: Event,
    now: DateTime<Utc>,
    settings: &ExecutorSettings,
) -> Result<Transition, ExecError> {
    let mut next = state.clone();
    let effects = step_in_place(graph, &mut next, event, now, settings)?;
    Ok(Transition {
        state: next,
        effects,
    })
}

/// Like [`step`] but mutates `state`. All event preconditions are checked before anything is
/// modified; only graph inconsistencies found while walking (dangling edge, loop limit) can
/// leave a partially advanced state, so use [`step`] when the old state must survive an error.
pub fn step_in_place(
    graph: &Graph,
    state: &mut RunState,
    event: Event,
    now: DateTime<Utc>,
    settings: &ExecutorSettings,
) -> Result<Vec<Effect>, ExecError> {
    let mut effects = Vec::new();
    step_into(graph, state, event, now, settings, &mut effects)?;
    Ok(effects)
}

/// Like [`step_in_place`] but appends the effects to `effects`, so a driver that applies many
/// events (a dry-run) reuses one buffer.
pub fn step_into(
    graph: &Graph,
    state: &mut RunState,
    event: Event,
    now: DateTime<Utc>,
    settings: &ExecutorSettings,
    effects: &mut Vec<Effect>,
) -> Result<(), ExecError> {
    // An override is the one event a completed run takes.
    if state.status == RunStatus::Completed && !matches!(event, Event::OverrideCheck { .. }) {
        return Err(ExecError::RunCompleted);
    }
    let mut ex = Exec {
        graph,
        state,
        now,
        effects,
    };
    match event {
        Event::Start => {
            if ex.state.status != RunStatus::Pending {
                return Err(ExecError::AlreadyStarted);
            }
            ex.state.status = RunStatus::Running;
            ex.state.started_at = Some(now);
            ex.walk(&graph.entry)?;
        }
        Event::CheckFinished {
            node_id,
            attempt,
            status,
            output,
            error,
            duration_ms,
        } => ex.check_finished(
            node_id,
            attempt,
            status,
            output,
            error,
            duration_ms,
            settings,
        )?,
        Event::RetryDue { node_id } => ex.retry_due(&node_id)?,
        Event::ExternalDecision { decision, metadata } => ex.decision(decision, metadata)?,
        Event::GateTimeout { node_id } => {
            let gate = ex.paused_gate(Some(&node_id))?;
            ex.close_gate(&node_id, false, Some("gate timed out".to_owned()));
            ex.apply_gate_fail(&node_id, &gate.on_fail)?;
        }
        Event::ResumeFrom { node_id } => {
            if !matches!(ex.state.status, RunStatus::Paused | RunStatus::Failed) {
                return Err(ExecError::NotResumable);
            }
            if !graph.nodes.contains_key(&node_id) {
                return Err(ExecError::UnknownNode(node_id));
            }
            ex.state.status = RunStatus::Running;
            ex.state.paused_at_node = None;
            ex.walk(&node_id)?;
        }
        Event::OverrideCheck {
            node_id,
            by,
            reason,
        } => {
            let on_pass = &overridable(graph, ex.state, &node_id)?.on_pass;
            ex.override_check(&node_id, by, reason, on_pass)?;
        }
    }
    Ok(())
}

/// Whether a reviewer may override `node_id` of a run in `state` (CONTRACT §8.4): the run has
/// finished (completed or failed, nothing in flight), and the node is a policy node on its path
/// whose latest status is `failed` or `error` and that was not overridden before. Returns the
/// node, whose `on_pass` the run goes on at.
///
/// # Errors
/// [`ExecError::NotOverridable`] saying which condition does not hold.
pub fn overridable<'g>(
    graph: &'g Graph,
    state: &RunState,
    node_id: &str,
) -> Result<&'g crate::workflow::model::PolicyNode, ExecError> {
    let refuse = |detail: &str| ExecError::NotOverridable {
        node_id: node_id.to_owned(),
        detail: detail.to_owned(),
    };
    if !matches!(state.status, RunStatus::Completed | RunStatus::Failed) {
        return Err(refuse("the run has not finished"));
    }
    let Some(Node::Policy(policy)) = graph.nodes.get(node_id) else {
        return Err(refuse(
            "it is not a policy node of the run's workflow version",
        ));
    };
    let result = state
        .node_results
        .get(node_id)
        .filter(|_| state.path.iter().any(|p| p == node_id))
        .ok_or_else(|| refuse("the run never reached it"))?;
    if result.check_override.is_some() {
        return Err(refuse("it was overridden before"));
    }
    if !matches!(result.status, CheckStatus::Failed | CheckStatus::Error) {
        return Err(refuse(&format!(
            "its status is '{}'; only a failed or errored check can be overridden",
            result.status.as_str()
        )));
    }
    Ok(policy)
}

struct Exec<'a> {
    graph: &'a Graph,
    state: &'a mut RunState,
    now: DateTime<Utc>,
    effects: &'a mut Vec<Effect>,
}

fn add_ms(t: DateTime<Utc>, ms: u64) -> Result<DateTime<Utc>, ExecError> {
    let delta = i64::try_from(ms)
        .ok()
        .and_then(TimeDelta::try_milliseconds)
        .ok_or(ExecError::TimeOverflow)?;
    t.checked_add_signed(delta).ok_or(ExecError::TimeOverflow)
}

fn ms_between(a: DateTime<Utc>, b: DateTime<Utc>) -> u64 {
    u64::try_from((b - a).num_milliseconds()).unwrap_or(0)
}

/// Sets `slot` to `value`, reusing its buffer (the walk sets the current node at every step).
fn set_string(slot: &mut Option<String>, value: &str) {
    match slot {
        Some(s) => {
            s.clear();
            s.push_str(value);
        }
        None => *slot = Some(value.to_owned()),
    }
}

impl<'a> Exec<'a> {
    fn node(&self, id: &str) -> Result<&Node, ExecError> {
        self.graph
            .nodes
            .get(id)
            .ok_or_else(|| ExecError::UnknownNode(id.to_owned()))
    }

    /// Enters `start_id` and keeps going through routing nodes until the run must wait.
    fn walk(&mut self, start_id: &str) -> Result<(), ExecError> {
        let graph = self.graph;
        let cap = graph.nodes.len() + 1;
        let mut id: &str = start_id;
        for _ in 0..cap {
            let node = graph
                .nodes
                .get(id)
                .ok_or_else(|| ExecError::GraphInconsistent {
                    node_id: self.state.current_node.clone().unwrap_or_default(),
                    detail: format!("routes to unknown node '{id}'"),
                })?;
            self.state.path.push(id.to_owned());
            set_string(&mut self.state.current_node, id);
            let now = self.now;
            let routed = |next: &str, output: Value| NodeResult {
                node_type: node.kind(),
                policy: None,
                status: CheckStatus::Passed,
                passed: None,
                attempts: 0,
                started_at: Some(now),
                completed_at: Some(now),
                duration_ms: Some(0),
                next_node: Some(next.to_owned()),
                output,
                error: None,
                check_override: None,
            };
            match node {
                Node::Start { next } => {
                    let r = routed(next, Value::Object(Map::new()));
                    self.state.node_results.insert(id.to_owned(), r);
                    id = next;
                }
                Node::Conditional(c) => {
                    let hit = c
                        .conditions
                        .iter()
                        .position(|cond| evaluate_resolved(cond, self.state.lookup(&cond.field)));
                    let next = hit
                        .and_then(|i| c.conditions.get(i))
                        .map_or(c.default.as_str(), |cond| cond.next.as_str());
                    let mut out = Map::new();
                    out.insert(
                        "matched_condition".to_owned(),
                        hit.map_or(Value::Null, Value::from),
                    );
                    let r = routed(next, Value::Object(out));
                    self.state.node_results.insert(id.to_owned(), r);
                    id = next;
                }
                Node::Terminal { outcome } => {
                    let mut out = Map::new();
                    out.insert("outcome".to_owned(), Value::from(outcome.as_str()));
                    let mut r = routed("", Value::Object(out));
                    r.next_node = None;
                    self.state.node_results.insert(id.to_owned(), r);
                    self.finish(*outcome);
                    return Ok(());
                }
                Node::Policy(p) => {
                    let attempt = self.state.expected_attempt(id);
                    self.state.node_results.insert(
                        id.to_owned(),
                        NodeResult {
                            node_type: NodeKind::Policy,
                            policy: Some(p.policy.clone()),
                            status: CheckStatus::Pending,
                            passed: None,
                            attempts: 1,
                            started_at: Some(now),
                            completed_at: None,
                            duration_ms: None,
                            next_node: None,
                            output: Value::Object(Map::new()),
                            error: None,
                            check_override: None,
                        },
                    );
                    self.effects.push(Effect::ExecuteCheck {
                        node_id: id.to_owned(),
                        policy: p.policy.clone(),
                        config: p.config.clone(),
                        attempt,
                    });
                    return Ok(());
                }
                Node::Wait(w) => {
                    let timeout_at = match w.timeout_seconds {
                        Some(s) => Some(add_ms(
                            now,
                            s.checked_mul(1000).ok_or(ExecError::TimeOverflow)?,
                        )?),
                        None => None,
                    };
                    self.state.status = RunStatus::Paused;
                    self.state.paused_at_node = Some(id.to_owned());
                    self.state.node_results.insert(
                        id.to_owned(),
                        NodeResult {
                            node_type: NodeKind::Wait,
                            policy: None,
                            status: CheckStatus::Pending,
                            passed: None,
                            attempts: 0,
                            started_at: Some(now),
                            completed_at: None,
                            duration_ms: None,
                            next_node: None,
                            output: Value::Object(Map::new()),
                            error: None,
                            check_override: None,
                        },
                    );
                    self.effects.push(Effect::PauseAtGate {
                        node_id: id.to_owned(),
                        timeout_at,
                    });
                    return Ok(());
                }
            }
        }
        Err(ExecError::LoopLimit(cap))
    }

    /// Marks the node passed by a reviewer and goes on at its `on_pass` (checked by
    /// [`overridable`]).
    fn override_check(
        &mut self,
        node_id: &str,
        by: String,
        reason: String,
        on_pass: &str,
    ) -> Result<(), ExecError> {
        let now = self.now;
        if let Some(r) = self.state.node_results.get_mut(node_id) {
            r.check_override = Some(super::state::CheckOverride {
                by,
                reason,
                at: now,
                original_status: r.status,
            });
            r.status = CheckStatus::Passed;
            r.passed = Some(true);
            r.next_node = Some(on_pass.to_owned());
        }
        let s = &mut *self.state;
        s.status = RunStatus::Running;
        s.final_status = None;
        s.paused_at_node = None;
        s.completed_at = None;
        s.duration_ms = None;
        self.walk(on_pass)
    }

    fn finish(&mut self, outcome: Outcome) {
        let s = &mut *self.state;
        s.status = RunStatus::Completed;
        s.final_status = Some(outcome);
        s.paused_at_node = None;
        s.completed_at = Some(self.now);
        s.duration_ms = s.started_at.map(|t| (self.now - t).num_milliseconds());
        self.effects.push(Effect::Complete { outcome });
    }

    /// Checks that `node_id` is the policy node whose check is in flight; returns its policy.
    fn in_flight(
        &self,
        node_id: &str,
        want: CheckStatus,
    ) -> Result<&'a crate::workflow::model::PolicyNode, ExecError> {
        let graph: &'a Graph = self.graph;
        let is_current = self.state.current_node.as_deref() == Some(node_id)
            && self.state.status == RunStatus::Running;
        let result_ok = self
            .state
            .node_results
            .get(node_id)
            .is_some_and(|r| r.status == want);
        match graph.nodes.get(node_id) {
            Some(Node::Policy(p)) if is_current && result_ok => Ok(p),
            _ if want == CheckStatus::RequiresRetry => {
                Err(ExecError::NoRetryScheduled(node_id.to_owned()))
            }
            _ => Err(ExecError::NotPendingNode(node_id.to_owned())),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_finished(
        &mut self,
        node_id: String,
        attempt: u32,
        status: CheckStatus,
        output: Value,
        error: Option<String>,
        duration_ms: u64,
        settings: &ExecutorSettings,
    ) -> Result<(), ExecError> {
        if self.state.status == RunStatus::Pending {
            return Err(ExecError::NotStarted);
        }
        let graph = self.graph;
        let policy = self.in_flight(&node_id, CheckStatus::Pending)?;
        let expected = self.state.expected_attempt(&node_id);
        if attempt != expected {
            return Err(ExecError::WrongAttempt {
                node_id,
                expected,
                got: attempt,
            });
        }
        if status == CheckStatus::Pending {
            return Err(ExecError::PendingResult);
        }
        let now = self.now;
        let started_at = i64::try_from(duration_ms)
            .ok()
            .and_then(TimeDelta::try_milliseconds)
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(now);
        if let Some(Value::Object(extracted)) = output.get("extracted_data") {
            for (k, v) in extracted {
                self.state
                    .context
                    .extracted_data
                    .insert(k.clone(), v.clone());
            }
        }
        self.state.attempts.push(AttemptRecord {
            node_id: node_id.clone(),
            policy: policy.policy.clone(),
            attempt,
            status,
            output: output.clone(),
            error: error.clone(),
            started_at,
            completed_at: now,
            duration_ms,
        });
        let visit_attempts = {
            let Some(r) = self.state.node_results.get_mut(&node_id) else {
                return Err(ExecError::NotPendingNode(node_id));
            };
            r.output = output;
            r.error = error;
            r.status = status;
            r.completed_at = Some(now);
            r.duration_ms = Some(r.duration_ms.unwrap_or(0).saturating_add(duration_ms));
            r.attempts
        };
        let mut status = status;
        if status == CheckStatus::RequiresRetry {
            if visit_attempts <= u32::from(policy.retries()) {
                let idx = usize::try_from(visit_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
                let delay = settings
                    .retry_backoff
                    .get(idx)
                    .or(settings.retry_backoff.last())
                    .copied()
                    .unwrap_or_default();
                let at = add_ms(now, u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))?;
                self.effects.push(Effect::ScheduleRetry {
                    node_id,
                    attempt: attempt.saturating_add(1),
                    at,
                });
                return Ok(());
            }
            // Retries exhausted: route as an error.
            status = CheckStatus::Error;
            if let Some(r) = self.state.node_results.get_mut(&node_id) {
                r.status = CheckStatus::Error;
                if r.error.is_none() {
                    r.error = Some(format!("retries exhausted after {visit_attempts} attempts"));
                }
            }
        }
        let target: Option<&str> = match status {
            CheckStatus::Passed => Some(&policy.on_pass),
            CheckStatus::Failed => Some(&policy.on_fail),
            CheckStatus::Skipped => policy.on_skip.as_deref().or(policy.on_error.as_deref()),
            _ => policy.on_error.as_deref(),
        };
        let passed = match status {
            CheckStatus::Passed => Some(true),
            CheckStatus::Failed => Some(false),
            _ => None,
        };
        if let Some(r) = self.state.node_results.get_mut(&node_id) {
            r.passed = passed;
            r.next_node = target.map(str::to_owned);
        }
        match target {
            Some(t) => {
                let t = graph
                    .nodes
                    .get_key_value(t)
                    .map(|(k, _)| k.as_str())
                    .ok_or_else(|| ExecError::GraphInconsistent {
                        node_id: node_id.clone(),
                        detail: format!("routes to unknown node '{t}'"),
                    })?;
                self.walk(t)
            }
            None => {
                self.finish(Outcome::NeedsReview);
                Ok(())
            }
        }
    }

    fn retry_due(&mut self, node_id: &str) -> Result<(), ExecError> {
        if self.state.status == RunStatus::Pending {
            return Err(ExecError::NotStarted);
        }
        let p = self.in_flight(node_id, CheckStatus::RequiresRetry)?;
        let effect = Effect::ExecuteCheck {
            node_id: node_id.to_owned(),
            policy: p.policy.clone(),
            config: p.config.clone(),
            attempt: self.state.expected_attempt(node_id),
        };
        if let Some(r) = self.state.node_results.get_mut(node_id) {
            r.status = CheckStatus::Pending;
            r.passed = None;
            r.completed_at = None;
            r.attempts = r.attempts.saturating_add(1);
        }
        self.effects.push(effect);
        Ok(())
    }

    /// The wait node the run is paused at (optionally requiring a specific id).
    fn paused_gate(
        &self,
        want: Option<&str>,
    ) -> Result<crate::workflow::model::WaitNode, ExecError> {
        let at = self.state.paused_at_node.as_deref();
        let label = want.or(at).unwrap_or_default().to_owned();
        if self.state.status != RunStatus::Paused || (want.is_some() && want != at) {
            return Err(ExecError::NotPaused(label));
        }
        let id = at.ok_or_else(|| ExecError::NotPaused(label.clone()))?;
        match self.node(id)? {
            Node::Wait(w) => Ok(w.clone()),
            _ => Err(ExecError::GraphInconsistent {
                node_id: id.to_owned(),
                detail: "the run is paused at a node that is not a wait node".to_owned(),
            }),
        }
    }

    fn close_gate(&mut self, node_id: &str, passed: bool, error: Option<String>) {
        let now = self.now;
        self.state.status = RunStatus::Running;
        self.state.paused_at_node = None;
        if let Some(r) = self.state.node_results.get_mut(node_id) {
            r.status = if passed {
                CheckStatus::Passed
            } else {
                CheckStatus::Failed
            };
            r.passed = Some(passed);
            r.completed_at = Some(now);
            r.duration_ms = r.started_at.map(|s| ms_between(s, now));
            r.error = error;
        }
    }

    fn set_next(&mut self, node_id: &str, next: Option<&str>) {
        if let Some(r) = self.state.node_results.get_mut(node_id) {
            r.next_node = next.map(str::to_owned);
        }
    }

    fn apply_gate_fail(&mut self, node_id: &str, action: &GateFailAction) -> Result<(), ExecError> {
        match action {
            GateFailAction::Review => {
                self.set_next(node_id, None);
                self.finish(Outcome::NeedsReview);
                Ok(())
            }
            GateFailAction::Reject => {
                self.set_next(node_id, None);
                self.finish(Outcome::Rejected);
                Ok(())
            }
            GateFailAction::Goto { node } => {
                self.set_next(node_id, Some(node));
                self.walk(node)
            }
        }
    }

    fn decision(&mut self, decision: Decision, metadata: Value) -> Result<(), ExecError> {
        let gate = self.paused_gate(None)?;
        let node_id = self.state.paused_at_node.clone().unwrap_or_default();
        self.state.external_decisions.push(ExternalDecision {
            node_id: node_id.clone(),
            decision,
            metadata,
            decided_at: self.now,
        });
        match decision {
            Decision::Continue => {
                self.close_gate(&node_id, true, None);
                self.set_next(&node_id, Some(&gate.next));
                self.walk(&gate.next)
            }
            Decision::Fail => {
                self.close_gate(&node_id, false, None);
                self.apply_gate_fail(&node_id, &gate.on_fail)
            }
            Decision::Reject => {
                self.close_gate(&node_id, false, None);
                self.set_next(&node_id, None);
                self.finish(Outcome::Rejected);
                Ok(())
            }
        }
    }
}
