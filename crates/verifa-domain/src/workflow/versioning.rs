//! How workflow versions come to be ([`VersionSource`]) and the life of a draft
//! ([`DraftStatus`]).

use serde::{Deserialize, Serialize};

/// Why a version was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// `POST /workflows` (version 1).
    Create,
    /// `PATCH /workflows/{id}` with a new definition.
    Update,
    /// A draft was published.
    Publish,
    /// `POST /workflows/{id}/clone` (version 1 of the clone).
    Clone,
    /// A rollout guard or an operator went back to an earlier definition.
    Rollback,
}

impl VersionSource {
    /// Every source.
    pub const ALL: [VersionSource; 5] = [
        VersionSource::Create,
        VersionSource::Update,
        VersionSource::Publish,
        VersionSource::Clone,
        VersionSource::Rollback,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionSource::Create => "create",
            VersionSource::Update => "update",
            VersionSource::Publish => "publish",
            VersionSource::Clone => "clone",
            VersionSource::Rollback => "rollback",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Status of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    /// Being edited.
    Open,
    /// Published into a version (final).
    Published,
    /// Thrown away (final).
    Discarded,
}

impl DraftStatus {
    /// Every status.
    pub const ALL: [DraftStatus; 3] = [
        DraftStatus::Open,
        DraftStatus::Published,
        DraftStatus::Discarded,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Open => "open",
            DraftStatus::Published => "published",
            DraftStatus::Discarded => "discarded",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for v in VersionSource::ALL {
            assert_eq!(VersionSource::parse(v.as_str()), Some(v));
        }
        for d in DraftStatus::ALL {
            assert_eq!(DraftStatus::parse(d.as_str()), Some(d));
        }
        assert_eq!(DraftStatus::parse("Open"), None);
    }
}
