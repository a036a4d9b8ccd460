//! The hash chain that makes the audit trail tamper-evident.
//!
//! Per organization and environment, events are numbered from 1 without gaps; each carries the
//! previous event's hash (64 zeros for the first) and its own,
//! `hex(sha256(prev_hash ‖ JCS(event without hash)))` with JCS the RFC 8785 canonical JSON of
//! the snake_case wire object. Changing a stored event breaks its hash, deleting one breaks the
//! sequence, inserting one breaks a link, and truncating the tail disagrees with the chain's
//! head, which the store keeps apart from the events. [`ChainVerifier`] checks all four.

use super::{AuditDraft, AuditEvent};
use chrono::SubsecRound;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of a chain's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The last sealed event of a chain, as the store keeps it: where the next append continues and
/// what a verification must end at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The last sequence number (0 for an empty chain).
    pub sequence: i64,
    /// The last hash ([`GENESIS_HASH`] for an empty chain).
    pub hash: String,
}

impl ChainHead {
    /// The head of a chain without events.
    pub fn empty() -> Self {
        Self {
            sequence: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }
}

/// Seals `draft` as the event after `head`, returning the event (and so the new head).
/// `created_at` is cut to microseconds, the precision every store keeps, so the hash
/// recomputed from a stored row matches.
pub fn seal(draft: &AuditDraft, head: &ChainHead) -> AuditEvent {
    let mut event = AuditEvent {
        id: draft.id.clone(),
        org_id: draft.tenant.org_id.clone(),
        sequence: head.sequence + 1,
        action: draft.action.clone(),
        created_at: draft.at.trunc_subsecs(6),
        resource_type: draft.resource_type.clone(),
        resource_id: draft.resource_id.clone(),
        actor: draft.actor.to_string(),
        changes: draft.changes.clone(),
        metadata: draft.metadata.clone(),
        ip_address: draft.request.ip_address.clone(),
        request_method: draft.request.method.clone(),
        request_path: draft.request.path.clone(),
        request_id: draft.request.request_id.clone(),
        environment: draft.tenant.environment,
        prev_hash: head.hash.clone(),
        hash: String::new(),
    };
    event.hash = hash_of(&event);
    event
}

/// Recomputes an event's hash from everything but its `hash` field.
pub fn hash_of(event: &AuditEvent) -> String {
    /// The wire object without `hash`, borrowed.
    #[derive(Serialize)]
    struct Hashed<'a> {
        id: &'a str,
        sequence: i64,
        #[serde(rename = "type")]
        action: &'a str,
        created_at: String,
        resource_type: &'a str,
        resource_id: &'a str,
        actor: &'a str,
        changes: &'a [String],
        metadata: &'a serde_json::Map<String, serde_json::Value>,
        ip_address: Option<&'a str>,
        request_method: Option<&'a str>,
        request_path: Option<&'a str>,
        request_id: Option<&'a str>,
        environment: &'a str,
        prev_hash: &'a str,
    }
    let hashed = Hashed {
        id: &event.id,
        sequence: event.sequence,
        action: &event.action,
        created_at: micros::format(&event.created_at),
        resource_type: &event.resource_type,
        resource_id: &event.resource_id,
        actor: &event.actor,
        changes: &event.changes,
        metadata: &event.metadata,
        ip_address: event.ip_address.as_deref(),
        request_method: event.request_method.as_deref(),
        request_path: event.request_path.as_deref(),
        request_id: event.request_id.as_deref(),
        environment: event.environment.as_str(),
        prev_hash: &event.prev_hash,
    };
    // Strings, integers, maps and lists only: canonicalisation cannot fail on these types; an
    // empty body would still hash deterministically and fail verification loudly.
    let canonical = serde_jcs::to_vec(&hashed).unwrap_or_default();
    let mut sha = Sha256::new();
    sha.update(event.prev_hash.as_bytes());
    sha.update(&canonical);
    hex::encode(sha.finalize())
}

/// The answer of `GET /events/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Whether every checked event is intact and linked, and the range ends at the head.
    pub valid: bool,
    /// Events checked.
    pub checked: u64,
    /// The first sequence number at which the chain is broken.
    pub first_invalid_sequence: Option<i64>,
    /// The chain's head sequence, as the store keeps it.
    pub head_sequence: i64,
    /// The chain's head hash.
    pub head_hash: String,
}

/// Checks a run of consecutive events fed in sequence order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_sequence: i64,
    expected_prev_hash: String,
    checked: u64,
    first_invalid: Option<i64>,
}

impl ChainVerifier {
    /// Starts after `previous`: the event before the first one to check (the empty head to
    /// check from sequence 1).
    pub fn after(previous: &ChainHead) -> Self {
        Self {
            expected_sequence: previous.sequence + 1,
            expected_prev_hash: previous.hash.clone(),
            checked: 0,
            first_invalid: None,
        }
    }

    /// The sequence number the next event must carry.
    pub fn expected_sequence(&self) -> i64 {
        self.expected_sequence
    }

    /// Whether a break was found (checking further changes nothing).
    pub fn is_broken(&self) -> bool {
        self.first_invalid.is_some()
    }

    /// Checks the next event: its sequence, its link to the one before and its own hash.
    pub fn feed(&mut self, event: &AuditEvent) {
        if self.first_invalid.is_some() {
            return;
        }
        self.checked += 1;
        if event.sequence != self.expected_sequence {
            // A deleted event leaves a gap; an inserted or reordered one a repeat. Either way
            // the chain is broken where the expected event is missing.
            self.first_invalid = Some(self.expected_sequence.min(event.sequence));
            return;
        }
        if event.prev_hash != self.expected_prev_hash || hash_of(event) != event.hash {
            self.first_invalid = Some(event.sequence);
            return;
        }
        self.expected_sequence += 1;
        self.expected_prev_hash.clone_from(&event.hash);
    }

    /// The verdict. `head` is the chain's stored head; `to_end` says the range was meant to
    /// reach it, in which case events missing at the tail (a truncated chain) or a head that
    /// disagrees with the last event are a break too.
    pub fn finish(self, head: &ChainHead, to_end: bool) -> ChainReport {
        let mut first_invalid = self.first_invalid;
        if first_invalid.is_none() && to_end {
            let last_sequence = self.expected_sequence - 1;
            if last_sequence != head.sequence {
                first_invalid = Some(last_sequence.min(head.sequence) + 1);
            } else if self.expected_prev_hash != head.hash {
                first_invalid = Some(head.sequence.max(1));
            }
        }
        ChainReport {
            valid: first_invalid.is_none(),
            checked: self.checked,
            first_invalid_sequence: first_invalid,
            head_sequence: head.sequence,
            head_hash: head.hash.clone(),
        }
    }
}

/// Timestamps at microsecond precision in RFC 3339 (`2026-02-01T12:05:00.123456Z`): what the
/// hash covers and what the API shows.
pub mod micros {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// The canonical text.
    pub fn format(at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// serde `serialize_with`.
    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(at))
    }

    /// serde `deserialize_with`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Seals `drafts` one after another from `head`, returning the events and the new head.
pub fn seal_all<'a>(
    drafts: impl IntoIterator<Item = &'a AuditDraft>,
    head: ChainHead,
) -> (Vec<AuditEvent>, ChainHead) {
    let mut head = head;
    let mut events = Vec::new();
    for draft in drafts {
        let event = seal(draft, &head);
        head = ChainHead {
            sequence: event.sequence,
            hash: event.hash.clone(),
        };
        events.push(event);
    }
    (events, head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, RequestMeta};
    use crate::tenancy::{Environment, Tenant};
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn draft(n: usize) -> AuditDraft {
        AuditDraft {
            id: format!("aud_{n}"),
            tenant: Tenant::new("org_1", Environment::Live),
            action: "api_key.updated".into(),
            resource_type: "api_key".into(),
            resource_id: format!("key_{n}"),
            actor: Actor::ApiKey("vk_live_ab12".into()),
            changes: vec!["label".into()],
            metadata: serde_json::Map::new(),
            request: RequestMeta {
                ip_address: Some("203.0.113.7".into()),
                method: Some("PATCH".into()),
                path: Some(format!("/api/v1/api-keys/key_{n}")),
                request_id: Some("req_1".into()),
            },
            at: Utc.with_ymd_and_hms(2026, 2, 1, 12, 5, 0).unwrap()
                + chrono::Duration::nanoseconds(123_456_789),
        }
    }

    fn chain(n: usize) -> (Vec<AuditEvent>, ChainHead) {
        let drafts: Vec<_> = (0..n).map(draft).collect();
        seal_all(&drafts, ChainHead::empty())
    }

    fn verify(events: &[AuditEvent], head: &ChainHead) -> ChainReport {
        let mut v = ChainVerifier::after(&ChainHead::empty());
        for e in events {
            v.feed(e);
        }
        v.finish(head, true)
    }

    #[test]
    fn the_hash_is_sha256_of_prev_hash_and_the_canonical_json() {
        let (events, _) = chain(1);
        let e = &events[0];
        assert_eq!(e.prev_hash, GENESIS_HASH);
        assert_eq!(e.sequence, 1);
        assert_eq!(
            micros::format(&e.created_at),
            "2026-02-01T12:05:00.123456Z",
            "cut to microseconds"
        );
        // RFC 8785 by hand: keys sorted, no whitespace.
        let canonical = format!(
            concat!(
                r#"{{"actor":"api_key:vk_live_ab12","changes":["label"],"#,
                r#""created_at":"2026-02-01T12:05:00.123456Z","environment":"live","#,
                r#""id":"aud_0","ip_address":"203.0.113.7","metadata":{{}},"#,
                r#""prev_hash":"{}","request_id":"req_1","#,
                r#""request_method":"PATCH","request_path":"/api/v1/api-keys/key_0","#,
                r#""resource_id":"key_0","resource_type":"api_key","sequence":1,"#,
                r#""type":"api_key.updated"}}"#
            ),
            GENESIS_HASH
        );
        let mut sha = Sha256::new();
        sha.update(GENESIS_HASH.as_bytes());
        sha.update(canonical.as_bytes());
        assert_eq!(e.hash, hex::encode(sha.finalize()));
    }

    #[test]
    fn metadata_key_order_does_not_change_the_hash() {
        let a = draft(0).with_metadata("b", 1).with_metadata("a", "x");
        let b = draft(0).with_metadata("a", "x").with_metadata("b", 1);
        assert_eq!(
            seal(&a, &ChainHead::empty()).hash,
            seal(&b, &ChainHead::empty()).hash
        );
    }

    #[test]
    fn an_intact_chain_verifies_and_reports_its_head() {
        let (events, head) = chain(5);
        let report = verify(&events, &head);
        assert_eq!(
            report,
            ChainReport {
                valid: true,
                checked: 5,
                first_invalid_sequence: None,
                head_sequence: 5,
                head_hash: events[4].hash.clone(),
            }
        );
        let empty = verify(&[], &ChainHead::empty());
        assert!(empty.valid);
        assert_eq!(empty.head_hash, GENESIS_HASH);
    }

    #[test]
    fn a_changed_event_is_found() {
        let (mut events, head) = chain(5);
        events[2].resource_id = "key_other".into();
        assert_eq!(verify(&events, &head).first_invalid_sequence, Some(3));
        let (mut events, head) = chain(5);
        events[1].metadata.insert("x".into(), 1.into());
        assert_eq!(verify(&events, &head).first_invalid_sequence, Some(2));
    }

    #[test]
    fn a_deleted_event_is_found() {
        let (mut events, head) = chain(5);
        events.remove(1);
        assert_eq!(verify(&events, &head).first_invalid_sequence, Some(2));
    }

    #[test]
    fn an_inserted_event_is_found_even_when_renumbered_and_rehashed() {
        let (mut events, head) = chain(5);
        // A forger inserts after 2 and renumbers and rehashes the rest, but cannot move the head.
        let forged = seal(
            &draft(9),
            &ChainHead {
                sequence: 2,
                hash: events[1].hash.clone(),
            },
        );
        events.insert(2, forged);
        let mut prev = ChainHead {
            sequence: 3,
            hash: events[2].hash.clone(),
        };
        for e in events.iter_mut().skip(3) {
            e.sequence = prev.sequence + 1;
            e.prev_hash = prev.hash.clone();
            e.hash = hash_of(e);
            prev = ChainHead {
                sequence: e.sequence,
                hash: e.hash.clone(),
            };
        }
        let report = verify(&events, &head);
        assert!(!report.valid);
        assert_eq!(report.first_invalid_sequence, Some(6));
    }

    #[test]
    fn a_truncated_tail_is_found_against_the_head() {
        let (mut events, head) = chain(5);
        events.truncate(3);
        let report = verify(&events, &head);
        assert_eq!(report.first_invalid_sequence, Some(4));
        // Checking a range that does not reach the head says nothing about the tail.
        let mut v = ChainVerifier::after(&ChainHead::empty());
        for e in &events {
            v.feed(e);
        }
        assert!(v.finish(&head, false).valid);
    }

    #[test]
    fn a_range_verifies_from_its_predecessor() {
        let (events, head) = chain(6);
        let mut v = ChainVerifier::after(&ChainHead {
            sequence: 2,
            hash: events[1].hash.clone(),
        });
        for e in &events[2..] {
            v.feed(e);
        }
        let report = v.finish(&head, true);
        assert!(report.valid);
        assert_eq!(report.checked, 4);
    }

    proptest! {
        /// Changing any single event of a chain in any hashed field is always detected, at
        /// that event.
        #[test]
        fn any_single_change_is_detected(len in 1usize..12, pick in 0usize..12, field in 0u8..6) {
            let (mut events, head) = chain(len);
            let i = pick % len;
            let e = &mut events[i];
            match field {
                0 => e.action.push('x'),
                1 => e.actor = "system".into(),
                2 => e.changes.push("status".into()),
                3 => e.created_at += chrono::Duration::microseconds(1),
                4 => e.ip_address = None,
                _ => e.environment = Environment::Sandbox,
            }
            let expected = i64::try_from(i).unwrap() + 1;
            prop_assert_eq!(verify(&events, &head).first_invalid_sequence, Some(expected));
        }
    }
}
