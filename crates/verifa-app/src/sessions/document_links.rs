//! Signed, expiring download links of session documents (CONTRACT §11.5): a listing gives each
//! document a link valid for the organization's `image_url_expiry_seconds`, and the link alone
//! (no API key) fetches the decrypted bytes until it expires. A link edited in any byte, or
//! expired, is refused as `invalid_signature`; a redacted session's documents, or those past
//! the sensitive-data window, are gone (404).

use super::SessionService;
use crate::api_keys::Caller;
use crate::error::AppError;
use verifa_domain::documents::{DocumentType, download_link_message};
use verifa_ports::sessions::DocumentRecord;
use verifa_ports::storage::StorageError;

/// A document of a listing with its download link.
#[derive(Debug, Clone)]
pub struct SignedDocument {
    /// The document.
    pub document: DocumentRecord,
    /// The signed link (absolute, on `server.public_url`).
    pub url: String,
    /// Seconds the link stays valid from now.
    pub expires_in: u32,
}

/// A document's bytes, fetched by its link.
#[derive(Debug, Clone)]
pub struct DocumentDownload {
    /// Sniffed at upload.
    pub mime_type: String,
    /// The decrypted bytes.
    pub bytes: Vec<u8>,
}

/// The signed parts of a link as received (`expires` and `sig` of its query).
#[derive(Debug, Clone, Default)]
pub struct LinkQuery {
    /// Unix seconds, as written in the link.
    pub expires: Option<String>,
    /// Lower-case hex signature.
    pub sig: Option<String>,
}

fn refused() -> AppError {
    AppError::Forbidden {
        code: "invalid_signature",
        detail: "This download link is invalid or has expired. List the session's documents \
                 again for a fresh link."
            .into(),
    }
}

impl SessionService {
    /// The session's documents, each with a fresh signed link; empty once the session was
    /// redacted or is past its sensitive-data window.
    pub async fn signed_documents(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<SignedDocument>, AppError> {
        let session = self.get(caller, id).await?;
        if !session.serves_documents() {
            return Ok(Vec::new());
        }
        let expires_in = self
            .org_settings
            .get(&session.tenant)
            .await?
            .settings
            .image_url_expiry_seconds;
        let expires = self.clock.now().timestamp() + i64::from(expires_in);
        let documents = self.documents.documents(&session.tenant, id).await?;
        Ok(documents
            .into_iter()
            .map(|document| SignedDocument {
                url: self.download_url(&session.id, document.document_type, expires),
                document,
                expires_in,
            })
            .collect())
    }

    /// The link to a session's document of `document_type`, valid until `expires` (Unix s).
    pub fn download_url(
        &self,
        session_id: &str,
        document_type: DocumentType,
        expires: i64,
    ) -> String {
        let doc_type = document_type.as_str();
        let sig = self
            .settings
            .url_signer
            .sign(&download_link_message(session_id, doc_type, expires));
        format!(
            "{}/api/v1/sessions/{session_id}/documents/{doc_type}?expires={expires}&sig={sig}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// The bytes a signed link points at.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] `invalid_signature` for a missing, malformed, edited or expired
    /// signature (checked before anything is read, so an unknown session looks the same);
    /// [`AppError::NotFound`] when the document is absent, redacted or past the sensitive
    /// window.
    pub async fn download_by_link(
        &self,
        session_id: &str,
        document_type: &str,
        link: &LinkQuery,
    ) -> Result<DocumentDownload, AppError> {
        let (Some(expires_raw), Some(sig)) = (link.expires.as_deref(), link.sig.as_deref()) else {
            return Err(refused());
        };
        // Only the canonical spelling: "0300" would otherwise verify as the link for "300".
        let expires = expires_raw.parse::<i64>().map_err(|_| refused())?;
        if expires.to_string() != expires_raw {
            return Err(refused());
        }
        let message = download_link_message(session_id, document_type, expires);
        if !self.settings.url_signer.verify(&message, sig) {
            return Err(refused());
        }
        if self.clock.now().timestamp() > expires {
            return Err(refused());
        }
        let not_found = || AppError::NotFound("document");
        let doc_type = DocumentType::parse(document_type).ok_or_else(not_found)?;
        let document = self
            .documents
            .document_by_link(session_id, doc_type)
            .await?
            .ok_or_else(not_found)?;
        let session = self
            .session(&document.tenant, session_id)
            .await
            .map_err(|_| not_found())?;
        if !session.serves_documents() {
            return Err(not_found());
        }
        let sealed = match self.storage.get(&document.storage_key).await {
            Ok(bytes) => bytes,
            Err(StorageError::NotFound) => return Err(not_found()),
            Err(e) => return Err(AppError::Unavailable(format!("document storage: {e}"))),
        };
        let bytes = super::session_cipher(&self.cipher, &session)?
            .open(&sealed, document.id.as_bytes())
            .map_err(|e| AppError::Internal(format!("document {}: {e}", document.id)))?;
        Ok(DocumentDownload {
            mime_type: document.mime_type,
            bytes,
        })
    }
}
