//! [`DuplicateIndex`] in memory, partitioned by organization and environment.

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_ports::RepoError;
use verifa_ports::duplicates::{DuplicateIndex, DuplicateMatch};

type TenantKey = (String, Environment);
/// (attribute, hash) → sessions that recorded it.
type Fingerprints = HashMap<(String, String), BTreeSet<String>>;

/// Duplicate fingerprints in memory, partitioned by organization and environment.
#[derive(Default)]
pub struct InMemoryDuplicateIndex {
    inner: Mutex<HashMap<TenantKey, Fingerprints>>,
}

impl InMemoryDuplicateIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TenantKey, Fingerprints>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl DuplicateIndex for InMemoryDuplicateIndex {
    async fn record_and_match(
        &self,
        tenant: &Tenant,
        session_id: &str,
        fingerprints: &[(String, String)],
    ) -> Result<Vec<DuplicateMatch>, RepoError> {
        let mut guard = self.lock();
        let store = guard
            .entry((tenant.org_id.clone(), tenant.environment))
            .or_default();
        let mut matches: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (attribute, hash) in fingerprints {
            let sessions = store.entry((attribute.clone(), hash.clone())).or_default();
            for other in sessions.iter().filter(|s| s.as_str() != session_id) {
                matches
                    .entry(other.clone())
                    .or_default()
                    .insert(attribute.clone());
            }
            sessions.insert(session_id.to_owned());
        }
        Ok(matches
            .into_iter()
            .map(|(session_id, attributes)| DuplicateMatch {
                session_id,
                attributes: attributes.into_iter().collect(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn duplicates_grouped_by_session_and_isolated_by_tenant() {
        let index = InMemoryDuplicateIndex::new();
        let t = Tenant::new("org_a", Environment::Live);
        let fp = |a: &str, h: &str| (a.to_owned(), h.to_owned());
        assert!(
            index
                .record_and_match(&t, "s1", &[fp("email", "e1"), fp("phone", "p1")])
                .await
                .unwrap()
                .is_empty()
        );
        // Same session again: idempotent, never matches itself.
        assert!(
            index
                .record_and_match(&t, "s1", &[fp("email", "e1")])
                .await
                .unwrap()
                .is_empty()
        );
        let m = index
            .record_and_match(
                &t,
                "s2",
                &[fp("email", "e1"), fp("phone", "p1"), fp("name_dob", "n")],
            )
            .await
            .unwrap();
        assert_eq!(
            m,
            vec![DuplicateMatch {
                session_id: "s1".into(),
                attributes: vec!["email".into(), "phone".into()]
            }]
        );
        let other_env = Tenant::new("org_a", Environment::Sandbox);
        let other_org = Tenant::new("org_b", Environment::Live);
        assert!(
            index
                .record_and_match(&other_env, "s3", &[fp("email", "e1")])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            index
                .record_and_match(&other_org, "s4", &[fp("email", "e1")])
                .await
                .unwrap()
                .is_empty()
        );
        let m = index
            .record_and_match(&t, "s5", &[fp("email", "e1")])
            .await
            .unwrap();
        assert_eq!(
            m.iter().map(|m| m.session_id.as_str()).collect::<Vec<_>>(),
            ["s1", "s2"]
        );
    }
}
