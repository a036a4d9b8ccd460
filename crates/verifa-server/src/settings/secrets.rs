//! `[security]`: the at-rest encryption key and the identity-search lookup key, their checks
//! (length, never the public development key in production) and the one rule both follow: the
//! configured key, else the public development key outside production, else none.

use super::{RunEnvironment, Settings, SettingsError, empty_secret};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Development/test fallback for `security.encryption_key` (public, so refused in production).
pub const DEV_ENCRYPTION_KEY: &str = "dmVyaWZhLWRldi1lbmNyeXB0aW9uLWtleS1wdWJsaWM=";

/// `[security]`.
#[derive(Debug, Clone, Deserialize)]
pub struct SecuritySettings {
    /// AES-256-GCM key for data at rest, 32 bytes base64 (secret). Empty → the public
    /// development key in development and test; production must set its own.
    #[serde(default = "empty_secret")]
    pub encryption_key: SecretString,
    /// HMAC key of identity-search lookup hashes, at least 32 bytes (secret). Empty → the
    /// public development key in development and test; production must set its own.
    #[serde(default = "empty_secret")]
    pub lookup_key: SecretString,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            encryption_key: empty_secret(),
            lookup_key: empty_secret(),
        }
    }
}

/// Development/test fallback for `security.lookup_key` (public, so refused in production).
pub const DEV_LOOKUP_KEY: &str = "verifa-development-lookup-key-public-not-secret";

impl Settings {
    /// Refuses keys of the wrong size and the public development keys in production.
    pub(super) fn validate_secrets(&self) -> Result<(), SettingsError> {
        let bad = |m: &str| Err(SettingsError::Invalid(m.to_owned()));
        let key = self.security.encryption_key.expose_secret();
        if !key.is_empty() && verifa_app::crypto::Cipher::from_base64_key(key).is_err() {
            return bad("security.encryption_key must be 32 bytes, base64-encoded");
        }
        if self.run_environment() == RunEnvironment::Production && key == DEV_ENCRYPTION_KEY {
            return bad(
                "security.encryption_key is the public development key: set a secret key \
                 (VERIFA__SECURITY__ENCRYPTION_KEY) in production",
            );
        }
        let lookup = self.security.lookup_key.expose_secret();
        if !lookup.is_empty() && verifa_app::crypto::LookupKey::new(lookup.as_bytes()).is_err() {
            return bad("security.lookup_key must be at least 32 bytes");
        }
        if self.run_environment() == RunEnvironment::Production && lookup == DEV_LOOKUP_KEY {
            return bad(
                "security.lookup_key is the public development key: set a secret key \
                 (VERIFA__SECURITY__LOOKUP_KEY) in production",
            );
        }
        Ok(())
    }

    /// `configured` when set, else `dev` outside production, else `None`.
    fn key_or_development<'a>(
        &self,
        configured: &'a SecretString,
        dev: &'a str,
    ) -> Option<&'a str> {
        let key = configured.expose_secret();
        if !key.is_empty() {
            Some(key)
        } else if self.run_environment() == RunEnvironment::Production {
            None
        } else {
            Some(dev)
        }
    }

    /// The at-rest cipher; `None` in production without a key.
    pub fn cipher(&self) -> Option<verifa_app::crypto::Cipher> {
        let key = self.key_or_development(&self.security.encryption_key, DEV_ENCRYPTION_KEY)?;
        verifa_app::crypto::Cipher::from_base64_key(key).ok()
    }

    /// The identity-search lookup key; `None` in production without a key.
    pub fn lookup_key(&self) -> Option<verifa_app::crypto::LookupKey> {
        let key = self.key_or_development(&self.security.lookup_key, DEV_LOOKUP_KEY)?;
        verifa_app::crypto::LookupKey::new(key.as_bytes()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::env;

    #[test]
    fn the_lookup_key_is_long_enough_and_secret_in_production() {
        let dir = std::path::Path::new("/x");
        let dev = Settings::load_from("test", dir, env(&[])).unwrap();
        assert!(
            dev.lookup_key().is_some(),
            "the public key outside production"
        );
        let err = Settings::load_from(
            "test",
            dir,
            env(&[("VERIFA__SECURITY__LOOKUP_KEY", "short")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("security.lookup_key"), "{err}");
        let production = [
            ("VERIFA__DATABASE__URL", "postgres://u:p@h/db"),
            ("VERIFA__SECURITY__LOOKUP_KEY", DEV_LOOKUP_KEY),
        ];
        let err = Settings::load_from("production", dir, env(&production)).unwrap_err();
        assert!(err.to_string().contains("public development key"), "{err}");
        let unset = Settings::load_from(
            "production",
            dir,
            env(&[("VERIFA__DATABASE__URL", "postgres://u:p@h/db")]),
        )
        .unwrap();
        assert!(
            unset.lookup_key().is_none(),
            "production has no default key"
        );
    }
}
