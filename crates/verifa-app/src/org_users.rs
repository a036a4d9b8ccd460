//! Organization users (CONTRACT §6.1): list, create (with a one-time password shown once),
//! get, update, deactivate and reset a password; the operator commands create users and reset
//! passwords without an API key.
//!
//! Users are common to both environments, so writes need a live key (403 `live_only`): a
//! sandbox key never mints a login that sees live data. An organization that has an active
//! admin keeps one (409 `conflict`).

use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::retry::{Attempt, retrying, written};
use crate::secrets::random_base62;
use std::sync::Arc;
use verifa_crypto::passwords::hash_password;
use verifa_domain::org_user::{self, OrgRole, OrgUser, email_key};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_ports::clock::Clock;
use verifa_ports::org_users::{OrgUserFilter, OrgUserRepository};
use verifa_ports::organizations::OrganizationRepository;

/// Characters of a generated one-time password (base62, ≈ 143 bits).
const ONE_TIME_PASSWORD_LEN: usize = 24;

/// Fields of a new user, as received.
#[derive(Debug, Clone, Default)]
pub struct NewOrgUser {
    /// Email (required).
    pub email: Option<String>,
    /// Display name (required).
    pub name: Option<String>,
    /// `admin`, `reviewer` or `viewer` (required).
    pub role: Option<String>,
}

/// A PATCH of a user: `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct OrgUserChanges {
    /// New display name.
    pub name: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New role.
    pub role: Option<String>,
    /// `false` deactivates, `true` reactivates.
    pub is_active: Option<bool>,
}

/// Filters of a listing, as received.
#[derive(Debug, Clone, Default)]
pub struct OrgUserQuery {
    /// Role name.
    pub role: Option<String>,
    /// Active or not.
    pub is_active: Option<bool>,
    /// Email or name contains.
    pub q: Option<String>,
}

/// A user with the password that was just set (shown once, never stored in clear).
#[derive(Debug, Clone)]
pub struct UserWithPassword {
    /// The user.
    pub user: OrgUser,
    /// The one-time password.
    pub one_time_password: String,
}

/// Organization-user use cases.
pub struct OrgUserService {
    repo: Arc<dyn OrgUserRepository>,
    organizations: Arc<dyn OrganizationRepository>,
    clock: Arc<dyn Clock>,
}

impl OrgUserService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports) -> Self {
        Self {
            repo: ports.org_users.clone(),
            organizations: ports.organizations.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Lists the caller's organization's users, newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        query: OrgUserQuery,
        page: PageRequest,
    ) -> Result<Page<OrgUser>, AppError> {
        let role = match query.role.as_deref() {
            None => None,
            Some(raw) => Some(parse_role(raw).map_err(|m| AppError::invalid("role", m))?),
        };
        let filter = OrgUserFilter {
            role,
            is_active: query.is_active,
            q: query.q.filter(|q| !q.trim().is_empty()),
        };
        Ok(self.repo.list(&caller.key.org_id, &filter, page).await?)
    }

    /// Gets a user of the caller's organization.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<OrgUser, AppError> {
        self.get_in(&caller.key.org_id, id).await
    }

    async fn get_in(&self, org_id: &str, id: &str) -> Result<OrgUser, AppError> {
        self.repo
            .get(org_id, id)
            .await
            .map_err(AppError::from_repo("org user"))
    }

    /// Creates a user with a generated one-time password.
    pub async fn create(
        &self,
        caller: &Caller,
        input: NewOrgUser,
    ) -> Result<UserWithPassword, AppError> {
        live_only(caller)?;
        self.create_by(By::Caller(caller), &caller.key.org_id, input, None)
            .await
    }

    /// Creates a user of `org_id` (operator command): with `password` when given (checked
    /// against the password rules), else with a generated one-time password.
    pub async fn create_in(
        &self,
        org_id: &str,
        input: NewOrgUser,
        password: Option<String>,
    ) -> Result<UserWithPassword, AppError> {
        self.create_by(By::System, org_id, input, password).await
    }

    async fn create_by(
        &self,
        by: By<'_>,
        org_id: &str,
        input: NewOrgUser,
        password: Option<String>,
    ) -> Result<UserWithPassword, AppError> {
        let mut errors = Vec::new();
        let email = required_text("email", input.email, &mut errors);
        if let Some(email) = &email
            && let Err(m) = org_user::check_email(email)
        {
            errors.push(FieldError::new("email", m));
        }
        let name = required_text("name", input.name, &mut errors);
        if let Some(name) = &name
            && let Err(m) = org_user::check_name(name)
        {
            errors.push(FieldError::new("name", m));
        }
        let role = match input.role.as_deref() {
            None => {
                errors.push(FieldError::new("role", "is required"));
                None
            }
            Some(raw) => parse_role(raw)
                .map_err(|m| errors.push(FieldError::new("role", m)))
                .ok(),
        };
        if let Some(p) = &password
            && let Err(m) = org_user::check_password(p)
        {
            errors.push(FieldError::new("password", m));
        }
        let (Some(email), Some(name), Some(role), true) = (email, name, role, errors.is_empty())
        else {
            return Err(AppError::Validation(errors));
        };
        self.organizations
            .get(org_id)
            .await
            .map_err(AppError::from_repo("organization"))?;
        let (password, temporary) = match password {
            Some(chosen) => (chosen, false),
            None => (random_base62(ONE_TIME_PASSWORD_LEN), true),
        };
        let now = self.clock.now();
        let user = OrgUser {
            id: new_id(prefix::ORG_USER),
            org_id: org_id.to_owned(),
            email,
            name: name.trim().to_owned(),
            role,
            is_active: true,
            password_hash: hash(&password)?,
            password_is_temporary: temporary,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            revision: 0,
        };
        let audit = by
            .audit(
                chain_of(org_id),
                "org_user.created",
                "org_user",
                &user.id,
                now,
            )
            .with_changes(["email", "name", "role"]);
        self.repo
            .insert(&user, &[audit])
            .await
            .map_err(|e| match e {
                verifa_ports::RepoError::Conflict(_) => email_taken(),
                other => other.into(),
            })?;
        Ok(UserWithPassword {
            user,
            one_time_password: password,
        })
    }

    /// Applies a PATCH.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        changes: OrgUserChanges,
    ) -> Result<OrgUser, AppError> {
        live_only(caller)?;
        retrying!(
            "the org user",
            async {
                let mut user = self.get(caller, id).await?;
                let before = user.clone();
                self.apply_changes(&mut user, changes.clone()).await?;
                let changed = changed_fields(&before, &user);
                self.write(user, By::Caller(caller), "org_user.updated", &changed)
                    .await
            }
            .await
        )
    }

    /// Deactivates a user; repeating it changes nothing.
    pub async fn deactivate(&self, caller: &Caller, id: &str) -> Result<OrgUser, AppError> {
        live_only(caller)?;
        retrying!(
            "the org user",
            async {
                let mut user = self.get(caller, id).await?;
                if !user.is_active {
                    return Ok(Attempt::Done(user));
                }
                user.is_active = false;
                self.write(
                    user,
                    By::Caller(caller),
                    "org_user.deactivated",
                    &["is_active"],
                )
                .await
            }
            .await
        )
    }

    /// Replaces a user's password with a generated one-time password.
    pub async fn reset_password(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<UserWithPassword, AppError> {
        live_only(caller)?;
        self.set_password(By::Caller(caller), &caller.key.org_id, id, None)
            .await
    }

    /// Resets the password of the user with `email` (operator command): to `password` when
    /// given, else to a generated one-time password.
    pub async fn reset_password_by_email(
        &self,
        email: &str,
        password: Option<String>,
    ) -> Result<UserWithPassword, AppError> {
        if let Some(p) = &password {
            org_user::check_password(p).map_err(|m| AppError::invalid("password", m))?;
        }
        let user = self
            .repo
            .find_by_email(email)
            .await?
            .ok_or(AppError::NotFound("org user"))?;
        self.set_password(By::System, &user.org_id, &user.id, password)
            .await
    }

    async fn set_password(
        &self,
        by: By<'_>,
        org_id: &str,
        id: &str,
        chosen: Option<String>,
    ) -> Result<UserWithPassword, AppError> {
        let temporary = chosen.is_none();
        let password = chosen.unwrap_or_else(|| random_base62(ONE_TIME_PASSWORD_LEN));
        let password_hash = hash(&password)?;
        let user = retrying!(
            "the org user",
            async {
                let mut user = self.get_in(org_id, id).await?;
                user.password_hash = password_hash.clone();
                user.password_is_temporary = temporary;
                self.write(user, by, "org_user.password_reset", &["password"])
                    .await
            }
            .await
        )?;
        Ok(UserWithPassword {
            user,
            one_time_password: password,
        })
    }

    /// Validates a PATCH and applies it to the user as read.
    async fn apply_changes(
        &self,
        user: &mut OrgUser,
        changes: OrgUserChanges,
    ) -> Result<(), AppError> {
        let mut errors = Vec::new();
        if let Some(name) = changes.name {
            match org_user::check_name(&name) {
                Ok(()) => user.name = name.trim().to_owned(),
                Err(m) => errors.push(FieldError::new("name", m)),
            }
        }
        if let Some(role) = changes.role {
            match parse_role(&role) {
                Ok(role) => user.role = role,
                Err(m) => errors.push(FieldError::new("role", m)),
            }
        }
        if let Some(active) = changes.is_active {
            user.is_active = active;
        }
        let mut new_email = None;
        if let Some(email) = changes.email {
            match org_user::check_email(&email) {
                Ok(()) => new_email = Some(email),
                Err(m) => errors.push(FieldError::new("email", m)),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if let Some(email) = new_email {
            if email_key(&email) != email_key(&user.email)
                && self.repo.find_by_email(&email).await?.is_some()
            {
                return Err(email_taken());
            }
            user.email = email;
        }
        Ok(())
    }

    /// Writes `user` fenced on the revision it was read at; 409 when it would take the
    /// organization's last active admin away.
    async fn write(
        &self,
        mut user: OrgUser,
        by: By<'_>,
        action: &str,
        changes: &[&str],
    ) -> Result<Attempt<OrgUser>, AppError> {
        user.updated_at = self.clock.now();
        let audit = by
            .audit(
                chain_of(&user.org_id),
                action,
                "org_user",
                &user.id,
                user.updated_at,
            )
            .with_changes(changes.iter().copied());
        match self.repo.update_keeping_admin(&user, &[audit]).await {
            Ok(true) => {
                user.revision += 1;
                Ok(Attempt::Done(user))
            }
            Ok(false) => Err(AppError::Conflict(
                "the organization's last active admin cannot be demoted or deactivated; make \
                 another user admin first"
                    .into(),
            )),
            Err(e) => written(Err(e), user),
        }
    }
}

/// The chain org-user events join: users are common to both environments, so `live`.
fn chain_of(org_id: &str) -> Tenant {
    Tenant::new(org_id, Environment::Live)
}

/// The names of the fields a PATCH changed.
fn changed_fields(before: &OrgUser, after: &OrgUser) -> Vec<&'static str> {
    [
        ("name", before.name != after.name),
        ("email", before.email != after.email),
        ("role", before.role != after.role),
        ("is_active", before.is_active != after.is_active),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

fn live_only(caller: &Caller) -> Result<(), AppError> {
    if caller.key.environment == Environment::Live {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            code: "live_only",
            detail: "Organization users are common to both environments: manage them with a \
                     live key."
                .into(),
        })
    }
}

fn parse_role(raw: &str) -> Result<OrgRole, String> {
    OrgRole::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = OrgRole::ALL.iter().map(|r| r.as_str()).collect();
        format!("must be one of: {}", names.join(", "))
    })
}

fn required_text(
    field: &str,
    value: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    if value.is_none() {
        errors.push(FieldError::new(field, "is required"));
    }
    value
}

fn email_taken() -> AppError {
    AppError::Conflict("a user with this email already exists".into())
}

fn hash(password: &str) -> Result<String, AppError> {
    hash_password(password).map_err(|e| AppError::Internal(e.to_string()))
}
