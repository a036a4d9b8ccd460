//! Percentage rollout of workflow versions (CONTRACT §2.3 #18/#19): validating a rollout map,
//! stable bucketing of session ids into 0–99, version assignment, and re-sharing percentages when
//! a new version is published.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::issue::{Issue, Rule};

/// One rollout entry: `percentage` % of new runs use `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutEntry {
    /// Workflow version number.
    pub version: i32,
    /// Share, 0–100.
    pub percentage: u8,
}

/// Validates a rollout map: at least one entry, every version exists, no duplicates, each
/// percentage 0–100, sum exactly 100. Every problem is reported.
pub fn validate_rollout(entries: &[RolloutEntry], existing_versions: &[i32]) -> Vec<Issue> {
    let mut issues = Vec::new();
    if entries.is_empty() {
        issues.push(Issue::new(
            Rule::RolloutEmpty,
            "entries",
            "at least one entry is required",
        ));
        return issues;
    }
    let mut seen = BTreeSet::new();
    let mut sum: u32 = 0;
    for (i, e) in entries.iter().enumerate() {
        if !existing_versions.contains(&e.version) {
            issues.push(Issue::new(
                Rule::RolloutUnknownVersion,
                format!("entries[{i}].version"),
                format!("version {} does not exist", e.version),
            ));
        }
        if !seen.insert(e.version) {
            issues.push(Issue::new(
                Rule::RolloutDuplicateVersion,
                format!("entries[{i}].version"),
                format!("version {} appears more than once", e.version),
            ));
        }
        if e.percentage > 100 {
            issues.push(Issue::new(
                Rule::RolloutPercentage,
                format!("entries[{i}].percentage"),
                format!("must be from 0 to 100, got {}", e.percentage),
            ));
        }
        sum += u32::from(e.percentage);
    }
    if sum != 100 {
        issues.push(Issue::new(
            Rule::RolloutSum,
            "entries",
            format!("percentages must sum to 100, got {sum}"),
        ));
    }
    issues
}

/// Stable bucket 0–99 of a session id: the first 8 bytes of SHA-256(id) as a big-endian u64,
/// modulo 100. Identical on every machine and release.
pub fn bucket(session_id: &str) -> u8 {
    let digest = Sha256::digest(session_id.as_bytes());
    let first: [u8; 8] = digest.first_chunk::<8>().copied().unwrap_or([0; 8]);
    // `% 100` keeps the value below 100, so the conversion cannot fail.
    u8::try_from(u64::from_be_bytes(first) % 100).unwrap_or(0)
}

/// Sorts entries by version, newest first — the stored order that [`assign`] walks.
pub fn normalize(entries: &[RolloutEntry]) -> Vec<RolloutEntry> {
    let mut out = entries.to_vec();
    out.sort_by_key(|e| std::cmp::Reverse(e.version));
    out
}

/// The version for a session: its bucket against cumulative ranges in the given order (store
/// entries [`normalize`]d). `None` when the percentages leave the bucket uncovered.
pub fn assign(entries: &[RolloutEntry], session_id: &str) -> Option<i32> {
    let b = u32::from(bucket(session_id));
    let mut upper: u32 = 0;
    for e in entries {
        upper += u32::from(e.percentage);
        if b < upper {
            return Some(e.version);
        }
    }
    None
}

/// New rollout after publishing `new_version` at `percentage` (clamped to 100): the previous
/// entries share `100 - percentage` pro rata to their current shares, rounded by largest
/// remainder (ties to the newer version); zero entries are dropped; the result sums to 100 and
/// is normalised. With no previous share to scale, the new version gets 100.
pub fn with_new_version(
    current: &[RolloutEntry],
    new_version: i32,
    percentage: u8,
) -> Vec<RolloutEntry> {
    let p = u32::from(percentage.min(100));
    let previous: Vec<RolloutEntry> = normalize(current)
        .into_iter()
        .filter(|e| e.version != new_version && e.percentage > 0)
        .collect();
    let weight: u32 = previous.iter().map(|e| u32::from(e.percentage)).sum();
    if weight == 0 {
        return vec![RolloutEntry {
            version: new_version,
            percentage: 100,
        }];
    }
    let rest = 100 - p;
    // (index, floor share, remainder numerator)
    let mut shares: Vec<(usize, u32, u32)> = previous
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let num = rest * u32::from(e.percentage);
            (i, num / weight, num % weight)
        })
        .collect();
    let assigned: u32 = shares.iter().map(|s| s.1).sum();
    let mut leftover = rest.saturating_sub(assigned);
    let mut order: Vec<usize> = (0..shares.len()).collect();
    // Largest remainder first; `previous` is newest-first, so a stable sort breaks ties by age.
    order.sort_by(|&a, &b| {
        let ra = shares.get(a).map_or(0, |s| s.2);
        let rb = shares.get(b).map_or(0, |s| s.2);
        rb.cmp(&ra)
    });
    for i in order {
        if leftover == 0 {
            break;
        }
        if let Some(s) = shares.get_mut(i) {
            s.1 += 1;
            leftover -= 1;
        }
    }
    let mut out: Vec<RolloutEntry> = vec![RolloutEntry {
        version: new_version,
        percentage: percentage.min(100),
    }];
    for (i, share, _) in shares {
        if let Some(e) = previous.get(i)
            && share > 0
        {
            out.push(RolloutEntry {
                version: e.version,
                percentage: u8::try_from(share).unwrap_or(100),
            });
        }
    }
    out.retain(|e| e.percentage > 0);
    normalize(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(version: i32, percentage: u8) -> RolloutEntry {
        RolloutEntry {
            version,
            percentage,
        }
    }

    #[test]
    fn bucket_known_answers() {
        // Pinned (cross-checked with Python hashlib) so a change of algorithm is caught.
        assert_eq!(bucket("ses_123"), KNOWN_SES_123);
        assert_eq!(bucket(""), KNOWN_EMPTY);
        assert!((0..1000).all(|i| bucket(&format!("ses_{i}")) < 100));
    }

    // First 8 bytes of sha256("") = e3b0c44298fc1c14 → 16406829232824261652 % 100 = 52.
    const KNOWN_EMPTY: u8 = 52;
    // First 8 bytes of sha256("ses_123") = 5be5e0e76c3c2013 → % 100 = 99.
    const KNOWN_SES_123: u8 = 99;

    #[test]
    fn validation_table() {
        let versions = [1, 2, 3];
        type Case = (Vec<RolloutEntry>, Vec<(Rule, &'static str)>);
        let cases: Vec<Case> = vec![
            (vec![e(3, 25), e(2, 75)], vec![]),
            (vec![], vec![(Rule::RolloutEmpty, "entries")]),
            (
                vec![e(3, 50), e(9, 50)],
                vec![(Rule::RolloutUnknownVersion, "entries[1].version")],
            ),
            (
                vec![e(3, 50), e(3, 50)],
                vec![(Rule::RolloutDuplicateVersion, "entries[1].version")],
            ),
            (
                vec![e(3, 101)],
                vec![
                    (Rule::RolloutPercentage, "entries[0].percentage"),
                    (Rule::RolloutSum, "entries"),
                ],
            ),
            (
                vec![e(3, 50), e(2, 49)],
                vec![(Rule::RolloutSum, "entries")],
            ),
        ];
        for (entries, want) in cases {
            let got: Vec<(Rule, String)> = validate_rollout(&entries, &versions)
                .into_iter()
                .map(|i| (i.rule, i.field))
                .collect();
            let want: Vec<(Rule, String)> =
                want.into_iter().map(|(r, f)| (r, f.to_owned())).collect();
            assert_eq!(got, want, "{entries:?}");
        }
    }

    #[test]
    fn assign_walks_cumulative_ranges() {
        let entries = normalize(&[e(1, 0), e(2, 100)]);
        assert_eq!(assign(&entries, "anything"), Some(2));
        assert_eq!(assign(&[e(1, 0)], "x"), None);
        let b = bucket("ses_abc");
        let split = normalize(&[e(1, 100 - (b + 1)), e(2, b + 1)]);
        assert_eq!(assign(&split, "ses_abc"), Some(2));
    }

    #[test]
    fn new_version_shares_pro_rata() {
        assert_eq!(with_new_version(&[], 1, 30), vec![e(1, 100)]);
        assert_eq!(
            with_new_version(&[e(1, 100)], 2, 25),
            vec![e(2, 25), e(1, 75)]
        );
        assert_eq!(
            with_new_version(&[e(2, 25), e(1, 75)], 3, 100),
            vec![e(3, 100)]
        );
        // 90 shared 1:1:1 = 30 each.
        assert_eq!(
            with_new_version(&[e(1, 34), e(2, 33), e(3, 33)], 4, 10),
            vec![e(4, 10), e(3, 30), e(2, 30), e(1, 30)]
        );
        // 50 shared 50:50 → 25/25; 33 shared 1:1 → 17 (newer) + 16.
        assert_eq!(
            with_new_version(&[e(1, 50), e(2, 50)], 3, 50),
            vec![e(3, 50), e(2, 25), e(1, 25)]
        );
        assert_eq!(
            with_new_version(&[e(1, 50), e(2, 50)], 3, 67),
            vec![e(3, 67), e(2, 17), e(1, 16)]
        );
        for p in 0..=100u8 {
            let out = with_new_version(&[e(1, 10), e(2, 20), e(3, 70)], 4, p);
            assert_eq!(
                out.iter().map(|x| u32::from(x.percentage)).sum::<u32>(),
                100,
                "{p}"
            );
            assert!(out.iter().all(|x| x.percentage > 0));
        }
    }
}
