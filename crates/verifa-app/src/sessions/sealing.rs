//! A session's personal data under its own data key (CONTRACT §11.2): which key seals what, and
//! the associated data that binds each sealed value to its place. Every use case that reads or
//! writes a session's documents, pre-fill fields or extracted data goes through here.
//!
//! A session created before data keys has none; its data stays under the master key, which
//! [`session_cipher`] then returns. Redaction destroys the wrapped key with the data it sealed.

use crate::crypto::Cipher;
use crate::error::AppError;
use serde_json::{Map, Value};
use verifa_domain::session::Session;
use verifa_ports::sessions::ResultRecord;

/// The associated data binding sealed pre-fill fields to their session.
pub(crate) fn fields_context(session_id: &str) -> String {
    format!("session-fields:{session_id}")
}

/// The associated data binding a sealed result to its session.
pub(crate) fn result_context(session_id: &str) -> String {
    format!("result:{session_id}")
}

/// The associated data binding a document's sealed text to the document.
pub(crate) fn document_text_context(document_id: &str) -> String {
    format!("document-text:{document_id}")
}

/// The cipher of `session`'s data: its data key, or the master key for a session older than
/// data keys.
///
/// # Errors
/// [`AppError::Internal`] when the wrapped key does not open under the master key (another
/// master key, or a tampered row); [`AppError::InvalidState`] once the session was redacted.
pub(crate) fn session_cipher(master: &Cipher, session: &Session) -> Result<Cipher, AppError> {
    if session.is_redacted() {
        // Its key is gone; the master key must not stand in for it.
        return Err(AppError::InvalidState(format!(
            "session {} was redacted",
            session.id
        )));
    }
    match &session.data_key {
        None => Ok(master.clone()),
        Some(wrapped) => master.open_data_key(wrapped, &session.id).map_err(|e| {
            AppError::Internal(format!("the data key of session {}: {e}", session.id))
        }),
    }
}

/// Decrypts a session's pre-fill fields (empty when none or undecryptable).
pub(crate) fn open_fields(master: &Cipher, session: &Session) -> Map<String, Value> {
    let Some(sealed) = session.fields_sealed.as_deref() else {
        return Map::new();
    };
    session_cipher(master, session)
        .ok()
        .and_then(|cipher| cipher.open_text(sealed, &fields_context(&session.id)).ok())
        .and_then(|text| match serde_json::from_str(&text) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

/// Decrypts a session's extracted data (empty when it has none).
///
/// # Errors
/// [`AppError::Internal`] when the sealed value does not open.
pub(crate) fn open_extracted(
    master: &Cipher,
    session: &Session,
    record: &ResultRecord,
) -> Result<Map<String, Value>, AppError> {
    let Some(sealed) = &record.extracted_data_sealed else {
        return Ok(Map::new());
    };
    let text = session_cipher(master, session)?
        .open_text(sealed, &result_context(&session.id))
        .map_err(|e| AppError::Internal(format!("the result of session {}: {e}", session.id)))?;
    Ok(match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    })
}

/// Seals extracted data for a session's result (`None` when there is none).
///
/// # Errors
/// As [`session_cipher`].
pub(crate) fn seal_extracted(
    master: &Cipher,
    session: &Session,
    data: &Map<String, Value>,
) -> Result<Option<String>, AppError> {
    if data.is_empty() {
        return Ok(None);
    }
    let cipher = session_cipher(master, session)?;
    Ok(Some(cipher.seal_text(
        &Value::Object(data.clone()).to_string(),
        &result_context(&session.id),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use verifa_domain::session::{
        DecisionSummary, ProcessingMode, RetentionStatus, SessionStatus, Verdict,
    };
    use verifa_domain::tenancy::{Environment, Tenant};
    use verifa_domain::workflow::Outcome;

    fn session_with_key(master: &Cipher) -> Session {
        let now = chrono::Utc::now();
        Session {
            id: "ses_1".into(),
            tenant: Tenant::new("org_1", Environment::Live),
            status: SessionStatus::Completed,
            workflow_id: None,
            external_ref: None,
            identity_id: None,
            case_id: None,
            case_status: None,
            metadata: Map::new(),
            country: None,
            checks: None,
            fields_sealed: None,
            data_key: Some(master.new_data_key("ses_1").1),
            redirect_url: None,
            capture_token_hash: None,
            token_expires_at: None,
            document_type: None,
            retention_status: RetentionStatus::Active,
            processing_attempts: 1,
            consent_ip: None,
            tags: vec![],
            expired_at: None,
            completed_at: Some(now),
            redacted_at: None,
            retention_expired_at: None,
            created_at: now,
            updated_at: now,
            revision: 1,
        }
    }

    fn result_record(session: &Session, sealed: Option<String>) -> ResultRecord {
        ResultRecord {
            session_id: session.id.clone(),
            tenant: session.tenant.clone(),
            verdict: Verdict {
                outcome: Outcome::Approved,
                summary: DecisionSummary {
                    face_match_passed: None,
                    face_match_score: None,
                    age_check_passed: None,
                    extracted_age: None,
                    processing_mode: ProcessingMode::Workflow,
                    country_used: None,
                    check_results: Default::default(),
                },
                rejection_reason: None,
            },
            extracted_data_sealed: sealed,
            lookups: None,
            workflow_run_id: None,
            simulated: false,
            case_id: None,
            decided_by: None,
            created_at: session.created_at,
            updated_at: session.updated_at,
        }
    }

    #[test]
    fn a_session_seals_under_its_own_key() {
        let master = Cipher::from_key(&[3; 32]).unwrap();
        let session = session_with_key(&master);
        let data = json!({"full_name": "Jane Doe"})
            .as_object()
            .cloned()
            .unwrap();
        let sealed = seal_extracted(&master, &session, &data).unwrap().unwrap();
        assert!(
            master.open_text(&sealed, &result_context("ses_1")).is_err(),
            "not under the master key"
        );
        let record = result_record(&session, Some(sealed));
        assert_eq!(open_extracted(&master, &session, &record).unwrap(), data);
        let mut shredded = session.clone();
        shredded.data_key = Some(master.new_data_key("ses_1").1);
        assert!(
            open_extracted(&master, &shredded, &record).is_err(),
            "another data key does not open it"
        );
    }
}
