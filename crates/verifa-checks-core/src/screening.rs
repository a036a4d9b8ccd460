//! Watchlist screening: an immutable in-memory index over [`WatchlistEntry`] names and aliases.
//!
//! [`ScreeningIndex::build`] normalises every name and alias ([`crate::names::normalize`]),
//! counts its distinct trigrams, and builds an inverted index trigram → name ids. A query counts,
//! per name, how many of its trigrams it shares by walking only the posting lists of the query's
//! own trigrams; names sharing nothing are never touched (and never hits, even at thresholds
//! ≤ the DOB bonus). The shared count and the two set sizes give the Jaccard similarity exactly,
//! so no second comparison pass is needed.
//!
//! Scoring rule: `score = clamp(name_score + dob_adjustment, 0, 1)`, where `name_score` is the
//! trigram similarity of the query and the best-matching name or alias of the entry, and the date
//! of birth adjustment ([`dob_adjustment`]) is:
//!
//! | entry DOB vs query DOB | adjustment |
//! |---|---|
//! | either unknown | 0 |
//! | full date, identical | +0.10 |
//! | year or year-month entry, agreeing at that precision | +0.05 |
//! | same year but different month/day, or years 1 apart | 0 (inconclusive: typos, day/month swaps, "circa" years) |
//! | years 2+ apart | −0.15 |
//!
//! An entry is a hit when `score ≥ threshold`, so a matching DOB can lift a near-miss name over the
//! threshold and a clearly different DOB can push a similar name under it. One hit per entry,
//! sorted by score (descending), then entry id for a stable order.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::importers::WatchlistEntry;
use crate::names::{Trigram, jaccard, normalize, trigrams, trigrams_of_normalized};
use crate::partial_date::PartialDate;

pub const DEFAULT_THRESHOLD: f64 = 0.6;
pub const DOB_EXACT_BONUS: f64 = 0.10;
pub const DOB_PARTIAL_BONUS: f64 = 0.05;
pub const DOB_MISMATCH_PENALTY: f64 = 0.15;

/// One screening match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub entry_id: String,
    /// The entry's name or alias that matched best.
    pub name: String,
    pub list: String,
    /// Final score, DOB adjustment included.
    pub score: f64,
    /// Name similarity alone, for explaining the score.
    pub name_score: f64,
}

struct IndexedName {
    entry: u32,
    /// 0 = primary name, i = alias i-1.
    which: u32,
    trigram_count: u32,
}

/// Immutable screening index; build once per list version, share across threads.
pub struct ScreeningIndex {
    entries: Vec<WatchlistEntry>,
    dobs: Vec<Option<PartialDate>>,
    names: Vec<IndexedName>,
    postings: HashMap<Trigram, Vec<u32>>,
}

impl ScreeningIndex {
    /// Indexes all names and aliases. Names that normalise to nothing (punctuation only) are not
    /// indexed; unparseable dates of birth are treated as unknown.
    pub fn build(entries: Vec<WatchlistEntry>) -> Self {
        let mut names = Vec::new();
        let mut postings: HashMap<Trigram, Vec<u32>> = HashMap::new();
        let mut dobs = Vec::with_capacity(entries.len());
        for (entry_idx, entry) in entries.iter().enumerate() {
            dobs.push(entry.date_of_birth.as_deref().and_then(PartialDate::parse));
            let all = std::iter::once(&entry.name).chain(entry.aliases.iter());
            for (which, name) in all.enumerate() {
                let tri = trigrams_of_normalized(&normalize(name));
                let (Ok(entry), Ok(which), Ok(count), Ok(id)) = (
                    u32::try_from(entry_idx),
                    u32::try_from(which),
                    u32::try_from(tri.len()),
                    u32::try_from(names.len()),
                ) else {
                    // More than 4 billion names: stop indexing rather than wrap ids.
                    break;
                };
                if tri.is_empty() {
                    continue;
                }
                for &t in &tri {
                    postings.entry(t).or_default().push(id);
                }
                names.push(IndexedName {
                    entry,
                    which,
                    trigram_count: count,
                });
            }
        }
        postings.shrink_to_fit();
        Self {
            entries,
            dobs,
            names,
            postings,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of indexed names (primary names plus aliases).
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    pub fn entries(&self) -> &[WatchlistEntry] {
        &self.entries
    }

    /// Screens one name. A non-finite threshold falls back to [`DEFAULT_THRESHOLD`]; others are
    /// clamped to `0..=1`.
    pub fn screen(
        &self,
        query_name: &str,
        query_dob: Option<NaiveDate>,
        threshold: f64,
    ) -> Vec<Hit> {
        let threshold = if threshold.is_finite() {
            threshold.clamp(0.0, 1.0)
        } else {
            DEFAULT_THRESHOLD
        };
        let query = trigrams(query_name);
        if query.is_empty() {
            return Vec::new();
        }
        // Nothing can gain more than the exact-DOB bonus, so names must reach this on name alone.
        let max_bonus = if query_dob.is_some() {
            DOB_EXACT_BONUS
        } else {
            0.0
        };
        let floor = threshold - max_bonus;
        // Dense counters indexed by name id: one increment per posting, no hashing, no sorting.
        // (Prefix filtering with exact merges was tried and was 2-5× slower: with name-like
        // alphabets almost every touched name survives the prefix, and merges cost more than
        // the increments they save.)
        let mut shared = vec![0u16; self.names.len()];
        let mut touched: Vec<u32> = Vec::new();
        for t in &query {
            for &id in self.postings.get(t).map_or(&[][..], Vec::as_slice) {
                if let Some(count) = shared.get_mut(id as usize) {
                    if *count == 0 {
                        touched.push(id);
                    }
                    *count = count.saturating_add(1);
                }
            }
        }

        // entry index → (best name score, which name); ties prefer the primary name.
        let mut best: HashMap<u32, (f64, u32)> = HashMap::new();
        for id in touched {
            let (Some(name), Some(&count)) = (self.names.get(id as usize), shared.get(id as usize))
            else {
                continue;
            };
            let name_score = jaccard(query.len(), name.trigram_count as usize, usize::from(count));
            if name_score < floor {
                continue;
            }
            let slot = best.entry(name.entry).or_insert((name_score, name.which));
            if name_score > slot.0 || (name_score == slot.0 && name.which < slot.1) {
                *slot = (name_score, name.which);
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .filter_map(|(entry_idx, (name_score, which))| {
                let entry = self.entries.get(entry_idx as usize)?;
                let dob = self.dobs.get(entry_idx as usize).copied().flatten();
                let score = (name_score + dob_adjustment(dob, query_dob)).clamp(0.0, 1.0);
                if score < threshold {
                    return None;
                }
                let matched = if which == 0 {
                    &entry.name
                } else {
                    entry.aliases.get(which as usize - 1)?
                };
                Some(Hit {
                    entry_id: entry.id.clone(),
                    name: matched.clone(),
                    list: entry.list.clone(),
                    score,
                    name_score,
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.entry_id.cmp(&b.entry_id))
        });
        hits
    }
}

/// Score adjustment for date-of-birth agreement (table in the module docs).
pub fn dob_adjustment(entry: Option<PartialDate>, query: Option<NaiveDate>) -> f64 {
    let (Some(entry), Some(query)) = (entry, query) else {
        return 0.0;
    };
    let year_gap = (entry.year() - query.year()).abs();
    if year_gap >= 2 {
        return -DOB_MISMATCH_PENALTY;
    }
    match entry {
        PartialDate::Full(d) if d == query => DOB_EXACT_BONUS,
        PartialDate::YearMonth(y, m) if y == query.year() && m == query.month() => {
            DOB_PARTIAL_BONUS
        }
        PartialDate::Year(y) if y == query.year() => DOB_PARTIAL_BONUS,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::importers::{ofac, plain};

    fn index() -> ScreeningIndex {
        let mut entries = ofac::parse_sdn(
            include_str!("../data/sample_sdn.csv").as_bytes(),
            Some(include_str!("../data/sample_alt.csv").as_bytes()),
        )
        .unwrap();
        entries.extend(
            plain::parse_watchlist_csv(include_str!("../data/sample_watchlist.csv").as_bytes())
                .unwrap(),
        );
        ScreeningIndex::build(entries)
    }

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn top(idx: &ScreeningIndex, q: &str, dob: Option<NaiveDate>) -> Option<Hit> {
        idx.screen(q, dob, DEFAULT_THRESHOLD).into_iter().next()
    }

    #[test]
    fn exact_and_reordered_names_hit() {
        let idx = index();
        let h = top(&idx, "Ingrid Solveig Haugland", None).unwrap();
        assert_eq!(h.name, "Ingrid Solveig Haugland");
        assert_eq!(h.score, 1.0);
        assert_eq!(h.list, "Internal Blocklist");
        let h = top(&idx, "Arkady Semyonovich Voronkov", None).unwrap();
        assert_eq!(h.entry_id, "ofac-sdn-10001");
        assert_eq!(h.score, 1.0);
        assert_eq!(h.list, "OFAC SDN");
    }

    #[test]
    fn accent_and_script_insensitive() {
        let idx = index();
        let h = top(&idx, "JOSE RAMON ETXEBERRIA ZUBIRI", None).unwrap();
        assert_eq!(h.name, "José Ramón Etxeberria Zubiri");
        assert_eq!(h.score, 1.0);
        let h = top(&idx, "Ольга Белова", None).unwrap();
        assert_eq!(h.name, "Olga Belova");
        let h = top(&idx, "Lucja Wisniewska Kraus", None).unwrap();
        assert_eq!(h.name, "Łucja Wiśniewska-Kraus");
        let h = top(&idx, "Soren Kjaergaard Ostergaard", None).unwrap();
        assert_eq!(h.name, "Søren Kjærgaard Østergaard");
    }

    #[test]
    fn alias_hit_reports_alias() {
        let idx = index();
        let h = top(&idx, "Arkadij Woronkow", None).unwrap();
        assert_eq!(h.entry_id, "ofac-sdn-10001");
        assert_eq!(h.name, "WORONKOW, Arkadij");
        let h = top(&idx, "Tarik Al Kadiri", None).unwrap();
        assert_eq!(h.entry_id, "ofac-sdn-10004");
    }

    #[test]
    fn one_hit_per_entry_sorted() {
        let idx = index();
        // Matches both the primary name and an alias of 10001: reported once.
        let hits = idx.screen("Arkadiy Voronkov", None, 0.3);
        let ids: Vec<&str> = hits.iter().map(|h| h.entry_id.as_str()).collect();
        assert_eq!(ids.iter().filter(|id| **id == "ofac-sdn-10001").count(), 1);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        assert_eq!(hits[0].name, "VORONKOV, Arkadiy");
    }

    #[test]
    fn common_first_names_alone_do_not_hit() {
        let idx = index();
        for q in [
            "Ingrid Olsen",
            "Maria Luisa Gomez",
            "Yelena Ivanova",
            "Olga",
            "Ruslan",
        ] {
            let hits = idx.screen(q, None, DEFAULT_THRESHOLD);
            assert!(hits.is_empty(), "{q}: {hits:?}");
        }
    }

    #[test]
    fn dob_moves_the_score() {
        let idx = index();
        let q = "Yelena Viktorovna Nazarova";
        let plain = top(&idx, q, None).unwrap();
        assert_eq!(plain.score, 1.0);
        let partial = "Yelena Nazarova";
        let no_dob = top(&idx, partial, None).unwrap();
        let same = top(&idx, partial, date(1985, 6, 30)).unwrap();
        assert!((same.score - (no_dob.score + DOB_EXACT_BONUS)).abs() < 1e-12);
        assert_eq!(same.name_score, no_dob.name_score);
        // Year-only entry (OFAC "DOB 1974").
        let y = top(&idx, "Yusuf Bashir", date(1974, 3, 3)).unwrap();
        assert!((y.score - y.name_score - DOB_PARTIAL_BONUS).abs() < 1e-12);
    }

    #[test]
    fn similar_name_with_different_dob_falls_under_threshold() {
        let idx = index();
        // A different person sharing the surname and a near-identical first name.
        let q = "Goran Dragovic";
        let no_dob = top(&idx, q, None).unwrap();
        assert_eq!(no_dob.entry_id, "ofac-sdn-10014");
        assert!(no_dob.score >= DEFAULT_THRESHOLD, "{no_dob:?}");
        let hits = idx.screen(q, date(1990, 1, 1), DEFAULT_THRESHOLD);
        assert!(
            hits.iter().all(|h| h.entry_id != "ofac-sdn-10014"),
            "{hits:?}"
        );
        // The same name with the listed DOB is a strong hit.
        let same = top(&idx, q, date(1959, 4, 11)).unwrap();
        assert!(same.score > no_dob.score);
        // A close name whose only difference is a missing surname part stays a hit even with a
        // different DOB: 0.78 − 0.15 ≥ 0.6 (the penalty is deliberately not a veto).
        let h = top(&idx, "Maria Hernandez Soto", date(1996, 2, 21)).unwrap();
        assert_eq!(h.entry_id, "ofac-sdn-10012");
    }

    #[test]
    fn dob_adjustment_table() {
        let q = date(1960, 5, 10);
        let full = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(PartialDate::Full);
        assert_eq!(dob_adjustment(None, q), 0.0);
        assert_eq!(dob_adjustment(full(1960, 5, 10), None), 0.0);
        assert_eq!(dob_adjustment(full(1960, 5, 10), q), DOB_EXACT_BONUS);
        assert_eq!(dob_adjustment(full(1960, 10, 5), q), 0.0);
        assert_eq!(dob_adjustment(full(1961, 5, 10), q), 0.0);
        assert_eq!(dob_adjustment(full(1962, 5, 10), q), -DOB_MISMATCH_PENALTY);
        assert_eq!(
            dob_adjustment(Some(PartialDate::YearMonth(1960, 5)), q),
            DOB_PARTIAL_BONUS
        );
        assert_eq!(
            dob_adjustment(Some(PartialDate::YearMonth(1960, 6)), q),
            0.0
        );
        assert_eq!(
            dob_adjustment(Some(PartialDate::Year(1960)), q),
            DOB_PARTIAL_BONUS
        );
        assert_eq!(dob_adjustment(Some(PartialDate::Year(1959)), q), 0.0);
        assert_eq!(
            dob_adjustment(Some(PartialDate::Year(1950)), q),
            -DOB_MISMATCH_PENALTY
        );
    }

    #[test]
    fn degenerate_queries_and_thresholds() {
        let idx = index();
        assert!(idx.screen("", None, 0.6).is_empty());
        assert!(idx.screen(" ,-. ", None, 0.0).is_empty());
        assert!(!idx.screen("Ingrid Haugland", None, f64::NAN).is_empty());
        assert!(
            !idx.screen("Ingrid Haugland", None, 7.0).is_empty(),
            "clamped to 1.0"
        );
        let empty = ScreeningIndex::build(Vec::new());
        assert!(empty.is_empty());
        assert!(empty.screen("anyone", None, 0.0).is_empty());
    }

    fn brute_force(
        entries: &[WatchlistEntry],
        q: &str,
        dob: Option<NaiveDate>,
        threshold: f64,
    ) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = entries
            .iter()
            .filter_map(|e| {
                let best = std::iter::once(&e.name)
                    .chain(e.aliases.iter())
                    .map(|n| crate::names::similarity(q, n))
                    .fold(0.0, f64::max);
                let entry_dob = e.date_of_birth.as_deref().and_then(PartialDate::parse);
                let score = (best + dob_adjustment(entry_dob, dob)).clamp(0.0, 1.0);
                (best > 0.0 && score >= threshold).then(|| (e.id.clone(), score))
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    proptest::proptest! {
        /// Prefix filtering must never drop a hit that an exhaustive comparison finds.
        #[test]
        fn index_agrees_with_brute_force(
            names in proptest::collection::vec(
                ("[abklmo]{2,6}( [abklmo]{2,6}){0,2}", proptest::option::of(1950i32..1955)),
                1..40,
            ),
            query in "[abklmo]{2,6}( [abklmo]{2,6}){0,2}",
            dob_year in proptest::option::of(1950i32..1955),
            threshold in 0.2f64..1.0,
        ) {
            let entries: Vec<WatchlistEntry> = names
                .iter()
                .enumerate()
                .map(|(i, (n, y))| WatchlistEntry {
                    id: format!("e{i:03}"),
                    name: n.clone(),
                    aliases: vec![n.chars().rev().collect()],
                    list: "L".to_owned(),
                    country: None,
                    date_of_birth: y.map(|y| format!("{y}-01-01")),
                })
                .collect();
            let dob = dob_year.and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1));
            let idx = ScreeningIndex::build(entries.clone());
            let got: Vec<(String, f64)> = idx
                .screen(&query, dob, threshold)
                .into_iter()
                .map(|h| (h.entry_id, h.score))
                .collect();
            let want = brute_force(&entries, &query, dob, threshold);
            proptest::prop_assert_eq!(got.len(), want.len(), "{:?} vs {:?}", got, want);
            for (g, w) in got.iter().zip(want.iter()) {
                proptest::prop_assert_eq!(&g.0, &w.0);
                proptest::prop_assert!((g.1 - w.1).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn scores_are_clamped() {
        let idx = index();
        let h = top(&idx, "Ingrid Solveig Haugland", date(1983, 5, 19)).unwrap();
        assert_eq!(h.score, 1.0);
        assert_eq!(h.name_score, 1.0);
    }
}
