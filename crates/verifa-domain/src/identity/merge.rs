//! Merging identities (CONTRACT §7.4): the secondaries' sessions move to the primary, session
//! counts add up, tags are unioned, monitoring stays on if any had it, and the primary takes the
//! status of the latest completed session among them all. The secondaries become `merged`.

use super::model::{Identity, IdentityStatus};
use super::rules::{IdentityError, MAX_TAGS};
use chrono::{DateTime, Utc};

/// Most secondaries one `merge-multiple` takes.
pub const MAX_SECONDARIES: usize = 50;

/// The identities as a merge leaves them.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeOutcome {
    /// The primary, with the merged values.
    pub primary: Identity,
    /// The secondaries, now `merged` into the primary.
    pub secondaries: Vec<Identity>,
}

fn refuse(field: &'static str, message: String) -> IdentityError {
    IdentityError::Invalid { field, message }
}

/// Plans merging `secondaries` into `primary` at `now`, or says why it cannot be done.
pub fn plan(
    primary: &Identity,
    secondaries: &[Identity],
    now: DateTime<Utc>,
) -> Result<MergeOutcome, IdentityError> {
    if primary.status.is_final() {
        return Err(refuse(
            "primary_identity_id",
            format!(
                "the identity is {} and cannot take a merge",
                primary.status.as_str()
            ),
        ));
    }
    let mut result = primary.clone();
    let mut merged = Vec::with_capacity(secondaries.len());
    for (n, s) in secondaries.iter().enumerate() {
        let field = "secondary_identity_ids";
        if s.id == primary.id {
            return Err(refuse(
                field,
                "must differ from the primary identity".into(),
            ));
        }
        if secondaries
            .get(..n)
            .is_some_and(|before| before.iter().any(|b| b.id == s.id))
        {
            return Err(refuse(field, format!("names {} twice", s.id)));
        }
        if s.status.is_final() {
            return Err(refuse(
                field,
                format!("{} is {} and cannot be merged", s.id, s.status.as_str()),
            ));
        }
        take_in(&mut result, s);
        let mut gone = s.clone();
        gone.status = IdentityStatus::Merged;
        gone.merged_into_id = Some(primary.id.clone());
        gone.updated_at = now;
        merged.push(gone);
    }
    if result.tags.len() > MAX_TAGS {
        return Err(refuse(
            "secondary_identity_ids",
            format!(
                "the merged identity would carry {} tags, more than {MAX_TAGS}; remove some first",
                result.tags.len()
            ),
        ));
    }
    result.updated_at = now;
    Ok(MergeOutcome {
        primary: result,
        secondaries: merged,
    })
}

/// Adds one secondary's sessions, tags, monitoring and (if later) latest completion.
fn take_in(into: &mut Identity, s: &Identity) {
    into.session_count = into.session_count.saturating_add(s.session_count);
    for tag in &s.tags {
        if !into.tags.contains(tag) {
            into.tags.push(tag.clone());
        }
    }
    into.monitoring_enabled |= s.monitoring_enabled;
    into.first_verified_at = earliest(into.first_verified_at, s.first_verified_at);
    into.last_verified_at = into.last_verified_at.max(s.last_verified_at);
    let later = match (into.latest_completed_at, s.latest_completed_at) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(b)) => b > a,
    };
    if later {
        into.status = s.status;
        into.latest_session_id.clone_from(&s.latest_session_id);
        into.latest_completed_at = s.latest_completed_at;
        into.country.clone_from(&s.country);
        into.face_match_passed = s.face_match_passed;
        into.age_check_passed = s.age_check_passed;
        into.extracted_age = s.extracted_age;
        into.rejection_reason.clone_from(&s.rejection_reason);
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{CompletionOutcome, SessionCompletion};
    use crate::tenancy::{Environment, Tenant};
    use chrono::Duration;

    fn at(m: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(m)
    }

    fn identity(id: &str, completed: Option<(i64, CompletionOutcome)>, tags: &[&str]) -> Identity {
        let mut i = Identity::new(
            id.into(),
            Tenant::new("org", Environment::Live),
            id.into(),
            at(0),
        );
        if let Some((m, outcome)) = completed {
            i.absorb(
                &SessionCompletion {
                    session_id: format!("ses_{id}"),
                    external_ref: id.into(),
                    outcome,
                    country: None,
                    face_match_passed: None,
                    age_check_passed: None,
                    extracted_age: None,
                    rejection_reason: None,
                    completed_at: at(m),
                },
                true,
            );
        }
        for t in tags {
            i.tags.push((*t).into());
        }
        i
    }

    #[test]
    fn the_latest_completion_wins_and_counts_add_up() {
        let p = identity("idn_p", Some((1, CompletionOutcome::Approved)), &["a"]);
        let mut s = identity("idn_s", Some((5, CompletionOutcome::Failed)), &["a", "b"]);
        s.monitoring_enabled = true;
        let out = plan(&p, &[s], at(9)).unwrap();
        assert_eq!(out.primary.status, IdentityStatus::Failed);
        assert_eq!(out.primary.latest_session_id.as_deref(), Some("ses_idn_s"));
        assert_eq!(out.primary.session_count, 2);
        assert_eq!(out.primary.tags, vec!["a", "b"]);
        assert!(out.primary.monitoring_enabled);
        assert_eq!(out.primary.first_verified_at, Some(at(1)));
        let gone = &out.secondaries[0];
        assert_eq!(gone.status, IdentityStatus::Merged);
        assert_eq!(gone.merged_into_id.as_deref(), Some("idn_p"));
    }

    #[test]
    fn refuses_self_duplicates_final_and_too_many_tags() {
        let p = identity("idn_p", None, &[]);
        assert!(plan(&p, std::slice::from_ref(&p), at(1)).is_err());
        let s = identity("idn_s", None, &[]);
        assert!(plan(&p, &[s.clone(), s.clone()], at(1)).is_err());
        let mut m = s.clone();
        m.status = IdentityStatus::Merged;
        assert!(plan(&p, &[m], at(1)).is_err());
        let many: Vec<String> = (0..30).map(|n| format!("p{n}")).collect();
        let mut p2 = p.clone();
        p2.tags = many.clone();
        let mut s2 = s;
        s2.tags = many.iter().map(|t| format!("s{t}")).collect();
        assert!(plan(&p2, &[s2], at(1)).is_err());
    }
}
