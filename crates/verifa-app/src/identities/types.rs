//! Identity types (CONTRACT §7.4): list, get, create, update and delete. One type per tenant is
//! the default (setting a new one demotes the former in the same transaction); a type in use
//! cannot be deleted (409).

use crate::actor::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::retry::{retrying, written};
use std::sync::Arc;
use verifa_domain::identity::IdentityType;
use verifa_ports::RepoError;
use verifa_ports::clock::Clock;
use verifa_ports::identities::IdentityTypeStore;

/// Fields of a type, as received (create: `name`, `label` and `statuses` required; update:
/// `None` leaves a field unchanged).
#[derive(Debug, Clone, Default)]
pub struct IdentityTypeFields {
    /// Machine name.
    pub name: Option<String>,
    /// Human name.
    pub label: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// Statuses.
    pub statuses: Option<Vec<String>>,
    /// Default status (else the first status).
    pub default_status: Option<String>,
    /// The tenant's default type.
    pub is_default: Option<bool>,
}

/// Identity-type use cases.
pub struct IdentityTypeService {
    store: Arc<dyn IdentityTypeStore>,
    clock: Arc<dyn Clock>,
}

fn problems(t: &IdentityType) -> Result<(), AppError> {
    let p = t.problems();
    if p.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(
            p.into_iter().map(|(f, m)| FieldError::new(f, m)).collect(),
        ))
    }
}

fn name_taken(e: RepoError) -> AppError {
    match e {
        RepoError::Conflict(_) => {
            AppError::Conflict("an identity type with this name exists".into())
        }
        other => AppError::from_repo("identity type")(other),
    }
}

impl IdentityTypeService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports) -> Self {
        Self {
            store: ports.identity_types.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Every type of the caller's tenant, oldest first.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<IdentityType>, AppError> {
        Ok(self.store.list_types(&caller.tenant()).await?)
    }

    /// One type.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<IdentityType, AppError> {
        self.store
            .get_type(&caller.tenant(), id)
            .await
            .map_err(AppError::from_repo("identity type"))
    }

    /// Creates a type.
    pub async fn create(
        &self,
        caller: &Caller,
        fields: IdentityTypeFields,
    ) -> Result<IdentityType, AppError> {
        let now = self.clock.now();
        let statuses = fields.statuses.unwrap_or_default();
        let t = IdentityType {
            id: new_id(prefix::IDENTITY_TYPE),
            tenant: caller.tenant(),
            name: fields.name.unwrap_or_default(),
            label: fields.label.unwrap_or_default(),
            description: fields.description.flatten(),
            default_status: fields
                .default_status
                .or_else(|| statuses.first().cloned())
                .unwrap_or_default(),
            statuses,
            is_default: fields.is_default.unwrap_or(false),
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        problems(&t)?;
        let audit = caller
            .audit("identity_type.created", "identity_type", &t.id, now)
            .with_changes(["name", "label", "statuses", "default_status", "is_default"]);
        self.store
            .insert_type(&t, &[audit])
            .await
            .map_err(name_taken)?;
        Ok(t)
    }

    /// Updates a type.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        fields: IdentityTypeFields,
    ) -> Result<IdentityType, AppError> {
        retrying!(
            "the identity type",
            async {
                let mut t = self.get(caller, id).await?;
                let before = t.clone();
                if let Some(v) = &fields.name {
                    t.name.clone_from(v);
                }
                if let Some(v) = &fields.label {
                    t.label.clone_from(v);
                }
                if let Some(v) = &fields.description {
                    t.description.clone_from(v);
                }
                if let Some(v) = &fields.statuses {
                    t.statuses.clone_from(v);
                    if fields.default_status.is_none() && !t.allows(&t.default_status) {
                        t.default_status = t.statuses.first().cloned().unwrap_or_default();
                    }
                }
                if let Some(v) = &fields.default_status {
                    t.default_status.clone_from(v);
                }
                if let Some(v) = fields.is_default {
                    t.is_default = v;
                }
                problems(&t)?;
                let mut changed = Vec::new();
                for (name, differs) in [
                    ("name", before.name != t.name),
                    ("label", before.label != t.label),
                    ("description", before.description != t.description),
                    ("statuses", before.statuses != t.statuses),
                    ("default_status", before.default_status != t.default_status),
                    ("is_default", before.is_default != t.is_default),
                ] {
                    if differs {
                        changed.push(name);
                    }
                }
                if changed.is_empty() {
                    return Ok(crate::retry::Attempt::Done(t));
                }
                t.updated_at = self.clock.now();
                let audit = caller
                    .audit(
                        "identity_type.updated",
                        "identity_type",
                        &t.id,
                        t.updated_at,
                    )
                    .with_changes(changed);
                match self.store.update_type(&t, &[audit]).await {
                    Err(RepoError::Conflict(m)) if m.contains("name") => {
                        Err(name_taken(RepoError::Conflict(m)))
                    }
                    outcome => {
                        let mut after = t;
                        after.revision = after.revision.saturating_add(1);
                        written(outcome, after)
                    }
                }
            }
            .await
        )
    }

    /// Deletes a type no identity uses.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        let audit = caller.audit(
            "identity_type.deleted",
            "identity_type",
            id,
            self.clock.now(),
        );
        let deleted = self
            .store
            .delete_type(&caller.tenant(), id, &[audit])
            .await
            .map_err(AppError::from_repo("identity type"))?;
        if deleted {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "identities use this type; give them another type first".into(),
            ))
        }
    }
}
