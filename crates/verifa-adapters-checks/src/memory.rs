//! In-memory implementations of [`WatchlistRepository`] and [`DuplicateIndex`], for tests and a
//! DB-less setup. State lives in the process and is lost on restart.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

use async_trait::async_trait;
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_ports::RepoError;
use verifa_ports::duplicates::{DuplicateIndex, DuplicateMatch};
use verifa_ports::watchlists::{WatchlistRecord, WatchlistRepository};

#[derive(Default)]
struct Lists {
    version: i64,
    by_list: BTreeMap<String, Vec<WatchlistRecord>>,
}

/// Watchlist entries in memory; the version increments on every change.
#[derive(Default)]
pub struct InMemoryWatchlistRepository {
    inner: RwLock<Lists>,
}

impl InMemoryWatchlistRepository {
    /// No entries, version 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pre-loaded with `records`, grouped by their `list`.
    pub fn with_records(records: Vec<WatchlistRecord>) -> Self {
        let mut by_list: BTreeMap<String, Vec<WatchlistRecord>> = BTreeMap::new();
        for r in records {
            by_list.entry(r.list.clone()).or_default().push(r);
        }
        Self {
            inner: RwLock::new(Lists {
                version: 1,
                by_list,
            }),
        }
    }
}

#[async_trait]
impl WatchlistRepository for InMemoryWatchlistRepository {
    async fn version(&self) -> Result<i64, RepoError> {
        Ok(self
            .inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .version)
    }

    async fn all(&self) -> Result<Vec<WatchlistRecord>, RepoError> {
        let guard = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        Ok(guard.by_list.values().flatten().cloned().collect())
    }

    async fn replace_list(
        &self,
        list: &str,
        records: &[WatchlistRecord],
    ) -> Result<u64, RepoError> {
        let mut ids = BTreeSet::new();
        if let Some(dup) = records.iter().find(|r| !ids.insert(r.id.as_str())) {
            return Err(RepoError::Conflict(format!(
                "duplicate watchlist entry id {}",
                dup.id
            )));
        }
        let new: Vec<WatchlistRecord> = records
            .iter()
            .map(|r| WatchlistRecord {
                list: list.to_owned(),
                ..r.clone()
            })
            .collect();
        let count = u64::try_from(new.len()).unwrap_or(u64::MAX);
        let mut guard = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let old = guard.by_list.get(list).cloned().unwrap_or_default();
        if old != new {
            guard.version = guard.version.saturating_add(1);
            if new.is_empty() {
                guard.by_list.remove(list);
            } else {
                guard.by_list.insert(list.to_owned(), new);
            }
        }
        Ok(count)
    }
}

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

    fn rec(id: &str, name: &str) -> WatchlistRecord {
        WatchlistRecord {
            id: id.into(),
            name: name.into(),
            aliases: vec![],
            list: "X".into(),
            country: None,
            date_of_birth: None,
        }
    }

    #[tokio::test]
    async fn watchlist_versions_change_only_on_change() {
        let repo = InMemoryWatchlistRepository::new();
        assert_eq!(repo.version().await.unwrap(), 0);
        assert_eq!(
            repo.replace_list("EU", &[rec("1", "A"), rec("2", "B")])
                .await
                .unwrap(),
            2
        );
        let v1 = repo.version().await.unwrap();
        assert!(v1 > 0);
        repo.replace_list("EU", &[rec("1", "A"), rec("2", "B")])
            .await
            .unwrap();
        assert_eq!(repo.version().await.unwrap(), v1);
        repo.replace_list("UN", &[rec("3", "C")]).await.unwrap();
        assert!(repo.version().await.unwrap() > v1);
        let all = repo.all().await.unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.iter().any(|r| r.id == "1" && r.list == "EU"));
        assert!(matches!(
            repo.replace_list("UN", &[rec("3", "C"), rec("3", "D")])
                .await,
            Err(RepoError::Conflict(_))
        ));
        repo.replace_list("EU", &[]).await.unwrap();
        assert_eq!(repo.all().await.unwrap().len(), 1);
    }

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
