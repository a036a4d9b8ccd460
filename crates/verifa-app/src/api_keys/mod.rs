//! API keys: creation (the secret is returned once), listing, editing, expiry, cloning, and the
//! authentication of incoming requests.
//!
//! - [`manage`]: create, update, expire and clone keys, under the privilege rules: a key grants,
//!   changes or manages only what it holds itself, and a tenant always keeps a key administrator.
//! - [`auth`]: authenticating a presented secret.

mod auth;
mod manage;

pub use crate::actor::Caller;
pub use auth::AuthOutcome;

use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::secrets::random_base62;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use verifa_domain::api_key::{self, ApiKey, KeyType, MAX_LABEL_LEN, SECRET_RANDOM_LEN};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::scopes::ScopeSet;
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_ports::RepoError;
use verifa_ports::api_keys::ApiKeyRepository;
use verifa_ports::clock::Clock;

/// How often `last_used_at` is written at most; a write per request would double the load.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// The fields an `api_key.created` event names.
pub(crate) const CREATED_FIELDS: [&str; 4] = ["type", "scopes", "label", "expires_at"];

/// Response key casings a key may default to.
pub const INFLECTIONS: &[&str] = &["snake", "camel", "kebab"];

/// Why a request could not be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No key, unknown key, malformed key, inactive or expired key (all 401, indistinguishable).
    Unauthorized,
    /// The key is fine but the caller's address is not allowed (403 `ip_not_allowed`).
    IpNotAllowed,
}

/// Fields of a new key (already parsed from the request; validated here).
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    /// Free label.
    pub label: Option<String>,
    /// Free note.
    pub note: Option<String>,
    /// Requested environment; must equal the caller's.
    pub environment: Option<String>,
    /// `secret` (default) or `publishable`.
    pub key_type: Option<String>,
    /// `None` = defaults.
    pub scopes: Option<Vec<String>>,
    /// Pinned API version; `None` = current.
    pub api_version: Option<String>,
    /// IP allowlist; `None` = anywhere.
    pub allowed_ips: Option<Vec<String>>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Default response casing.
    pub default_key_inflection: Option<String>,
}

/// A PATCH of a key: outer `None` = leave unchanged, `Some(None)` = clear.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyChanges {
    /// New label.
    pub label: Option<Option<String>>,
    /// New note.
    pub note: Option<Option<String>>,
    /// New scopes (`Some(None)` = defaults).
    pub scopes: Option<Option<Vec<String>>>,
    /// New pinned version.
    pub api_version: Option<Option<String>>,
    /// New allowlist.
    pub allowed_ips: Option<Option<Vec<String>>>,
    /// New expiry.
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// New default casing.
    pub default_key_inflection: Option<Option<String>>,
}

/// A key together with its secret: only ever returned by create and clone.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The stored key.
    pub key: ApiKey,
    /// The full secret, shown once.
    pub secret: String,
}

/// API versions the service knows.
#[derive(Debug, Clone)]
pub struct ApiVersions {
    /// Version used when a key pins none.
    pub current: String,
    /// Every accepted version.
    pub known: Vec<String>,
}

/// The API-key use cases.
pub struct ApiKeyService {
    repo: Arc<dyn ApiKeyRepository>,
    clock: Arc<dyn Clock>,
    versions: ApiVersions,
}

impl ApiKeyService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports, versions: ApiVersions) -> Self {
        Self {
            repo: ports.api_keys.clone(),
            clock: ports.clock.clone(),
            versions,
        }
    }

    /// Mints a key with every scope for `org_id` (bootstrap and seeding; no caller involved).
    pub fn mint_admin_key(&self, org_id: &str, environment: Environment, label: &str) -> IssuedKey {
        let now = self.clock.now();
        let secret = api_key::compose_secret(
            environment,
            KeyType::Secret,
            &random_base62(SECRET_RANDOM_LEN),
        );
        IssuedKey {
            key: self.key_record(
                org_id,
                environment,
                KeyType::Secret,
                &secret,
                ScopeSet::all(),
                Some(label.to_owned()),
                now,
            ),
            secret,
        }
    }

    /// Builds a key record for a known secret (used by seeding with fixed demo secrets).
    pub fn admin_key_for_secret(
        &self,
        org_id: &str,
        environment: Environment,
        secret: &str,
        label: &str,
    ) -> ApiKey {
        self.key_record(
            org_id,
            environment,
            KeyType::Secret,
            secret,
            ScopeSet::all(),
            Some(label.to_owned()),
            self.clock.now(),
        )
    }

    /// Issues a secret key for an organization on an operator's command (CLI): any scopes,
    /// default every scope.
    pub async fn issue_operator_key(
        &self,
        org_id: &str,
        environment: Environment,
        scopes: Option<Vec<String>>,
        label: Option<String>,
    ) -> Result<IssuedKey, AppError> {
        let scopes = match scopes {
            None => ScopeSet::all(),
            Some(names) => ScopeSet::parse(&names).map_err(|unknown| {
                AppError::Validation(
                    unknown
                        .into_iter()
                        .map(|u| FieldError::new("scopes", u.to_string()))
                        .collect(),
                )
            })?,
        };
        let mut errors = Vec::new();
        let label = check_text("label", label, MAX_LABEL_LEN, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let secret = api_key::compose_secret(
            environment,
            KeyType::Secret,
            &random_base62(SECRET_RANDOM_LEN),
        );
        let now = self.clock.now();
        let key = self.key_record(
            org_id,
            environment,
            KeyType::Secret,
            &secret,
            scopes,
            label,
            now,
        );
        self.repo.insert(&key, &[created_by_system(&key)]).await?;
        Ok(IssuedKey { key, secret })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn key_record(
        &self,
        org_id: &str,
        environment: Environment,
        key_type: KeyType,
        secret: &str,
        scopes: ScopeSet,
        label: Option<String>,
        now: DateTime<Utc>,
    ) -> ApiKey {
        ApiKey {
            id: new_id(prefix::KEY),
            org_id: org_id.to_owned(),
            environment,
            key_type,
            label,
            note: None,
            key_prefix: api_key::display_prefix(secret),
            secret_hash: api_key::hash_secret(secret),
            scopes,
            allowed_ips: None,
            api_version: self.versions.current.clone(),
            default_key_inflection: "snake".into(),
            is_active: true,
            expires_at: None,
            last_used_at: None,
            created_at: now,
            updated_at: now,
            revision: 0,
        }
    }

    /// Lists the tenant's keys.
    pub async fn list(&self, caller: &Caller, page: PageRequest) -> Result<Page<ApiKey>, AppError> {
        Ok(self.repo.list(&caller.tenant(), page).await?)
    }

    /// Gets one key of the tenant.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<ApiKey, AppError> {
        self.repo
            .get(&caller.tenant(), id)
            .await
            .map_err(AppError::from_repo("API key"))
    }

    pub(super) fn check_version(
        &self,
        version: Option<String>,
        errors: &mut Vec<FieldError>,
    ) -> Option<String> {
        let v = version?;
        if self.versions.known.contains(&v) {
            Some(v)
        } else {
            errors.push(FieldError::new(
                "api_version",
                format!(
                    "unknown API version '{v}'; known: {}",
                    self.versions.known.join(", ")
                ),
            ));
            None
        }
    }
}

pub(super) fn check_text(
    field: &str,
    value: Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    if let Err(m) = api_key::check_text(value.as_deref(), max) {
        errors.push(FieldError::new(field, m));
    }
    value
}

pub(super) fn check_ips(
    ips: Option<Vec<String>>,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<ipnet::IpNet>> {
    let ips = ips?;
    match api_key::parse_allowed_ips(&ips) {
        Ok(nets) => Some(nets),
        Err(problems) => {
            for (i, m) in problems {
                errors.push(FieldError::new(format!("allowed_ips[{i}]"), m));
            }
            None
        }
    }
}

pub(super) fn check_inflection(
    value: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = value?;
    if INFLECTIONS.contains(&v.as_str()) {
        Some(v)
    } else {
        errors.push(FieldError::new(
            "default_key_inflection",
            "must be one of snake, camel, kebab",
        ));
        None
    }
}

/// Maps a repository error on a key lookup for callers outside this module.
pub fn key_not_found(e: RepoError) -> AppError {
    AppError::from_repo("API key")(e)
}

/// The `api_key.created` event of a key made by the system (bootstrap, seed, operator command).
pub fn created_by_system(key: &ApiKey) -> verifa_domain::audit::AuditDraft {
    crate::actor::system_audit(
        Tenant::new(key.org_id.clone(), key.environment),
        "api_key.created",
        "api_key",
        &key.id,
        key.created_at,
    )
    .with_changes(CREATED_FIELDS)
}
