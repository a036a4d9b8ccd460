//! What the checks of a claimed run read from its session (facts, pre-fill fields, documents) and
//! how one check is executed. The session cannot change under a leased run in ways checks see
//! (uploads are refused once processing), so the inputs are read once per claim.

use crate::crypto::Cipher;
use crate::sessions::document_text_context;
use crate::sessions::open_fields;
use serde_json::{Map, Value};
use std::time::Instant;
use verifa_domain::run::{WorkflowRun, check_context};
use verifa_domain::session::Session;
use verifa_domain::workflow::Event;
use verifa_ports::RepoError;
use verifa_ports::checks::{CheckOutcome, CheckRegistry, CheckRequest, DocumentRef};
use verifa_ports::sessions::{SessionDocuments, SessionStore};

/// The session's facts, decrypted fields and documents.
pub(super) struct CheckInputs {
    session: Session,
    fields: Map<String, Value>,
    documents: Vec<DocumentRef>,
}

impl CheckInputs {
    /// Reads them for `run`.
    pub(super) async fn read(
        run: &WorkflowRun,
        sessions: &dyn SessionStore,
        documents: &dyn SessionDocuments,
        cipher: &Cipher,
    ) -> Result<Self, RepoError> {
        let session = sessions.get(&run.tenant, &run.session_id).await?;
        let data_cipher = crate::sessions::session_cipher(cipher, &session)
            .map_err(|e| RepoError::Corrupt(e.to_string()))?;
        let documents = documents
            .documents(&run.tenant, &run.session_id)
            .await?
            .into_iter()
            .map(|d| DocumentRef {
                text: d
                    .text_sealed
                    .as_deref()
                    .and_then(|t| data_cipher.open_text(t, &document_text_context(&d.id)).ok()),
                id: d.id,
                document_type: d.document_type.as_str().to_owned(),
                mime_type: d.mime_type,
            })
            .collect();
        let fields = open_fields(cipher, &session);
        Ok(Self {
            session,
            fields,
            documents,
        })
    }
}

/// One check to execute.
pub(super) struct CheckCall<'a> {
    pub node_id: &'a str,
    pub policy: &'a str,
    pub config: Value,
    pub attempt: u32,
}

/// Executes a check through `registry` and turns its outcome into the engine's event.
pub(super) async fn execute(
    registry: &CheckRegistry,
    run: &WorkflowRun,
    inputs: &CheckInputs,
    call: CheckCall<'_>,
    today: chrono::NaiveDate,
) -> Event {
    let request = CheckRequest {
        tenant: run.tenant.clone(),
        session_id: run.session_id.clone(),
        run_id: run.id.clone(),
        node_id: call.node_id.to_owned(),
        policy: call.policy.to_owned(),
        config: call.config,
        attempt: call.attempt,
        context: check_context(&run.state, &inputs.session, inputs.fields.clone()),
        documents: inputs.documents.clone(),
        today,
    };
    let started = Instant::now();
    let outcome = match registry.get(call.policy) {
        Some(executor) => executor.execute(&request).await,
        None => CheckOutcome::error(format!(
            "no executor is registered for policy '{}'",
            call.policy
        )),
    };
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Event::CheckFinished {
        node_id: call.node_id.to_owned(),
        attempt: call.attempt,
        status: outcome.status,
        output: outcome.output,
        error: outcome.error,
        duration_ms,
    }
}
