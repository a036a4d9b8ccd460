//! API keys: the secret's wire format, its display prefix and hash, and the rules on a key's
//! editable fields. Generating the random part is the caller's job (the domain has no randomness).

use crate::scopes::{PUBLISHABLE_SCOPES, ScopeSet};
use crate::tenancy::Environment;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Length of the random base62 part of a secret (≥ 32 per the contract; 40 gives ~238 bits).
pub const SECRET_RANDOM_LEN: usize = 40;
/// Characters of the full secret kept for display (`key_prefix`).
pub const KEY_PREFIX_LEN: usize = 12;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 200;
/// Longest note.
pub const MAX_NOTE_LEN: usize = 2_000;
/// Most entries in `allowed_ips`.
pub const MAX_ALLOWED_IPS: usize = 100;

/// Secret keys act server-side with their scopes; publishable keys may only create sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    /// `vk_live_…` / `vk_sandbox_…`.
    Secret,
    /// `vk_pub_live_…` / `vk_pub_sandbox_…`.
    Publishable,
}

impl KeyType {
    /// Every variant, in declaration order.
    pub const ALL: [KeyType; 2] = [KeyType::Secret, KeyType::Publishable];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Secret => "secret",
            KeyType::Publishable => "publishable",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "secret" => Some(KeyType::Secret),
            "publishable" => Some(KeyType::Publishable),
            _ => None,
        }
    }
}

/// The fixed part of a secret before the random characters.
pub fn secret_prefix(environment: Environment, key_type: KeyType) -> &'static str {
    match (key_type, environment) {
        (KeyType::Secret, Environment::Live) => "vk_live_",
        (KeyType::Secret, Environment::Sandbox) => "vk_sandbox_",
        (KeyType::Publishable, Environment::Live) => "vk_pub_live_",
        (KeyType::Publishable, Environment::Sandbox) => "vk_pub_sandbox_",
    }
}

/// Builds a full secret from its random base62 part.
pub fn compose_secret(environment: Environment, key_type: KeyType, random_base62: &str) -> String {
    format!("{}{random_base62}", secret_prefix(environment, key_type))
}

/// What the shape of a presented secret says about it. Shape only: whether the key exists is the
/// repository's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretShape {
    /// Environment named by the prefix.
    pub environment: Environment,
    /// Secret or publishable.
    pub key_type: KeyType,
}

/// Checks a presented secret's format without revealing anything about why it failed.
pub fn parse_secret(secret: &str) -> Option<SecretShape> {
    const SHAPES: [(&str, Environment, KeyType); 4] = [
        ("vk_pub_live_", Environment::Live, KeyType::Publishable),
        (
            "vk_pub_sandbox_",
            Environment::Sandbox,
            KeyType::Publishable,
        ),
        ("vk_live_", Environment::Live, KeyType::Secret),
        ("vk_sandbox_", Environment::Sandbox, KeyType::Secret),
    ];
    for (prefix, environment, key_type) in SHAPES {
        if let Some(rest) = secret.strip_prefix(prefix) {
            let valid = rest.len() >= 32
                && rest.len() <= 128
                && rest.bytes().all(|b| b.is_ascii_alphanumeric());
            return valid.then_some(SecretShape {
                environment,
                key_type,
            });
        }
    }
    None
}

/// The stored form of a secret: lowercase hex SHA-256. Secrets are high-entropy, so a fast hash
/// is the right tool (a slow password hash would only add latency to every request).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The display prefix kept with the key (first [`KEY_PREFIX_LEN`] characters).
pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(KEY_PREFIX_LEN).collect()
}

/// An API key as stored (never holds the secret itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    /// `key_…`.
    pub id: String,
    /// Owning organization.
    pub org_id: String,
    /// Environment the key acts in.
    pub environment: Environment,
    /// Secret or publishable.
    pub key_type: KeyType,
    /// Free label.
    pub label: Option<String>,
    /// Free note.
    pub note: Option<String>,
    /// First characters of the secret, for display.
    pub key_prefix: String,
    /// SHA-256 of the secret.
    pub secret_hash: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// Addresses or networks allowed to use the key; `None` = anywhere.
    pub allowed_ips: Option<Vec<IpNet>>,
    /// Pinned API version.
    pub api_version: String,
    /// Response key casing used when the request does not say.
    pub default_key_inflection: String,
    /// Whether the key may be used at all.
    pub is_active: bool,
    /// After this instant the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last successful authentication (coarse).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change; an update names the revision it was read at.
    pub revision: i32,
}

/// Why a key that exists may still not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Deactivated.
    Inactive,
    /// Past `expires_at`.
    Expired,
    /// The caller's address is not in `allowed_ips`.
    IpNotAllowed,
}

impl ApiKey {
    /// Whether the key may authenticate a request from `caller` at `now`.
    pub fn check_usable(
        &self,
        now: DateTime<Utc>,
        caller: Option<IpAddr>,
    ) -> Result<(), KeyRefusal> {
        if !self.is_active {
            return Err(KeyRefusal::Inactive);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(KeyRefusal::Expired);
        }
        if let Some(nets) = &self.allowed_ips {
            let allowed =
                caller.is_some_and(|ip| nets.iter().any(|net| net.contains(&canonical_ip(ip))));
            if !allowed {
                return Err(KeyRefusal::IpNotAllowed);
            }
        }
        Ok(())
    }
}

impl ApiKey {
    /// Whether the key can administer keys at `now` (active, unexpired, holding
    /// [`KEY_ADMIN_SCOPE`](crate::scopes::KEY_ADMIN_SCOPE)).
    pub fn administers_keys(&self, now: DateTime<Utc>) -> bool {
        self.key_type == KeyType::Secret
            && self.is_active
            && self.expires_at.is_none_or(|at| at > now)
            && self.scopes.allows(crate::scopes::KEY_ADMIN_SCOPE)
    }
}

/// IPv4-mapped IPv6 addresses compare as their IPv4 form.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Parses `allowed_ips` entries: a bare address (host network) or a CIDR. Returns per-entry errors
/// as `(index, message)`.
pub fn parse_allowed_ips(entries: &[String]) -> Result<Vec<IpNet>, Vec<(usize, String)>> {
    let mut nets = Vec::new();
    let mut errors = Vec::new();
    if entries.len() > MAX_ALLOWED_IPS {
        errors.push((
            MAX_ALLOWED_IPS,
            format!("at most {MAX_ALLOWED_IPS} entries"),
        ));
    }
    for (i, raw) in entries.iter().enumerate() {
        let trimmed = raw.trim();
        let parsed = trimmed
            .parse::<IpNet>()
            .or_else(|_| trimmed.parse::<IpAddr>().map(IpNet::from))
            .map(|net| net.trunc());
        match parsed {
            Ok(net) => nets.push(net),
            Err(_) => errors.push((i, format!("'{trimmed}' is not an IP address or CIDR range"))),
        }
    }
    if errors.is_empty() {
        Ok(nets)
    } else {
        Err(errors)
    }
}

/// Checks the scopes allowed for a key type: a publishable key may only create sessions.
pub fn check_scopes_for_type(key_type: KeyType, scopes: &ScopeSet) -> Result<(), String> {
    if key_type == KeyType::Publishable
        && scopes
            .names()
            .iter()
            .any(|s| !PUBLISHABLE_SCOPES.contains(&s.as_str()))
    {
        return Err("publishable keys may only hold 'sessions:create'".into());
    }
    Ok(())
}

/// Validates an optional free-text field's length.
pub fn check_text(value: Option<&str>, max: usize) -> Result<(), String> {
    match value {
        Some(v) if v.chars().count() > max => Err(format!("must be at most {max} characters")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key() -> ApiKey {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        ApiKey {
            id: "key_1".into(),
            org_id: "org_1".into(),
            environment: Environment::Live,
            key_type: KeyType::Secret,
            label: None,
            note: None,
            key_prefix: "vk_live_abcd".into(),
            secret_hash: "h".into(),
            scopes: ScopeSet::defaults(),
            allowed_ips: None,
            api_version: "2026-01-01".into(),
            default_key_inflection: "snake".into(),
            is_active: true,
            expires_at: None,
            last_used_at: None,
            created_at: t,
            updated_at: t,
            revision: 0,
        }
    }

    #[test]
    fn secrets_parse_by_prefix_and_length() {
        let r = "a".repeat(40);
        assert_eq!(
            parse_secret(&format!("vk_live_{r}")).map(|s| s.environment),
            Some(Environment::Live)
        );
        assert_eq!(
            parse_secret(&format!("vk_pub_sandbox_{r}")).map(|s| s.key_type),
            Some(KeyType::Publishable)
        );
        assert_eq!(parse_secret("vk_live_short"), None);
        assert_eq!(parse_secret(&format!("vk_live_{}!", "a".repeat(40))), None);
        assert_eq!(parse_secret(&format!("sk_live_{r}")), None);
        assert_eq!(
            display_prefix(&format!("vk_live_{r}")).len(),
            KEY_PREFIX_LEN
        );
    }

    #[test]
    fn hash_is_stable_hex() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn usability_checks_activity_expiry_and_ip() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let mut k = key();
        assert_eq!(k.check_usable(now, None), Ok(()));
        k.expires_at = Some(now);
        assert_eq!(k.check_usable(now, None), Err(KeyRefusal::Expired));
        k.expires_at = None;
        k.allowed_ips =
            Some(parse_allowed_ips(&["10.0.0.0/8".into(), "192.0.2.7".into()]).unwrap());
        assert_eq!(
            k.check_usable(now, Some("10.1.2.3".parse().unwrap())),
            Ok(())
        );
        assert_eq!(
            k.check_usable(now, Some("::ffff:192.0.2.7".parse().unwrap())),
            Ok(())
        );
        assert_eq!(
            k.check_usable(now, Some("192.0.2.8".parse().unwrap())),
            Err(KeyRefusal::IpNotAllowed)
        );
        assert_eq!(k.check_usable(now, None), Err(KeyRefusal::IpNotAllowed));
        k.is_active = false;
        assert_eq!(k.check_usable(now, None), Err(KeyRefusal::Inactive));
    }

    #[test]
    fn allowed_ips_report_each_bad_entry() {
        let err = parse_allowed_ips(&["1.2.3.4".into(), "nope".into(), "10.0.0.0/33".into()])
            .unwrap_err();
        assert_eq!(err.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn publishable_keys_only_create_sessions() {
        assert!(
            check_scopes_for_type(
                KeyType::Publishable,
                &ScopeSet::parse(["sessions:create"]).unwrap()
            )
            .is_ok()
        );
        assert!(check_scopes_for_type(KeyType::Publishable, &ScopeSet::defaults()).is_err());
    }
}
