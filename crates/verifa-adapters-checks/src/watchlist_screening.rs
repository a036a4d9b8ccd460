//! `watchlist_screening`: screens the extracted name (`first_name` + `last_name`, else
//! `full_name`) and date of birth against every watchlist entry with
//! [`verifa_checks_core::screening::ScreeningIndex`] (trigram similarity plus a DOB adjustment;
//! hit when score ≥ `threshold`, default from [`crate::BuiltinDeps::screening_threshold`]).
//!
//! The index is built from [`WatchlistRepository::all`] and cached behind a tokio `RwLock`,
//! keyed by [`WatchlistRepository::version`]; a version change rebuilds it (on a blocking
//! thread), concurrent screenings share one build. No name → `skipped`; repository unavailable →
//! `requires_retry`. Passes when there is no hit.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::RwLock;
use verifa_checks_core::WatchlistEntry;
use verifa_checks_core::screening::ScreeningIndex;
use verifa_domain::workflow::PolicySpec;
use verifa_ports::RepoError;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};
use verifa_ports::watchlists::{WatchlistRecord, WatchlistRepository};

use crate::context::{bad_config, config_unit, extracted, full_name, parse_date, text};
use crate::specs;

struct Cached {
    version: i64,
    index: Arc<ScreeningIndex>,
}

/// The `watchlist_screening` executor.
pub struct WatchlistScreening {
    repo: Arc<dyn WatchlistRepository>,
    default_threshold: f64,
    cache: RwLock<Option<Cached>>,
}

impl std::fmt::Debug for WatchlistScreening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchlistScreening")
            .field("default_threshold", &self.default_threshold)
            .finish_non_exhaustive()
    }
}

fn to_entry(r: WatchlistRecord) -> WatchlistEntry {
    WatchlistEntry {
        id: r.id,
        name: r.name,
        aliases: r.aliases,
        list: r.list,
        country: r.country,
        date_of_birth: r.date_of_birth,
    }
}

fn repo_failure(e: &RepoError) -> CheckOutcome {
    match e {
        RepoError::Unavailable(_) => {
            tracing::warn!(error = %e, "watchlist repository unavailable");
            CheckOutcome::retry("watchlist store unavailable")
        }
        _ => {
            tracing::error!(error = %e, "watchlist repository failed");
            CheckOutcome::error("watchlist store failed")
        }
    }
}

impl WatchlistScreening {
    /// Screens against `repo`; `default_threshold` applies when the config has none (a
    /// non-finite or out-of-range value falls back to 0.6).
    pub fn new(repo: Arc<dyn WatchlistRepository>, default_threshold: f64) -> Self {
        let default_threshold = if (0.0..=1.0).contains(&default_threshold) {
            default_threshold
        } else {
            verifa_checks_core::screening::DEFAULT_THRESHOLD
        };
        Self {
            repo,
            default_threshold,
            cache: RwLock::new(None),
        }
    }

    /// The index for the repository's current version, building it when needed.
    async fn index(&self) -> Result<Arc<ScreeningIndex>, CheckOutcome> {
        let version = self.repo.version().await.map_err(|e| repo_failure(&e))?;
        if let Some(c) = self.cache.read().await.as_ref()
            && c.version == version
        {
            return Ok(c.index.clone());
        }
        let mut guard = self.cache.write().await;
        if let Some(c) = guard.as_ref()
            && c.version == version
        {
            return Ok(c.index.clone());
        }
        let records = self.repo.all().await.map_err(|e| repo_failure(&e))?;
        let entries: Vec<WatchlistEntry> = records.into_iter().map(to_entry).collect();
        // Building is CPU-bound (tens of ms for the full SDN list): keep it off the async workers
        // when running inside a tokio runtime.
        let index = if tokio::runtime::Handle::try_current().is_ok() {
            tokio::task::spawn_blocking(move || ScreeningIndex::build(entries))
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "building the screening index failed");
                    CheckOutcome::error("building the screening index failed")
                })?
        } else {
            ScreeningIndex::build(entries)
        };
        let index = Arc::new(index);
        tracing::info!(version, entries = index.len(), "screening index built");
        *guard = Some(Cached {
            version,
            index: index.clone(),
        });
        Ok(index)
    }
}

#[async_trait]
impl CheckExecutor for WatchlistScreening {
    fn spec(&self) -> PolicySpec {
        specs::watchlist_screening()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        let threshold = match config_unit(&request.config, "threshold", self.default_threshold) {
            Ok(v) => v,
            Err(e) => return bad_config(e),
        };
        let data = extracted(request);
        let Some(name) = full_name(data) else {
            return CheckOutcome::skipped("no name in extracted_data");
        };
        let dob = text(data, "date_of_birth").and_then(|d| parse_date(&d));
        let index = match self.index().await {
            Ok(i) => i,
            Err(outcome) => return outcome,
        };
        let hits: Vec<_> = index
            .screen(&name, dob, threshold)
            .into_iter()
            .map(|h| {
                json!({
                    "entry_id": h.entry_id,
                    "name": h.name,
                    "list": h.list,
                    "score": (h.score * 1000.0).round() / 1000.0,
                })
            })
            .collect();
        let passed = hits.is_empty();
        CheckOutcome::decided(
            passed,
            json!({
                "hits": hits,
                "hit_count": hits.len(),
                "threshold": threshold,
                "passed": passed,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::with_extracted;
    use serde_json::Value;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use verifa_checks_core::importers::{ofac, plain};
    use verifa_domain::workflow::CheckStatus;
    use verifa_fakes::InMemoryWatchlistRepository;

    fn sample_records() -> Vec<WatchlistRecord> {
        let sdn = include_str!("../../verifa-checks-core/data/sample_sdn.csv");
        let alt = include_str!("../../verifa-checks-core/data/sample_alt.csv");
        let csv = include_str!("../../verifa-checks-core/data/sample_watchlist.csv");
        let mut entries = ofac::parse_sdn(sdn.as_bytes(), Some(alt.as_bytes())).unwrap();
        entries.extend(plain::parse_watchlist_csv(csv.as_bytes()).unwrap());
        entries
            .into_iter()
            .map(|e| WatchlistRecord {
                id: e.id,
                name: e.name,
                aliases: e.aliases,
                list: e.list,
                country: e.country,
                date_of_birth: e.date_of_birth,
            })
            .collect()
    }

    fn exec() -> WatchlistScreening {
        WatchlistScreening::new(
            Arc::new(InMemoryWatchlistRepository::with_records(sample_records())),
            0.6,
        )
    }

    async fn screen(e: &WatchlistScreening, extracted: Value) -> CheckOutcome {
        e.execute(&with_extracted("watchlist_screening", json!({}), extracted))
            .await
    }

    #[tokio::test]
    async fn true_positives() {
        let e = exec();
        let r = screen(
            &e,
            json!({"first_name": "Arkady", "last_name": "Voronkov", "date_of_birth": "1962-03-14"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Failed, "{}", r.output);
        assert_eq!(r.output["hits"][0]["entry_id"], "ofac-sdn-10001");
        assert_eq!(r.output["hits"][0]["list"], "OFAC SDN");
        assert!(r.output["hit_count"].as_u64().unwrap() >= 1);
        assert_eq!(r.output["passed"], false);
        // Transliterated Cyrillic entry found from the Latin spelling, via full_name.
        let r = screen(&e, json!({"full_name": "Olga Belova"})).await;
        assert_eq!(r.status, CheckStatus::Failed, "{}", r.output);
        assert_eq!(r.output["hits"][0]["list"], "EU Consolidated");
        // Accents and order do not matter.
        let r = screen(
            &e,
            json!({"first_name": "Soren", "last_name": "Ostergaard"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Failed, "{}", r.output);
    }

    #[tokio::test]
    async fn false_positives_stay_clear() {
        let e = exec();
        for (first, last) in [
            ("Jane", "Doe"),
            ("Anna", "Eriksson"),
            ("Maria", "Garcia"),
            ("Henrik", "Larsson"),
        ] {
            let r = screen(
                &e,
                json!({"first_name": first, "last_name": last, "date_of_birth": "1997-06-15"}),
            )
            .await;
            assert_eq!(
                r.status,
                CheckStatus::Passed,
                "{first} {last}: {}",
                r.output
            );
            assert_eq!(r.output["hits"], json!([]));
            assert_eq!(r.output["hit_count"], 0);
        }
        // A very different DOB pushes a borderline name below the threshold.
        let strict = e
            .execute(&with_extracted(
                "watchlist_screening",
                json!({"threshold": 1.0}),
                json!({"full_name": "Arkady Voronkov"}),
            ))
            .await;
        assert_eq!(strict.status, CheckStatus::Passed, "{}", strict.output);
    }

    #[tokio::test]
    async fn no_name_is_skipped() {
        assert_eq!(
            screen(&exec(), json!({"date_of_birth": "1962-03-14"}))
                .await
                .status,
            CheckStatus::Skipped
        );
    }

    struct Counting {
        inner: InMemoryWatchlistRepository,
        loads: AtomicUsize,
        fail: bool,
    }

    #[async_trait]
    impl WatchlistRepository for Counting {
        async fn version(&self) -> Result<i64, RepoError> {
            if self.fail {
                return Err(RepoError::Unavailable("down".into()));
            }
            self.inner.version().await
        }
        async fn all(&self) -> Result<Vec<WatchlistRecord>, RepoError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            self.inner.all().await
        }
        async fn replace_list(
            &self,
            list: &str,
            records: &[WatchlistRecord],
        ) -> Result<u64, RepoError> {
            self.inner.replace_list(list, records).await
        }
    }

    #[tokio::test]
    async fn index_cached_by_version_and_rebuilt_on_change() {
        let repo = Arc::new(Counting {
            inner: InMemoryWatchlistRepository::new(),
            loads: AtomicUsize::new(0),
            fail: false,
        });
        let e = WatchlistScreening::new(repo.clone(), 0.6);
        let q = json!({"first_name": "Zed", "last_name": "Quux"});
        assert_eq!(screen(&e, q.clone()).await.status, CheckStatus::Passed);
        assert_eq!(screen(&e, q.clone()).await.status, CheckStatus::Passed);
        assert_eq!(repo.loads.load(Ordering::SeqCst), 1);
        let rec = WatchlistRecord {
            id: "x1".into(),
            name: "Zed Quux".into(),
            aliases: vec![],
            list: "Internal".into(),
            country: None,
            date_of_birth: None,
        };
        repo.replace_list("Internal", &[rec]).await.unwrap();
        let r = screen(&e, q).await;
        assert_eq!(r.status, CheckStatus::Failed);
        assert_eq!(
            r.output["hits"],
            json!([{"entry_id": "x1", "name": "Zed Quux", "list": "Internal", "score": 1.0}])
        );
        assert_eq!(repo.loads.load(Ordering::SeqCst), 2);

        let down = WatchlistScreening::new(
            Arc::new(Counting {
                inner: InMemoryWatchlistRepository::new(),
                loads: AtomicUsize::new(0),
                fail: true,
            }),
            0.6,
        );
        assert_eq!(
            screen(&down, json!({"full_name": "A B"})).await.status,
            CheckStatus::RequiresRetry
        );
    }
}
