//! API-key scopes (`resource:action`), their defaults, and how one scope satisfies another.

use std::collections::BTreeSet;

/// Every scope the API knows, in documentation order.
pub const ALL_SCOPES: &[&str] = &[
    "sessions:read",
    "sessions:create",
    "sessions:write",
    "verifications:read",
    "identities:read",
    "workflows:read",
    "workflows:write",
    "workflows:trigger",
    "webhooks:read",
    "webhooks:write",
    "api_keys:read",
    "api_keys:write",
    "documents:write",
    "events:read",
    "cases:read",
    "cases:write",
    "lists:read",
    "lists:write",
    "checks:read",
    "checks:write",
    "redact:write",
    "settings:read",
    "settings:write",
    "identities:write",
    "analytics:read",
    "pii:read",
];

/// Scopes granted to a new key when the caller does not choose (CONTRACT §1.1).
pub const DEFAULT_SCOPES: &[&str] = &[
    "sessions:read",
    "sessions:create",
    "sessions:write",
    "verifications:read",
    "identities:read",
];

/// The only scope a publishable key may hold.
pub const PUBLISHABLE_SCOPES: &[&str] = &["sessions:create"];

/// A scope name that is not in [`ALL_SCOPES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope '{0}'")]
pub struct UnknownScope(pub String);

/// A validated, de-duplicated set of scopes, kept in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// Parses scope names, rejecting unknown ones (every unknown name is reported).
    pub fn parse<I, S>(names: I) -> Result<Self, Vec<UnknownScope>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        let mut unknown = Vec::new();
        for name in names {
            let name = name.as_ref();
            if ALL_SCOPES.contains(&name) {
                set.insert(name.to_owned());
            } else {
                unknown.push(UnknownScope(name.to_owned()));
            }
        }
        if unknown.is_empty() {
            Ok(Self(set))
        } else {
            Err(unknown)
        }
    }

    /// The default scopes of a new secret key.
    pub fn defaults() -> Self {
        Self(DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Every scope (the bootstrap / seeded admin key).
    pub fn all() -> Self {
        Self(ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Whether the set satisfies `required`. `workflows:write` also satisfies the legacy split
    /// `workflows:trigger`; `sessions:write` satisfies `sessions:create` (reference §2.3).
    pub fn allows(&self, required: &str) -> bool {
        if self.0.contains(required) {
            return true;
        }
        match required {
            "workflows:trigger" => self.0.contains("workflows:write"),
            "sessions:create" => self.0.contains("sessions:write"),
            _ => false,
        }
    }

    /// Scope names in stable order.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `other` this set does not satisfy (a key may grant, change or manage only
    /// what it holds itself).
    pub fn missing_from(&self, other: &ScopeSet) -> Vec<String> {
        other
            .0
            .iter()
            .filter(|s| !self.allows(s))
            .cloned()
            .collect()
    }
}

/// The scope that manages keys: an organization and environment always keep one usable key
/// holding it.
pub const KEY_ADMIN_SCOPE: &str = "api_keys:write";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_respect_implications() {
        let holder = ScopeSet::parse(["workflows:write", "api_keys:write"]).unwrap_or_default();
        let wanted = ScopeSet::parse(["workflows:trigger", "api_keys:write", "sessions:read"])
            .unwrap_or_default();
        assert_eq!(
            holder.missing_from(&wanted),
            vec!["sessions:read".to_owned()]
        );
        assert!(
            ScopeSet::all()
                .missing_from(&ScopeSet::defaults())
                .is_empty()
        );
    }

    #[test]
    fn unknown_scopes_are_all_reported() {
        let err = ScopeSet::parse(["sessions:read", "nope", "also:nope"]).unwrap_err();
        assert_eq!(err.len(), 2);
    }

    #[test]
    fn workflows_write_satisfies_legacy_trigger() {
        let set = ScopeSet::parse(["workflows:write"]).unwrap();
        assert!(set.allows("workflows:trigger"));
        assert!(!set.allows("workflows:read"));
    }

    #[test]
    fn defaults_match_the_contract() {
        let set = ScopeSet::defaults();
        assert!(set.allows("sessions:read") && set.allows("identities:read"));
        assert!(!set.allows("api_keys:read"));
        assert_eq!(ScopeSet::all().names().len(), ALL_SCOPES.len());
    }
}
