//! [`SessionDocuments`]: document metadata, written together with the session change an upload
//! causes (the bytes go to [`DocumentStorage`](crate::storage::DocumentStorage) first).

use super::{DocumentRecord, SessionChange};
use crate::RepoError;
use async_trait::async_trait;
use verifa_domain::documents::DocumentType;
use verifa_domain::tenancy::Tenant;

/// Stores document metadata.
#[async_trait]
pub trait SessionDocuments: Send + Sync {
    /// Stores a document with the session change that goes with it, atomically. A session MUST
    /// hold at most one document per type: the one it replaces is removed in the same
    /// transaction and returned, so the caller can delete its bytes.
    ///
    /// # Errors
    /// As [`SessionStore::apply`](super::SessionStore::apply); nothing is written on error.
    async fn put_document(
        &self,
        document: &DocumentRecord,
        change: &SessionChange,
    ) -> Result<Option<DocumentRecord>, RepoError>;

    /// Documents of a session of the tenant, oldest first (empty for another tenant's session).
    async fn documents(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Vec<DocumentRecord>, RepoError>;

    /// The document of `document_type` of a session, in whichever tenant holds it (`None`
    /// when there is none). Only for a request proven by a signed download link, which names
    /// the session but carries no API key (CONTRACT §11.5); everything else reads through
    /// [`documents`](Self::documents).
    async fn document_by_link(
        &self,
        session_id: &str,
        document_type: DocumentType,
    ) -> Result<Option<DocumentRecord>, RepoError>;
}
