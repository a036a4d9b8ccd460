//! What may be done to an identity (CONTRACT §7.2, §7.4): tags, flags, archive and restore,
//! monitoring, custom fields. Each rule changes the identity in place and names what changed, or
//! refuses with an [`IdentityError`] that says why.

use super::model::{Identity, MonitoringPause};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Most tags an identity may carry.
pub const MAX_TAGS: usize = 50;
/// Longest tag, in characters.
pub const MAX_TAG_LEN: usize = 64;
/// Longest flag reason, in characters.
pub const MAX_FLAG_REASON_LEN: usize = 500;
/// Longest `flagged_by`, in characters.
pub const MAX_FLAGGED_BY_LEN: usize = 254;

/// Why a rule refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The identity is not in a state that allows it (409 `invalid_state`).
    #[error("{0}")]
    InvalidState(String),
    /// A field is invalid (422), naming the field.
    #[error("{field}: {message}")]
    Invalid {
        /// Body field.
        field: &'static str,
        /// Why.
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> IdentityError {
    IdentityError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks one tag: 1–64 printable characters (case-sensitive, kept as given).
pub fn validate_tag(tag: &str) -> Result<(), String> {
    let len = tag.chars().count();
    if len == 0 || len > MAX_TAG_LEN {
        return Err(format!("must be 1 to {MAX_TAG_LEN} characters"));
    }
    if tag.chars().any(char::is_control) {
        return Err("must contain printable characters only".into());
    }
    if tag.trim() != tag {
        return Err("must not start or end with whitespace".into());
    }
    Ok(())
}

/// The tags a replacement list adds and removes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChanges {
    /// Tags added, in the order given.
    pub added: Vec<String>,
    /// Tags removed, in their former order.
    pub removed: Vec<String>,
}

impl Identity {
    /// Refuses changes to a `redacted` or `merged` identity.
    pub fn ensure_changeable(&self) -> Result<(), IdentityError> {
        if self.status.is_final() {
            return Err(IdentityError::InvalidState(format!(
                "The identity is {}; it cannot be changed.",
                self.status.as_str()
            )));
        }
        Ok(())
    }

    /// Adds a tag; `false` when it was already there.
    pub fn add_tag(&mut self, tag: &str) -> Result<bool, IdentityError> {
        self.ensure_changeable()?;
        validate_tag(tag).map_err(|m| invalid("tag", m))?;
        if self.tags.iter().any(|t| t == tag) {
            return Ok(false);
        }
        if self.tags.len() >= MAX_TAGS {
            return Err(invalid(
                "tag",
                format!("an identity carries at most {MAX_TAGS} tags; remove one first"),
            ));
        }
        self.tags.push(tag.to_owned());
        Ok(true)
    }

    /// Removes a tag; `false` when it was not there.
    pub fn remove_tag(&mut self, tag: &str) -> Result<bool, IdentityError> {
        self.ensure_changeable()?;
        let before = self.tags.len();
        self.tags.retain(|t| t != tag);
        Ok(self.tags.len() != before)
    }

    /// Replaces every tag (duplicates collapse); `[]` clears them.
    pub fn set_tags(&mut self, tags: &[String]) -> Result<TagChanges, IdentityError> {
        self.ensure_changeable()?;
        let mut next: Vec<String> = Vec::new();
        for tag in tags {
            validate_tag(tag).map_err(|m| invalid("tags", format!("'{tag}' {m}")))?;
            if !next.contains(tag) {
                next.push(tag.clone());
            }
        }
        if next.len() > MAX_TAGS {
            return Err(invalid(
                "tags",
                format!("an identity carries at most {MAX_TAGS} tags"),
            ));
        }
        let changes = TagChanges {
            added: next
                .iter()
                .filter(|t| !self.tags.contains(t))
                .cloned()
                .collect(),
            removed: self
                .tags
                .iter()
                .filter(|t| !next.contains(t))
                .cloned()
                .collect(),
        };
        self.tags = next;
        Ok(changes)
    }

    /// Archives it: hidden from lists, monitoring paused as `archived` unless paused by hand.
    pub fn archive(&mut self, now: DateTime<Utc>) -> Result<(), IdentityError> {
        self.ensure_changeable()?;
        if self.is_archived() {
            return Err(IdentityError::InvalidState(
                "The identity is already archived.".into(),
            ));
        }
        self.archived_at = Some(now);
        if self.monitoring_paused != Some(MonitoringPause::Manual) {
            self.monitoring_paused = Some(MonitoringPause::Archived);
        }
        Ok(())
    }

    /// Restores an archived identity; monitoring resumes when archiving paused it.
    pub fn restore(&mut self) -> Result<(), IdentityError> {
        self.ensure_changeable()?;
        if !self.is_archived() {
            return Err(IdentityError::InvalidState(
                "The identity is not archived; only an archived identity can be restored.".into(),
            ));
        }
        self.archived_at = None;
        if self.monitoring_paused == Some(MonitoringPause::Archived) {
            self.monitoring_paused = None;
        }
        Ok(())
    }

    /// Pauses monitoring by hand.
    pub fn pause_monitoring(&mut self) -> Result<(), IdentityError> {
        self.ensure_changeable()?;
        self.monitoring_paused = Some(MonitoringPause::Manual);
        Ok(())
    }

    /// Resumes monitoring: refused while archived or while monitoring is off.
    pub fn resume_monitoring(&mut self) -> Result<(), IdentityError> {
        self.ensure_changeable()?;
        if self.is_archived() {
            return Err(IdentityError::InvalidState(
                "The identity is archived; restore it to resume monitoring.".into(),
            ));
        }
        if !self.monitoring_enabled {
            return Err(IdentityError::InvalidState(
                "Monitoring is not enabled for this identity; set monitoring_enabled first.".into(),
            ));
        }
        self.monitoring_paused = None;
        Ok(())
    }

    /// Flags it for attention.
    pub fn flag(
        &mut self,
        reason: Option<String>,
        by: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        self.ensure_changeable()?;
        if reason
            .as_deref()
            .is_some_and(|r| r.chars().count() > MAX_FLAG_REASON_LEN)
        {
            return Err(invalid(
                "reason",
                format!("must be at most {MAX_FLAG_REASON_LEN} characters"),
            ));
        }
        if by
            .as_deref()
            .is_some_and(|b| b.chars().count() > MAX_FLAGGED_BY_LEN)
        {
            return Err(invalid(
                "flagged_by",
                format!("must be at most {MAX_FLAGGED_BY_LEN} characters"),
            ));
        }
        self.is_flagged = true;
        self.flag_reason = reason;
        self.flagged_by = by;
        self.flagged_at = Some(now);
        Ok(())
    }

    /// Clears the flag.
    pub fn unflag(&mut self) -> Result<(), IdentityError> {
        self.ensure_changeable()?;
        self.is_flagged = false;
        self.flag_reason = None;
        self.flagged_by = None;
        self.flagged_at = None;
        Ok(())
    }

    /// Merges custom fields: each key sent replaces that key, `null` deletes it.
    ///
    /// # Errors
    /// The `(field path, message)` problems when the merged fields would break the limits of
    /// free-form objects; nothing changes then.
    pub fn merge_custom_fields(
        &mut self,
        patch: &Map<String, Value>,
    ) -> Result<(), Vec<(String, String)>> {
        self.custom_fields = crate::fields::merged("custom_fields", &self.custom_fields, patch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityStatus;
    use crate::tenancy::{Environment, Tenant};
    use serde_json::json;

    fn identity() -> Identity {
        Identity::new(
            "idn_1".into(),
            Tenant::new("org_1", Environment::Live),
            "u".into(),
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    #[test]
    fn tags_are_validated_deduplicated_and_capped() {
        let mut i = identity();
        assert_eq!(i.add_tag("vip"), Ok(true));
        assert_eq!(i.add_tag("vip"), Ok(false));
        assert_eq!(i.add_tag("VIP"), Ok(true), "tags are case-sensitive");
        assert!(matches!(i.add_tag(""), Err(IdentityError::Invalid { .. })));
        assert!(matches!(
            i.add_tag("a\nb"),
            Err(IdentityError::Invalid { .. })
        ));
        assert!(i.add_tag(&"x".repeat(65)).is_err());
        let many: Vec<String> = (0..51).map(|n| format!("t{n}")).collect();
        assert!(i.set_tags(&many).is_err());
        assert_eq!(
            i.tags,
            vec!["vip", "VIP"],
            "a refused replacement changes nothing"
        );
        let changes = i
            .set_tags(&["VIP".into(), "new".into(), "new".into()])
            .unwrap();
        assert_eq!(changes.added, vec!["new"]);
        assert_eq!(changes.removed, vec!["vip"]);
        assert_eq!(i.remove_tag("new"), Ok(true));
        assert_eq!(i.remove_tag("new"), Ok(false));
    }

    #[test]
    fn archive_pauses_monitoring_and_restore_resumes_only_what_it_paused() {
        let mut i = identity();
        i.monitoring_enabled = true;
        i.archive(DateTime::<Utc>::UNIX_EPOCH).unwrap();
        assert_eq!(i.monitoring_paused, Some(MonitoringPause::Archived));
        assert!(matches!(
            i.archive(DateTime::<Utc>::UNIX_EPOCH),
            Err(IdentityError::InvalidState(_))
        ));
        assert!(
            i.resume_monitoring().is_err(),
            "resume is refused while archived"
        );
        i.restore().unwrap();
        assert_eq!(i.monitoring_paused, None);
        assert!(i.restore().is_err());

        i.pause_monitoring().unwrap();
        i.archive(DateTime::<Utc>::UNIX_EPOCH).unwrap();
        assert_eq!(i.monitoring_paused, Some(MonitoringPause::Manual));
        i.restore().unwrap();
        assert_eq!(i.monitoring_paused, Some(MonitoringPause::Manual));
        i.resume_monitoring().unwrap();
        assert_eq!(i.monitoring_paused, None);
        i.monitoring_enabled = false;
        assert!(
            i.resume_monitoring().is_err(),
            "resume needs monitoring enabled"
        );
    }

    #[test]
    fn flags_and_final_identities() {
        let mut i = identity();
        assert!(
            i.flag(Some("x".repeat(501)), None, DateTime::<Utc>::UNIX_EPOCH)
                .is_err()
        );
        i.flag(
            Some("PEP?".into()),
            Some("ann@example.com".into()),
            DateTime::<Utc>::UNIX_EPOCH,
        )
        .unwrap();
        assert!(i.is_flagged && i.flagged_at.is_some());
        i.unflag().unwrap();
        assert!(!i.is_flagged && i.flag_reason.is_none() && i.flagged_by.is_none());
        i.status = IdentityStatus::Redacted;
        assert!(matches!(
            i.add_tag("x"),
            Err(IdentityError::InvalidState(_))
        ));
        assert!(i.archive(DateTime::<Utc>::UNIX_EPOCH).is_err());
    }

    #[test]
    fn custom_fields_merge_and_null_deletes() {
        let mut i = identity();
        assert!(
            i.merge_custom_fields(json!({"a": 1, "b": 2}).as_object().unwrap())
                .is_ok()
        );
        assert!(
            i.merge_custom_fields(json!({"a": null, "c": 3}).as_object().unwrap())
                .is_ok()
        );
        assert_eq!(
            Value::Object(i.custom_fields.clone()),
            json!({"b": 2, "c": 3})
        );
        let too_big = json!({"c": "x".repeat(17 * 1024)});
        let refused = i.merge_custom_fields(too_big.as_object().unwrap());
        assert_eq!(
            refused.map_err(|p| p[0].0.clone()),
            Err("custom_fields.c".into())
        );
        assert_eq!(i.custom_fields["c"], json!(3), "nothing changed");
    }
}
