//! The `identity.*` webhook events (CONTRACT §7.4, §17.1) and their flat payloads, which never
//! hold personal data: no extracted data, no custom fields, and for `identity.flagged` neither
//! the reason nor who flagged.

use super::model::Identity;
use serde_json::{Map, Value, json};

/// Something that happened to an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityEvent {
    /// `identity.created`.
    Created,
    /// `identity.updated`: any other change (completion, patch, merge, unflag, …).
    Updated,
    /// `identity.archived`.
    Archived,
    /// `identity.restored`.
    Restored,
    /// `identity.tag-added`.
    TagAdded(String),
    /// `identity.tag-removed`.
    TagRemoved(String),
    /// `identity.flagged`.
    Flagged,
}

impl IdentityEvent {
    /// The catalogue name.
    pub fn event_type(&self) -> &'static str {
        match self {
            IdentityEvent::Created => "identity.created",
            IdentityEvent::Updated => "identity.updated",
            IdentityEvent::Archived => "identity.archived",
            IdentityEvent::Restored => "identity.restored",
            IdentityEvent::TagAdded(_) => "identity.tag-added",
            IdentityEvent::TagRemoved(_) => "identity.tag-removed",
            IdentityEvent::Flagged => "identity.flagged",
        }
    }

    /// The flat fields, from the identity as the change leaves it.
    pub fn payload(&self, identity: &Identity) -> Value {
        let mut data = Map::new();
        data.insert("identity_id".into(), json!(identity.id));
        data.insert("external_ref".into(), json!(identity.external_ref));
        data.insert("status".into(), json!(identity.status.as_str()));
        data.insert(
            "is_sandbox".into(),
            json!(identity.tenant.environment.is_sandbox()),
        );
        data.insert(
            "latest_session_id".into(),
            json!(identity.latest_session_id),
        );
        match self {
            IdentityEvent::TagAdded(tag) | IdentityEvent::TagRemoved(tag) => {
                data.insert("tag".into(), json!(tag));
            }
            IdentityEvent::Flagged => {
                data.insert("is_flagged".into(), json!(true));
                data.insert("flagged_at".into(), json!(identity.flagged_at));
            }
            IdentityEvent::Updated => {
                data.insert("merged_into_id".into(), json!(identity.merged_into_id));
            }
            IdentityEvent::Created | IdentityEvent::Archived | IdentityEvent::Restored => {}
        }
        Value::Object(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::{Environment, Tenant};
    use chrono::{DateTime, Utc};

    #[test]
    fn flagged_omits_the_reason_and_the_reviewer() {
        let mut i = Identity::new(
            "idn_1".into(),
            Tenant::new("org", Environment::Sandbox),
            "user_1".into(),
            DateTime::<Utc>::UNIX_EPOCH,
        );
        i.flag(
            Some("looks like a PEP".into()),
            Some("ann@example.com".into()),
            DateTime::<Utc>::UNIX_EPOCH,
        )
        .unwrap();
        let p = IdentityEvent::Flagged.payload(&i).to_string();
        assert!(!p.contains("PEP") && !p.contains("ann@"), "{p}");
        let v = IdentityEvent::TagAdded("vip".into()).payload(&i);
        assert_eq!(v["tag"], "vip");
        assert_eq!(v["is_sandbox"], true);
        assert_eq!(IdentityEvent::Flagged.event_type(), "identity.flagged");
    }
}
