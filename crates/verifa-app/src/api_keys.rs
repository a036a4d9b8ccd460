//! API keys: creation (the secret is returned once), listing, editing, expiry, cloning, and the
//! authentication of incoming requests.

use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::secrets::random_base62;
use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;
use std::sync::Arc;
use verifa_domain::api_key::{
    self, ApiKey, KeyRefusal, KeyType, MAX_LABEL_LEN, MAX_NOTE_LEN, SECRET_RANDOM_LEN,
};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::scopes::ScopeSet;
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_ports::RepoError;
use verifa_ports::api_keys::ApiKeyRepository;
use verifa_ports::clock::Clock;

/// How often `last_used_at` is written at most; a write per request would double the load.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// Response key casings a key may default to.
pub const INFLECTIONS: &[&str] = &["snake", "camel", "kebab"];

/// The caller of a request, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key that authenticated the request.
    pub key: ApiKey,
}

impl Caller {
    /// The tenant every operation of this request is scoped to.
    pub fn tenant(&self) -> Tenant {
        Tenant::new(self.key.org_id.clone(), self.key.environment)
    }
}

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
        let key = self.key_record(
            org_id,
            environment,
            KeyType::Secret,
            &secret,
            scopes,
            label,
            self.clock.now(),
        );
        self.repo.insert(&key).await?;
        Ok(IssuedKey { key, secret })
    }

    #[allow(clippy::too_many_arguments)]
    fn key_record(
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
        }
    }

    /// Creates a key for the caller's tenant. Scopes may not exceed the caller's own.
    pub async fn create(&self, caller: &Caller, input: NewApiKey) -> Result<IssuedKey, AppError> {
        let now = self.clock.now();
        let mut errors = Vec::new();
        let environment = match input.environment.as_deref() {
            None => caller.key.environment,
            Some(raw) => match raw.parse::<Environment>() {
                Ok(env) if env == caller.key.environment => env,
                Ok(_) => {
                    errors.push(FieldError::new(
                        "environment",
                        format!(
                            "must be '{}', the environment of the calling key",
                            caller.key.environment
                        ),
                    ));
                    caller.key.environment
                }
                Err(e) => {
                    errors.push(FieldError::new("environment", e.to_string()));
                    caller.key.environment
                }
            },
        };
        let key_type = match input.key_type.as_deref() {
            None => KeyType::Secret,
            Some(raw) => KeyType::parse(raw).unwrap_or_else(|| {
                errors.push(FieldError::new("type", "must be 'secret' or 'publishable'"));
                KeyType::Secret
            }),
        };
        let scopes = match input.scopes {
            None if key_type == KeyType::Publishable => {
                ScopeSet::parse(["sessions:create"]).unwrap_or_default()
            }
            None => ScopeSet::defaults(),
            Some(names) => self.check_scopes(caller, &names, &mut errors),
        };
        if let Err(m) = api_key::check_scopes_for_type(key_type, &scopes) {
            errors.push(FieldError::new("scopes", m));
        }
        let label = check_text("label", input.label, MAX_LABEL_LEN, &mut errors);
        let note = check_text("note", input.note, MAX_NOTE_LEN, &mut errors);
        let api_version = self.check_version(input.api_version, &mut errors);
        let allowed_ips = check_ips(input.allowed_ips, &mut errors);
        let inflection = check_inflection(input.default_key_inflection, &mut errors);
        if input.expires_at.is_some_and(|at| at <= now) {
            errors.push(FieldError::new("expires_at", "must be in the future"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let secret =
            api_key::compose_secret(environment, key_type, &random_base62(SECRET_RANDOM_LEN));
        let mut key = self.key_record(
            &caller.key.org_id,
            environment,
            key_type,
            &secret,
            scopes,
            label,
            now,
        );
        key.note = note;
        key.api_version = api_version.unwrap_or_else(|| self.versions.current.clone());
        key.allowed_ips = allowed_ips;
        key.default_key_inflection = inflection.unwrap_or_else(|| "snake".into());
        key.expires_at = input.expires_at;
        self.repo.insert(&key).await?;
        Ok(IssuedKey { key, secret })
    }

    fn check_scopes(
        &self,
        caller: &Caller,
        names: &[String],
        errors: &mut Vec<FieldError>,
    ) -> ScopeSet {
        match ScopeSet::parse(names) {
            Ok(set) => {
                for (i, name) in names.iter().enumerate() {
                    if !caller.key.scopes.allows(name) {
                        errors.push(FieldError::new(
                            format!("scopes[{i}]"),
                            format!("cannot grant '{name}': the calling key does not hold it"),
                        ));
                    }
                }
                set
            }
            Err(unknown) => {
                for u in unknown {
                    let i = names.iter().position(|n| *n == u.0).unwrap_or(0);
                    errors.push(FieldError::new(format!("scopes[{i}]"), u.to_string()));
                }
                ScopeSet::default()
            }
        }
    }

    fn check_version(
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

    /// Applies a PATCH.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        changes: ApiKeyChanges,
    ) -> Result<ApiKey, AppError> {
        let mut key = self.get(caller, id).await?;
        let now = self.clock.now();
        let mut errors = Vec::new();
        if let Some(label) = changes.label {
            key.label = check_text("label", label, MAX_LABEL_LEN, &mut errors);
        }
        if let Some(note) = changes.note {
            key.note = check_text("note", note, MAX_NOTE_LEN, &mut errors);
        }
        if let Some(scopes) = changes.scopes {
            key.scopes = match scopes {
                None if key.key_type == KeyType::Publishable => {
                    ScopeSet::parse(["sessions:create"]).unwrap_or_default()
                }
                None => ScopeSet::defaults(),
                Some(names) => self.check_scopes(caller, &names, &mut errors),
            };
            if let Err(m) = api_key::check_scopes_for_type(key.key_type, &key.scopes) {
                errors.push(FieldError::new("scopes", m));
            }
        }
        if let Some(version) = changes.api_version {
            key.api_version = self
                .check_version(version, &mut errors)
                .unwrap_or_else(|| self.versions.current.clone());
        }
        if let Some(ips) = changes.allowed_ips {
            key.allowed_ips = check_ips(ips, &mut errors);
        }
        if let Some(expires_at) = changes.expires_at {
            if expires_at.is_some_and(|at| at <= now) {
                errors.push(FieldError::new(
                    "expires_at",
                    "must be in the future (use the expire endpoint to expire now)",
                ));
            }
            key.expires_at = expires_at;
        }
        if let Some(inflection) = changes.default_key_inflection {
            key.default_key_inflection =
                check_inflection(inflection, &mut errors).unwrap_or_else(|| "snake".into());
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        key.updated_at = now;
        self.repo
            .update(&key)
            .await
            .map_err(AppError::from_repo("API key"))?;
        Ok(key)
    }

    /// Expires a key now. Expiring an expired key is a no-op that returns it unchanged.
    pub async fn expire(&self, caller: &Caller, id: &str) -> Result<ApiKey, AppError> {
        let mut key = self.get(caller, id).await?;
        let now = self.clock.now();
        if key.is_active && key.expires_at.is_none_or(|at| at > now) {
            key.is_active = false;
            key.expires_at = Some(now);
            key.updated_at = now;
            self.repo
                .update(&key)
                .await
                .map_err(AppError::from_repo("API key"))?;
        }
        Ok(key)
    }

    /// Clones a key: same scopes, environment, type, allowlist, version and casing; fresh secret.
    pub async fn clone_key(&self, caller: &Caller, id: &str) -> Result<IssuedKey, AppError> {
        let source = self.get(caller, id).await?;
        for scope in source.scopes.names() {
            if !caller.key.scopes.allows(&scope) {
                return Err(AppError::invalid(
                    "scopes",
                    format!(
                        "cannot clone a key holding '{scope}': the calling key does not hold it"
                    ),
                ));
            }
        }
        let now = self.clock.now();
        let secret = api_key::compose_secret(
            source.environment,
            source.key_type,
            &random_base62(SECRET_RANDOM_LEN),
        );
        let label = source.label.as_ref().map(|l| {
            let mut copy = format!("{l} (copy)");
            if copy.chars().count() > MAX_LABEL_LEN {
                copy = l.clone();
            }
            copy
        });
        let mut key = self.key_record(
            &source.org_id,
            source.environment,
            source.key_type,
            &secret,
            source.scopes.clone(),
            label,
            now,
        );
        key.note = source.note.clone();
        key.allowed_ips = source.allowed_ips.clone();
        key.api_version = source.api_version.clone();
        key.default_key_inflection = source.default_key_inflection.clone();
        self.repo.insert(&key).await?;
        Ok(IssuedKey { key, secret })
    }

    /// Authenticates a presented secret from `caller_ip`.
    pub async fn authenticate(
        &self,
        secret: Option<&str>,
        caller_ip: Option<IpAddr>,
    ) -> Result<Caller, AuthOutcome> {
        let secret = secret.ok_or(AuthOutcome::Refused(AuthFailure::Unauthorized))?;
        let shape =
            api_key::parse_secret(secret).ok_or(AuthOutcome::Refused(AuthFailure::Unauthorized))?;
        let key = match self
            .repo
            .find_by_secret_hash(&api_key::hash_secret(secret))
            .await
        {
            Ok(Some(key)) => key,
            Ok(None) => return Err(AuthOutcome::Refused(AuthFailure::Unauthorized)),
            Err(e) => return Err(AuthOutcome::Store(e.into())),
        };
        if key.environment != shape.environment || key.key_type != shape.key_type {
            return Err(AuthOutcome::Refused(AuthFailure::Unauthorized));
        }
        let now = self.clock.now();
        match key.check_usable(now, caller_ip) {
            Ok(()) => {}
            Err(KeyRefusal::IpNotAllowed) => {
                return Err(AuthOutcome::Refused(AuthFailure::IpNotAllowed));
            }
            Err(_) => return Err(AuthOutcome::Refused(AuthFailure::Unauthorized)),
        }
        if key
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
        {
            // Best effort: a failed bookkeeping write must not fail the request.
            if let Err(e) = self.repo.record_use(&key.id, now).await {
                tracing::warn!(error = %e, key_id = %key.id, "could not record key use");
            }
        }
        Ok(Caller { key })
    }
}

/// Result of a failed authentication.
#[derive(Debug)]
pub enum AuthOutcome {
    /// The request is refused.
    Refused(AuthFailure),
    /// The key store failed (503, not 401: the key may well be valid).
    Store(AppError),
}

fn check_text(
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

fn check_ips(ips: Option<Vec<String>>, errors: &mut Vec<FieldError>) -> Option<Vec<ipnet::IpNet>> {
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

fn check_inflection(value: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
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
