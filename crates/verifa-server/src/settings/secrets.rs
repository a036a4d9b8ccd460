//! `[security]`: the at-rest encryption key, the identity-search lookup key and the
//! download-link signing key, their checks
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
    /// Retired encryption keys, comma-separated base64 (secret): they still open what they
    /// sealed, never seal, until `verifa keys rotate-master` has re-wrapped every data key
    /// under `encryption_key` (CONTRACT §11.2).
    #[serde(default = "empty_secret")]
    pub previous_encryption_keys: SecretString,
    /// HMAC key of identity-search lookup hashes, at least 32 bytes (secret). Empty → the
    /// public development key in development and test; production must set its own.
    #[serde(default = "empty_secret")]
    pub lookup_key: SecretString,
    /// HMAC key of document download links, at least 32 bytes (secret). Empty → the public
    /// development key in development and test; production must set its own.
    #[serde(default = "empty_secret")]
    pub url_signing_key: SecretString,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            encryption_key: empty_secret(),
            previous_encryption_keys: empty_secret(),
            lookup_key: empty_secret(),
            url_signing_key: empty_secret(),
        }
    }
}

/// Development/test fallback for `security.lookup_key` (public, so refused in production).
pub const DEV_LOOKUP_KEY: &str = "verifa-development-lookup-key-public-not-secret";

/// Development/test fallback for `security.url_signing_key` (public, so refused in production).
pub const DEV_URL_SIGNING_KEY: &str = "verifa-development-url-signing-key-public-not-secret";

/// An HMAC key setting and its rules (length, never the public key in production).
struct HmacKey<'a> {
    name: &'static str,
    variable: &'static str,
    configured: &'a SecretString,
    dev: &'static str,
    usable: fn(&[u8]) -> bool,
}

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
        for (n, retired) in self.previous_keys().enumerate() {
            if verifa_app::crypto::Cipher::from_base64_key(retired).is_err() {
                return Err(SettingsError::Invalid(format!(
                    "security.previous_encryption_keys[{n}] must be 32 bytes, base64-encoded"
                )));
            }
        }
        let hmac_keys = [
            HmacKey {
                name: "security.lookup_key",
                variable: "VERIFA__SECURITY__LOOKUP_KEY",
                configured: &self.security.lookup_key,
                dev: DEV_LOOKUP_KEY,
                usable: |k| verifa_app::crypto::LookupKey::new(k).is_ok(),
            },
            HmacKey {
                name: "security.url_signing_key",
                variable: "VERIFA__SECURITY__URL_SIGNING_KEY",
                configured: &self.security.url_signing_key,
                dev: DEV_URL_SIGNING_KEY,
                usable: |k| verifa_app::crypto::UrlSigner::new(k).is_ok(),
            },
        ];
        for HmacKey {
            name,
            variable,
            configured,
            dev,
            usable,
        } in hmac_keys
        {
            let key = configured.expose_secret();
            if !key.is_empty() && !usable(key.as_bytes()) {
                return Err(SettingsError::Invalid(format!(
                    "{name} must be at least 32 bytes"
                )));
            }
            if self.run_environment() == RunEnvironment::Production && key == dev {
                return Err(SettingsError::Invalid(format!(
                    "{name} is the public development key: set a secret key ({variable}) in \
                     production"
                )));
            }
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

    /// The configured retired encryption keys (base64), in order.
    fn previous_keys(&self) -> impl Iterator<Item = &str> {
        self.security
            .previous_encryption_keys
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// The at-rest cipher (the current key, opening what the retired keys sealed too); `None`
    /// in production without a key.
    pub fn cipher(&self) -> Option<verifa_app::crypto::Cipher> {
        let key = self.key_or_development(&self.security.encryption_key, DEV_ENCRYPTION_KEY)?;
        let retired = self
            .previous_keys()
            .filter_map(|k| verifa_app::crypto::Cipher::from_base64_key(k).ok())
            .collect();
        Some(
            verifa_app::crypto::Cipher::from_base64_key(key)
                .ok()?
                .with_retired(retired),
        )
    }

    /// The download-link signer; `None` in production without a key.
    pub fn url_signer(&self) -> Option<verifa_app::crypto::UrlSigner> {
        let key = self.key_or_development(&self.security.url_signing_key, DEV_URL_SIGNING_KEY)?;
        verifa_app::crypto::UrlSigner::new(key.as_bytes()).ok()
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

    /// Each HMAC key: the public key outside production, a short key refused, the public key
    /// refused in production, and no key at all in production when unset.
    #[test]
    fn hmac_keys_are_long_enough_and_secret_in_production() {
        let dir = std::path::Path::new("/x");
        type HasKey = fn(&Settings) -> bool;
        let keys: [(&str, &str, &str, HasKey); 2] = [
            (
                "security.lookup_key",
                "VERIFA__SECURITY__LOOKUP_KEY",
                DEV_LOOKUP_KEY,
                |s| s.lookup_key().is_some(),
            ),
            (
                "security.url_signing_key",
                "VERIFA__SECURITY__URL_SIGNING_KEY",
                DEV_URL_SIGNING_KEY,
                |s| s.url_signer().is_some(),
            ),
        ];
        for (name, variable, dev_key, has_key) in keys {
            let dev = Settings::load_from("test", dir, env(&[])).unwrap();
            assert!(has_key(&dev), "{name}: the public key outside production");
            let err = Settings::load_from("test", dir, env(&[(variable, "short")])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
            let production = [
                ("VERIFA__DATABASE__URL", "postgres://u:p@h/db"),
                (variable, dev_key),
            ];
            let err = Settings::load_from("production", dir, env(&production)).unwrap_err();
            assert!(
                err.to_string().contains("public development key")
                    && err.to_string().contains(variable),
                "{err}"
            );
            let unset = Settings::load_from(
                "production",
                dir,
                env(&[("VERIFA__DATABASE__URL", "postgres://u:p@h/db")]),
            )
            .unwrap();
            assert!(!has_key(&unset), "{name}: production has no default key");
        }
    }
}
