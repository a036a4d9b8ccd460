//! Sessions, their documents, results and event log. Every state change of a session is one
//! [`SessionChange`], committed atomically with its events (the webhook outbox), its result and,
//! where it starts or feeds one, its workflow run.
//!
//! - [`store`]: [`SessionStore`], the session rows and their changes.
//! - [`documents`]: [`SessionDocuments`], document metadata written with a change.
//! - [`log`]: [`SessionEventLog`], reading the event log.
//! - [`redaction`]: [`SessionRedaction`], crypto-shredding a session and deleting its blobs.
//! - [`keys`]: [`DataKeyStore`], re-wrapping data keys under a new master key.

pub mod documents;
pub mod keys;
pub mod log;
pub mod redaction;
pub mod store;

pub use documents::SessionDocuments;
pub use keys::{DataKeyStore, WrappedKey};
pub use log::SessionEventLog;
pub use redaction::{BlobDeletion, SessionRedaction};
pub use store::SessionStore;

use chrono::{DateTime, Utc};
use serde_json::Value;
use verifa_domain::audit::AuditDraft;
use verifa_domain::case::{Case, CaseEvent};
use verifa_domain::documents::DocumentType;
use verifa_domain::run::WorkflowRun;
use verifa_domain::session::{Session, SessionEvent, SessionStatus, Transition, Verdict};
use verifa_domain::tenancy::Tenant;

/// A stored document's metadata (bytes live in document storage, encrypted).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRecord {
    /// `doc_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Which side or kind of document.
    pub document_type: DocumentType,
    /// Sniffed MIME type.
    pub mime_type: String,
    /// Plaintext size.
    pub file_size_bytes: i64,
    /// Storage key.
    pub storage_key: String,
    /// SHA-256 of the plaintext.
    pub sha256: String,
    /// Text submitted with the document (MRZ), sealed.
    pub text_sealed: Option<String>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

/// The decision of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRecord {
    /// Session.
    pub session_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Outcome, summary and rejection reason.
    pub verdict: Verdict,
    /// Extracted data, sealed.
    pub extracted_data_sealed: Option<String>,
    /// The keyed lookup hashes of the result's personal data (CONTRACT §7.3), stored beside it
    /// for identity search. `Some` replaces the stored set when the result is written; `None`
    /// keeps it (records read back carry `None`: the hashes are written, never read).
    pub lookups: Option<Vec<String>>,
    /// Run that decided.
    pub workflow_run_id: Option<String>,
    /// Written by `simulate`.
    pub simulated: bool,
    /// The case whose final decision this result is (CONTRACT §8.3).
    pub case_id: Option<String>,
    /// The reviewer who decided it.
    pub decided_by: Option<String>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An event to append to the session event log (and webhook outbox). Its type and flat fields
/// come from the [`SessionEvent`] and the session as the change leaves it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// `evt_…`.
    pub id: String,
    /// What happened.
    pub event: SessionEvent,
}

/// An appended event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Position in the log.
    pub seq: i64,
    /// `evt_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Event name.
    pub event_type: String,
    /// Fields.
    pub data: Value,
    /// Time.
    pub created_at: DateTime<Utc>,
}

/// A `case.*` event to append to the outbox, with its `evt_…` id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCaseEvent {
    /// `evt_…`.
    pub id: String,
    /// What happened.
    pub event: CaseEvent,
}

/// A case opened with the session change that puts the session under review.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOpening {
    /// The new case.
    pub case: Case,
    /// Its `case.created` event.
    pub event: NewCaseEvent,
    /// Its `case.created` audit draft.
    pub audit: AuditDraft,
}

/// A case updated with the session change, fenced on the revision it was read at: a run that
/// a reviewer's override resumed ended, deciding the case or storing its recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseUpdate {
    /// The case after the change (`revision`: the one it was read at).
    pub case: Case,
    /// Its `case.*` events.
    pub events: Vec<NewCaseEvent>,
    /// Its audit drafts.
    pub audit: Vec<AuditDraft>,
}

/// What a session change does to a case, in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseWrite {
    /// Opens one (the change puts the session under review).
    Open(Box<CaseOpening>),
    /// Updates one.
    Update(Box<CaseUpdate>),
}

impl CaseWrite {
    /// The case written.
    pub fn case(&self) -> &Case {
        match self {
            CaseWrite::Open(o) => &o.case,
            CaseWrite::Update(u) => &u.case,
        }
    }
}

/// What a change does to the session's result.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ResultWrite {
    /// Leave it.
    #[default]
    Keep,
    /// Insert or replace it.
    Put(Box<ResultRecord>),
    /// Remove it (a new run starts).
    Clear,
}

/// A run to write with a session change.
#[derive(Debug, Clone, PartialEq)]
pub enum RunWrite {
    /// A new run; any earlier run of the session is deleted (trigger / reprocess replace it).
    Start(Box<WorkflowRun>),
    /// Update the run (decision, resume), fenced on the revision it was read with.
    Update {
        /// New values (`revision` already advanced).
        run: Box<WorkflowRun>,
        /// Revision read before the change.
        expected_revision: i32,
    },
}

/// An atomic change of a session: the new row (compare-and-set on the revision it was read at),
/// events to append, a result to write or clear, a run to write.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionChange {
    /// The session after the change (its `revision` one past `expected_revision`).
    pub session: Session,
    /// The status it had when read (kept for messages and checks).
    pub expected_status: SessionStatus,
    /// The revision it had when read; the write fails with `Conflict` if it changed since.
    pub expected_revision: i32,
    /// Events to append, in order.
    pub events: Vec<NewEvent>,
    /// What happens to the result.
    pub result: ResultWrite,
    /// A run to write.
    pub run: Option<RunWrite>,
    /// Audit events recording who made the change, appended in the same transaction.
    pub audit: Vec<AuditDraft>,
    /// The identity a completing session feeds (upserted in the same transaction; see
    /// [`crate::identities::resolve_feed`]).
    pub identity: Option<crate::identities::IdentityFeed>,
    /// The case the change opens or updates (same transaction).
    pub case: Option<CaseWrite>,
}

impl SessionChange {
    /// The change a domain transition describes; `event_id` names each event (`evt_…`).
    pub fn from_transition(t: Transition, mut event_id: impl FnMut() -> String) -> Self {
        let mut session = t.session;
        let expected_revision = session.revision;
        session.revision = expected_revision.saturating_add(1);
        Self {
            expected_status: t.before,
            expected_revision,
            events: t
                .events
                .into_iter()
                .map(|event| NewEvent {
                    id: event_id(),
                    event,
                })
                .collect(),
            session,
            result: ResultWrite::Keep,
            run: None,
            audit: Vec::new(),
            identity: None,
            case: None,
        }
    }

    /// The same change, also recording `draft` in the audit trail.
    pub fn with_audit(mut self, draft: AuditDraft) -> Self {
        self.audit.push(draft);
        self
    }

    /// The same change, also feeding the session's identity.
    pub fn feeding_identity(mut self, feed: crate::identities::IdentityFeed) -> Self {
        self.identity = Some(feed);
        self
    }

    /// The same change, also opening a case.
    pub fn opening_case(mut self, opening: CaseOpening) -> Self {
        self.case = Some(CaseWrite::Open(Box::new(opening)));
        self
    }

    /// The same change, also updating a case.
    pub fn updating_case(mut self, update: CaseUpdate) -> Self {
        self.case = Some(CaseWrite::Update(Box::new(update)));
        self
    }

    /// The same change, also writing `result`.
    pub fn with_result(mut self, result: ResultRecord) -> Self {
        self.result = ResultWrite::Put(Box::new(result));
        self
    }

    /// The same change, also removing the current result.
    pub fn clearing_result(mut self) -> Self {
        self.result = ResultWrite::Clear;
        self
    }

    /// The same change, also writing a run.
    pub fn with_run(mut self, run: RunWrite) -> Self {
        self.run = Some(run);
        self
    }
}

/// The two passes of the retention sweeper (CONTRACT §11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionPass {
    /// Sessions still `active` whose sensitive-data window closed.
    Sensitive,
    /// Sessions not yet redacted whose retention period ended and was not yet announced.
    Full,
}

/// Filters of the session list.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Status.
    pub status: Option<SessionStatus>,
    /// Session id or external reference.
    pub q: Option<String>,
    /// External reference.
    pub external_ref: Option<String>,
}
