//! The stored form of sessions, documents and results: metadata, tags and the result summary are
//! JSON text; statuses are their wire names.

use crate::entities::{session_documents as docs, session_results as results, sessions};
use crate::error::corrupt;
use crate::repos::common::tenant_of;
use sea_orm::{NotSet, Set};
use serde_json::Value;
use verifa_domain::case::CaseStatus;
use verifa_domain::documents::DocumentType;
use verifa_domain::session::{DecisionSummary, Session, Verdict};
use verifa_domain::workflow::Outcome;
use verifa_ports::RepoError;
use verifa_ports::sessions::{DocumentRecord, ResultRecord};

fn to_text<T: serde::Serialize>(what: &str, value: &T) -> Result<String, RepoError> {
    serde_json::to_string(value).map_err(|e| corrupt(what, e))
}

pub(crate) fn session_active(s: &Session) -> Result<sessions::ActiveModel, RepoError> {
    Ok(sessions::ActiveModel {
        id: Set(s.id.clone()),
        org_id: Set(s.tenant.org_id.clone()),
        environment: Set(s.tenant.environment.as_str().to_owned()),
        status: Set(s.status.as_str().to_owned()),
        workflow_id: Set(s.workflow_id.clone()),
        external_ref: Set(s.external_ref.clone()),
        identity_id: Set(s.identity_id.clone()),
        // `case_id` and `case_status` belong to the case store: a session write leaves them.
        case_id: NotSet,
        case_status: NotSet,
        metadata: Set(Value::Object(s.metadata.clone()).to_string()),
        country: Set(s.country.clone()),
        checks: Set(s
            .checks
            .as_ref()
            .map(|c| to_text("sessions.checks", c))
            .transpose()?),
        fields_encrypted: Set(s.fields_sealed.clone()),
        data_key: Set(s.data_key.clone()),
        redacted_at: Set(s.redacted_at),
        retention_expired_at: Set(s.retention_expired_at),
        redirect_url: Set(s.redirect_url.clone()),
        capture_token_hash: Set(s.capture_token_hash.clone()),
        token_expires_at: Set(s.token_expires_at),
        document_type: Set(s.document_type.clone()),
        retention_status: Set(s.retention_status.as_str().to_owned()),
        processing_attempts: Set(s.processing_attempts),
        consent_ip: Set(s.consent_ip.clone()),
        tags: Set(to_text("sessions.tags", &s.tags)?),
        expired_at: Set(s.expired_at),
        completed_at: Set(s.completed_at),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
        revision: Set(s.revision),
    })
}

pub(crate) fn session_from(m: sessions::Model) -> Result<Session, RepoError> {
    let metadata = match serde_json::from_str::<Value>(&m.metadata)
        .map_err(|e| corrupt("sessions.metadata", e))?
    {
        Value::Object(map) => map,
        _ => return Err(corrupt("sessions.metadata", "not an object")),
    };
    Ok(Session {
        tenant: tenant_of(m.org_id, &m.environment)?,
        status: m
            .status
            .parse()
            .map_err(|e: String| corrupt("sessions.status", e))?,
        retention_status: m
            .retention_status
            .parse()
            .map_err(|e: String| corrupt("sessions.retention_status", e))?,
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
        identity_id: m.identity_id,
        case_status: m
            .case_status
            .as_deref()
            .map(|c| CaseStatus::parse(c).ok_or_else(|| corrupt("sessions.case_status", c)))
            .transpose()?,
        case_id: m.case_id,
        country: m.country,
        fields_sealed: m.fields_encrypted,
        data_key: m.data_key,
        redacted_at: m.redacted_at,
        retention_expired_at: m.retention_expired_at,
        redirect_url: m.redirect_url,
        capture_token_hash: m.capture_token_hash,
        token_expires_at: m.token_expires_at,
        document_type: m.document_type,
        processing_attempts: m.processing_attempts,
        consent_ip: m.consent_ip,
        expired_at: m.expired_at,
        completed_at: m.completed_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

pub(crate) fn document_active(d: &DocumentRecord) -> docs::ActiveModel {
    docs::ActiveModel {
        id: Set(d.id.clone()),
        session_id: Set(d.session_id.clone()),
        org_id: Set(d.tenant.org_id.clone()),
        environment: Set(d.tenant.environment.as_str().to_owned()),
        document_type: Set(d.document_type.as_str().to_owned()),
        mime_type: Set(d.mime_type.clone()),
        file_size_bytes: Set(d.file_size_bytes),
        storage_key: Set(d.storage_key.clone()),
        sha256: Set(d.sha256.clone()),
        text_encrypted: Set(d.text_sealed.clone()),
        created_at: Set(d.created_at),
    }
}

pub(crate) fn document_from(m: docs::Model) -> Result<DocumentRecord, RepoError> {
    Ok(DocumentRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        document_type: DocumentType::parse(&m.document_type)
            .ok_or_else(|| corrupt("session_documents.document_type", &m.document_type))?,
        id: m.id,
        session_id: m.session_id,
        mime_type: m.mime_type,
        file_size_bytes: m.file_size_bytes,
        storage_key: m.storage_key,
        sha256: m.sha256,
        text_sealed: m.text_encrypted,
        created_at: m.created_at,
    })
}

pub(crate) fn result_active(r: &ResultRecord) -> Result<results::ActiveModel, RepoError> {
    Ok(results::ActiveModel {
        session_id: Set(r.session_id.clone()),
        org_id: Set(r.tenant.org_id.clone()),
        environment: Set(r.tenant.environment.as_str().to_owned()),
        status: Set(r.verdict.outcome.as_str().to_owned()),
        result: Set(to_text("session_results.result", &r.verdict.summary)?),
        extracted_data_encrypted: Set(r.extracted_data_sealed.clone()),
        rejection_reason: Set(r.verdict.rejection_reason.clone()),
        workflow_run_id: Set(r.workflow_run_id.clone()),
        simulated: Set(r.simulated),
        case_id: Set(r.case_id.clone()),
        decided_by: Set(r.decided_by.clone()),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    })
}

pub(crate) fn result_from(m: results::Model) -> Result<ResultRecord, RepoError> {
    let summary: DecisionSummary =
        serde_json::from_str(&m.result).map_err(|e| corrupt("session_results.result", e))?;
    Ok(ResultRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        verdict: Verdict {
            outcome: Outcome::parse(&m.status)
                .ok_or_else(|| corrupt("session_results.status", &m.status))?,
            summary,
            rejection_reason: m.rejection_reason,
        },
        session_id: m.session_id,
        extracted_data_sealed: m.extracted_data_encrypted,
        lookups: None,
        workflow_run_id: m.workflow_run_id,
        simulated: m.simulated,
        case_id: m.case_id,
        decided_by: m.decided_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}
