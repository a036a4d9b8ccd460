//! Tenancy: every resource belongs to one organization and one environment.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The environment a key (and everything it creates) lives in. Objects of one environment are
/// invisible to keys of the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Real verifications.
    Live,
    /// Simulated verifications for integration testing.
    Sandbox,
}

impl Environment {
    /// Every variant, in declaration order.
    pub const ALL: [Environment; 2] = [Environment::Live, Environment::Sandbox];

    /// The wire name (`live` / `sandbox`).
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Sandbox => "sandbox",
        }
    }

    /// Whether this is the sandbox environment (the API's `is_sandbox`).
    pub fn is_sandbox(self) -> bool {
        self == Environment::Sandbox
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown environment name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment must be 'live' or 'sandbox', got '{0}'")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "live" => Ok(Environment::Live),
            "sandbox" => Ok(Environment::Sandbox),
            other => Err(UnknownEnvironment(other.to_owned())),
        }
    }
}

/// The tenant a request acts for: the key's organization and environment. Every repository call
/// takes one, so no query can forget to scope itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant {
    /// Organization id (`org_…`).
    pub org_id: String,
    /// Environment of the calling key.
    pub environment: Environment,
}

impl Tenant {
    /// Builds a tenant.
    pub fn new(org_id: impl Into<String>, environment: Environment) -> Self {
        Self {
            org_id: org_id.into(),
            environment,
        }
    }
}

/// Maximum length of an organization name.
pub const MAX_ORG_NAME_LEN: usize = 200;

/// Validates an organization name: non-blank and at most [`MAX_ORG_NAME_LEN`] characters.
pub fn validate_org_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if name.chars().count() > MAX_ORG_NAME_LEN {
        return Err(format!("must be at most {MAX_ORG_NAME_LEN} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_parses_only_known_names() {
        assert_eq!("live".parse::<Environment>(), Ok(Environment::Live));
        assert_eq!("sandbox".parse::<Environment>(), Ok(Environment::Sandbox));
        assert!("Live".parse::<Environment>().is_err());
        assert!("".parse::<Environment>().is_err());
    }

    #[test]
    fn org_names_are_bounded() {
        assert!(validate_org_name("Acme").is_ok());
        assert!(validate_org_name("  ").is_err());
        assert!(validate_org_name(&"x".repeat(201)).is_err());
    }
}
