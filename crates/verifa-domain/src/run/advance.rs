//! [`advance`]: one engine step of a [`WorkflowRun`] and everything it causes — the node attempts
//! it recorded, the session action it implies, the verdict of a finished run, and whether its next
//! piece of work is due at once.

use super::model::{Work, WorkflowRun};
use super::verdict::verdict_of;
use crate::session::{Action, Verdict, VerdictSource};
use crate::workflow::{
    AttemptRecord, Effect, Event, ExecError, ExecutorSettings, Outcome, RunStatus, step,
};
use chrono::{DateTime, Utc};

/// What one step of a run caused.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Check attempts recorded by this step, oldest first.
    pub new_attempts: Vec<AttemptRecord>,
    /// The session action the step implies (paused, completed, failed), if any.
    pub session: Option<Action>,
    /// The verdict of a run that completed in this step.
    pub verdict: Option<Verdict>,
    /// Whether the run's next work is due now (the worker goes on without releasing it).
    pub continues: bool,
    /// The engine refused the event: the run is failed and this says why.
    pub refused: Option<ExecError>,
}

impl Step {
    /// Whether the step must be committed before the run goes on. A step that only routed
    /// (start, a due retry, a resume) has no outside effect and replays exactly after a crash, so
    /// it may be committed together with the check that follows it.
    pub fn must_commit(&self) -> bool {
        !self.continues || !self.new_attempts.is_empty() || self.session.is_some()
    }
}

/// Applies `event` to `run` at `now`: the engine state, the next work and its due time change
/// in place; the revision and the lease are left to the caller that stores the run.
///
/// An event the engine refuses fails the run (status `failed`, nothing else changed) and is
/// reported in [`Step::refused`].
pub fn advance(
    run: &mut WorkflowRun,
    event: Event,
    now: DateTime<Utc>,
    settings: &ExecutorSettings,
) -> Step {
    let before_attempts = run.state.attempts.len();
    let before_status = run.state.status;
    let outcome = match &run.graph {
        Some(graph) => step(graph, &run.state, event, now, settings),
        None => Err(ExecError::GraphInconsistent {
            node_id: String::new(),
            detail: "the run has no pinned graph".to_owned(),
        }),
    };
    let (effects, refused) = match outcome {
        Ok(t) => {
            run.state = t.state;
            (t.effects, None)
        }
        Err(e) => {
            run.state.status = RunStatus::Failed;
            (Vec::new(), Some(e))
        }
    };
    let next = next_work(&effects, now);
    let continues = next
        .as_ref()
        .is_some_and(|(_, at)| at.is_some_and(|at| at <= now));
    let next_at = next.as_ref().and_then(|(_, at)| *at);
    // Work that goes on at once keeps the due time it was claimed at: the stored row then changes
    // no indexed column, so Postgres can update it in place (HOT) at every step.
    run.due = if continues {
        run.due.filter(|at| *at <= now).or(next_at)
    } else {
        next_at
    };
    run.work = next.map(|(work, _)| work);
    run.updated_at = now;

    let new_attempts = run
        .state
        .attempts
        .get(before_attempts..)
        .map(<[AttemptRecord]>::to_vec)
        .unwrap_or_default();
    let paused = effects
        .iter()
        .any(|e| matches!(e, Effect::PauseAtGate { .. }));
    let completed =
        run.state.status == RunStatus::Completed && before_status != RunStatus::Completed;
    let failed = run.state.status == RunStatus::Failed && before_status != RunStatus::Failed;
    let (session, verdict) = if paused {
        let action = Action::RunPaused {
            run_id: run.id.clone(),
            node_id: run.state.paused_at_node.clone(),
        };
        (Some(action), None)
    } else if completed {
        let outcome = run.state.final_status.unwrap_or(Outcome::NeedsReview);
        let verdict = verdict_of(&run.state, outcome);
        let action = Action::RunCompleted {
            outcome,
            source: VerdictSource::Run {
                run_id: run.id.clone(),
                face_match_passed: verdict.summary.face_match_passed,
                age_check_passed: verdict.summary.age_check_passed,
            },
        };
        (Some(action), Some(verdict))
    } else if failed {
        (Some(Action::RunFailed), None)
    } else {
        (None, None)
    };
    Step {
        new_attempts,
        session,
        verdict,
        continues,
        refused,
    }
}

/// What to store as the run's next work after a step, and when it is due.
fn next_work(effects: &[Effect], now: DateTime<Utc>) -> Option<(Work, Option<DateTime<Utc>>)> {
    effects.iter().rev().find_map(|e| match e {
        Effect::ExecuteCheck {
            node_id,
            policy,
            config,
            attempt,
        } => Some((
            Work::Execute {
                node_id: node_id.clone(),
                policy: policy.clone(),
                config: config.clone(),
                attempt: *attempt,
            },
            Some(now),
        )),
        Effect::ScheduleRetry { node_id, at, .. } => Some((
            Work::Apply {
                event: Event::RetryDue {
                    node_id: node_id.clone(),
                },
            },
            Some(*at),
        )),
        Effect::PauseAtGate {
            node_id,
            timeout_at,
        } => Some((
            Work::Apply {
                event: Event::GateTimeout {
                    node_id: node_id.clone(),
                },
            },
            *timeout_at,
        )),
        Effect::Complete { .. } => None,
    })
}

impl WorkflowRun {
    /// Takes the run's work if it is due at `now` (`None`: nothing to do now).
    pub fn take_due_work(&mut self, now: DateTime<Utc>) -> Option<Work> {
        if self.due.is_some_and(|at| at <= now) {
            self.work.take()
        } else {
            None
        }
    }
}
