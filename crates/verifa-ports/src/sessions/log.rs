//! [`SessionEventLog`]: reading a session's event log (the rows the webhook outbox fans out).

use super::EventRecord;
use crate::RepoError;
use async_trait::async_trait;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;

/// Reads session events.
#[async_trait]
pub trait SessionEventLog: Send + Sync {
    /// The session's events, oldest first (by `seq`), with the total across pages; empty for a
    /// session of another tenant.
    async fn events(
        &self,
        tenant: &Tenant,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<EventRecord>, RepoError>;
}
