//! Erasing an identity (CONTRACT §11.4, GDPR Art. 17): what the identity itself holds about the
//! person goes (its external reference, custom fields, tags and flag reason); the counters,
//! dates and outcome stay, and its status becomes `redacted` for good. Its sessions are redacted
//! in the same transaction by the use case.

use super::model::{Identity, IdentityStatus};
use super::rules::IdentityError;
use chrono::{DateTime, Utc};
use serde_json::Map;

impl Identity {
    /// Erases the identity's personal data in place.
    ///
    /// # Errors
    /// [`IdentityError::InvalidState`] for a merged identity (redact the one it was merged
    /// into) or one already redacted.
    pub fn redact(&mut self, now: DateTime<Utc>) -> Result<(), IdentityError> {
        self.ensure_changeable()?;
        self.erase(now);
        Ok(())
    }

    /// Erases a secondary identity a merge just absorbed (`redact_secondary`): its personal
    /// data goes as [`redact`](Self::redact) removes it and its status is `redacted`, while it
    /// keeps naming the identity it was merged into. Its sessions moved there, with the person,
    /// and are not redacted.
    pub fn erase_after_merge(&mut self, now: DateTime<Utc>) {
        self.erase(now);
    }

    fn erase(&mut self, now: DateTime<Utc>) {
        self.external_ref = None;
        self.custom_fields = Map::new();
        self.tags.clear();
        self.flag_reason = None;
        self.flagged_by = None;
        self.status = IdentityStatus::Redacted;
        self.type_status = None;
        self.redacted_at = Some(now);
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::{Environment, Tenant};
    use serde_json::json;

    #[test]
    fn redaction_erases_the_person_and_is_final() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let mut i = Identity::new(
            "idn_1".into(),
            Tenant::new("org_1", Environment::Live),
            "customer-42".into(),
            at,
        );
        i.tags = vec!["vip".into()];
        i.custom_fields = json!({"email": "a@b.c"}).as_object().cloned().unwrap();
        i.flag(Some("PEP?".into()), Some("ann@example.com".into()), at)
            .unwrap();
        i.redact(at).unwrap();
        assert_eq!(i.status, IdentityStatus::Redacted);
        assert_eq!(
            (&i.external_ref, i.tags.len(), i.custom_fields.len()),
            (&None, 0, 0)
        );
        assert_eq!((&i.flag_reason, &i.flagged_by), (&None, &None));
        assert_eq!(i.redacted_at, Some(at));
        assert!(i.redact(at).is_err(), "once");
        let mut merged = Identity::new(
            "idn_2".into(),
            Tenant::new("org_1", Environment::Live),
            "customer-43".into(),
            at,
        );
        merged.status = IdentityStatus::Merged;
        merged.merged_into_id = Some("idn_1".into());
        assert!(matches!(
            merged.redact(at),
            Err(IdentityError::InvalidState(_))
        ));
        merged.erase_after_merge(at);
        assert_eq!(merged.status, IdentityStatus::Redacted);
        assert_eq!(merged.external_ref, None);
        assert_eq!(
            merged.merged_into_id.as_deref(),
            Some("idn_1"),
            "still points there"
        );
    }
}
