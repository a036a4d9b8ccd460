//! Changing one identity (CONTRACT §7.2, §7.4): PATCH, tags, flag, archive and restore,
//! monitoring. Each change is a read-modify-write fenced on the identity's revision, retried on a
//! lost race, and writes its `identity.*` events and its audit event with it. A change that
//! changes nothing writes nothing.

use super::{IdentityService, event};
use crate::actor::Caller;
use crate::error::{AppError, FieldError};
use crate::retry::{Attempt, retrying, written};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use verifa_domain::identity::{Identity, IdentityError, IdentityEvent};

/// A PATCH of an identity: `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct IdentityPatch {
    /// `Some(None)` removes the type.
    pub identity_type_id: Option<Option<String>>,
    /// One of the type's statuses.
    pub type_status: Option<String>,
    /// Merged into the stored fields; `null` deletes a key.
    pub custom_fields: Option<Map<String, Value>>,
    /// Ongoing monitoring.
    pub monitoring_enabled: Option<bool>,
}

/// A tag edit.
#[derive(Debug, Clone)]
pub enum TagEdit {
    /// `POST …/tags`.
    Add(String),
    /// `PUT …/tags`.
    Replace(Vec<String>),
    /// `DELETE …/tags/{tag}`.
    Remove(String),
}

/// What one change did.
struct Changed {
    action: &'static str,
    fields: Vec<&'static str>,
    events: Vec<IdentityEvent>,
}

impl Changed {
    fn new(action: &'static str, fields: &[&'static str], events: Vec<IdentityEvent>) -> Self {
        Self {
            action,
            fields: fields.to_vec(),
            events,
        }
    }

    fn nothing() -> Self {
        Self::new("", &[], Vec::new())
    }
}

fn refused(e: IdentityError) -> AppError {
    match e {
        IdentityError::InvalidState(m) => AppError::InvalidState(m),
        IdentityError::Invalid { field, message } => AppError::invalid(field, message),
    }
}

impl IdentityService {
    /// Reads the identity, applies `f`, and writes what it changed.
    async fn change<F>(&self, caller: &Caller, key: &str, f: F) -> Result<Identity, AppError>
    where
        F: Fn(&mut Identity, DateTime<Utc>) -> Result<Changed, AppError> + Send + Sync,
    {
        retrying!(
            "the identity",
            async {
                let mut identity = self.resolve(caller, key).await?;
                let now = self.clock.now();
                let changed = f(&mut identity, now)?;
                if changed.fields.is_empty() && changed.events.is_empty() {
                    return Ok(Attempt::Done(identity));
                }
                identity.updated_at = now;
                let audit = caller
                    .audit(changed.action, "identity", &identity.id, now)
                    .with_changes(changed.fields.iter().copied());
                let events: Vec<_> = changed.events.into_iter().map(event).collect();
                let outcome = self.store.update(&identity, &events, &[audit]).await;
                identity.revision = identity.revision.saturating_add(1);
                written(outcome, identity)
            }
            .await
        )
    }

    /// Applies a PATCH.
    pub async fn patch(
        &self,
        caller: &Caller,
        key: &str,
        patch: IdentityPatch,
    ) -> Result<Identity, AppError> {
        // The type is read once, outside the retried write: types change rarely and a deleted
        // type is refused by its own rule (in use → 409).
        let kind = match &patch.identity_type_id {
            Some(Some(id)) => Some(self.types.get_type(&caller.tenant(), id).await.map_err(
                |e| match e {
                    verifa_ports::RepoError::NotFound => {
                        AppError::invalid("identity_type_id", "names no identity type")
                    }
                    other => other.into(),
                },
            )?),
            _ => None,
        };
        // The current type is needed to check `type_status` when the PATCH does not set a type.
        let stored_type = if patch.type_status.is_some() && patch.identity_type_id.is_none() {
            match self.resolve(caller, key).await?.identity_type_id {
                Some(id) => Some(self.types.get_type(&caller.tenant(), &id).await?),
                None => None,
            }
        } else {
            None
        };
        self.change(caller, key, |identity, _now| {
            identity.ensure_changeable().map_err(refused)?;
            let before = identity.clone();
            let mut errors = Vec::new();
            match &patch.identity_type_id {
                Some(None) => {
                    identity.identity_type_id = None;
                    identity.type_status = None;
                }
                Some(Some(_)) => {
                    if let Some(k) = &kind
                        && identity.identity_type_id.as_deref() != Some(k.id.as_str())
                    {
                        identity.identity_type_id = Some(k.id.clone());
                        identity.type_status = Some(k.default_status.clone());
                    }
                }
                None => {}
            }
            if let Some(status) = &patch.type_status {
                let governing = kind.as_ref().or(stored_type.as_ref());
                match governing {
                    Some(k) if k.allows(status) => identity.type_status = Some(status.clone()),
                    Some(k) => errors.push(FieldError::new(
                        "type_status",
                        format!("must be one of {}", k.statuses.join(", ")),
                    )),
                    None => errors.push(FieldError::new(
                        "type_status",
                        "needs an identity type; set identity_type_id",
                    )),
                }
            }
            if !errors.is_empty() {
                return Err(AppError::Validation(errors));
            }
            if let Some(fields) = &patch.custom_fields {
                identity
                    .merge_custom_fields(fields)
                    .map_err(crate::error::field_problems)?;
            }
            if let Some(on) = patch.monitoring_enabled {
                identity.monitoring_enabled = on;
            }
            let mut fields = Vec::new();
            let mut diff = |name: &'static str, differs: bool| {
                if differs {
                    fields.push(name);
                }
            };
            diff(
                "identity_type_id",
                before.identity_type_id != identity.identity_type_id,
            );
            diff("type_status", before.type_status != identity.type_status);
            diff(
                "custom_fields",
                before.custom_fields != identity.custom_fields,
            );
            diff(
                "monitoring_enabled",
                before.monitoring_enabled != identity.monitoring_enabled,
            );
            let events = if fields.is_empty() {
                Vec::new()
            } else {
                vec![IdentityEvent::Updated]
            };
            Ok(Changed::new("identity.updated", &fields, events))
        })
        .await
    }

    /// Adds, replaces or removes tags; each tag added or removed fires its event.
    pub async fn edit_tags(
        &self,
        caller: &Caller,
        key: &str,
        edit: TagEdit,
    ) -> Result<Identity, AppError> {
        self.change(caller, key, |identity, _now| {
            let (added, removed) = match &edit {
                TagEdit::Add(tag) => {
                    let added = identity.add_tag(tag).map_err(refused)?;
                    (if added { vec![tag.clone()] } else { vec![] }, vec![])
                }
                TagEdit::Remove(tag) => {
                    let removed = identity.remove_tag(tag).map_err(refused)?;
                    (vec![], if removed { vec![tag.clone()] } else { vec![] })
                }
                TagEdit::Replace(tags) => {
                    let c = identity.set_tags(tags).map_err(refused)?;
                    (c.added, c.removed)
                }
            };
            if added.is_empty() && removed.is_empty() {
                return Ok(Changed::nothing());
            }
            let events = added
                .into_iter()
                .map(IdentityEvent::TagAdded)
                .chain(removed.into_iter().map(IdentityEvent::TagRemoved))
                .collect();
            Ok(Changed::new("identity.tags_updated", &["tags"], events))
        })
        .await
    }

    /// Archives an identity (409 when it already is).
    pub async fn archive(&self, caller: &Caller, key: &str) -> Result<Identity, AppError> {
        self.change(caller, key, |identity, now| {
            identity.archive(now).map_err(refused)?;
            Ok(Changed::new(
                "identity.archived",
                &["archived_at", "monitoring_paused_reason"],
                vec![IdentityEvent::Archived],
            ))
        })
        .await
    }

    /// Restores an archived identity (409 when it is not).
    pub async fn restore(&self, caller: &Caller, key: &str) -> Result<Identity, AppError> {
        self.change(caller, key, |identity, _now| {
            identity.restore().map_err(refused)?;
            Ok(Changed::new(
                "identity.restored",
                &["archived_at", "monitoring_paused_reason"],
                vec![IdentityEvent::Restored],
            ))
        })
        .await
    }

    /// Flags an identity.
    pub async fn flag(
        &self,
        caller: &Caller,
        key: &str,
        reason: Option<String>,
        flagged_by: Option<String>,
    ) -> Result<Identity, AppError> {
        self.change(caller, key, |identity, now| {
            identity
                .flag(reason.clone(), flagged_by.clone(), now)
                .map_err(refused)?;
            Ok(Changed::new(
                "identity.flagged",
                &["is_flagged", "flag_reason", "flagged_at", "flagged_by"],
                vec![IdentityEvent::Flagged],
            ))
        })
        .await
    }

    /// Clears the flag (nothing to do when it is not flagged).
    pub async fn unflag(&self, caller: &Caller, key: &str) -> Result<Identity, AppError> {
        self.change(caller, key, |identity, _now| {
            if !identity.is_flagged {
                identity.ensure_changeable().map_err(refused)?;
                return Ok(Changed::nothing());
            }
            identity.unflag().map_err(refused)?;
            Ok(Changed::new(
                "identity.unflagged",
                &["is_flagged", "flag_reason", "flagged_at", "flagged_by"],
                vec![IdentityEvent::Updated],
            ))
        })
        .await
    }

    /// Pauses (`true`) or resumes (`false`) monitoring.
    pub async fn set_monitoring_paused(
        &self,
        caller: &Caller,
        key: &str,
        paused: bool,
    ) -> Result<Identity, AppError> {
        self.change(caller, key, |identity, _now| {
            let before = identity.monitoring_paused;
            if paused {
                identity.pause_monitoring().map_err(refused)?;
            } else {
                identity.resume_monitoring().map_err(refused)?;
            }
            if before == identity.monitoring_paused {
                return Ok(Changed::nothing());
            }
            let action = if paused {
                "identity.monitoring_paused"
            } else {
                "identity.monitoring_resumed"
            };
            Ok(Changed::new(
                action,
                &["monitoring_paused_reason"],
                vec![IdentityEvent::Updated],
            ))
        })
        .await
    }
}
