//! Organization users storage (CONTRACT §6.1).

use crate::RepoError;
use async_trait::async_trait;
use verifa_domain::audit::AuditDraft;
use verifa_domain::org_user::{OrgRole, OrgUser};
use verifa_domain::pagination::{Page, PageRequest};

/// Which users a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgUserFilter {
    /// Only this role.
    pub role: Option<OrgRole>,
    /// Only active (or only deactivated) users.
    pub is_active: Option<bool>,
    /// Email or name contains this text (case-insensitive).
    pub q: Option<String>,
}

/// Stores organization users. Users belong to an organization, not to an environment; every
/// read except [`OrgUserRepository::find_by_email`] is scoped to one organization. Every write
/// appends its `audit` drafts in the same transaction (see [`crate::audit`]); a refused write
/// appends nothing.
#[async_trait]
pub trait OrgUserRepository: Send + Sync {
    /// Inserts a new user.
    ///
    /// MUST refuse an email another user of any organization holds, compared
    /// case-insensitively ([`email_key`](verifa_domain::org_user::email_key)), even under
    /// concurrent inserts.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] on a duplicate id or email.
    async fn insert(&self, user: &OrgUser, audit: &[AuditDraft]) -> Result<(), RepoError>;

    /// Gets a user of the organization.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent in this organization.
    async fn get(&self, org_id: &str, id: &str) -> Result<OrgUser, RepoError>;

    /// Finds the user with this email (case-insensitive), in any organization (sign-in, CLI).
    async fn find_by_email(&self, email: &str) -> Result<Option<OrgUser>, RepoError>;

    /// Lists the organization's users matching `filter`, newest first (ties broken by id).
    async fn list(
        &self,
        org_id: &str,
        filter: &OrgUserFilter,
        page: PageRequest,
    ) -> Result<Page<OrgUser>, RepoError>;

    /// Overwrites the mutable fields of a user (email, name, role, activity, password), unless
    /// afterwards the organization would have no [active administrator](OrgUser::administers)
    /// while it had one before: then nothing is written and the answer is `false`.
    ///
    /// MUST be fenced: writes only when the stored revision still equals the record's
    /// `revision`, and stores `revision + 1`. MUST be atomic against concurrent calls for the
    /// same organization: two of them can never together demote or deactivate its last admin.
    /// MUST refuse an email another user holds, as [`insert`](Self::insert) does.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the row moved on (re-read and retry) or the email is taken;
    /// [`RepoError::NotFound`] when absent in the organization.
    async fn update_keeping_admin(
        &self,
        user: &OrgUser,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError>;
}
