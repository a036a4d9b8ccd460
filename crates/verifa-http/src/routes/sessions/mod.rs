//! The Sessions group (CONTRACT §3, §2.3 #5–#6, §2.4), mirroring the use cases' rooms:
//!
//! - [`lifecycle`]: create, list, read, update, submit, expire, simulate.
//! - [`documents`]: uploads and document metadata.
//! - [`downloads`]: a document's bytes by its signed link (no API key).
//! - [`links`]: capture links (resume, one-time links) and the capture page.
//! - [`runs`]: reprocess, trigger, gate decisions, resume, the run and its attempts.
//! - [`results`]: the decision and the event log.
//! - [`redaction`]: redacting one session or a batch (CONTRACT §11.4).
//! - [`export`]: the data-subject access export of a session.
//! - [`objects`], [`run_objects`]: the response bodies; [`input`]: `POST /sessions` aliases.

pub mod documents;
pub mod downloads;
pub mod export;
pub mod input;
pub mod lifecycle;
pub mod links;
pub mod objects;
pub mod redaction;
pub mod results;
pub mod run_objects;
pub mod runs;

pub use objects::SessionObject;

use crate::state::AppState;
use axum::extract::Path;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const READ: &str = "sessions:read";
const CREATE: &str = "sessions:create";
const WRITE: &str = "sessions:write";
const VERIFICATIONS: &str = "verifications:read";
const DOCUMENTS: &str = "documents:write";

type Id = Path<String>;

/// Routes of the group that need an API key (document uploads get their own body limit).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lifecycle::list_sessions, lifecycle::create_session))
        .routes(routes!(lifecycle::get_session, lifecycle::update_session))
        .routes(crate::with_body_limit(
            routes!(documents::list_documents, documents::upload_document),
            crate::DOCUMENT_BODY_LIMIT,
        ))
        .routes(routes!(lifecycle::submit_session))
        .routes(routes!(lifecycle::expire_session))
        .routes(routes!(links::resume_session))
        .routes(routes!(lifecycle::simulate_session))
        .routes(routes!(runs::reprocess_session))
        .routes(routes!(results::get_result))
        .routes(routes!(links::generate_link))
        .routes(routes!(runs::external_decision))
        .routes(routes!(runs::resume_run))
        .routes(routes!(runs::get_workflow_run))
        .routes(routes!(runs::list_verifications))
        .routes(routes!(runs::list_attempts))
        .routes(routes!(results::list_events))
        .routes(routes!(runs::trigger_workflow))
        .routes(routes!(redaction::redact_session))
        .routes(routes!(redaction::bulk_redact_sessions))
        .routes(routes!(export::export_session))
}
