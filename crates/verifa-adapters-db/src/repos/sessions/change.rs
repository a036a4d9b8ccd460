//! Writing a [`SessionChange`] inside an open transaction: the session row (compare-and-set on its
//! status), its events, its result (with its lookup hashes) and its run. Shared by the session store, the document store
//! and run commits, so every path writes a change the same way.

use super::rows::{result_active, session_active};
use crate::entities::{
    result_lookups as lookups, session_events as events, session_results as results, sessions,
    workflow_node_executions as execs, workflow_runs as runs,
};
use crate::error::map_db;
use crate::repos::common::in_tenant;
use crate::repos::runs::rows::{run_active, state_columns};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};
use verifa_crypto::Cipher;
use verifa_domain::session::Session;
use verifa_ports::RepoError;
use verifa_ports::sessions::{CaseWrite, NewEvent, ResultWrite, RunWrite, SessionChange};

/// Appends events to the log, with the payload of the session as the change leaves it.
pub(crate) async fn append_events(
    txn: &DatabaseTransaction,
    session: &Session,
    new: &[NewEvent],
) -> Result<(), RepoError> {
    for e in new {
        events::ActiveModel {
            seq: sea_orm::ActiveValue::NotSet,
            id: Set(e.id.clone()),
            org_id: Set(session.tenant.org_id.clone()),
            environment: Set(session.tenant.environment.as_str().to_owned()),
            session_id: Set(session.id.clone()),
            event_type: Set(e.event.event_type().to_owned()),
            data: Set(e.event.payload(session).to_string()),
            created_at: Set(session.updated_at),
        }
        .insert(txn)
        .await
        .map_err(map_db)?;
    }
    Ok(())
}

/// Writes a session change inside an open transaction.
pub(crate) async fn apply_in(
    txn: &DatabaseTransaction,
    change: &SessionChange,
    cipher: &Cipher,
) -> Result<(), RepoError> {
    let s = &change.session;
    let mut active = session_active(s)?;
    for col in [
        sessions::Column::Id,
        sessions::Column::OrgId,
        sessions::Column::Environment,
        sessions::Column::CreatedAt,
    ] {
        active.not_set(col);
    }
    let updated = sessions::Entity::update_many()
        .set(active)
        .filter(in_tenant(
            sessions::Column::OrgId,
            sessions::Column::Environment,
            &s.tenant,
        ))
        .filter(sessions::Column::Id.eq(s.id.clone()))
        .filter(sessions::Column::Status.eq(change.expected_status.as_str()))
        .filter(sessions::Column::Revision.eq(change.expected_revision))
        .exec(txn)
        .await
        .map_err(map_db)?;
    if updated.rows_affected != 1 {
        return Err(RepoError::Conflict("session changed".into()));
    }
    append_events(txn, s, &change.events).await?;
    write_result(txn, s, &change.result).await?;
    write_run(txn, s, change, cipher).await?;
    if let Some(feed) = &change.identity {
        crate::repos::identities::feed::feed_in(txn, s, feed).await?;
    }
    match &change.case {
        None => {}
        Some(CaseWrite::Open(opening)) => {
            crate::repos::cases::rows::open_in(txn, opening, cipher).await?;
        }
        Some(CaseWrite::Update(update)) => {
            let case =
                crate::repos::cases::rows::with_fed_identity(txn, &update.case, change).await?;
            crate::repos::cases::rows::update_in(txn, &case, cipher).await?;
            crate::repos::cases::rows::append_events(txn, &case, &update.events).await?;
            crate::repos::audit::append(txn, &update.audit).await?;
        }
    }
    crate::repos::audit::append(txn, &change.audit).await
}

async fn write_run(
    txn: &DatabaseTransaction,
    s: &Session,
    change: &SessionChange,
    cipher: &Cipher,
) -> Result<(), RepoError> {
    match &change.run {
        None => Ok(()),
        Some(RunWrite::Start(run)) => start_run(txn, s, run, cipher).await,
        Some(RunWrite::Update {
            run,
            expected_revision,
        }) => {
            let r = runs::Entity::update_many()
                .set(state_columns(run, cipher)?)
                .filter(runs::Column::Id.eq(run.id.clone()))
                .filter(runs::Column::Revision.eq(*expected_revision))
                .exec(txn)
                .await
                .map_err(map_db)?;
            if r.rows_affected == 1 {
                Ok(())
            } else {
                Err(RepoError::Conflict("workflow run changed".into()))
            }
        }
    }
}

async fn write_result(
    txn: &DatabaseTransaction,
    s: &Session,
    write: &ResultWrite,
) -> Result<(), RepoError> {
    match write {
        ResultWrite::Keep => Ok(()),
        ResultWrite::Clear => {
            results::Entity::delete_many()
                .filter(results::Column::SessionId.eq(s.id.clone()))
                .exec(txn)
                .await
                .map_err(map_db)?;
            replace_lookups(txn, s, &[]).await
        }
        ResultWrite::Put(result) => {
            results::Entity::insert(result_active(result)?)
                .on_conflict(
                    OnConflict::column(results::Column::SessionId)
                        .update_columns([
                            results::Column::OrgId,
                            results::Column::Environment,
                            results::Column::Status,
                            results::Column::Result,
                            results::Column::ExtractedDataEncrypted,
                            results::Column::RejectionReason,
                            results::Column::WorkflowRunId,
                            results::Column::Simulated,
                            results::Column::CaseId,
                            results::Column::DecidedBy,
                            results::Column::CreatedAt,
                            results::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await
                .map_err(map_db)?;
            match &result.lookups {
                Some(hashes) => replace_lookups(txn, s, hashes).await,
                None => Ok(()),
            }
        }
    }
}

/// Replaces the lookup hashes of the session's result with `hashes`.
async fn replace_lookups(
    txn: &DatabaseTransaction,
    s: &Session,
    hashes: &[String],
) -> Result<(), RepoError> {
    lookups::Entity::delete_many()
        .filter(lookups::Column::SessionId.eq(s.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    let mut unique: Vec<&String> = hashes.iter().collect();
    unique.sort();
    unique.dedup();
    if unique.is_empty() {
        return Ok(());
    }
    lookups::Entity::insert_many(unique.into_iter().map(|hash| lookups::ActiveModel {
        session_id: Set(s.id.clone()),
        hash: Set(hash.clone()),
        org_id: Set(s.tenant.org_id.clone()),
        environment: Set(s.tenant.environment.as_str().to_owned()),
    }))
    .exec_without_returning(txn)
    .await
    .map_err(map_db)?;
    Ok(())
}

/// Inserts a new run, deleting every earlier run of the session and its attempts.
async fn start_run(
    txn: &DatabaseTransaction,
    s: &Session,
    run: &verifa_domain::run::WorkflowRun,
    cipher: &Cipher,
) -> Result<(), RepoError> {
    let old: Vec<String> = runs::Entity::find()
        .select_only()
        .column(runs::Column::Id)
        .filter(runs::Column::SessionId.eq(s.id.clone()))
        .into_tuple()
        .all(txn)
        .await
        .map_err(map_db)?;
    if !old.is_empty() {
        execs::Entity::delete_many()
            .filter(execs::Column::RunId.is_in(old.clone()))
            .exec(txn)
            .await
            .map_err(map_db)?;
        runs::Entity::delete_many()
            .filter(runs::Column::Id.is_in(old))
            .exec(txn)
            .await
            .map_err(map_db)?;
    }
    run_active(run, cipher)?.insert(txn).await.map_err(map_db)?;
    Ok(())
}
