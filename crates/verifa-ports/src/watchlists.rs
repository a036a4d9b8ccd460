//! Watchlists: the screening entries (OFAC SDN, EU, UN, UK HMT, internal lists) that the
//! `watchlist_screening` check matches extracted names against. Entries are global reference
//! data loaded by importers, not tenant data.

use crate::RepoError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One screenable party as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchlistRecord {
    /// Stable entry id (e.g. the OFAC `ent_num` or a content hash `wl_…`).
    pub id: String,
    /// Primary name as published.
    pub name: String,
    /// Aliases (a.k.a., f.k.a., transliterations).
    pub aliases: Vec<String>,
    /// Source list, e.g. `OFAC SDN`.
    pub list: String,
    /// Country or nationality, when published.
    pub country: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, when published.
    pub date_of_birth: Option<String>,
}

/// Stores watchlist entries.
#[async_trait]
pub trait WatchlistRepository: Send + Sync {
    /// A number that MUST change whenever any entry is added, changed or removed (callers cache
    /// the screening index by it). It need not be contiguous.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] on store failure.
    async fn version(&self) -> Result<i64, RepoError>;

    /// Every entry of every list.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] on store failure; [`RepoError::Corrupt`] when stored rows
    /// cannot be decoded.
    async fn all(&self) -> Result<Vec<WatchlistRecord>, RepoError>;

    /// Replaces every entry of `list` with `records` atomically (readers see the old or the new
    /// list, never a mix) and returns the number of entries now stored for that list. Records
    /// whose `list` differs from `list` MUST be stored under `list`. MUST change
    /// [`WatchlistRepository::version`] when anything changed.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when two records share an id; [`RepoError::Unavailable`] on store
    /// failure.
    async fn replace_list(&self, list: &str, records: &[WatchlistRecord])
    -> Result<u64, RepoError>;
}
