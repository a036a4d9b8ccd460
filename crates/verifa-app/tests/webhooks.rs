//! The webhook dispatcher on fakes: fan-out to subscribed endpoints, signed deliveries, the
//! retry schedule under the manual clock, the circuit breaker, per-session order and a lost
//! lease. What was sent is read from `RecordingTransport`; what was stored, from the ports.

mod support;

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use support::*;
use verifa_app::api_keys::Caller;
use verifa_app::sessions::NewSession;
use verifa_app::webhooks::NewEndpoint;
use verifa_app::webhooks::{WebhookService, WebhookSettings};
use verifa_domain::webhooks::{DELIVERY_ID_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature};
use verifa_fakes::MemoryStore;
use verifa_ports::webhook_store::{
    DeliveryFilter, DeliveryRecord, DeliveryStatus, DeliveryStore, EndpointStore,
};
use verifa_ports::webhooks::{WebhookRequest, WebhookResponse, WebhookTransport};

/// Creates an endpoint; returns its id and secret.
async fn endpoint(w: &World, caller: &Caller, input: NewEndpoint) -> (String, String) {
    let view = w.services.webhooks.create(caller, input).await.unwrap();
    (view.endpoint.id, view.secret.unwrap())
}

fn to(url: &str) -> NewEndpoint {
    NewEndpoint {
        url: url.into(),
        ..NewEndpoint::default()
    }
}

async fn deliveries_of(w: &World, caller: &Caller, endpoint_id: &str) -> Vec<DeliveryRecord> {
    w.store
        .list_deliveries(
            &tenant(caller),
            endpoint_id,
            &DeliveryFilter::default(),
            all(),
        )
        .await
        .unwrap()
        .items
}

fn header<'a>(request: &'a WebhookRequest, name: &str) -> &'a str {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {:?}", request.headers))
}

/// `n` new live sessions (one `session.created` event each).
async fn sessions(w: &World, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let created = w
            .services
            .sessions
            .create(&w.live, NewSession::default())
            .await
            .unwrap();
        ids.push(created.session.id);
    }
    ids
}

#[tokio::test]
async fn fan_out_creates_one_delivery_per_subscribed_endpoint() {
    let w = World::new().await;
    let (all_events, _) = endpoint(&w, &w.live, to("https://hooks.test/all")).await;
    let (created_only, _) = endpoint(
        &w,
        &w.live,
        NewEndpoint {
            enabled_events: Some(vec!["session.created".into()]),
            ..to("https://hooks.test/created")
        },
    )
    .await;
    let (approved_only, _) = endpoint(
        &w,
        &w.live,
        NewEndpoint {
            enabled_events: Some(vec!["session.approved".into()]),
            ..to("https://hooks.test/approved")
        },
    )
    .await;
    let (disabled, _) = endpoint(
        &w,
        &w.live,
        NewEndpoint {
            enabled: Some(false),
            ..to("https://hooks.test/off")
        },
    )
    .await;
    let (sandbox, _) = endpoint(&w, &w.sandbox, to("https://hooks.test/sandbox")).await;
    let ids = sessions(&w, 2).await;
    let dispatcher = w.services.webhooks.dispatcher("d1");

    assert_eq!(
        dispatcher.fan_out_once().await.unwrap(),
        4,
        "two events, two subscribers"
    );
    assert_eq!(
        dispatcher.fan_out_once().await.unwrap(),
        0,
        "the cursor moved past them"
    );

    for subscribed in [&all_events, &created_only] {
        let mut got: Vec<String> = deliveries_of(&w, &w.live, subscribed)
            .await
            .into_iter()
            .map(|d| {
                assert_eq!(
                    (d.event_type.as_str(), d.status),
                    ("session.created", DeliveryStatus::Pending)
                );
                d.session_id.unwrap()
            })
            .collect();
        got.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(got, expected);
    }
    assert!(deliveries_of(&w, &w.live, &approved_only).await.is_empty());
    assert!(deliveries_of(&w, &w.live, &disabled).await.is_empty());
    assert!(
        deliveries_of(&w, &w.sandbox, &sandbox).await.is_empty(),
        "live events stay live"
    );
}

#[tokio::test]
async fn a_delivery_is_signed_sent_and_recorded() {
    let w = World::new().await;
    let (endpoint_id, secret) = endpoint(&w, &w.live, to("https://hooks.test/in")).await;
    sessions(&w, 1).await;
    let dispatcher = w.services.webhooks.dispatcher("d1");
    dispatcher.fan_out_once().await.unwrap();

    let summary = dispatcher.deliver_due_once(w.now()).await.unwrap();

    assert_eq!((summary.attempted, summary.succeeded), (1, 1));
    let sent = w.transport.sent();
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    let stored = &deliveries_of(&w, &w.live, &endpoint_id).await[0];
    assert_eq!(request.url, "https://hooks.test/in");
    assert_eq!(request.body, stored.body.as_bytes());
    assert_eq!(header(request, DELIVERY_ID_HEADER), stored.id);
    assert_eq!(header(request, EVENT_HEADER), "session.created");
    let signed = header(request, SIGNATURE_HEADER);
    signature::verify(&secret, signed, &request.body, w.now().timestamp(), 300)
        .expect("the signature verifies with the endpoint's secret");
    assert!(
        signature::verify(
            "whsec_wrong",
            signed,
            &request.body,
            w.now().timestamp(),
            300
        )
        .is_err()
    );
    assert_eq!(stored.status, DeliveryStatus::Succeeded);
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.last_status_code, Some(200));
    assert_eq!(stored.completed_at, Some(w.now()));
    assert_eq!(stored.lease_owner, None);
}

/// `at` lies within 10 % jitter of `base + secs`.
fn near(at: DateTime<Utc>, base: DateTime<Utc>, secs: i64) -> bool {
    let delta = (at - base).num_milliseconds();
    let nominal = secs * 1000;
    (delta - nominal).abs() <= nominal / 10 + 1
}

#[tokio::test]
async fn failed_attempts_are_retried_on_the_schedule() {
    let w = World::new().await;
    let (endpoint_id, _) = endpoint(&w, &w.live, to("https://hooks.test/flaky")).await;
    sessions(&w, 1).await;
    let dispatcher = w.services.webhooks.dispatcher("d1");
    dispatcher.fan_out_once().await.unwrap();
    w.transport.answer(503);

    let first = w.now();
    assert_eq!(dispatcher.deliver_due_once(first).await.unwrap().retried, 1);
    let d = deliveries_of(&w, &w.live, &endpoint_id).await.remove(0);
    assert_eq!(
        (d.status, d.attempts, d.last_status_code),
        (DeliveryStatus::Pending, 1, Some(503))
    );
    let retry_at = d.next_attempt_at.unwrap();
    assert!(
        near(retry_at, first, 30),
        "first retry ~30 s later, got {retry_at}"
    );

    w.clock.set(retry_at - Duration::seconds(1));
    assert_eq!(
        dispatcher
            .deliver_due_once(w.now())
            .await
            .unwrap()
            .attempted,
        0,
        "not due yet"
    );
    w.clock.set(retry_at);
    assert_eq!(
        dispatcher.deliver_due_once(w.now()).await.unwrap().retried,
        1
    );
    let d = deliveries_of(&w, &w.live, &endpoint_id).await.remove(0);
    assert_eq!(d.attempts, 2);
    assert!(
        near(d.next_attempt_at.unwrap(), retry_at, 120),
        "second retry ~2 min later"
    );

    w.transport.answer(200);
    w.clock.set(d.next_attempt_at.unwrap());
    assert_eq!(
        dispatcher
            .deliver_due_once(w.now())
            .await
            .unwrap()
            .succeeded,
        1
    );
    let d = deliveries_of(&w, &w.live, &endpoint_id).await.remove(0);
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Succeeded, 3));
    assert_eq!(w.transport.sent().len(), 3);
}

/// Drives every due delivery through all its attempts (each retry is at most 2 h 12 min away).
async fn exhaust(w: &World, dispatcher: &verifa_app::webhooks::Dispatcher) -> usize {
    let mut failed = 0;
    for _ in 0..6 {
        failed += dispatcher.deliver_due_once(w.now()).await.unwrap().failed;
        w.clock.advance(Duration::seconds(8_000));
    }
    failed
}

#[tokio::test]
async fn the_breaker_disables_an_endpoint_after_ten_final_failures() {
    let w = World::new().await;
    let (endpoint_id, _) = endpoint(&w, &w.live, to("https://hooks.test/down")).await;
    let dispatcher = w.services.webhooks.dispatcher("d1");
    w.transport.answer(500);
    let t = tenant(&w.live);

    sessions(&w, 9).await;
    dispatcher.fan_out_once().await.unwrap();
    assert_eq!(exhaust(&w, &dispatcher).await, 9);
    let ep = w.store.get_endpoint(&t, &endpoint_id).await.unwrap();
    assert_eq!((ep.enabled, ep.consecutive_failures), (true, 9));
    assert_eq!(w.transport.sent().len(), 9 * 6, "six attempts each");

    sessions(&w, 1).await;
    dispatcher.fan_out_once().await.unwrap();
    assert_eq!(exhaust(&w, &dispatcher).await, 1);
    let ep = w.store.get_endpoint(&t, &endpoint_id).await.unwrap();
    assert!(!ep.enabled);
    assert_eq!(ep.consecutive_failures, 10);
    assert!(ep.disabled_at.is_some());

    sessions(&w, 1).await;
    assert_eq!(
        dispatcher.fan_out_once().await.unwrap(),
        0,
        "a disabled endpoint gets nothing"
    );
    let sent = w.transport.sent().len();
    dispatcher.deliver_due_once(w.now()).await.unwrap();
    assert_eq!(w.transport.sent().len(), sent);
}

#[tokio::test]
async fn a_sessions_events_are_delivered_in_order() {
    let w = World::new().await;
    endpoint(&w, &w.live, to("https://hooks.test/ordered")).await;
    let session = w.capturing_session(&w.live).await;
    w.services
        .sessions
        .expire(&w.live, &session.id)
        .await
        .unwrap();
    let dispatcher = w.services.webhooks.dispatcher("d1");
    assert_eq!(dispatcher.fan_out_once().await.unwrap(), 3);
    w.transport.script([WebhookResponse {
        status: Some(500),
        ..WebhookResponse::default()
    }]);

    for _ in 0..4 {
        let summary = dispatcher.deliver_due_once(w.now()).await.unwrap();
        assert!(
            summary.attempted <= 1,
            "one event of the session at a time: {summary:?}"
        );
        w.clock.advance(Duration::seconds(40));
    }

    let events: Vec<String> = w
        .transport
        .sent()
        .iter()
        .map(|r| header(r, EVENT_HEADER).to_owned())
        .collect();
    assert_eq!(
        events,
        [
            "session.created",
            "session.created",
            "session.started",
            "session.expired"
        ]
    );
}

/// Sends like `inner`, but while the attempt is in flight its lease lapses and another
/// dispatcher claims the delivery.
struct SlowTransport {
    inner: verifa_fakes::RecordingTransport,
    store: Arc<MemoryStore>,
    thief_at: DateTime<Utc>,
}

#[async_trait::async_trait]
impl WebhookTransport for SlowTransport {
    async fn send(&self, request: &WebhookRequest) -> WebhookResponse {
        let until = self.thief_at + Duration::seconds(90);
        let stolen = self
            .store
            .claim_due("thief", self.thief_at, until, 10)
            .await
            .unwrap();
        assert_eq!(stolen.len(), 1, "the lapsed delivery is claimable");
        self.inner.send(request).await
    }
}

#[tokio::test]
async fn an_attempt_under_a_lost_lease_is_not_recorded() {
    let w = World::new().await;
    let (endpoint_id, _) = endpoint(&w, &w.live, to("https://hooks.test/slow")).await;
    sessions(&w, 1).await;
    let mut ports = w.ports.clone();
    ports.transport = Arc::new(SlowTransport {
        inner: verifa_fakes::RecordingTransport::new(),
        store: w.store.clone(),
        thief_at: w.now() + Duration::seconds(91),
    });
    let settings = WebhookSettings {
        allow_private_networks: true,
        ..WebhookSettings::default()
    };
    let slow = WebhookService::new(&ports, Arc::new(cipher()), settings);
    let dispatcher = slow.dispatcher("d1");
    dispatcher.fan_out_once().await.unwrap();

    let summary = dispatcher.deliver_due_once(w.now()).await.unwrap();

    assert_eq!(summary.attempted, 1);
    let d = deliveries_of(&w, &w.live, &endpoint_id).await.remove(0);
    assert_eq!(d.status, DeliveryStatus::Delivering);
    assert_eq!(d.lease_owner.as_deref(), Some("thief"));
    assert_eq!(
        (d.attempts, d.last_status_code),
        (0, None),
        "the late attempt left no trace"
    );
    let ep = w
        .store
        .get_endpoint(&tenant(&w.live), &endpoint_id)
        .await
        .unwrap();
    assert_eq!(ep.consecutive_failures, 0);
}
