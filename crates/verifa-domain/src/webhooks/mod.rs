//! Webhook delivery rules (CONTRACT §5, reference §13). Pure: no IO, no clock, no randomness —
//! times, random bytes and jitter come in as arguments.
//!
//! - [`events`]: the event catalogue and `enabled_events` matching (`*`, `session.*`).
//! - [`payload`]: the JSON body of one delivery (flat form + `data` copy), attribute blocklist,
//!   key inflection and `event_filter_conditions`.
//! - [`signature`]: `X-Verifa-Signature: t=<unix>,v1=<hex>` signing and verification.
//! - [`secret`]: the `whsec_…` endpoint secret format.
//! - [`schedule`]: retry schedule with jitter, response classification, circuit breaker.
//! - [`ssrf`]: forbidden destination addresses and the URL check used at registration and
//!   delivery time.

pub mod events;
pub mod payload;
pub mod schedule;
pub mod secret;
pub mod signature;
pub mod ssrf;

/// Header carrying the signature (`t=<unix>,v1=<hex>`).
pub const SIGNATURE_HEADER: &str = "X-Verifa-Signature";
/// Header carrying the delivery id (one per delivery, the same on every attempt).
pub const DELIVERY_ID_HEADER: &str = "X-Verifa-Delivery-Id";
/// Header carrying the event name (e.g. `session.approved`).
pub const EVENT_HEADER: &str = "X-Verifa-Event";

/// The headers of one delivery attempt, apart from `User-Agent` (set by the transport).
///
/// `signature` is the value produced by [`signature::sign`] for this attempt's timestamp.
pub fn delivery_headers(signature: &str, delivery_id: &str, event: &str) -> Vec<(String, String)> {
    vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        (SIGNATURE_HEADER.to_owned(), signature.to_owned()),
        (DELIVERY_ID_HEADER.to_owned(), delivery_id.to_owned()),
        (EVENT_HEADER.to_owned(), event.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_in_a_stable_order() {
        let h = delivery_headers("t=1,v1=ab", "whd_1", "session.approved");
        let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "X-Verifa-Signature",
                "X-Verifa-Delivery-Id",
                "X-Verifa-Event"
            ]
        );
    }
}
