//! The audit trail (CONTRACT §6.2): who changed what, when and from where.
//!
//! A use case describes what happened as an [`AuditDraft`]; the store seals drafts into
//! [`AuditEvent`]s in the same transaction as the change they record, numbering them per chain
//! (organization and environment) and linking each to the one before by hash ([`chain`]).
//! Events name changed fields, never their values, and carry no verified person's PII, so they
//! outlive retention and redaction.

pub mod chain;

use crate::tenancy::{Environment, Tenant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A request authenticated by an API key (named by its public prefix).
    ApiKey(String),
    /// A signed-in organization user (`orguser_…`).
    OrgUser(String),
    /// An agent through MCP, with the key (prefix) it authenticated with.
    Mcp(String),
    /// A background job or an operator command.
    System,
    /// The person going through the hosted capture flow.
    Applicant,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::ApiKey(prefix) => write!(f, "api_key:{prefix}"),
            Actor::OrgUser(id) => write!(f, "org_user:{id}"),
            Actor::Mcp(prefix) => write!(f, "mcp:api_key:{prefix}"),
            Actor::System => f.write_str("system"),
            Actor::Applicant => f.write_str("applicant"),
        }
    }
}

impl Actor {
    /// Parses the wire form written by [`Display`](fmt::Display); `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "system" => return Some(Actor::System),
            "applicant" => return Some(Actor::Applicant),
            _ => {}
        }
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        if let Some(prefix) = raw.strip_prefix("mcp:api_key:") {
            return non_empty(prefix).map(Actor::Mcp);
        }
        if let Some(prefix) = raw.strip_prefix("api_key:") {
            return non_empty(prefix).map(Actor::ApiKey);
        }
        raw.strip_prefix("org_user:")
            .and_then(non_empty)
            .map(Actor::OrgUser)
    }
}

/// Where a request came from; absent for jobs and commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestMeta {
    /// The caller's address as the server saw it (`null` for the capture flow).
    pub ip_address: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// Path, without the query (queries can carry search terms).
    pub path: Option<String>,
    /// The request's id (`req_…`), also in the response's `X-Request-Id`.
    pub request_id: Option<String>,
}

/// What a use case records; the store gives it its sequence and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditDraft {
    /// `aud_…`, chosen by the use case.
    pub id: String,
    /// The chain it joins. Org users and console sign-ins always use `live`.
    pub tenant: Tenant,
    /// The action, e.g. `api_key.created`.
    pub action: String,
    /// `session`, `api_key`, …
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// Who did it.
    pub actor: Actor,
    /// Names of the fields that changed (never their values).
    pub changes: Vec<String>,
    /// Context without PII (`session_id`, `reviewer_id`, …).
    pub metadata: Map<String, Value>,
    /// The request it came with, if any.
    pub request: RequestMeta,
    /// When it happened (the use case's clock).
    pub at: DateTime<Utc>,
}

impl AuditDraft {
    /// Adds a metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }

    /// Sets the changed field names.
    #[must_use]
    pub fn with_changes<S: Into<String>>(mut self, changes: impl IntoIterator<Item = S>) -> Self {
        self.changes = changes.into_iter().map(Into::into).collect();
        self
    }
}

/// One sealed event, as stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// `aud_…`.
    pub id: String,
    /// The chain's organization (not part of the wire object nor of the hash: the chain is).
    #[serde(skip)]
    pub org_id: String,
    /// Position in the chain, from 1 without gaps.
    pub sequence: i64,
    /// The action.
    #[serde(rename = "type")]
    pub action: String,
    /// When it happened, to the microsecond.
    #[serde(with = "chain::micros")]
    pub created_at: DateTime<Utc>,
    /// `session`, `api_key`, …
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// The actor's wire form (`api_key:vk_live_ab12…`, `org_user:orguser_…`, `system`, …).
    pub actor: String,
    /// Changed field names.
    pub changes: Vec<String>,
    /// Context without PII.
    pub metadata: Map<String, Value>,
    /// Caller address.
    pub ip_address: Option<String>,
    /// HTTP method.
    pub request_method: Option<String>,
    /// Request path.
    pub request_path: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// The chain's environment.
    pub environment: Environment,
    /// The previous event's hash (64 zeros for the first).
    pub prev_hash: String,
    /// `hex(sha256(prev_hash ‖ JCS(event without hash)))`.
    pub hash: String,
}

impl AuditEvent {
    /// The chain this event belongs to.
    pub fn tenant(&self) -> Tenant {
        Tenant::new(self.org_id.clone(), self.environment)
    }

    /// Whether the free-text search `q` matches: a case-insensitive substring of the actor, the
    /// action, the resource type or id, or the IP address.
    pub fn matches_text(&self, q: &str) -> bool {
        let needle = q.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        [
            Some(self.actor.as_str()),
            Some(self.action.as_str()),
            Some(self.resource_type.as_str()),
            Some(self.resource_id.as_str()),
            self.ip_address.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(&needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_their_wire_form() {
        for actor in [
            Actor::ApiKey("vk_live_ab12".into()),
            Actor::OrgUser("orguser_1".into()),
            Actor::Mcp("vk_test_cd34".into()),
            Actor::System,
            Actor::Applicant,
        ] {
            assert_eq!(Actor::parse(&actor.to_string()), Some(actor));
        }
        assert_eq!(
            Actor::Mcp("k".into()).to_string(),
            "mcp:api_key:k",
            "the MCP actor names the key it came with"
        );
        for bad in ["", "api_key:", "org_user:", "robot", "mcp:api_key:"] {
            assert_eq!(Actor::parse(bad), None, "{bad:?}");
        }
    }
}
