//! Manual-review cases (CONTRACT §8): reading cases and their notes, the review tabs; the
//! reviewer actions live in [`actions`] (and [`bulk`] for many cases), decisions in
//! [`decide`], the background sweeps (idle claims, SLA breaches) in [`jobs`], and opening a
//! case (with its session change, or by hand) in [`opening`], override and continue in
//! [`overriding`], demo cases in [`demo`], PII corrections in [`pii`].
//!
//! `reviewer_id` names an active org user of the caller's organization with the `reviewer` or
//! `admin` role (422 otherwise).

mod actions;
mod bulk;
mod decide;
mod demo;
pub mod jobs;
mod opening;
mod overriding;
mod pii;

pub use actions::Escalation;
pub use bulk::{BulkAction, BulkItem, BulkRequest, MAX_BULK_CASES};
pub use decide::DecisionRequest;
pub use demo::{MAX_DEMO_CASES, SPECIMEN_ID_FRONT, SPECIMEN_MRZ, SPECIMEN_SELFIE};
pub use opening::{NewCase, ReviewPolicy};
pub(crate) use opening::{opening_case, policy_for};
pub(crate) use overriding::ending_under_case;
pub use overriding::{MAX_OVERRIDE_REASON_LEN, Overridden, OverrideRequest};
pub use pii::{CorrectedResult, MAX_PII_VALUE_LEN};

use crate::actor::Caller;
use crate::crypto::{Cipher, LookupKey};
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use verifa_domain::case::lifecycle::MAX_NOTE_LEN;
use verifa_domain::case::{Case, CaseStatus, Priority, SlaStatus};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_ports::RepoError;
use verifa_ports::cases::{Assignee, CaseFilter, CaseSort, CaseStore, NoteRecord, TabCounts};
use verifa_ports::clock::Clock;
use verifa_ports::org_users::OrgUserRepository;
use verifa_ports::runs::RunStore;
use verifa_ports::sessions::SessionStore;

/// Filters of `GET /cases`, as received.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// Comma-separated statuses.
    pub status: Option<String>,
    /// `orguser_…` or `none`.
    pub assigned_to: Option<String>,
    /// Priority.
    pub priority: Option<String>,
    /// SLA band.
    pub sla_status: Option<String>,
    /// Case id, session id or external reference.
    pub q: Option<String>,
    /// `newest` (default) or `queue`.
    pub sort: Option<String>,
}

/// Filters of `POST /cases/search`, as received (arrays instead of comma lists).
#[derive(Debug, Clone, Default)]
pub struct CaseSearch {
    /// Case id, session id or external reference.
    pub q: Option<String>,
    /// Statuses.
    pub status: Vec<String>,
    /// Priorities.
    pub priority: Vec<String>,
    /// SLA bands.
    pub sla_status: Vec<String>,
    /// `orguser_…` or `none`.
    pub assigned_to: Option<String>,
    /// The session's external reference.
    pub external_ref: Option<String>,
    /// The identity.
    pub identity_id: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
}

/// A note as the API shows it (content decrypted).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// The stored note.
    pub record: NoteRecord,
    /// Its content.
    pub content: String,
}

/// What a reviewer looks at besides the case (`review` of `GET /cases/{id}`).
#[derive(Debug, Clone)]
pub struct Review {
    /// The session under review.
    pub session: verifa_domain::session::Session,
    /// Its result.
    pub result: Option<verifa_ports::sessions::ResultRecord>,
    /// Its documents' metadata, oldest first (the bytes come with signed URLs, CONTRACT §11.5).
    pub documents: Vec<verifa_ports::sessions::DocumentRecord>,
    /// The case's notes, oldest first.
    pub notes: Vec<Note>,
}

/// Case use cases.
pub struct CaseService {
    pub(crate) store: Arc<dyn CaseStore>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    runs: Arc<dyn RunStore>,
    documents: Arc<dyn verifa_ports::sessions::SessionDocuments>,
    settings: Arc<dyn verifa_ports::settings::SettingsStore>,
    users: Arc<dyn OrgUserRepository>,
    pub(crate) clock: Arc<dyn Clock>,
    cipher: Cipher,
    /// Keys identity-search lookup hashes of the results it writes.
    pub(crate) lookup_key: LookupKey,
}

fn note_context(case_id: &str) -> String {
    format!("case-note:{case_id}")
}

/// The parts of a comma list: blank is no filter; otherwise every part must be a value
/// (exactly the documented pattern: no spaces, no empty parts).
fn comma_parts(raw: &Option<String>) -> Vec<&str> {
    raw.iter()
        .filter(|r| !r.is_empty())
        .flat_map(|r| r.split(','))
        .collect()
}

const STATUSES: &str = "open, in_review, escalated, pending_second_review, approved, rejected";
const PRIORITIES: &str = "low, normal, high, urgent";
const SLA_BANDS: &str = "green, yellow, red";

/// Parses every part, naming the field of each that is not a value.
fn parse_each<'a, T>(
    field: &str,
    parts: impl IntoIterator<Item = &'a str>,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<T> {
    let mut out = Vec::new();
    for part in parts {
        match parse(part) {
            Some(v) => out.push(v),
            None => errors.push(FieldError::new(field, format!("must be one of {allowed}"))),
        }
    }
    out
}

/// `orguser_…` or `none`; blank is no filter.
fn assignee(raw: Option<String>) -> Option<Assignee> {
    raw.filter(|a| !a.is_empty()).map(|a| {
        if a == "none" {
            Assignee::Nobody
        } else {
            Assignee::Reviewer(a)
        }
    })
}

impl CaseService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports, cipher: Cipher, lookup_key: LookupKey) -> Self {
        Self {
            store: ports.cases.clone(),
            sessions: ports.sessions.clone(),
            runs: ports.runs.clone(),
            documents: ports.session_documents.clone(),
            settings: ports.settings.clone(),
            users: ports.org_users.clone(),
            clock: ports.clock.clone(),
            cipher,
            lookup_key,
        }
    }

    /// Checks that `reviewer_id` may review cases of the caller's organization.
    pub(crate) async fn reviewer(&self, caller: &Caller, id: &str) -> Result<String, AppError> {
        let field = "reviewer_id";
        match self.users.get(&caller.key.org_id, id).await {
            Ok(u) if !u.is_active => Err(AppError::invalid(field, "names a deactivated user")),
            Ok(u) if !u.role.reviews() => Err(AppError::invalid(
                field,
                "names a viewer; only reviewers and admins review cases",
            )),
            Ok(u) => Ok(u.id),
            Err(RepoError::NotFound) => Err(AppError::invalid(
                field,
                "names no user of this organization",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// One case.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Case, AppError> {
        self.store
            .get(&caller.tenant(), id)
            .await
            .map_err(AppError::from_repo("case"))
    }

    /// The time cases are judged by (SLA bands).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Lists cases.
    pub async fn list(
        &self,
        caller: &Caller,
        query: CaseQuery,
        page: PageRequest,
    ) -> Result<Page<Case>, AppError> {
        let mut errors = Vec::new();
        let statuses = parse_each(
            "status",
            comma_parts(&query.status),
            CaseStatus::parse,
            STATUSES,
            &mut errors,
        );
        let priorities = parse_each(
            "priority",
            comma_parts(&query.priority),
            Priority::parse,
            PRIORITIES,
            &mut errors,
        );
        let sla_statuses = parse_each(
            "sla_status",
            comma_parts(&query.sla_status),
            SlaStatus::parse,
            SLA_BANDS,
            &mut errors,
        );
        let sort = match query
            .sort
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None | Some("newest") => CaseSort::Newest,
            Some("queue") => CaseSort::Queue,
            Some(_) => {
                errors.push(FieldError::new("sort", "must be newest or queue"));
                CaseSort::Newest
            }
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let filter = CaseFilter {
            statuses,
            assigned_to: assignee(query.assigned_to),
            priorities,
            sla_statuses,
            q: query.q.filter(|q| !q.is_empty()),
            sort,
            ..CaseFilter::default()
        };
        Ok(self
            .store
            .list(&caller.tenant(), &filter, self.clock.now(), page)
            .await?)
    }

    /// Searches cases (`POST /cases/search`), newest first.
    pub async fn search(
        &self,
        caller: &Caller,
        search: CaseSearch,
        page: PageRequest,
    ) -> Result<Page<Case>, AppError> {
        let mut errors = Vec::new();
        let statuses = parse_each(
            "status",
            search.status.iter().map(String::as_str),
            CaseStatus::parse,
            STATUSES,
            &mut errors,
        );
        let priorities = parse_each(
            "priority",
            search.priority.iter().map(String::as_str),
            Priority::parse,
            PRIORITIES,
            &mut errors,
        );
        let sla_statuses = parse_each(
            "sla_status",
            search.sla_status.iter().map(String::as_str),
            SlaStatus::parse,
            SLA_BANDS,
            &mut errors,
        );
        if let (Some(a), Some(b)) = (search.created_after, search.created_before)
            && a >= b
        {
            errors.push(FieldError::new(
                "created_before",
                "must be later than created_after",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let blank_is_none = |v: Option<String>| v.filter(|v| !v.is_empty());
        let filter = CaseFilter {
            statuses,
            assigned_to: assignee(search.assigned_to),
            priorities,
            sla_statuses,
            q: blank_is_none(search.q),
            external_ref: blank_is_none(search.external_ref),
            identity_id: blank_is_none(search.identity_id),
            created_after: search.created_after,
            created_before: search.created_before,
            source: None,
            sort: CaseSort::Newest,
        };
        Ok(self
            .store
            .list(&caller.tenant(), &filter, self.clock.now(), page)
            .await?)
    }

    /// The review material of a case.
    pub async fn review(&self, caller: &Caller, case: &Case) -> Result<Review, AppError> {
        let session = self
            .sessions
            .get(&case.tenant, &case.session_id)
            .await
            .map_err(AppError::from_repo("session"))?;
        let result = self.sessions.result(&case.tenant, &case.session_id).await?;
        let documents = self
            .documents
            .documents(&case.tenant, &case.session_id)
            .await?;
        let notes = self.notes(caller, &case.id).await?;
        Ok(Review {
            session,
            result,
            documents,
            notes,
        })
    }

    /// Counts of the review tabs.
    pub async fn tab_counts(
        &self,
        caller: &Caller,
        reviewer_id: Option<&str>,
    ) -> Result<TabCounts, AppError> {
        Ok(self.store.tab_counts(&caller.tenant(), reviewer_id).await?)
    }

    /// The notes of a case, oldest first.
    pub async fn notes(&self, caller: &Caller, case_id: &str) -> Result<Vec<Note>, AppError> {
        let case = self.get(caller, case_id).await?;
        let records = self.store.notes(&case.tenant, &case.id).await?;
        records
            .into_iter()
            .map(|record| {
                let content = self
                    .cipher
                    .open_text(&record.content_sealed, &note_context(&record.case_id))
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                Ok(Note { record, content })
            })
            .collect()
    }

    /// Adds a note by `author_id` (an org user) or, without one, by the calling key.
    pub async fn add_note(
        &self,
        caller: &Caller,
        case_id: &str,
        content: &str,
        author_id: Option<&str>,
    ) -> Result<Note, AppError> {
        let len = content.chars().count();
        if content.trim().is_empty() || len > MAX_NOTE_LEN {
            return Err(AppError::invalid(
                "content",
                format!("must be 1 to {MAX_NOTE_LEN} characters"),
            ));
        }
        let case = self.get(caller, case_id).await?;
        let (author_id, author_name, author_type) = match author_id {
            Some(id) => match self.users.get(&caller.key.org_id, id).await {
                Ok(u) => (Some(u.id), u.name, "org"),
                Err(RepoError::NotFound) => {
                    return Err(AppError::invalid(
                        "author_id",
                        "names no user of this organization",
                    ));
                }
                Err(e) => return Err(e.into()),
            },
            None => (
                None,
                caller
                    .key
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("API key {}", caller.key.key_prefix)),
                "api",
            ),
        };
        let now = self.clock.now();
        let record = NoteRecord {
            id: new_id(prefix::NOTE),
            case_id: case.id.clone(),
            tenant: case.tenant.clone(),
            author_id,
            author_name,
            author_type: author_type.to_owned(),
            content_sealed: self.cipher.seal_text(content, &note_context(&case.id)),
            created_at: now,
        };
        let audit = caller
            .audit("case.note_added", "case", &case.id, now)
            .with_changes(["notes"])
            .with_metadata("note_id", record.id.clone());
        self.store.add_note(&record, &[audit]).await?;
        Ok(Note {
            record,
            content: content.to_owned(),
        })
    }

    /// Stores `notes` (decision or escalation notes) as a note of the case, when given.
    pub(crate) async fn note_if_any(
        &self,
        caller: &Caller,
        case_id: &str,
        notes: Option<&str>,
        author_id: Option<&str>,
    ) -> Result<(), AppError> {
        match notes.filter(|n| !n.trim().is_empty()) {
            Some(n) => self
                .add_note(caller, case_id, n, author_id)
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    }
}
