//! Who acts in a use case, and how their changes are described for the audit trail
//! (CONTRACT §6.2): the authenticated [`Caller`] of a request, or the system ([`By::System`]).
//!
//! Drafts travel with the change into the store, which seals and appends them in the same
//! transaction; see `verifa_ports::audit`.

use crate::ids::{new_id, prefix};
use chrono::{DateTime, Utc};
use verifa_domain::api_key::ApiKey;
use verifa_domain::audit::{Actor, AuditDraft, RequestMeta};
use verifa_domain::tenancy::Tenant;

/// The caller of a request, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key that authenticated the request.
    pub key: ApiKey,
    /// Where the request came from, for the audit trail (set by the HTTP edge).
    pub request: RequestMeta,
}

impl Caller {
    /// The tenant every operation of this request is scoped to.
    pub fn tenant(&self) -> Tenant {
        Tenant::new(self.key.org_id.clone(), self.key.environment)
    }
}

impl Caller {
    /// Wraps an authenticated key (no request metadata yet).
    pub fn new(key: ApiKey) -> Self {
        Self {
            key,
            request: RequestMeta::default(),
        }
    }

    /// Who this caller is in the audit trail.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.key.key_prefix.clone())
    }

    /// A draft of `action` on a resource, by this caller, in its tenant's chain.
    pub fn audit(
        &self,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        at: DateTime<Utc>,
    ) -> AuditDraft {
        self.audit_in(self.tenant(), action, resource_type, resource_id, at)
    }

    /// The same in another chain of the caller's organization (org users use `live`).
    pub fn audit_in(
        &self,
        tenant: Tenant,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        at: DateTime<Utc>,
    ) -> AuditDraft {
        let mut draft = system_audit(tenant, action, resource_type, resource_id, at);
        draft.actor = self.actor();
        draft.request = self.request.clone();
        draft
    }
}

/// Who a use case acts for: a request's caller, or the system (jobs, operator commands).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// An authenticated request.
    Caller(&'a Caller),
    /// A job or an operator command.
    System,
}

impl By<'_> {
    /// A draft of `action` by this author, in `tenant`'s chain.
    pub fn audit(
        self,
        tenant: Tenant,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        at: DateTime<Utc>,
    ) -> AuditDraft {
        match self {
            By::Caller(caller) => caller.audit_in(tenant, action, resource_type, resource_id, at),
            By::System => system_audit(tenant, action, resource_type, resource_id, at),
        }
    }
}

/// A draft of `action` by the system (a job or an operator command), without a request.
pub fn system_audit(
    tenant: Tenant,
    action: &str,
    resource_type: &str,
    resource_id: &str,
    at: DateTime<Utc>,
) -> AuditDraft {
    AuditDraft {
        id: new_id(prefix::AUDIT_EVENT),
        tenant,
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: resource_id.to_owned(),
        actor: Actor::System,
        changes: Vec::new(),
        metadata: serde_json::Map::new(),
        request: RequestMeta::default(),
        at,
    }
}
