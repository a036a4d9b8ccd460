//! [`CaseStore`] on sea-orm. Cases open inside the session change that puts their session under
//! review ([`rows::open_in`], called from the session change writer) and are decided inside the
//! change that completes it; every write is fenced on the case's revision.

pub(crate) mod rows;

use crate::Database;
use crate::entities::{case_notes as notes, cases};
use crate::error::map_db;
use crate::repos::common::{fetch_page, in_tenant, settle, tenant_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rows::{append_events, from_model, update_in, with_fed_identity};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::case::{Case, CaseStatus, SlaStatus, sla::GREEN_FOR};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::cases::{
    Assignee, CaseFilter, CaseSort, CaseStore, ClaimNext, NewCaseEvent, NoteRecord, TabCounts,
};
use verifa_ports::sessions::SessionChange;

const DECIDED: [&str; 2] = ["approved", "rejected"];

fn scoped(tenant: &Tenant) -> sea_orm::Select<cases::Entity> {
    cases::Entity::find().filter(in_tenant(
        cases::Column::OrgId,
        cases::Column::Environment,
        tenant,
    ))
}

/// The SQL condition of one SLA band as of `now`, for active cases (decided ones are judged by
/// their decision time).
fn sla_condition(band: SlaStatus, now: DateTime<Utc>) -> Condition {
    let yellow_from = now - GREEN_FOR;
    let active = cases::Column::DecidedAt.is_null();
    match band {
        SlaStatus::Red => Condition::all()
            .add(active)
            .add(cases::Column::SlaDueAt.lte(now)),
        SlaStatus::Yellow => Condition::all()
            .add(active)
            .add(cases::Column::SlaDueAt.gt(now))
            .add(cases::Column::EnteredReviewAt.lte(yellow_from)),
        SlaStatus::Green => Condition::all()
            .add(active)
            .add(cases::Column::SlaDueAt.gt(now))
            .add(cases::Column::EnteredReviewAt.gt(yellow_from)),
    }
}

/// The review queue's order: priority (urgent first), then longest in review, then id.
fn in_queue_order(query: sea_orm::Select<cases::Entity>) -> sea_orm::Select<cases::Entity> {
    query
        .order_by_asc(cases::Column::PriorityRank)
        .order_by_asc(cases::Column::EnteredReviewAt)
        .order_by_asc(cases::Column::Id)
}

#[async_trait]
impl CaseStore for Database {
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Case, RepoError> {
        scoped(tenant)
            .filter(cases::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(|m| from_model(m, &self.cipher))
            .transpose()?
            .ok_or(RepoError::NotFound)
    }

    async fn active_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<Case>, RepoError> {
        scoped(tenant)
            .filter(cases::Column::SessionId.eq(session_id))
            .filter(cases::Column::Status.is_not_in(DECIDED))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(|m| from_model(m, &self.cipher))
            .transpose()
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &CaseFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Case>, RepoError> {
        let mut query = scoped(tenant);
        if !filter.statuses.is_empty() {
            query = query
                .filter(cases::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
        }
        match &filter.assigned_to {
            None => {}
            Some(Assignee::Nobody) => query = query.filter(cases::Column::AssignedTo.is_null()),
            Some(Assignee::Reviewer(r)) => {
                query = query.filter(cases::Column::AssignedTo.eq(r.clone()));
            }
        }
        if !filter.priorities.is_empty() {
            query = query.filter(
                cases::Column::Priority.is_in(filter.priorities.iter().map(|p| p.as_str())),
            );
        }
        if !filter.sla_statuses.is_empty() {
            let mut any = Condition::any();
            for band in &filter.sla_statuses {
                any = any.add(sla_condition(*band, now));
            }
            query = query.filter(any);
        }
        if let Some(q) = &filter.q {
            query = query.filter(
                Condition::any()
                    .add(cases::Column::Id.eq(q.clone()))
                    .add(cases::Column::SessionId.eq(q.clone()))
                    .add(cases::Column::ExternalRef.eq(q.clone())),
            );
        }
        if let Some(r) = &filter.external_ref {
            query = query.filter(cases::Column::ExternalRef.eq(r.clone()));
        }
        if let Some(i) = &filter.identity_id {
            query = query.filter(cases::Column::IdentityId.eq(i.clone()));
        }
        if let Some(t) = filter.created_after {
            query = query.filter(cases::Column::CreatedAt.gte(t));
        }
        if let Some(t) = filter.created_before {
            query = query.filter(cases::Column::CreatedAt.lt(t));
        }
        if let Some(s) = filter.source {
            query = query.filter(cases::Column::Source.eq(s.as_str()));
        }
        query = match filter.sort {
            CaseSort::Newest => query
                .order_by_desc(cases::Column::CreatedAt)
                .order_by_desc(cases::Column::Id),
            CaseSort::Queue => in_queue_order(query),
        };
        let (rows, total) = fetch_page(query, &self.conn, page).await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|m| from_model(m, &self.cipher))
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn queue_head(&self, tenant: &Tenant, limit: u64) -> Result<Vec<Case>, RepoError> {
        let unassigned = scoped(tenant)
            .filter(cases::Column::Status.eq(CaseStatus::Open.as_str()))
            .filter(cases::Column::AssignedTo.is_null());
        in_queue_order(unassigned)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| from_model(m, &self.cipher))
            .collect()
    }

    async fn claim_next(
        &self,
        tenant: &Tenant,
        claim: &ClaimNext<'_>,
    ) -> Result<Option<Case>, RepoError> {
        // SQLite: claims of this process queue in arrival order, then take the write lock at
        // BEGIN (no failed upgrade of a read, no busy-wait against each other). Postgres: lock
        // the first case no other claim holds, skipping those; claims run side by side.
        let _turn = match self.conn.get_database_backend() {
            sea_orm::DbBackend::Sqlite => Some(self.claim_queue.lock().await),
            _ => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = self
            .conn
            .begin_with_options(options)
            .await
            .map_err(map_db)?;
        let outcome = async {
            let unassigned = scoped(tenant)
                .filter(cases::Column::Status.eq(CaseStatus::Open.as_str()))
                .filter(cases::Column::AssignedTo.is_null());
            let Some(row) = in_queue_order(unassigned)
                .limit(1)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .one(&txn)
                .await
                .map_err(map_db)?
            else {
                return Ok(None);
            };
            let Some(claimed) = claim(from_model(row, &self.cipher)?) else {
                return Ok(None);
            };
            update_in(&txn, &claimed.case, &self.cipher).await?;
            append_events(&txn, &claimed.case, &claimed.events).await?;
            crate::repos::audit::append(&txn, &claimed.audit).await?;
            let mut case = claimed.case;
            case.revision = case.revision.saturating_add(1);
            Ok(Some(case))
        }
        .await;
        settle(txn, outcome).await
    }

    async fn update(
        &self,
        case: &Case,
        session: Option<&SessionChange>,
        events: &[NewCaseEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let mut after = case.clone();
            if let Some(change) = session {
                crate::repos::sessions::change::apply_in(&txn, change, &self.cipher).await?;
                after = with_fed_identity(&txn, &after, change).await?;
            }
            update_in(&txn, &after, &self.cipher).await?;
            append_events(&txn, &after, events).await?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn tab_counts(
        &self,
        tenant: &Tenant,
        reviewer: Option<&str>,
    ) -> Result<TabCounts, RepoError> {
        let active = || scoped(tenant).filter(cases::Column::Status.is_not_in(DECIDED));
        let count = |q: sea_orm::Select<cases::Entity>| async move {
            q.count(&self.conn).await.map_err(map_db)
        };
        Ok(TabCounts {
            unassigned: count(
                active()
                    .filter(cases::Column::Status.eq(CaseStatus::Open.as_str()))
                    .filter(cases::Column::AssignedTo.is_null()),
            )
            .await?,
            mine: match reviewer {
                None => 0,
                Some(r) => count(active().filter(cases::Column::AssignedTo.eq(r))).await?,
            },
            pending_second_review: count(
                active().filter(cases::Column::Status.eq(CaseStatus::PendingSecondReview.as_str())),
            )
            .await?,
            escalated: count(
                active().filter(cases::Column::Status.eq(CaseStatus::Escalated.as_str())),
            )
            .await?,
            all: count(active()).await?,
        })
    }

    async fn idle_claims(
        &self,
        idle_since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Case>, RepoError> {
        cases::Entity::find()
            .filter(cases::Column::Status.eq(CaseStatus::InReview.as_str()))
            .filter(cases::Column::AssignedTo.is_not_null())
            .filter(cases::Column::LastActivityAt.lte(idle_since))
            .order_by_asc(cases::Column::LastActivityAt)
            .order_by_asc(cases::Column::Id)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| from_model(m, &self.cipher))
            .collect()
    }

    async fn newly_breached(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Case>, RepoError> {
        cases::Entity::find()
            .filter(cases::Column::Status.is_not_in(DECIDED))
            .filter(cases::Column::SlaBreachedAt.is_null())
            .filter(cases::Column::SlaDueAt.lte(now))
            .order_by_asc(cases::Column::SlaDueAt)
            .order_by_asc(cases::Column::Id)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| from_model(m, &self.cipher))
            .collect()
    }

    async fn add_note(&self, note: &NoteRecord, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            notes::ActiveModel {
                id: Set(note.id.clone()),
                case_id: Set(note.case_id.clone()),
                org_id: Set(note.tenant.org_id.clone()),
                environment: Set(note.tenant.environment.as_str().to_owned()),
                author_id: Set(note.author_id.clone()),
                author_name: Set(note.author_name.clone()),
                author_type: Set(note.author_type.clone()),
                content_encrypted: Set(note.content_sealed.clone()),
                created_at: Set(note.created_at),
            }
            .insert(&txn)
            .await
            .map_err(map_db)?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn notes(&self, tenant: &Tenant, case_id: &str) -> Result<Vec<NoteRecord>, RepoError> {
        notes::Entity::find()
            .filter(in_tenant(
                notes::Column::OrgId,
                notes::Column::Environment,
                tenant,
            ))
            .filter(notes::Column::CaseId.eq(case_id))
            .order_by_asc(notes::Column::CreatedAt)
            .order_by_asc(notes::Column::Id)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| {
                Ok(NoteRecord {
                    tenant: tenant_of(m.org_id, &m.environment)?,
                    id: m.id,
                    case_id: m.case_id,
                    author_id: m.author_id,
                    author_name: m.author_name,
                    author_type: m.author_type,
                    content_sealed: m.content_encrypted,
                    created_at: m.created_at,
                })
            })
            .collect()
    }
}
