//! `X-Verifa-Signature` (CONTRACT §5, reference §13.3), Stripe style:
//!
//! ```text
//! X-Verifa-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{raw body}")>
//! ```
//!
//! The HMAC key is the endpoint secret as a string, **including** its `whsec_` prefix. During a
//! secret rotation overlap several `v1=` entries may be present; a receiver accepts the delivery
//! when any of them matches. Unknown schemes (e.g. `v0=`) are ignored. Verification compares in
//! constant time and rejects timestamps more than `tolerance_secs` away from `now`, in either
//! direction. The legacy bare-hex format (no `t=`) is not produced and not accepted here.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Default timestamp tolerance: 5 minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a signature header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Empty header, or an element without `=`.
    #[error("malformed signature header")]
    MalformedHeader,
    /// No `t=` element.
    #[error("signature header has no timestamp")]
    MissingTimestamp,
    /// `t=` is not an integer, or appears more than once.
    #[error("signature header has an invalid timestamp")]
    InvalidTimestamp,
    /// No `v1=` element with a well-formed hex value.
    #[error("signature header has no v1 signature")]
    MissingSignature,
    /// No `v1` value matches the expected signature.
    #[error("no signature matches the payload")]
    NoMatchingSignature,
    /// The (authentic) timestamp is more than the tolerance in the past.
    #[error("timestamp is too old ({age_secs} s)")]
    TimestampTooOld {
        /// `now - t`.
        age_secs: i64,
    },
    /// The (authentic) timestamp is more than the tolerance in the future.
    #[error("timestamp is in the future ({ahead_secs} s)")]
    TimestampInFuture {
        /// `t - now`.
        ahead_secs: i64,
    },
}

/// A parsed header: its timestamp and the decoded `v1` signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// `t=`.
    pub timestamp: i64,
    /// Every well-formed `v1=` value, decoded from hex.
    pub v1: Vec<Vec<u8>>,
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Option<HmacSha256> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; no panic path anyway.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// Hex HMAC-SHA256 of `"{timestamp}.{body}"` keyed with `secret` (the `v1` value).
pub fn compute_v1(secret: &str, timestamp: i64, body: &[u8]) -> String {
    mac(secret, timestamp, body)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// The header value `t=<timestamp>,v1=<hex>` for one secret.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    sign_with_secrets(&[secret], timestamp, body)
}

/// The header value with one `v1=` entry per secret, in order (secret rotation overlap).
pub fn sign_with_secrets(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for s in secrets {
        out.push_str(",v1=");
        out.push_str(&compute_v1(s, timestamp, body));
    }
    out
}

/// Parses `t=…,v1=…[,v1=…]` (whitespace around elements tolerated; unknown keys ignored).
pub fn parse_header(header: &str) -> Result<SignatureHeader, SignatureError> {
    if header.trim().is_empty() {
        return Err(SignatureError::MalformedHeader);
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for element in header.split(',') {
        let (key, value) = element
            .trim()
            .split_once('=')
            .ok_or(SignatureError::MalformedHeader)?;
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::InvalidTimestamp);
                }
                let value = value.trim();
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(SignatureError::InvalidTimestamp);
                }
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::InvalidTimestamp)?,
                );
            }
            "v1" => {
                if let Ok(bytes) = hex::decode(value.trim())
                    && !bytes.is_empty()
                {
                    v1.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    if v1.is_empty() {
        return Err(SignatureError::MissingSignature);
    }
    Ok(SignatureHeader { timestamp, v1 })
}

/// Verifies a received header against the raw body.
///
/// The signature is checked first (constant time), then the timestamp window, so a timestamp
/// error means the delivery is authentic but stale (a replay or a badly skewed clock).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let parsed = parse_header(header)?;
    let expected = mac(secret, parsed.timestamp, body)
        .map(|m| m.finalize().into_bytes().to_vec())
        .ok_or(SignatureError::NoMatchingSignature)?;
    let mut matched = subtle::Choice::from(0u8);
    for candidate in &parsed.v1 {
        // Lengths are public; `ct_eq` on slices of different length is simply false.
        matched |= candidate.as_slice().ct_eq(expected.as_slice());
    }
    if !bool::from(matched) {
        return Err(SignatureError::NoMatchingSignature);
    }
    let delta = now_unix.saturating_sub(parsed.timestamp);
    let tolerance = tolerance_secs.max(0);
    if delta > tolerance {
        return Err(SignatureError::TimestampTooOld { age_secs: delta });
    }
    if delta < -tolerance {
        return Err(SignatureError::TimestampInFuture {
            ahead_secs: delta.saturating_neg(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented test vector (docs/webhooks.md, "Test vector").
    const SECRET: &str = "whsec_MfKQ9r1GKG5Dh1UbN0n7vGyX4cC8oVbS0eWmqG7Ht9F";
    const TIMESTAMP: i64 = 1_767_268_800; // 2026-01-01T12:00:00Z
    const BODY: &str = r#"{"event":"session.approved","idempotency_key":"idk_0123456789abcdef","session_id":"ses_abc123","status":"approved"}"#;
    const EXPECTED_V1: &str = "5e757857f36e85559bf01bddaa0c91038eb15da7988c48af42d0cf6f57e122c7";

    #[test]
    fn known_answer_vector() {
        let header = sign(SECRET, TIMESTAMP, BODY.as_bytes());
        assert_eq!(header, format!("t={TIMESTAMP},v1={EXPECTED_V1}"));
        assert_eq!(
            verify(SECRET, &header, BODY.as_bytes(), TIMESTAMP, 300),
            Ok(())
        );
    }

    #[test]
    fn documented_receiver_function_accepts_the_vector() {
        // Copied verbatim from docs/webhooks.md ("Rust").
        use hmac::{Hmac, Mac};
        use sha2::Sha256;
        use subtle::ConstantTimeEq;

        /// Verifies an `X-Verifa-Signature` header against the raw body.
        /// `now_unix` is the current time in Unix seconds.
        fn verify_verifa_signature(
            secret: &str,
            header: &str,
            raw_body: &[u8],
            now_unix: i64,
        ) -> bool {
            const TOLERANCE_SECS: u64 = 300;
            let mut timestamp: Option<i64> = None;
            let mut candidates: Vec<Vec<u8>> = Vec::new();
            for part in header.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", v)) => timestamp = v.trim().parse().ok(),
                    Some(("v1", v)) => {
                        if let Ok(bytes) = hex::decode(v.trim()) {
                            candidates.push(bytes);
                        }
                    }
                    _ => {}
                }
            }
            let Some(t) = timestamp else { return false };
            if now_unix.abs_diff(t) > TOLERANCE_SECS {
                return false;
            }
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
                return false;
            };
            mac.update(t.to_string().as_bytes());
            mac.update(b".");
            mac.update(raw_body);
            let expected = mac.finalize().into_bytes().to_vec();
            candidates
                .iter()
                .any(|c| bool::from(c.as_slice().ct_eq(expected.as_slice())))
        }

        let header = format!("t={TIMESTAMP},v1={EXPECTED_V1}");
        assert!(verify_verifa_signature(
            SECRET,
            &header,
            BODY.as_bytes(),
            TIMESTAMP
        ));
        assert!(verify_verifa_signature(
            SECRET,
            &header,
            BODY.as_bytes(),
            TIMESTAMP + 300
        ));
        assert!(!verify_verifa_signature(
            SECRET,
            &header,
            BODY.as_bytes(),
            TIMESTAMP + 301
        ));
        assert!(!verify_verifa_signature(
            "whsec_other",
            &header,
            BODY.as_bytes(),
            TIMESTAMP
        ));
        assert!(!verify_verifa_signature(SECRET, &header, b"{}", TIMESTAMP));
        assert!(!verify_verifa_signature(
            SECRET,
            "t=x",
            BODY.as_bytes(),
            TIMESTAMP
        ));
    }

    #[test]
    fn v1_is_64_lowercase_hex_chars() {
        let v = compute_v1("key", 0, b"x");
        assert_eq!(v.len(), 64);
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn the_whsec_prefix_is_part_of_the_key() {
        let with = compute_v1("whsec_abc", 1, b"{}");
        let without = compute_v1("abc", 1, b"{}");
        assert_ne!(with, without);
    }

    #[test]
    fn any_of_several_v1_entries_may_match() {
        let body = b"{\"a\":1}";
        let header = sign_with_secrets(&["whsec_old", "whsec_new"], 1000, body);
        assert_eq!(header.matches("v1=").count(), 2);
        assert_eq!(verify("whsec_old", &header, body, 1000, 300), Ok(()));
        assert_eq!(verify("whsec_new", &header, body, 1000, 300), Ok(()));
        assert_eq!(
            verify("whsec_other", &header, body, 1000, 300),
            Err(SignatureError::NoMatchingSignature)
        );
        // Unknown schemes and junk v1 values are ignored, not fatal.
        let v1 = compute_v1("whsec_new", 1000, body);
        let h = format!("t=1000, v0=deadbeef, v1=zz, v1={v1}");
        assert_eq!(verify("whsec_new", &h, body, 1000, 300), Ok(()));
    }

    #[test]
    fn tolerance_window_both_directions() {
        let body = b"{}";
        let h = sign("whsec_x", 10_000, body);
        assert_eq!(verify("whsec_x", &h, body, 10_300, 300), Ok(()));
        assert_eq!(verify("whsec_x", &h, body, 9_700, 300), Ok(()));
        assert_eq!(
            verify("whsec_x", &h, body, 10_301, 300),
            Err(SignatureError::TimestampTooOld { age_secs: 301 })
        );
        assert_eq!(
            verify("whsec_x", &h, body, 9_699, 300),
            Err(SignatureError::TimestampInFuture { ahead_secs: 301 })
        );
        assert!(verify("whsec_x", &h, body, i64::MIN, 300).is_err());
        assert!(verify("whsec_x", &h, body, i64::MAX, 300).is_err());
    }

    #[test]
    fn tampered_body_or_timestamp_fails() {
        let h = sign("whsec_x", 500, b"{\"a\":1}");
        assert_eq!(
            verify("whsec_x", &h, b"{\"a\":2}", 500, 300),
            Err(SignatureError::NoMatchingSignature)
        );
        let forged = h.replacen("t=500", "t=501", 1);
        assert_eq!(
            verify("whsec_x", &forged, b"{\"a\":1}", 500, 300),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        let v1 = "v1=".to_owned() + &"ab".repeat(32);
        let cases: Vec<(String, SignatureError)> = vec![
            (String::new(), SignatureError::MalformedHeader),
            ("   ".into(), SignatureError::MalformedHeader),
            ("garbage".into(), SignatureError::MalformedHeader),
            (format!("t=1,{v1},junk"), SignatureError::MalformedHeader),
            (v1.clone(), SignatureError::MissingTimestamp),
            (format!("t=abc,{v1}"), SignatureError::InvalidTimestamp),
            (format!("t=-5,{v1}"), SignatureError::InvalidTimestamp),
            (format!("t=,{v1}"), SignatureError::InvalidTimestamp),
            (
                format!("t=99999999999999999999,{v1}"),
                SignatureError::InvalidTimestamp,
            ),
            (format!("t=1,t=2,{v1}"), SignatureError::InvalidTimestamp),
            ("t=1".into(), SignatureError::MissingSignature),
            ("t=1,v1=".into(), SignatureError::MissingSignature),
            ("t=1,v1=xyz".into(), SignatureError::MissingSignature),
            // A bare legacy hex signature is not accepted.
            ("ab".repeat(32), SignatureError::MalformedHeader),
        ];
        for (header, expected) in cases {
            assert_eq!(
                verify("whsec_x", &header, b"{}", 1, 300),
                Err(expected),
                "{header:?}"
            );
        }
    }
}
