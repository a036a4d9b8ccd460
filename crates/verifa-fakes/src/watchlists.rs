//! [`WatchlistRepository`] in memory: the version increments on every change.

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{PoisonError, RwLock};
use verifa_ports::RepoError;
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
}
