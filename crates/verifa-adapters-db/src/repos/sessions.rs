//! [`SessionRepository`] on sea-orm: sessions, documents, results, the event log and runs.
//! Every state change is one transaction: the session row (compare-and-set on its status), its
//! events, its result and its run.

use crate::Database;
use crate::entities::{
    session_documents as docs, session_events as events, session_results as results, sessions,
    workflow_node_executions as execs, workflow_runs as runs,
};
use crate::error::{corrupt, map_db};
use crate::repos::common::{fetch_page, in_tenant, settle, tenant_of};
use crate::repos::run_step;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use serde_json::Value;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::sessions::{
    DocumentRecord, EventRecord, NewEvent, NodeExecutionRecord, ResultRecord, RunRecord, RunWrite,
    SessionChange, SessionFilter, SessionRecord, SessionRepository,
};

fn session_active(s: &SessionRecord) -> sessions::ActiveModel {
    sessions::ActiveModel {
        id: Set(s.id.clone()),
        org_id: Set(s.tenant.org_id.clone()),
        environment: Set(s.tenant.environment.as_str().to_owned()),
        status: Set(s.status.as_str().to_owned()),
        workflow_id: Set(s.workflow_id.clone()),
        external_ref: Set(s.external_ref.clone()),
        metadata: Set(Value::Object(s.metadata.clone()).to_string()),
        country: Set(s.country.clone()),
        checks: Set(s
            .checks
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_else(|_| "[]".into()))),
        fields_encrypted: Set(s.fields_encrypted.clone()),
        redirect_url: Set(s.redirect_url.clone()),
        capture_token_hash: Set(s.capture_token_hash.clone()),
        token_expires_at: Set(s.token_expires_at),
        document_type: Set(s.document_type.clone()),
        retention_status: Set(s.retention_status.clone()),
        processing_attempts: Set(s.processing_attempts),
        consent_ip: Set(s.consent_ip.clone()),
        tags: Set(serde_json::to_string(&s.tags).unwrap_or_else(|_| "[]".into())),
        expired_at: Set(s.expired_at),
        completed_at: Set(s.completed_at),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
    }
}

fn session_from(m: sessions::Model) -> Result<SessionRecord, RepoError> {
    let metadata = match serde_json::from_str::<Value>(&m.metadata)
        .map_err(|e| corrupt("sessions.metadata", e))?
    {
        Value::Object(map) => map,
        _ => return Err(corrupt("sessions.metadata", "not an object")),
    };
    Ok(SessionRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        status: m
            .status
            .parse()
            .map_err(|e: String| corrupt("sessions.status", e))?,
        metadata,
        checks: m
            .checks
            .map(|c| serde_json::from_str(&c))
            .transpose()
            .map_err(|e| corrupt("sessions.checks", e))?,
        tags: serde_json::from_str(&m.tags).map_err(|e| corrupt("sessions.tags", e))?,
        id: m.id,
        workflow_id: m.workflow_id,
        external_ref: m.external_ref,
        country: m.country,
        fields_encrypted: m.fields_encrypted,
        redirect_url: m.redirect_url,
        capture_token_hash: m.capture_token_hash,
        token_expires_at: m.token_expires_at,
        document_type: m.document_type,
        retention_status: m.retention_status,
        processing_attempts: m.processing_attempts,
        consent_ip: m.consent_ip,
        expired_at: m.expired_at,
        completed_at: m.completed_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn doc_from(m: docs::Model) -> Result<DocumentRecord, RepoError> {
    Ok(DocumentRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        id: m.id,
        session_id: m.session_id,
        document_type: m.document_type,
        mime_type: m.mime_type,
        file_size_bytes: m.file_size_bytes,
        storage_key: m.storage_key,
        sha256: m.sha256,
        text_encrypted: m.text_encrypted,
        created_at: m.created_at,
    })
}

fn result_active(r: &ResultRecord) -> results::ActiveModel {
    results::ActiveModel {
        session_id: Set(r.session_id.clone()),
        org_id: Set(r.tenant.org_id.clone()),
        environment: Set(r.tenant.environment.as_str().to_owned()),
        status: Set(r.status.clone()),
        result: Set(r.result.to_string()),
        extracted_data_encrypted: Set(r.extracted_data_encrypted.clone()),
        rejection_reason: Set(r.rejection_reason.clone()),
        workflow_run_id: Set(r.workflow_run_id.clone()),
        simulated: Set(r.simulated),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    }
}

pub(super) fn run_active(r: &RunRecord) -> runs::ActiveModel {
    runs::ActiveModel {
        id: Set(r.id.clone()),
        org_id: Set(r.tenant.org_id.clone()),
        environment: Set(r.tenant.environment.as_str().to_owned()),
        session_id: Set(r.session_id.clone()),
        workflow_id: Set(r.workflow_id.clone()),
        workflow_version: Set(r.workflow_version),
        status: Set(r.status.clone()),
        final_status: Set(r.final_status.clone()),
        current_node: Set(r.current_node.clone()),
        paused_at_node: Set(r.paused_at_node.clone()),
        graph_snapshot: Set(r.graph_snapshot.clone()),
        state: Set(r.state.clone()),
        simulated: Set(r.simulated),
        runnable_at: Set(r.runnable_at),
        next_event: Set(r.next_event.clone()),
        lease_owner: Set(r.lease_owner.clone()),
        lease_until: Set(r.lease_until),
        revision: Set(r.revision),
        started_at: Set(r.started_at),
        completed_at: Set(r.completed_at),
        duration_ms: Set(r.duration_ms),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    }
}

fn run_from(m: runs::Model) -> Result<RunRecord, RepoError> {
    Ok(RunRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        id: m.id,
        session_id: m.session_id,
        workflow_id: m.workflow_id,
        workflow_version: m.workflow_version,
        status: m.status,
        final_status: m.final_status,
        current_node: m.current_node,
        paused_at_node: m.paused_at_node,
        graph_snapshot: m.graph_snapshot,
        state: m.state,
        simulated: m.simulated,
        runnable_at: m.runnable_at,
        next_event: m.next_event,
        lease_owner: m.lease_owner,
        lease_until: m.lease_until,
        revision: m.revision,
        started_at: m.started_at,
        completed_at: m.completed_at,
        duration_ms: m.duration_ms,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(super) fn exec_active(e: &NodeExecutionRecord) -> execs::ActiveModel {
    execs::ActiveModel {
        id: Set(e.id.clone()),
        run_id: Set(e.run_id.clone()),
        org_id: Set(e.tenant.org_id.clone()),
        environment: Set(e.tenant.environment.as_str().to_owned()),
        session_id: Set(e.session_id.clone()),
        workflow_id: Set(e.workflow_id.clone()),
        workflow_version: Set(e.workflow_version),
        node_id: Set(e.node_id.clone()),
        node_type: Set(e.node_type.clone()),
        policy: Set(e.policy.clone()),
        status: Set(e.status.clone()),
        attempt: Set(e.attempt),
        output: Set(e.output.as_ref().map(Value::to_string)),
        error: Set(e.error.clone()),
        started_at: Set(e.started_at),
        completed_at: Set(e.completed_at),
        duration_ms: Set(e.duration_ms),
        created_at: Set(e.completed_at),
    }
}

fn exec_from(m: execs::Model) -> Result<NodeExecutionRecord, RepoError> {
    Ok(NodeExecutionRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        output: m
            .output
            .map(|o| serde_json::from_str(&o))
            .transpose()
            .map_err(|e| corrupt("workflow_node_executions.output", e))?,
        id: m.id,
        run_id: m.run_id,
        session_id: m.session_id,
        workflow_id: m.workflow_id,
        workflow_version: m.workflow_version,
        node_id: m.node_id,
        node_type: m.node_type,
        policy: m.policy,
        status: m.status,
        attempt: m.attempt,
        error: m.error,
        started_at: m.started_at,
        completed_at: m.completed_at,
        duration_ms: m.duration_ms,
    })
}

async fn append_events(
    txn: &DatabaseTransaction,
    session: &SessionRecord,
    new: &[NewEvent],
) -> Result<(), RepoError> {
    for e in new {
        events::ActiveModel {
            seq: sea_orm::ActiveValue::NotSet,
            id: Set(e.id.clone()),
            org_id: Set(session.tenant.org_id.clone()),
            environment: Set(session.tenant.environment.as_str().to_owned()),
            session_id: Set(session.id.clone()),
            event_type: Set(e.event_type.clone()),
            data: Set(e.data.to_string()),
            created_at: Set(session.updated_at),
        }
        .insert(txn)
        .await
        .map_err(map_db)?;
    }
    Ok(())
}

/// Writes a session change inside an open transaction.
async fn apply_in(txn: &DatabaseTransaction, change: &SessionChange) -> Result<(), RepoError> {
    let s = &change.session;
    let mut active = session_active(s);
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
        .exec(txn)
        .await
        .map_err(map_db)?;
    if updated.rows_affected != 1 {
        return Err(RepoError::Conflict("session status changed".into()));
    }
    append_events(txn, s, &change.events).await?;
    if change.clear_result {
        results::Entity::delete_many()
            .filter(results::Column::SessionId.eq(s.id.clone()))
            .exec(txn)
            .await
            .map_err(map_db)?;
    }
    if let Some(result) = &change.result {
        results::Entity::insert(result_active(result))
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
                        results::Column::CreatedAt,
                        results::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await
            .map_err(map_db)?;
    }
    match &change.run {
        None => {}
        Some(RunWrite::Start(run)) => {
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
            run_active(run).insert(txn).await.map_err(map_db)?;
        }
        Some(RunWrite::Update {
            run,
            expected_revision,
        }) => {
            let mut active = run_active(run);
            active.not_set(runs::Column::Id);
            let r = runs::Entity::update_many()
                .set(active)
                .filter(runs::Column::Id.eq(run.id.clone()))
                .filter(runs::Column::Revision.eq(*expected_revision))
                .exec(txn)
                .await
                .map_err(map_db)?;
            if r.rows_affected != 1 {
                return Err(RepoError::Conflict("workflow run changed".into()));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl SessionRepository for Database {
    async fn insert(
        &self,
        session: &SessionRecord,
        new_events: &[NewEvent],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        session_active(session).insert(&txn).await.map_err(map_db)?;
        append_events(&txn, session, new_events).await?;
        txn.commit().await.map_err(map_db)
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<SessionRecord, RepoError> {
        let m = sessions::Entity::find()
            .filter(in_tenant(
                sessions::Column::OrgId,
                sessions::Column::Environment,
                tenant,
            ))
            .filter(sessions::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        session_from(m)
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<SessionRecord>, RepoError> {
        let mut q = sessions::Entity::find().filter(in_tenant(
            sessions::Column::OrgId,
            sessions::Column::Environment,
            tenant,
        ));
        if let Some(status) = filter.status {
            q = q.filter(sessions::Column::Status.eq(status.as_str()));
        }
        if let Some(r) = &filter.external_ref {
            q = q.filter(sessions::Column::ExternalRef.eq(r.clone()));
        }
        if let Some(term) = &filter.q {
            q = q.filter(
                Condition::any()
                    .add(sessions::Column::Id.eq(term.clone()))
                    .add(sessions::Column::ExternalRef.eq(term.clone())),
            );
        }
        let (rows, total) = fetch_page(
            q.order_by_desc(sessions::Column::CreatedAt)
                .order_by_desc(sessions::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(session_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn apply(&self, change: &SessionChange) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = apply_in(&txn, change).await;
        settle(txn, outcome).await
    }

    async fn put_document(
        &self,
        document: &DocumentRecord,
        change: &SessionChange,
    ) -> Result<Option<DocumentRecord>, RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            apply_in(&txn, change).await?;
            let previous = docs::Entity::find()
                .filter(docs::Column::SessionId.eq(document.session_id.clone()))
                .filter(docs::Column::DocumentType.eq(document.document_type.clone()))
                .one(&txn)
                .await
                .map_err(map_db)?;
            if let Some(p) = &previous {
                docs::Entity::delete_by_id(p.id.clone())
                    .exec(&txn)
                    .await
                    .map_err(map_db)?;
            }
            docs::ActiveModel {
                id: Set(document.id.clone()),
                session_id: Set(document.session_id.clone()),
                org_id: Set(document.tenant.org_id.clone()),
                environment: Set(document.tenant.environment.as_str().to_owned()),
                document_type: Set(document.document_type.clone()),
                mime_type: Set(document.mime_type.clone()),
                file_size_bytes: Set(document.file_size_bytes),
                storage_key: Set(document.storage_key.clone()),
                sha256: Set(document.sha256.clone()),
                text_encrypted: Set(document.text_encrypted.clone()),
                created_at: Set(document.created_at),
            }
            .insert(&txn)
            .await
            .map_err(map_db)?;
            previous.map(doc_from).transpose()
        }
        .await;
        settle(txn, outcome).await
    }

    async fn documents(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Vec<DocumentRecord>, RepoError> {
        docs::Entity::find()
            .filter(in_tenant(
                docs::Column::OrgId,
                docs::Column::Environment,
                tenant,
            ))
            .filter(docs::Column::SessionId.eq(session_id))
            .order_by_asc(docs::Column::CreatedAt)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(doc_from)
            .collect()
    }

    async fn result(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<ResultRecord>, RepoError> {
        let Some(m) = results::Entity::find()
            .filter(in_tenant(
                results::Column::OrgId,
                results::Column::Environment,
                tenant,
            ))
            .filter(results::Column::SessionId.eq(session_id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
        else {
            return Ok(None);
        };
        Ok(Some(ResultRecord {
            tenant: tenant_of(m.org_id, &m.environment)?,
            result: serde_json::from_str(&m.result)
                .map_err(|e| corrupt("session_results.result", e))?,
            session_id: m.session_id,
            status: m.status,
            extracted_data_encrypted: m.extracted_data_encrypted,
            rejection_reason: m.rejection_reason,
            workflow_run_id: m.workflow_run_id,
            simulated: m.simulated,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }))
    }

    async fn events(
        &self,
        tenant: &Tenant,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<EventRecord>, RepoError> {
        let q = events::Entity::find()
            .filter(in_tenant(
                events::Column::OrgId,
                events::Column::Environment,
                tenant,
            ))
            .filter(events::Column::SessionId.eq(session_id));
        let (rows, total) =
            fetch_page(q.order_by_asc(events::Column::Seq), &self.conn, page).await?;
        let items = rows
            .into_iter()
            .map(|m| {
                Ok(EventRecord {
                    data: serde_json::from_str(&m.data)
                        .map_err(|e| corrupt("session_events.data", e))?,
                    seq: m.seq,
                    id: m.id,
                    session_id: m.session_id,
                    event_type: m.event_type,
                    created_at: m.created_at,
                })
            })
            .collect::<Result<_, RepoError>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn run_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<RunRecord>, RepoError> {
        runs::Entity::find()
            .filter(in_tenant(
                runs::Column::OrgId,
                runs::Column::Environment,
                tenant,
            ))
            .filter(runs::Column::SessionId.eq(session_id))
            .order_by_desc(runs::Column::CreatedAt)
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(run_from)
            .transpose()
    }

    async fn executions(
        &self,
        tenant: &Tenant,
        session_id: &str,
        policy: Option<&str>,
    ) -> Result<Vec<NodeExecutionRecord>, RepoError> {
        let mut q = execs::Entity::find()
            .filter(in_tenant(
                execs::Column::OrgId,
                execs::Column::Environment,
                tenant,
            ))
            .filter(execs::Column::SessionId.eq(session_id));
        if let Some(p) = policy {
            q = q.filter(execs::Column::Policy.eq(p));
        }
        q.order_by_asc(execs::Column::StartedAt)
            .order_by_asc(execs::Column::Attempt)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(exec_from)
            .collect()
    }

    async fn stale_capture_sessions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<SessionRecord>, RepoError> {
        sessions::Entity::find()
            .filter(sessions::Column::Status.is_in(["pending", "capturing"]))
            .filter(sessions::Column::TokenExpiresAt.lt(now))
            .order_by_asc(sessions::Column::TokenExpiresAt)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(session_from)
            .collect()
    }

    async fn claim_run(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<RunRecord>, RepoError> {
        let backend = self.conn.get_database_backend();
        // One statement picks and leases a run. On Postgres, SKIP LOCKED lets several processes
        // claim different runs concurrently; SQLite serialises writers, which has the same effect.
        let sql = match backend {
            DbBackend::Postgres => {
                "UPDATE workflow_runs SET lease_owner = $1, lease_until = $2, revision = revision + 1 \
                 WHERE id = (SELECT id FROM workflow_runs WHERE runnable_at IS NOT NULL AND runnable_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) ORDER BY runnable_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *"
            }
            _ => {
                "UPDATE workflow_runs SET lease_owner = ?, lease_until = ?, revision = revision + 1 \
                 WHERE id = (SELECT id FROM workflow_runs WHERE runnable_at IS NOT NULL AND runnable_at <= ? \
                 AND (lease_until IS NULL OR lease_until < ?) ORDER BY runnable_at, id LIMIT 1) RETURNING *"
            }
        };
        let values: Vec<sea_orm::Value> = match backend {
            DbBackend::Postgres => vec![owner.into(), lease_until.into(), now.into()],
            _ => vec![owner.into(), lease_until.into(), now.into(), now.into()],
        };
        runs::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(run_from)
            .transpose()
    }

    async fn commit_run(
        &self,
        run: &RunRecord,
        expected_revision: i32,
        executions: &[NodeExecutionRecord],
        change: Option<&SessionChange>,
    ) -> Result<(), RepoError> {
        if change.is_none() && (executions.is_empty() || run_step::one_statement(&self.conn)) {
            // One statement is atomic on its own: no transaction round trips.
            return run_step::write(&self.conn, run, expected_revision, executions).await;
        }
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            run_step::write(&txn, run, expected_revision, executions).await?;
            if let Some(change) = change {
                apply_in(&txn, change).await?;
            }
            Ok(())
        }
        .await;
        settle(txn, outcome).await
    }
}
