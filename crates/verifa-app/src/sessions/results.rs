//! What a session ended with: its decision (extracted data decrypted for the caller) and its
//! event log.

use super::SessionService;
use crate::api_keys::Caller;
use crate::error::AppError;
use serde_json::{Map, Value};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::Session;
use verifa_ports::sessions::{EventRecord, ResultRecord};

/// A result as the API shows it.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// The stored result.
    pub record: ResultRecord,
    /// Decrypted extracted data (empty once past the sensitive-data window or redacted).
    pub extracted_data: Map<String, Value>,
    /// The session.
    pub session: Session,
}

impl SessionService {
    /// The decision of a session (404 until there is one).
    pub async fn result(&self, caller: &Caller, id: &str) -> Result<ResultView, AppError> {
        let session = self.get(caller, id).await?;
        let record = self
            .sessions
            .result(&session.tenant, id)
            .await?
            .ok_or(AppError::NotFound("result"))?;
        // Past the sensitive-data window the data stays stored (exports read it) but the API
        // no longer shows it (CONTRACT §11.3); redacted, there is none left.
        let extracted_data = if session.serves_documents() {
            super::open_extracted(&self.cipher, &session, &record)?
        } else {
            Map::new()
        };
        Ok(ResultView {
            record,
            extracted_data,
            session,
        })
    }

    /// The decision of `session` for a data-subject export: the extracted data decrypted
    /// even past the sensitive-data window (none is left once redacted); `None` before any.
    pub async fn result_for_export(
        &self,
        caller: &Caller,
        session: &Session,
    ) -> Result<Option<ResultView>, AppError> {
        let Some(record) = self.sessions.result(&caller.tenant(), &session.id).await? else {
            return Ok(None);
        };
        let extracted_data = super::open_extracted(&self.cipher, session, &record)?;
        Ok(Some(ResultView {
            record,
            extracted_data,
            session: session.clone(),
        }))
    }

    /// The session's document metadata, whatever its retention status (exports).
    pub async fn stored_documents(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<verifa_ports::sessions::DocumentRecord>, AppError> {
        Ok(self.documents.documents(&caller.tenant(), id).await?)
    }

    /// The session's event log.
    pub async fn events(
        &self,
        caller: &Caller,
        id: &str,
        page: PageRequest,
    ) -> Result<Page<EventRecord>, AppError> {
        let session = self.get(caller, id).await?;
        Ok(self.events.events(&session.tenant, id, page).await?)
    }
}
