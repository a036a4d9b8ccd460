//! Creating, updating, expiring and cloning keys.

use super::{
    ApiKeyChanges, ApiKeyService, Caller, IssuedKey, NewApiKey, check_inflection, check_ips,
    check_text,
};
use crate::error::{AppError, FieldError};
use crate::retry::{Attempt, retrying, written};
use crate::secrets::random_base62;
use chrono::{DateTime, Utc};
use verifa_domain::api_key::{
    self, ApiKey, KeyType, MAX_LABEL_LEN, MAX_NOTE_LEN, SECRET_RANDOM_LEN,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::scopes::ScopeSet;
use verifa_domain::scopes::{KEY_ADMIN_SCOPE, PUBLISHABLE_SCOPES};
use verifa_domain::tenancy::Environment;

impl ApiKeyService {
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
            None => default_grant(caller, key_type, &mut errors),
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
        let audit = caller
            .audit("api_key.created", "api_key", &key.id, now)
            .with_changes(super::CREATED_FIELDS);
        self.repo.insert(&key, &[audit]).await?;
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

    /// Applies a PATCH. The caller must hold every scope of the key (before and after), and the
    /// change may not take the tenant's last key administrator away.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        changes: ApiKeyChanges,
    ) -> Result<ApiKey, AppError> {
        retrying!(
            "the API key",
            async {
                let mut key = self.get(caller, id).await?;
                may_manage(caller, &key)?;
                let before = key.clone();
                let now = self.clock.now();
                self.apply_changes(caller, &mut key, changes.clone(), now)?;
                let changed = changed_fields(&before, &key);
                key.updated_at = now;
                let audit = caller
                    .audit("api_key.updated", "api_key", &key.id, now)
                    .with_changes(changed);
                self.write_keeping_admin(&before, key, now, audit).await
            }
            .await
        )
    }

    /// Validates and applies a PATCH to a key as read.
    fn apply_changes(
        &self,
        caller: &Caller,
        key: &mut ApiKey,
        changes: ApiKeyChanges,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut errors = Vec::new();
        if let Some(label) = changes.label {
            key.label = check_text("label", label, MAX_LABEL_LEN, &mut errors);
        }
        if let Some(note) = changes.note {
            key.note = check_text("note", note, MAX_NOTE_LEN, &mut errors);
        }
        if let Some(scopes) = changes.scopes {
            key.scopes = match scopes {
                None => default_grant(caller, key.key_type, &mut errors),
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
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// Writes `key` (fenced on the revision `before` was read at), refusing with 409 when it
    /// would leave the tenant without a key that administers keys.
    async fn write_keeping_admin(
        &self,
        before: &ApiKey,
        mut key: ApiKey,
        now: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<Attempt<ApiKey>, AppError> {
        let audit = [audit];
        let outcome = if before.administers_keys(now) && !key.administers_keys(now) {
            match self.repo.update_keeping_admin(&key, now, &audit).await {
                Ok(true) => Ok(()),
                Ok(false) => return Err(last_admin(&key)),
                Err(e) => Err(e),
            }
        } else {
            self.repo.update(&key, &audit).await
        };
        key.revision += 1;
        written(outcome, key)
    }

    /// Expires a key now. Expiring an expired key is a no-op that returns it unchanged. The
    /// caller must hold every scope of the key, and the tenant's last key administrator cannot
    /// be expired.
    pub async fn expire(&self, caller: &Caller, id: &str) -> Result<ApiKey, AppError> {
        retrying!(
            "the API key",
            async {
                let mut key = self.get(caller, id).await?;
                may_manage(caller, &key)?;
                let now = self.clock.now();
                if !key.is_active || key.expires_at.is_some_and(|at| at <= now) {
                    return Ok(Attempt::Done(key));
                }
                let before = key.clone();
                key.is_active = false;
                key.expires_at = Some(now);
                key.updated_at = now;
                let audit = caller
                    .audit("api_key.expired", "api_key", &key.id, now)
                    .with_changes(["is_active", "expires_at"]);
                self.write_keeping_admin(&before, key, now, audit).await
            }
            .await
        )
    }

    /// Clones a key: same scopes, environment, type, allowlist, version and casing; fresh secret.
    pub async fn clone_key(&self, caller: &Caller, id: &str) -> Result<IssuedKey, AppError> {
        let source = self.get(caller, id).await?;
        may_manage(caller, &source)?;
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
        let audit = caller
            .audit("api_key.cloned", "api_key", &key.id, now)
            .with_changes(super::CREATED_FIELDS)
            .with_metadata("source_id", source.id.as_str());
        self.repo.insert(&key, &[audit]).await?;
        Ok(IssuedKey { key, secret })
    }
}

/// 403 `insufficient_scope` when `target` holds a scope the caller does not: a key changes,
/// expires or clones only keys whose scopes it holds itself.
fn may_manage(caller: &Caller, target: &ApiKey) -> Result<(), AppError> {
    let missing = caller.key.scopes.missing_from(&target.scopes);
    if missing.is_empty() {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "insufficient_scope",
        detail: format!(
            "API key {} holds {}, which this API key does not; a key can only manage keys whose \
             scopes it holds itself.",
            target.id,
            missing
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The scopes a key gets when none are named (the defaults, `sessions:create` for publishable
/// keys) — provided the caller holds them all: a default is a grant like any other.
fn default_grant(caller: &Caller, key_type: KeyType, errors: &mut Vec<FieldError>) -> ScopeSet {
    let scopes = match key_type {
        KeyType::Publishable => ScopeSet::parse(PUBLISHABLE_SCOPES).unwrap_or_default(),
        KeyType::Secret => ScopeSet::defaults(),
    };
    let missing = caller.key.scopes.missing_from(&scopes);
    if !missing.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            format!(
                "the default scopes include {}, which the calling key does not hold; list the \
                 scopes to grant",
                missing
                    .iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    scopes
}

/// 409: the change would leave no key able to manage keys.
fn last_admin(key: &ApiKey) -> AppError {
    AppError::Conflict(format!(
        "API key {} is the last active key that can manage API keys in this organization and \
         environment; create another key with '{KEY_ADMIN_SCOPE}' first.",
        key.id
    ))
}

/// The names of the fields a PATCH changed (never their values: the audit trail keeps names).
fn changed_fields(before: &ApiKey, after: &ApiKey) -> Vec<&'static str> {
    [
        ("label", before.label != after.label),
        ("note", before.note != after.note),
        ("scopes", before.scopes != after.scopes),
        ("api_version", before.api_version != after.api_version),
        ("allowed_ips", before.allowed_ips != after.allowed_ips),
        ("expires_at", before.expires_at != after.expires_at),
        (
            "default_key_inflection",
            before.default_key_inflection != after.default_key_inflection,
        ),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}
