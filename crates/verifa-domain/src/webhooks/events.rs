//! The webhook event catalogue (reference §13.1), names reproduced exactly — the style is mixed on
//! purpose (`session.requires-review` next to `session.awaiting_external`) — and the matching of
//! an endpoint's `enabled_events`.
//!
//! `enabled_events` rules:
//! - empty, or containing `"*"`: every event;
//! - an exact event name: that event;
//! - a prefix wildcard `"<prefix>.*"` (e.g. `session.*`, `case.*`, `screening.monitoring.*`):
//!   every event whose name starts with `<prefix>.`.
//!
//! Matching is exact and case-sensitive. [`validate_enabled_events`] refuses entries that match no
//! catalogued event, so typos are caught when an endpoint is created rather than silently never
//! firing.

use serde::Serialize;

/// The catalogue's groups (the "Quality assurance" category of the guide has no known events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventGroup {
    /// `session.*`.
    Session,
    /// `screening.*` and `check.*`.
    Screening,
    /// `identity.*`.
    Identity,
    /// `consortium.*`.
    Consortium,
    /// `case.*`.
    Case,
    /// `document.*`.
    Document,
}

impl EventGroup {
    /// Wire name (`session`, `screening`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventGroup::Session => "session",
            EventGroup::Screening => "screening",
            EventGroup::Identity => "identity",
            EventGroup::Consortium => "consortium",
            EventGroup::Case => "case",
            EventGroup::Document => "document",
        }
    }

    /// Human label as in the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            EventGroup::Session => "Session",
            EventGroup::Screening => "Screening / checks",
            EventGroup::Identity => "Identity",
            EventGroup::Consortium => "Consortium",
            EventGroup::Case => "Case",
            EventGroup::Document => "Document",
        }
    }
}

/// One catalogued event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventType {
    /// Exact event name, e.g. `session.requires-review`.
    pub name: &'static str,
    /// Group.
    pub group: EventGroup,
    /// One-line description (served by `GET /webhooks/event-types`).
    pub description: &'static str,
}

const fn ev(name: &'static str, group: EventGroup, description: &'static str) -> EventType {
    EventType {
        name,
        group,
        description,
    }
}

/// Every event, in catalogue order.
pub const EVENT_TYPES: &[EventType] = &[
    ev(
        "session.created",
        EventGroup::Session,
        "A verification session was created.",
    ),
    ev(
        "session.started",
        EventGroup::Session,
        "The user opened the capture URL.",
    ),
    ev(
        "session.expired",
        EventGroup::Session,
        "The session expired before completion.",
    ),
    ev(
        "session.requires-review",
        EventGroup::Session,
        "The session needs manual review.",
    ),
    ev(
        "session.approved",
        EventGroup::Session,
        "The session was approved (automatically or manually).",
    ),
    ev(
        "session.declined",
        EventGroup::Session,
        "The session was declined (rejected).",
    ),
    ev(
        "session.redacted",
        EventGroup::Session,
        "The session's personal data was redacted.",
    ),
    ev(
        "session.retention-expired",
        EventGroup::Session,
        "The session's data reached the end of its retention period.",
    ),
    ev(
        "session.resubmission-required",
        EventGroup::Session,
        "The user must resubmit part of the verification.",
    ),
    ev(
        "session.link_generated",
        EventGroup::Session,
        "A capture link was generated for the session.",
    ),
    ev(
        "session.awaiting_external",
        EventGroup::Session,
        "The session's workflow is waiting for an external decision.",
    ),
    ev(
        "screening.completed",
        EventGroup::Screening,
        "Watchlist screening for a session finished.",
    ),
    ev(
        "screening.monitoring.new_hits",
        EventGroup::Screening,
        "Ongoing monitoring found new hits for a screened session.",
    ),
    ev(
        "check.completed",
        EventGroup::Screening,
        "A standalone screening check finished.",
    ),
    ev(
        "check.monitoring.new_hits",
        EventGroup::Screening,
        "Ongoing monitoring found new hits for a check.",
    ),
    ev(
        "identity.created",
        EventGroup::Identity,
        "An identity was created.",
    ),
    ev(
        "identity.updated",
        EventGroup::Identity,
        "An identity was updated (including redaction).",
    ),
    ev(
        "identity.archived",
        EventGroup::Identity,
        "An identity was archived.",
    ),
    ev(
        "identity.restored",
        EventGroup::Identity,
        "An archived identity was restored.",
    ),
    ev(
        "identity.tag-added",
        EventGroup::Identity,
        "A tag was added to an identity.",
    ),
    ev(
        "identity.tag-removed",
        EventGroup::Identity,
        "A tag was removed from an identity.",
    ),
    ev(
        "identity.flagged",
        EventGroup::Identity,
        "An identity was flagged (reviewer email and reason omitted).",
    ),
    ev(
        "consortium.match_found",
        EventGroup::Consortium,
        "A consortium match was found (both organizations receive it).",
    ),
    ev(
        "case.created",
        EventGroup::Case,
        "A review case was created.",
    ),
    ev(
        "case.assigned",
        EventGroup::Case,
        "A review case got a reviewer (claim, assign, next, escalation to a person).",
    ),
    ev(
        "case.sla_breached",
        EventGroup::Case,
        "An active review case passed its SLA due time (once per case).",
    ),
    ev(
        "case.approved",
        EventGroup::Case,
        "A review case was approved.",
    ),
    ev(
        "case.rejected",
        EventGroup::Case,
        "A review case was rejected.",
    ),
    ev(
        "case.escalated",
        EventGroup::Case,
        "A review case was escalated.",
    ),
    ev(
        "document.verified",
        EventGroup::Document,
        "A document was verified.",
    ),
    ev(
        "document.extracted",
        EventGroup::Document,
        "Data was extracted from a document.",
    ),
];

/// The catalogue entry for `name`, if any.
pub fn find(name: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|e| e.name == name)
}

/// Whether `name` is a catalogued event.
pub fn is_known(name: &str) -> bool {
    find(name).is_some()
}

/// Whether one `enabled_events` entry selects `event`.
pub fn pattern_matches(pattern: &str, event: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) if !prefix.is_empty() => event
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        _ => pattern == event,
    }
}

/// Whether an endpoint subscribed to `enabled_events` receives `event` (empty = all).
pub fn is_enabled<S: AsRef<str>>(enabled_events: &[S], event: &str) -> bool {
    enabled_events.is_empty()
        || enabled_events
            .iter()
            .any(|p| pattern_matches(p.as_ref(), event))
}

/// Every `enabled_events` entry that selects at least one catalogued event: `*`, each event
/// name, and `<prefix>.*` for each dotted prefix of one (`session.*`, `screening.monitoring.*`).
pub fn subscription_patterns() -> Vec<String> {
    let mut out = vec!["*".to_owned()];
    for e in EVENT_TYPES {
        out.push(e.name.to_owned());
        let mut prefix = String::new();
        for part in e
            .name
            .split('.')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, rest)| rest)
        {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            out.push(format!("{prefix}.*"));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// An `enabled_events` entry that selects no catalogued event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type '{0}'")]
pub struct UnknownEvent(pub String);

/// Checks every entry of `enabled_events` selects at least one catalogued event.
pub fn validate_enabled_events<S: AsRef<str>>(enabled_events: &[S]) -> Result<(), UnknownEvent> {
    for p in enabled_events {
        let p = p.as_ref();
        if !EVENT_TYPES.iter().any(|e| pattern_matches(p, e.name)) {
            return Err(UnknownEvent(p.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_reproduced_exactly() {
        for name in [
            "session.requires-review",
            "session.awaiting_external",
            "session.link_generated",
            "session.retention-expired",
            "screening.monitoring.new_hits",
            "check.monitoring.new_hits",
            "identity.tag-added",
            "consortium.match_found",
            "document.extracted",
        ] {
            assert!(is_known(name), "{name}");
        }
        assert!(!is_known("session.requires_review"));
        assert!(!is_known("session.awaiting-external"));
        assert!(!is_known("Session.approved"));
        assert_eq!(
            EVENT_TYPES.len(),
            31,
            "the reference's 29 and CONTRACT §17.1's case.assigned and case.sla_breached"
        );
    }

    #[test]
    fn subscription_patterns_are_exactly_the_valid_entries() {
        let patterns = subscription_patterns();
        assert!(validate_enabled_events(&patterns).is_ok());
        for p in [
            "*",
            "session.*",
            "screening.monitoring.*",
            "session.approved",
        ] {
            assert!(patterns.iter().any(|x| x == p), "{p}");
        }
        for bad in ["session", "session.approved.*", ".*", "sessions.*"] {
            assert!(!patterns.iter().any(|x| x == bad), "{bad}");
            assert!(validate_enabled_events(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_unique_and_grouped_by_prefix() {
        for (i, e) in EVENT_TYPES.iter().enumerate() {
            assert!(EVENT_TYPES.iter().skip(i + 1).all(|o| o.name != e.name));
            let prefix = e.name.split('.').next().unwrap_or_default();
            let expected = if prefix == "check" {
                "screening"
            } else {
                prefix
            };
            assert_eq!(e.group.as_str(), expected, "{}", e.name);
            assert!(!e.description.is_empty());
        }
        assert_eq!(
            find("case.escalated").map(|e| e.group),
            Some(EventGroup::Case)
        );
    }

    #[test]
    fn enabled_events_matching() {
        let none: [&str; 0] = [];
        assert!(is_enabled(&none, "session.approved"));
        assert!(is_enabled(&["*"], "check.completed"));
        assert!(is_enabled(&["session.approved"], "session.approved"));
        assert!(!is_enabled(&["session.approved"], "session.declined"));
        assert!(is_enabled(&["session.*"], "session.requires-review"));
        assert!(!is_enabled(&["session.*"], "screening.completed"));
        assert!(!is_enabled(&["session.*"], "sessionx.created"));
        assert!(is_enabled(
            &["screening.*"],
            "screening.monitoring.new_hits"
        ));
        assert!(is_enabled(
            &["screening.monitoring.*"],
            "screening.monitoring.new_hits"
        ));
        assert!(!is_enabled(
            &["screening.monitoring.*"],
            "screening.completed"
        ));
        assert!(!is_enabled(&[".*"], "session.created"));
        assert!(is_enabled(&["case.created", "case.*"], "case.rejected"));
    }

    #[test]
    fn validation_catches_typos() {
        assert!(validate_enabled_events(&["*", "session.*", "check.completed"]).is_ok());
        assert_eq!(
            validate_enabled_events(&["session.approved", "session.aproved"]),
            Err(UnknownEvent("session.aproved".into()))
        );
        assert!(validate_enabled_events(&["qa.*"]).is_err());
        assert!(validate_enabled_events(&[".*"]).is_err());
    }
}
