//! Session documents: uploads are sniffed by their magic bytes, encrypted before they reach
//! document storage, and recorded with the session change they cause (`pending` → `capturing`).

use super::{SessionService, change_by, illegal};
use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::new_id;
use crate::retry::{Attempt, retrying};
use sha2::{Digest, Sha256};
use verifa_domain::documents::{self, DocumentType};
use verifa_domain::session::{self, Action};
use verifa_ports::RepoError;
use verifa_ports::sessions::DocumentRecord;

/// Longest text (an MRZ) accepted with a document.
pub const MAX_DOCUMENT_TEXT: usize = 4096;

impl SessionService {
    /// Uploads a document (magic-byte sniffed, encrypted at rest); replaces the same type.
    pub async fn upload_document(
        &self,
        caller: &Caller,
        id: &str,
        document_type: &str,
        bytes: Vec<u8>,
        text: Option<String>,
    ) -> Result<DocumentRecord, AppError> {
        let current = self.get(caller, id).await?;
        let mut errors = Vec::new();
        let doc_type = DocumentType::parse(document_type);
        if doc_type.is_none() {
            errors.push(FieldError::new(
                "document_type",
                "must be one of id_front, id_back, selfie, proof_of_address",
            ));
        }
        if bytes.is_empty() {
            errors.push(FieldError::new("file", "is empty"));
        }
        let sniffed = documents::sniff(&bytes);
        if sniffed.is_none() && !bytes.is_empty() {
            errors.push(FieldError::new(
                "file",
                "must be a JPEG, PNG, WebP or PDF file (detected from its content)",
            ));
        }
        if text.as_ref().is_some_and(|t| t.len() > MAX_DOCUMENT_TEXT) {
            errors.push(FieldError::new(
                "text",
                format!("must be at most {MAX_DOCUMENT_TEXT} characters"),
            ));
        }
        if bytes.len() > documents::MAX_DOCUMENT_BYTES {
            return Err(AppError::TooLarge(
                "Documents must be at most 10 MiB.".into(),
            ));
        }
        let (Some(doc_type), Some(sniffed)) = (doc_type, sniffed) else {
            return Err(AppError::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let now = self.clock.now();
        session::check(&current, &Action::UploadDocument).map_err(illegal)?;
        let doc_id = new_id("doc");
        let key = format!(
            "{}/{}/{}/{}",
            current.tenant.org_id,
            current.tenant.environment.as_str(),
            current.id,
            doc_id
        );
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let cipher = super::session_cipher(&self.cipher, &current)?;
        let sealed = cipher.seal(&bytes, doc_id.as_bytes());
        self.storage
            .put(&key, sealed)
            .await
            .map_err(|e| AppError::Unavailable(format!("document storage: {e}")))?;
        let document = DocumentRecord {
            id: doc_id.clone(),
            session_id: current.id.clone(),
            tenant: current.tenant.clone(),
            document_type: doc_type,
            mime_type: sniffed.mime_type().to_owned(),
            file_size_bytes: size,
            storage_key: key.clone(),
            sha256,
            text_sealed: text
                .filter(|t| !t.trim().is_empty())
                .map(|t| cipher.seal_text(&t, &super::document_text_context(&doc_id))),
            created_at: now,
        };
        // The bytes are stored first; the metadata and the session change follow, fenced on the
        // session's revision (read again when another change won).
        let tenant = current.tenant.clone();
        let stored = retrying!(
            "the session",
            async {
                let current = self.session(&tenant, id).await?;
                let t = session::transition(&current, Action::UploadDocument, self.clock.now())
                    .map_err(illegal)?;
                let mut planned = change_by(t, &Action::UploadDocument, By::Caller(caller));
                for draft in &mut planned.audit {
                    draft
                        .metadata
                        .insert("document_id".into(), document.id.as_str().into());
                    draft.metadata.insert(
                        "document_type".into(),
                        document.document_type.as_str().into(),
                    );
                }
                match self.documents.put_document(&document, &planned).await {
                    Ok(replaced) => Ok(Attempt::Done(replaced)),
                    Err(RepoError::Conflict(_)) => Ok(Attempt::Again),
                    Err(e) => Err(e.into()),
                }
            }
            .await
        );
        match stored {
            Ok(Some(replaced)) => {
                if let Err(e) = self.storage.delete(&replaced.storage_key).await {
                    tracing::warn!(error = %e, document_id = %replaced.id, "could not delete a replaced document");
                }
            }
            Ok(None) => {}
            Err(e) => {
                let _ = self.storage.delete(&key).await;
                return Err(e);
            }
        }
        Ok(document)
    }

    /// Document metadata of a session.
    pub async fn documents(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<DocumentRecord>, AppError> {
        self.get(caller, id).await?;
        Ok(self.documents.documents(&caller.tenant(), id).await?)
    }
}
