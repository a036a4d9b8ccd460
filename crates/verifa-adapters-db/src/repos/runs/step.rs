//! Writing one step of a workflow run: the run row (fenced by revision and lease owner) and the
//! node attempts the step recorded. On Postgres both go in one statement (a data-modifying CTE),
//! so a step that changes no session costs one round trip instead of four (BEGIN, UPDATE,
//! INSERT, COMMIT); elsewhere they are separate statements inside the caller's transaction.

use super::rows::{attempt_active, state_columns};
use crate::entities::{workflow_node_executions as execs, workflow_runs as runs};
use crate::error::map_db;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable,
    QueryFilter, Statement,
};
use verifa_crypto::Cipher;
use verifa_domain::run::WorkflowRun;
use verifa_ports::RepoError;
use verifa_ports::runs::NewAttempt;

/// Whether [`write`] is a single statement on this connection (so it needs no transaction).
pub(crate) fn one_statement<C: ConnectionTrait>(conn: &C) -> bool {
    conn.get_database_backend() == DbBackend::Postgres
}

/// Writes the run's new state if this worker still holds it at `expected_revision`, plus the
/// step's attempts. [`RepoError::Conflict`] (and nothing written) when the fence fails.
pub(crate) async fn write<C: ConnectionTrait>(
    conn: &C,
    run: &WorkflowRun,
    expected_revision: i32,
    executions: &[NewAttempt],
    cipher: &Cipher,
) -> Result<(), RepoError> {
    if !executions.is_empty() && one_statement(conn) {
        return write_in_one_statement(conn, run, expected_revision, executions, cipher).await;
    }
    let r = runs::Entity::update_many()
        .set(state_columns(run, cipher)?)
        .filter(runs::Column::Id.eq(run.id.clone()))
        .filter(runs::Column::Revision.eq(expected_revision))
        .filter(runs::Column::LeaseOwner.eq(run.lease.owner.clone().unwrap_or_default()))
        .exec(conn)
        .await
        .map_err(map_db)?;
    if r.rows_affected != 1 {
        return Err(RepoError::Conflict("lease lost".into()));
    }
    for e in executions {
        // A re-executed in-flight attempt (after a crash) replaces nothing: the attempt was
        // never committed, so the unique (run, node, attempt) key is free.
        attempt_active(run, e, cipher)
            .insert(conn)
            .await
            .map_err(map_db)?;
    }
    Ok(())
}

/// `WITH run AS (UPDATE … RETURNING id) INSERT INTO workflow_node_executions SELECT … FROM run`:
/// the attempts are inserted only when the fenced update matched, all in one statement.
async fn write_in_one_statement<C: ConnectionTrait>(
    conn: &C,
    run: &WorkflowRun,
    expected_revision: i32,
    executions: &[NewAttempt],
    cipher: &Cipher,
) -> Result<(), RepoError> {
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut param = |v: sea_orm::Value| {
        values.push(v);
        format!("${}", values.len())
    };
    let active = state_columns(run, cipher)?;
    let sets: Vec<String> = runs::Column::iter()
        .filter_map(|c| {
            let v = active.get(c).into_value()?;
            Some(format!("\"{}\" = {}", c.as_str(), param(v)))
        })
        .collect();
    let update = format!(
        "UPDATE workflow_runs SET {} WHERE id = {} AND revision = {} AND lease_owner = {} RETURNING id",
        sets.join(", "),
        param(run.id.clone().into()),
        param(expected_revision.into()),
        param(run.lease.owner.clone().unwrap_or_default().into()),
    );
    let columns: Vec<execs::Column> = execs::Column::iter().collect();
    let mut arms = Vec::with_capacity(executions.len());
    for e in executions {
        let row = attempt_active(run, e, cipher);
        let mut placeholders = Vec::with_capacity(columns.len());
        for c in &columns {
            let v = row.get(*c).into_value().ok_or_else(|| {
                RepoError::Unavailable(format!("execution column {} is not set", c.as_str()))
            })?;
            placeholders.push(param(v));
        }
        arms.push(format!("SELECT {} FROM run", placeholders.join(", ")));
    }
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect();
    let sql = format!(
        "WITH run AS ({update}) INSERT INTO workflow_node_executions ({}) {} RETURNING id",
        names.join(", "),
        arms.join(" UNION ALL ")
    );
    let inserted = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await
        .map_err(map_db)?;
    if inserted.len() != executions.len() {
        return Err(RepoError::Conflict("lease lost".into()));
    }
    Ok(())
}
