//! Identity types (CONTRACT §7.4): named kinds of identity (`customer`, `merchant`, …), each with
//! its own statuses. One type per tenant may be the default, given to identities created without
//! a type.

use crate::tenancy::Tenant;
use chrono::{DateTime, Utc};

/// Longest label.
pub const MAX_LABEL_LEN: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 2_000;
/// Most statuses a type may have.
pub const MAX_STATUSES: usize = 20;

/// A kind of identity.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityType {
    /// `idt_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Machine name, `^[a-z0-9_]{1,64}$`, unique in the tenant.
    pub name: String,
    /// Human name.
    pub label: String,
    /// Description.
    pub description: Option<String>,
    /// Statuses an identity of this type may take.
    pub statuses: Vec<String>,
    /// Status given on assignment; one of `statuses`.
    pub default_status: String,
    /// Given to identities created without a type.
    pub is_default: bool,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change.
    pub revision: i32,
}

/// Whether `name` is a valid machine name (`^[a-z0-9_]{1,64}$`).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl IdentityType {
    /// Every problem with the type's fields, as `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !valid_name(&self.name) {
            out.push((
                "name",
                "must be 1 to 64 lowercase letters, digits or underscores".to_owned(),
            ));
        }
        let label = self.label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_LEN {
            out.push(("label", format!("must be 1 to {MAX_LABEL_LEN} characters")));
        }
        if self
            .description
            .as_deref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN)
        {
            out.push((
                "description",
                format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
            ));
        }
        if self.statuses.is_empty() || self.statuses.len() > MAX_STATUSES {
            out.push((
                "statuses",
                format!("must hold 1 to {MAX_STATUSES} statuses"),
            ));
        } else if let Some(bad) = self.statuses.iter().find(|s| !valid_name(s)) {
            out.push((
                "statuses",
                format!("'{bad}' must be 1 to 64 lowercase letters, digits or underscores"),
            ));
        } else if (1..self.statuses.len()).any(|i| {
            self.statuses
                .get(..i)
                .zip(self.statuses.get(i))
                .is_some_and(|(before, s)| before.contains(s))
        }) {
            out.push(("statuses", "must not repeat a status".to_owned()));
        }
        if !self.statuses.contains(&self.default_status) {
            out.push(("default_status", "must be one of statuses".to_owned()));
        }
        out
    }

    /// Whether `status` is one of this type's statuses.
    pub fn allows(&self, status: &str) -> bool {
        self.statuses.iter().any(|s| s == status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::Environment;

    fn sample() -> IdentityType {
        IdentityType {
            id: "idt_1".into(),
            tenant: Tenant::new("org_1", Environment::Live),
            name: "customer".into(),
            label: "Customer".into(),
            description: None,
            statuses: vec!["active".into(), "closed".into()],
            default_status: "active".into(),
            is_default: false,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            revision: 0,
        }
    }

    #[test]
    fn a_valid_type_has_no_problems() {
        assert!(sample().problems().is_empty());
        assert!(sample().allows("closed") && !sample().allows("gone"));
    }

    #[test]
    fn every_problem_is_named() {
        let mut t = sample();
        t.name = "Customer!".into();
        t.label = " ".into();
        t.statuses = vec!["a".into(), "a".into()];
        t.default_status = "b".into();
        let fields: Vec<_> = t.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["name", "label", "statuses", "default_status"]);
        t.statuses = Vec::new();
        assert!(t.problems().iter().any(|(f, _)| *f == "statuses"));
    }
}
