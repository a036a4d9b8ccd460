//! Editing a case (`PATCH /cases/{id}`, CONTRACT §8.4): priority and dual review while the case
//! is undecided (dual review only before a recommendation exists), and the integrator's
//! `metadata` and `custom_fields` at any time (merged: a key sent replaces that key, `null`
//! deletes it), within the limits every free-form object has.

use super::lifecycle::CaseError;
use super::model::{Case, Priority};
use crate::fields;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What a `PATCH` may change; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CasePatch {
    /// New priority.
    pub priority: Option<Priority>,
    /// Keys to set or (with `null`) delete.
    pub metadata: Option<Map<String, Value>>,
    /// Keys to set or (with `null`) delete.
    pub custom_fields: Option<Map<String, Value>>,
    /// Whether a second reviewer must decide.
    pub requires_dual_review: Option<bool>,
}

impl Case {
    /// Applies `patch`; returns the fields that changed (empty: nothing to write).
    ///
    /// # Errors
    /// [`CaseError::InvalidState`] for priority or dual review on a decided case, or dual review
    /// once a recommendation exists; [`CaseError::InvalidFields`] when an object would break
    /// its limits. Nothing is changed on an error.
    pub fn edit(
        &mut self,
        patch: &CasePatch,
        now: DateTime<Utc>,
    ) -> Result<Vec<&'static str>, CaseError> {
        let decided = !self.status.is_active();
        if decided && (patch.priority.is_some() || patch.requires_dual_review.is_some()) {
            return Err(CaseError::InvalidState(format!(
                "the case is {}: its priority and dual review are final",
                self.status.as_str()
            )));
        }
        if let Some(dual) = patch.requires_dual_review
            && dual != self.requires_dual_review
            && self.recommendation.is_some()
        {
            return Err(CaseError::InvalidState(
                "the case has a recommendation: dual review can no longer change".into(),
            ));
        }
        let mut problems = Vec::new();
        let mut merge =
            |field: &str, current: &Map<String, Value>, p: &Option<Map<String, Value>>| {
                p.as_ref()
                    .and_then(|p| match fields::merged(field, current, p) {
                        Ok(m) => Some(m),
                        Err(mut e) => {
                            problems.append(&mut e);
                            None
                        }
                    })
            };
        let metadata = merge("metadata", &self.metadata, &patch.metadata);
        let custom_fields = merge("custom_fields", &self.custom_fields, &patch.custom_fields);
        if !problems.is_empty() {
            return Err(CaseError::InvalidFields(problems));
        }
        let mut changed = Vec::new();
        if let Some(p) = patch.priority.filter(|p| *p != self.priority) {
            self.priority = p;
            changed.push("priority");
        }
        if let Some(d) = patch
            .requires_dual_review
            .filter(|d| *d != self.requires_dual_review)
        {
            self.requires_dual_review = d;
            changed.push("requires_dual_review");
        }
        if let Some(m) = metadata.filter(|m| *m != self.metadata) {
            self.metadata = m;
            changed.push("metadata");
        }
        if let Some(c) = custom_fields.filter(|c| *c != self.custom_fields) {
            self.custom_fields = c;
            changed.push("custom_fields");
        }
        if !changed.is_empty() {
            self.updated_at = now;
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::model::{CaseSource, CaseStatus, Decision, Opening};
    use crate::tenancy::{Environment, Tenant};
    use serde_json::json;

    fn at(m: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(m)
    }

    fn case() -> Case {
        Case::open(Opening {
            id: "case_1".into(),
            tenant: Tenant::new("org", Environment::Live),
            session_id: "ses_1".into(),
            identity_id: None,
            external_ref: None,
            source: CaseSource::Api,
            review_reasons: vec!["review:terminal".into()],
            priority: Priority::Normal,
            requires_dual_review: false,
            sla_hours: 24,
            at: at(0),
        })
    }

    fn obj(v: Value) -> Option<Map<String, Value>> {
        v.as_object().cloned()
    }

    #[test]
    fn fields_merge_and_only_changes_are_named() {
        let mut c = case();
        let patch = CasePatch {
            priority: Some(Priority::Urgent),
            metadata: obj(json!({"team": "emea", "x": null})),
            ..CasePatch::default()
        };
        assert_eq!(c.edit(&patch, at(1)), Ok(vec!["priority", "metadata"]));
        assert_eq!(c.metadata, obj(json!({"team": "emea"})).unwrap_or_default());
        assert_eq!(c.updated_at, at(1));
        assert_eq!(c.edit(&patch, at(2)), Ok(vec![]), "the same patch again");
        assert_eq!(c.updated_at, at(1));
    }

    #[test]
    fn dual_review_is_fixed_once_recommended() {
        let mut c = case();
        let dual = CasePatch {
            requires_dual_review: Some(true),
            ..CasePatch::default()
        };
        assert_eq!(c.edit(&dual, at(1)), Ok(vec!["requires_dual_review"]));
        assert_eq!(c.claim("ann", at(2)), Ok(true));
        assert!(
            c.decide("ann", Decision::Approved, None, None, at(3))
                .is_ok()
        );
        assert_eq!(c.status, CaseStatus::PendingSecondReview);
        let off = CasePatch {
            requires_dual_review: Some(false),
            ..CasePatch::default()
        };
        assert!(matches!(
            c.edit(&off, at(4)),
            Err(CaseError::InvalidState(_))
        ));
        assert!(c.requires_dual_review);
    }

    #[test]
    fn a_decided_case_keeps_its_priority_but_takes_metadata() {
        let mut c = case();
        assert!(
            c.decide("ann", Decision::Rejected, None, None, at(1))
                .is_ok()
        );
        let priority = CasePatch {
            priority: Some(Priority::High),
            ..CasePatch::default()
        };
        assert!(matches!(
            c.edit(&priority, at(2)),
            Err(CaseError::InvalidState(_))
        ));
        let note = CasePatch {
            custom_fields: obj(json!({"ticket": "T-1"})),
            ..CasePatch::default()
        };
        assert_eq!(c.edit(&note, at(2)), Ok(vec!["custom_fields"]));
    }

    #[test]
    fn limits_refuse_the_whole_patch() {
        let mut c = case();
        let patch = CasePatch {
            priority: Some(Priority::Low),
            custom_fields: obj(json!({"": 1})),
            ..CasePatch::default()
        };
        let e = c.edit(&patch, at(1));
        assert!(matches!(&e, Err(CaseError::InvalidFields(p)) if p[0].0 == "custom_fields."));
        assert_eq!(c.priority, Priority::Normal, "nothing changed");
    }
}
