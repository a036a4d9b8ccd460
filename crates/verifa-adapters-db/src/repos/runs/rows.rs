//! The stored form of a run and its attempts: the engine state, the next work and the pinned
//! graph are JSON text; the status columns the claims and analytics query are derived from the
//! state on every write. The state, the next work and every check output and error hold a
//! verified person's data (extracted names, dates of birth, document numbers), so they are
//! stored sealed, bound to their run or attempt.

use crate::entities::{workflow_node_executions as execs, workflow_runs as runs};
use crate::error::corrupt;
use crate::repos::common::tenant_of;
use sea_orm::Set;
use serde_json::Value;
use verifa_crypto::Cipher;
use verifa_domain::run::{Lease, Work, WorkflowRun};
use verifa_domain::workflow::{AttemptRecord, CheckStatus, Graph, NodeType, RunState};
use verifa_ports::RepoError;
use verifa_ports::runs::{NewAttempt, NodeExecution};

/// The stored graph of a simulated run, which runs none.
const NO_GRAPH: &str = "{}";

fn to_text<T: serde::Serialize>(what: &str, value: &T) -> Result<String, RepoError> {
    serde_json::to_string(value).map_err(|e| corrupt(what, e))
}

/// The associated data of a run's sealed state and next work.
fn run_context(run_id: &str, column: &str) -> String {
    format!("workflow_runs.{column}:{run_id}")
}

/// The associated data of an attempt's sealed output and error.
fn attempt_context(attempt_id: &str, column: &str) -> String {
    format!("workflow_node_executions.{column}:{attempt_id}")
}

fn open(cipher: &Cipher, sealed: &str, context: &str, what: &str) -> Result<String, RepoError> {
    if !Cipher::is_sealed_text(sealed) {
        // Written in clear before migration 000007's release: still readable; the run's next
        // step stores it sealed.
        return Ok(sealed.to_owned());
    }
    cipher
        .open_text(sealed, context)
        .map_err(|e| corrupt(what, e))
}

/// Every column of a run (the graph included).
pub(crate) fn run_active(r: &WorkflowRun, cipher: &Cipher) -> Result<runs::ActiveModel, RepoError> {
    let graph = match &r.graph {
        Some(g) => to_text("workflow_runs.graph_snapshot", g)?,
        None => NO_GRAPH.to_owned(),
    };
    let mut active = state_columns(r, cipher)?;
    active.id = Set(r.id.clone());
    active.org_id = Set(r.tenant.org_id.clone());
    active.environment = Set(r.tenant.environment.as_str().to_owned());
    active.session_id = Set(r.session_id.clone());
    active.workflow_id = Set(r.workflow_id.clone());
    active.workflow_version = Set(r.workflow_version);
    active.graph_snapshot = Set(graph);
    active.simulated = Set(r.simulated);
    active.created_at = Set(r.created_at);
    Ok(active)
}

/// The columns a step can change: never the graph nor the run's identity.
pub(crate) fn state_columns(
    r: &WorkflowRun,
    cipher: &Cipher,
) -> Result<runs::ActiveModel, RepoError> {
    let s = &r.state;
    Ok(runs::ActiveModel {
        status: Set(s.status.as_str().to_owned()),
        final_status: Set(s.final_status.map(|o| o.as_str().to_owned())),
        current_node: Set(s.current_node.clone()),
        paused_at_node: Set(s.paused_at_node.clone()),
        state: Set(cipher.seal_text(
            &to_text("workflow_runs.state", s)?,
            &run_context(&r.id, "state"),
        )),
        runnable_at: Set(r.due),
        next_event: Set(r
            .work
            .as_ref()
            .map(|w| {
                to_text("workflow_runs.next_event", w)
                    .map(|t| cipher.seal_text(&t, &run_context(&r.id, "next_event")))
            })
            .transpose()?),
        lease_owner: Set(r.lease.owner.clone()),
        lease_until: Set(r.lease.until),
        revision: Set(r.revision),
        started_at: Set(s.started_at),
        completed_at: Set(s.completed_at),
        duration_ms: Set(s.duration_ms),
        updated_at: Set(r.updated_at),
        ..Default::default()
    })
}

pub(crate) fn run_from(m: runs::Model, cipher: &Cipher) -> Result<WorkflowRun, RepoError> {
    let graph = if m.graph_snapshot.trim() == NO_GRAPH {
        None
    } else {
        Some(
            serde_json::from_str::<Graph>(&m.graph_snapshot)
                .map_err(|e| corrupt("workflow_runs.graph_snapshot", e))?,
        )
    };
    let state_text = open(
        cipher,
        &m.state,
        &run_context(&m.id, "state"),
        "workflow_runs.state",
    )?;
    let state: RunState =
        serde_json::from_str(&state_text).map_err(|e| corrupt("workflow_runs.state", e))?;
    let work: Option<Work> = m
        .next_event
        .as_deref()
        .map(|sealed| {
            let text = open(
                cipher,
                sealed,
                &run_context(&m.id, "next_event"),
                "workflow_runs.next_event",
            )?;
            serde_json::from_str(&text).map_err(|e| corrupt("workflow_runs.next_event", e))
        })
        .transpose()?;
    Ok(WorkflowRun {
        tenant: tenant_of(m.org_id, &m.environment)?,
        id: m.id,
        session_id: m.session_id,
        workflow_id: m.workflow_id,
        workflow_version: m.workflow_version,
        graph,
        state,
        work,
        due: m.runnable_at,
        lease: Lease {
            owner: m.lease_owner,
            until: m.lease_until,
        },
        revision: m.revision,
        simulated: m.simulated,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn attempt_active(
    run: &WorkflowRun,
    a: &NewAttempt,
    cipher: &Cipher,
) -> execs::ActiveModel {
    let at = &a.attempt;
    execs::ActiveModel {
        id: Set(a.id.clone()),
        run_id: Set(run.id.clone()),
        org_id: Set(run.tenant.org_id.clone()),
        environment: Set(run.tenant.environment.as_str().to_owned()),
        session_id: Set(run.session_id.clone()),
        workflow_id: Set(run.workflow_id.clone()),
        workflow_version: Set(run.workflow_version),
        node_id: Set(at.node_id.clone()),
        node_type: Set("policy".to_owned()),
        policy: Set(Some(at.policy.clone())),
        status: Set(at.status.as_str().to_owned()),
        attempt: Set(i32::try_from(at.attempt).unwrap_or(i32::MAX)),
        output: Set(Some(cipher.seal_text(
            &at.output.to_string(),
            &attempt_context(&a.id, "output"),
        ))),
        error: Set(at
            .error
            .as_ref()
            .map(|e| cipher.seal_text(e, &attempt_context(&a.id, "error")))),
        started_at: Set(at.started_at),
        completed_at: Set(at.completed_at),
        duration_ms: Set(i64::try_from(at.duration_ms).unwrap_or(i64::MAX)),
        created_at: Set(at.completed_at),
    }
}

fn check_status(s: &str) -> Result<CheckStatus, RepoError> {
    serde_json::from_value(Value::String(s.to_owned()))
        .map_err(|e| corrupt("workflow_node_executions.status", e))
}

fn node_type(s: &str) -> Result<NodeType, RepoError> {
    serde_json::from_value(Value::String(s.to_owned()))
        .map_err(|e| corrupt("workflow_node_executions.node_type", e))
}

pub(crate) fn execution_from(m: execs::Model, cipher: &Cipher) -> Result<NodeExecution, RepoError> {
    let output = match m.output {
        Some(sealed) => {
            let text = open(
                cipher,
                &sealed,
                &attempt_context(&m.id, "output"),
                "workflow_node_executions.output",
            )?;
            serde_json::from_str(&text)
                .map_err(|e| corrupt("workflow_node_executions.output", e))?
        }
        None => Value::Null,
    };
    let error = m
        .error
        .as_deref()
        .map(|sealed| {
            open(
                cipher,
                sealed,
                &attempt_context(&m.id, "error"),
                "workflow_node_executions.error",
            )
        })
        .transpose()?;
    Ok(NodeExecution {
        tenant: tenant_of(m.org_id, &m.environment)?,
        node_type: node_type(&m.node_type)?,
        attempt: AttemptRecord {
            node_id: m.node_id,
            policy: m.policy.unwrap_or_default(),
            attempt: u32::try_from(m.attempt).unwrap_or(0),
            status: check_status(&m.status)?,
            output,
            error,
            started_at: m.started_at,
            completed_at: m.completed_at,
            duration_ms: u64::try_from(m.duration_ms).unwrap_or(0),
        },
        id: m.id,
        run_id: m.run_id,
        session_id: m.session_id,
        workflow_id: m.workflow_id,
        workflow_version: m.workflow_version,
    })
}
