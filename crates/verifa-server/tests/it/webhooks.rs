//! The Webhooks group through the real router (CONTRACT §5): the endpoints API, and delivery
//! from the `session_events` outbox to a real local receiver through the reqwest transport
//! (signatures, retries on the contract schedule under a manual clock, per-session ordering,
//! circuit breaker, leases and crash recovery, SSRF refusals, payload shaping).

use crate::harness::{TestApp, TestResponse};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use verifa_app::clock::ManualClock;
use verifa_app::webhooks::Dispatcher;
use verifa_domain::webhooks::signature;
use verifa_ports::clock::Clock;
use verifa_testkit::{TestDatabase, both_backends};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A local HTTP receiver: answers 500 to the first `fail_first` requests (or to all while
/// `fail_all` is set), 200 afterwards, and records every request.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
    fail_all: Arc<AtomicUsize>,
    url: String,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let mut r = Receiver::default();
        r.fail_first.store(fail_first, Ordering::SeqCst);
        let state = r.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                state.received.lock().unwrap().push(Received {
                    headers,
                    body: body.to_vec(),
                });
                let failing = state.fail_all.load(Ordering::SeqCst) > 0
                    || state
                        .fail_first
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                if failing {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        r.url = format!("http://{addr}/hooks");
        r
    }

    fn set_fail_all(&self, on: bool) {
        self.fail_all.store(usize::from(on), Ordering::SeqCst);
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

fn ok(r: &TestResponse) -> Value {
    assert!(
        r.status.is_success(),
        "status {}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

async fn create_endpoint(app: &TestApp, key: &str, body: Value) -> Value {
    let r = app
        .post("/api/v1/webhooks/endpoints")
        .key(key)
        .json(body)
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

/// Appends a row to the session event log / outbox, as the sessions feature does.
async fn append_event(
    app: &TestApp,
    environment: &str,
    session_id: &str,
    event_type: &str,
    data: Value,
    at: DateTime<Utc>,
) {
    use sea_orm::ConnectionTrait;
    let id = verifa_app::ids::new_id("sev");
    let data = data.to_string().replace('\'', "''");
    let sql = format!(
        "INSERT INTO session_events (id, org_id, environment, session_id, event_type, data, created_at) \
         VALUES ('{id}', '{}', '{environment}', '{session_id}', '{event_type}', '{data}', '{}')",
        app.org_id,
        at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
    );
    app.db.connection().execute_unprepared(&sql).await.unwrap();
}

fn session_data(session_id: &str, status: &str, sandbox: bool) -> Value {
    json!({"session_id": session_id, "external_ref": "user_456", "status": status, "is_sandbox": sandbox, "workflow_id": "wfl_1"})
}

/// Appends one sandbox event per session `{prefix}{i}`, `i` in `0..n`, with its status.
async fn append_events(
    app: &TestApp,
    prefix: &str,
    n: usize,
    (event_type, status): (&str, &str),
    at: DateTime<Utc>,
) {
    for i in 0..n {
        let s = format!("{prefix}{i}");
        append_event(
            app,
            "sandbox",
            &s,
            event_type,
            session_data(&s, status, true),
            at,
        )
        .await;
    }
}

struct Rig {
    clock: Arc<ManualClock>,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            clock: Arc::new(ManualClock::new(Utc::now() + Duration::seconds(1))),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn dispatcher(&self, app: &TestApp, owner: &str) -> Dispatcher {
        app.services
            .webhooks
            .dispatcher_with_clock(owner, self.clock.clone())
    }
}

async fn deliveries(app: &TestApp, key: &str, endpoint_id: &str, query: &str) -> Value {
    ok(&app
        .get(&format!(
            "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries{query}"
        ))
        .key(key)
        .send()
        .await)
}

fn verify(secret: &str, r: &Received, now: DateTime<Utc>) -> Result<(), signature::SignatureError> {
    signature::verify(
        secret,
        r.header("x-verifa-signature"),
        &r.body,
        now.timestamp(),
        signature::DEFAULT_TOLERANCE_SECS,
    )
}

async fn endpoints_api(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let live = app.live_key.clone();
    // -- create (live): the secret is shown once
    let ep = create_endpoint(
        &app,
        &live,
        json!({"url": "https://hooks.example.com/verifa", "enabled_events": ["session.approved", "session.declined", "session.requires-review"], "description": "Production webhook", "label": "prod"}),
    )
    .await;
    let id = ep["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("webhook_"), "{ep}");
    assert!(ep["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(ep["enabled"], true);
    assert_eq!(ep["environment"], "live");
    assert_eq!(ep["key_inflection"], "snake");
    assert_eq!(ep["event_filter_conditions"], json!({}));
    let got = ok(&app
        .get(&format!("/api/v1/webhooks/endpoints/{id}"))
        .key(&live)
        .send()
        .await);
    assert!(
        got.get("secret").is_none(),
        "live secrets are shown once: {got}"
    );
    assert_eq!(got["description"], "Production webhook");
    let list = ok(&app
        .get("/api/v1/webhooks/endpoints")
        .key(&live)
        .send()
        .await);
    assert_eq!(list["pagination"]["total"], 1);
    assert!(list["data"][0].get("secret").is_none());
    // -- the sandbox key cannot see it (404, no existence oracle)
    app.get(&format!("/api/v1/webhooks/endpoints/{id}"))
        .send()
        .await
        .assert_error(404, "not_found");
    // -- sandbox secrets stay visible
    let sb = create_endpoint(
        &app,
        &app.sandbox_key,
        json!({"url": "https://hooks.example.com/sb"}),
    )
    .await;
    let sb_id = sb["id"].as_str().unwrap();
    let sb_get = ok(&app
        .get(&format!("/api/v1/webhooks/endpoints/{sb_id}"))
        .send()
        .await);
    assert_eq!(sb_get["secret"], sb["secret"]);
    assert_eq!(sb_get["enabled_events"], json!([]));
    // -- update: only the provided fields change
    let patched = ok(&app
        .patch(&format!("/api/v1/webhooks/endpoints/{id}"))
        .key(&live)
        .json(json!({"enabled": false, "label": null, "key_inflection": "camel"}))
        .send()
        .await);
    assert_eq!(patched["enabled"], false);
    assert_eq!(patched["label"], Value::Null);
    assert_eq!(patched["key_inflection"], "camel");
    assert_eq!(patched["description"], "Production webhook");
    assert_eq!(patched["enabled_events"], ep["enabled_events"]);
    assert!(patched.get("secret").is_none());
    // -- rotate: a new secret, returned once
    let rotated = ok(&app
        .post(&format!("/api/v1/webhooks/endpoints/{id}/rotate-secret"))
        .key(&live)
        .send()
        .await);
    assert!(rotated["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(rotated["secret"], ep["secret"]);
    // -- clone: same settings, fresh secret and id
    let cloned = app
        .post(&format!("/api/v1/webhooks/endpoints/{id}/clone"))
        .key(&live)
        .send()
        .await;
    assert_eq!(cloned.status, StatusCode::CREATED);
    let cloned = cloned.json();
    assert_ne!(cloned["id"], ep["id"]);
    assert_eq!(cloned["url"], ep["url"]);
    assert_eq!(cloned["enabled_events"], ep["enabled_events"]);
    assert_eq!(cloned["key_inflection"], "camel");
    assert!(cloned["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(cloned["secret"], rotated["secret"]);
    // -- event types
    let types = ok(&app.get("/api/v1/webhooks/event-types").send().await);
    let names: Vec<&str> = types["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        31,
        "the reference's 29 and CONTRACT §17.1's two case events"
    );
    assert!(
        names.contains(&"session.requires-review") && names.contains(&"session.awaiting_external")
    );
    assert!(names.contains(&"case.assigned") && names.contains(&"case.sla_breached"));
    // -- validation
    let r = app
        .post("/api/v1/webhooks/endpoints")
        .json(json!({"url": "https://x.example.com", "enabled_events": ["session.aproved"], "key_inflection": "pascal", "attribute_blocklist": ["a..b"], "event_filter_conditions": {"status": {"nested": 1}}, "api_version": "1999-01-01"}))
        .send()
        .await;
    let body = r.assert_error(422, "validation_error");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "enabled_events",
        "key_inflection",
        "attribute_blocklist",
        "event_filter_conditions",
        "api_version",
    ] {
        assert!(fields.contains(&f), "{f} missing: {body}");
    }
    app.post("/api/v1/webhooks/endpoints")
        .json(json!({"url": "https://x.example.com", "secret": "whsec_mine"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    app.post("/api/v1/webhooks/endpoints")
        .json(json!({"url": "ftp://x.example.com"}))
        .send()
        .await
        .assert_error(422, "validation_error");
    // -- scopes
    let (_, reader) = app.key_with_scopes(&["webhooks:read"]).await;
    ok(&app
        .get("/api/v1/webhooks/endpoints")
        .key(&reader)
        .send()
        .await);
    app.post("/api/v1/webhooks/endpoints")
        .key(&reader)
        .json(json!({"url": "https://x.example.com"}))
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    let (_, nobody) = app.key_with_scopes(&["sessions:read"]).await;
    app.get("/api/v1/webhooks/event-types")
        .key(&nobody)
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    // -- delete
    let del = ok(&app
        .delete(&format!("/api/v1/webhooks/endpoints/{id}"))
        .key(&live)
        .send()
        .await);
    assert_eq!(del["deleted"], true);
    app.get(&format!("/api/v1/webhooks/endpoints/{id}"))
        .key(&live)
        .send()
        .await
        .assert_error(404, "not_found");
    app.post("/api/v1/webhooks/deliveries/whd_missing/retry")
        .send()
        .await
        .assert_error(404, "not_found");
}
both_backends!(webhook_endpoints_api, endpoints_api);

async fn ssrf_refusals(db: TestDatabase) {
    let app = TestApp::with_settings(db, &[("WEBHOOKS__ALLOW_PRIVATE_NETWORKS", "false")]).await;
    for url in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/x",
        "https://[::1]/x",
        "https://2130706433/x",
        "https://user:pw@hooks.example.com/x",
    ] {
        let r = app
            .post("/api/v1/webhooks/endpoints")
            .json(json!({"url": url}))
            .send()
            .await;
        let body = r.assert_error(422, "validation_error");
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
    }
    create_endpoint(
        &app,
        &app.sandbox_key,
        json!({"url": "https://hooks.example.com/x"}),
    )
    .await;

    // Registered where private networks were allowed, then delivered by a dispatcher that
    // refuses them: the transport's guard refuses at delivery time.
    let receiver = Receiver::start(0).await;
    let open = TestApp::new(TestDatabase::sqlite().await).await;
    let ep = create_endpoint(&open, &open.sandbox_key, json!({"url": receiver.url})).await;
    let mut strict = verifa_server::settings::Settings::for_tests(
        "sqlite::memory:",
        &[("WEBHOOKS__ALLOW_PRIVATE_NETWORKS", "false")],
    )
    .unwrap();
    strict.webhooks.allow_private_networks = false;
    let rig = Rig::new();
    let service = verifa_app::webhooks::WebhookService::new(
        &verifa_server::compose::ports(&strict, &open.db, rig.clock.clone()).unwrap(),
        Arc::new(verifa_server::compose::cipher(&strict).unwrap()),
        verifa_server::compose::webhook_settings(&strict),
    );
    append_event(
        &open,
        "sandbox",
        "ses_a",
        "session.created",
        session_data("ses_a", "pending", true),
        rig.now(),
    )
    .await;
    let d = service.dispatcher_with_clock("strict", rig.clock.clone());
    assert_eq!(d.fan_out_once().await.unwrap(), 1);
    let s = d.deliver_due_once(rig.now()).await.unwrap();
    assert_eq!((s.attempted, s.retried), (1, 1));
    assert_eq!(receiver.count(), 0, "refused before any connection");
    let list = deliveries(&open, &open.sandbox_key, ep["id"].as_str().unwrap(), "").await;
    let err = list["data"][0]["error"].as_str().unwrap();
    assert!(
        err.contains("not allowed") || err.contains("https"),
        "{err}"
    );
}
both_backends!(webhook_ssrf_refusals, ssrf_refusals);

async fn signed_delivery_and_rotation(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let receiver = Receiver::start(0).await;
    let ep = create_endpoint(
        &app,
        &app.sandbox_key,
        json!({"url": receiver.url, "enabled_events": ["session.*"]}),
    )
    .await;
    let id = ep["id"].as_str().unwrap().to_owned();
    let old_secret = ep["secret"].as_str().unwrap().to_owned();
    let rig = Rig::new();
    let dispatcher = rig.dispatcher(&app, "w1");
    append_event(
        &app,
        "sandbox",
        "ses_1",
        "session.approved",
        session_data("ses_1", "approved", true),
        rig.now(),
    )
    .await;
    assert_eq!(dispatcher.fan_out_once().await.unwrap(), 1);
    assert_eq!(
        dispatcher.fan_out_once().await.unwrap(),
        0,
        "the cursor moved"
    );
    let s = dispatcher.deliver_due_once(rig.now()).await.unwrap();
    assert_eq!((s.attempted, s.succeeded), (1, 1));
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    let first = &got[0];
    verify(&old_secret, first, rig.now()).unwrap();
    let header = first.header("x-verifa-signature");
    assert!(
        header.starts_with(&format!("t={},v1=", rig.now().timestamp())),
        "{header}"
    );
    assert!(first.header("x-verifa-delivery-id").starts_with("whd_"));
    assert_eq!(first.header("x-verifa-event"), "session.approved");
    assert!(first.header("user-agent").starts_with("Verifa-Webhooks/"));
    assert_eq!(first.header("content-type"), "application/json");
    let body = first.json();
    assert_eq!(body["event"], "session.approved");
    assert_eq!(body["session_id"], "ses_1");
    assert_eq!(body["data"]["session_id"], "ses_1");
    assert_eq!(body["is_sandbox"], true);
    assert!(
        body["idempotency_key"]
            .as_str()
            .unwrap()
            .starts_with("idk_")
    );
    assert!(body["created_at"].as_str().is_some());
    // -- the delivery log
    let list = deliveries(&app, &app.sandbox_key, &id, "").await;
    assert_eq!(list["pagination"]["limit"], 50);
    let d = &list["data"][0];
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["http_status"], 200);
    assert_eq!(d["idempotency_key"], body["idempotency_key"]);
    assert_eq!(
        d["body"].as_str().unwrap().as_bytes(),
        first.body.as_slice()
    );
    assert_eq!(d["id"], first.header("x-verifa-delivery-id"));

    // -- rotation: later deliveries fail verification with the old secret
    let rotated = ok(&app
        .post(&format!("/api/v1/webhooks/endpoints/{id}/rotate-secret"))
        .send()
        .await);
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    append_event(
        &app,
        "sandbox",
        "ses_1",
        "session.declined",
        session_data("ses_1", "declined", true),
        rig.now(),
    )
    .await;
    dispatcher.fan_out_once().await.unwrap();
    dispatcher.deliver_due_once(rig.now()).await.unwrap();
    let second = receiver.all()[1].clone();
    assert_eq!(
        verify(&old_secret, &second, rig.now()),
        Err(signature::SignatureError::NoMatchingSignature)
    );
    verify(&new_secret, &second, rig.now()).unwrap();
    // -- a tampered body fails
    let mut tampered = second.clone();
    tampered.body.push(b' ');
    assert!(verify(&new_secret, &tampered, rig.now()).is_err());

    // -- test delivery: signed with the current secret
    let t = ok(&app
        .post(&format!("/api/v1/webhooks/endpoints/{id}/test"))
        .json(json!({"event_type": "session.requires-review"}))
        .send()
        .await);
    assert_eq!(t["success"], true, "{t}");
    assert_eq!(t["http_status"], 200);
    assert_eq!(t["url"], receiver.url.as_str());
    let test_req = receiver.all()[2].clone();
    assert_eq!(test_req.header("x-verifa-event"), "session.requires-review");
    verify(&new_secret, &test_req, Utc::now()).unwrap();
    let tests = deliveries(
        &app,
        &app.sandbox_key,
        &id,
        "?event_type=session.requires-review",
    )
    .await;
    assert_eq!(tests["pagination"]["total"], 1);
    assert_eq!(tests["data"][0]["is_test"], true);
    let ok_only = deliveries(&app, &app.sandbox_key, &id, "?status=succeeded&limit=2").await;
    assert_eq!(ok_only["pagination"]["total"], 3);
    assert_eq!(ok_only["data"].as_array().unwrap().len(), 2);
    let future = deliveries(&app, &app.sandbox_key, &id, "?date_from=2999-01-01").await;
    assert_eq!(future["pagination"]["total"], 0);
    app.get(&format!(
        "/api/v1/webhooks/endpoints/{id}/deliveries?status=nope"
    ))
    .send()
    .await
    .assert_error(422, "validation_error");
    app.get(&format!(
        "/api/v1/webhooks/endpoints/{id}/deliveries?date_to=tomorrow"
    ))
    .send()
    .await
    .assert_error(422, "validation_error");
    // A test against a dead port reports the failure without retrying.
    let dead = create_endpoint(
        &app,
        &app.sandbox_key,
        json!({"url": "http://127.0.0.1:9/x"}),
    )
    .await;
    let t = ok(&app
        .post(&format!(
            "/api/v1/webhooks/endpoints/{}/test",
            dead["id"].as_str().unwrap()
        ))
        .send()
        .await);
    assert_eq!(t["success"], false);
    assert_eq!(t["http_status"], Value::Null);
    assert!(t["error"].as_str().is_some());
}
both_backends!(
    webhook_signed_delivery_and_rotation,
    signed_delivery_and_rotation
);

async fn retries_follow_schedule(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let receiver = Receiver::start(3).await;
    let ep = create_endpoint(&app, &app.sandbox_key, json!({"url": receiver.url})).await;
    let id = ep["id"].as_str().unwrap().to_owned();
    let rig = Rig::new();
    let dispatcher = rig.dispatcher(&app, "w1");
    append_event(
        &app,
        "sandbox",
        "ses_r",
        "session.approved",
        session_data("ses_r", "approved", true),
        rig.now(),
    )
    .await;
    dispatcher.fan_out_once().await.unwrap();
    let base = [30_i64, 120, 480];
    for (i, delay) in base.iter().enumerate() {
        let attempted_at = rig.now();
        let s = dispatcher.deliver_due_once(attempted_at).await.unwrap();
        assert_eq!((s.attempted, s.retried), (1, 1), "attempt {}", i + 1);
        let d = deliveries(&app, &app.sandbox_key, &id, "").await["data"][0].clone();
        assert_eq!(d["status"], "pending");
        assert_eq!(d["attempts"], i + 1);
        assert_eq!(d["http_status"], 500);
        let next: DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
        let wait = (next - attempted_at).num_milliseconds();
        let (lo, hi) = (delay * 900, delay * 1100);
        assert!(
            (lo..=hi).contains(&wait),
            "retry {} after {wait} ms, expected {lo}..={hi}",
            i + 1
        );
        // Not sent before it is due.
        rig.clock.advance(Duration::milliseconds(wait - 1_000));
        assert_eq!(
            dispatcher
                .deliver_due_once(rig.now())
                .await
                .unwrap()
                .attempted,
            0
        );
        rig.clock.advance(next - rig.now());
    }
    // Attempt N+1 = 4 gets through, with the same idempotency key and body as every attempt.
    let s = dispatcher.deliver_due_once(rig.now()).await.unwrap();
    assert_eq!(s.succeeded, 1);
    let got = receiver.all();
    assert_eq!(got.len(), 4);
    let idk = got[0].json()["idempotency_key"].clone();
    assert!(
        got.iter()
            .all(|r| r.json()["idempotency_key"] == idk && r.body == got[0].body)
    );
    assert!(
        got.iter()
            .all(|r| r.header("x-verifa-delivery-id") == got[0].header("x-verifa-delivery-id"))
    );
    let d = deliveries(&app, &app.sandbox_key, &id, "").await["data"][0].clone();
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempts"], 4);
    assert_eq!(d["next_attempt_at"], Value::Null);
}
both_backends!(webhook_retries_follow_schedule, retries_follow_schedule);

/// Runs delivery steps, advancing the clock by 3 h between them, `rounds` times.
async fn drive(rig: &Rig, dispatcher: &Dispatcher, rounds: usize) {
    for _ in 0..rounds {
        dispatcher.deliver_due_once(rig.now()).await.unwrap();
        rig.clock.advance(Duration::hours(3));
    }
}

async fn circuit_breaker_and_manual_retry(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let receiver = Receiver::start(0).await;
    receiver.set_fail_all(true);
    let ep = create_endpoint(&app, &app.sandbox_key, json!({"url": receiver.url})).await;
    let id = ep["id"].as_str().unwrap().to_owned();
    let rig = Rig::new();
    let dispatcher = rig.dispatcher(&app, "w1");
    // 9 sessions: every delivery fails 6 times, the endpoint stays enabled at 9.
    append_events(&app, "ses_", 9, ("session.approved", "approved"), rig.now()).await;
    dispatcher.fan_out_once().await.unwrap();
    drive(&rig, &dispatcher, 7).await;
    assert_eq!(receiver.count(), 9 * 6, "1 attempt + 5 retries each");
    let failed = deliveries(&app, &app.sandbox_key, &id, "?status=failed").await;
    assert_eq!(failed["pagination"]["total"], 9);
    assert_eq!(failed["data"][0]["attempts"], 6);
    assert!(failed["data"][0]["completed_at"].as_str().is_some());
    let e = ok(&app
        .get(&format!("/api/v1/webhooks/endpoints/{id}"))
        .send()
        .await);
    assert_eq!(
        (e["enabled"].clone(), e["consecutive_failures"].clone()),
        (json!(true), json!(9))
    );
    // The 10th consecutive failed delivery trips the breaker.
    append_event(
        &app,
        "sandbox",
        "ses_9",
        "session.approved",
        session_data("ses_9", "approved", true),
        rig.now(),
    )
    .await;
    dispatcher.fan_out_once().await.unwrap();
    drive(&rig, &dispatcher, 7).await;
    let e = ok(&app
        .get(&format!("/api/v1/webhooks/endpoints/{id}"))
        .send()
        .await);
    assert_eq!(e["enabled"], false, "{e}");
    assert_eq!(e["consecutive_failures"], 10);
    assert!(e["disabled_at"].as_str().is_some());
    // Disabled endpoints get no new deliveries.
    append_event(
        &app,
        "sandbox",
        "ses_x",
        "session.approved",
        session_data("ses_x", "approved", true),
        rig.now(),
    )
    .await;
    assert_eq!(dispatcher.fan_out_once().await.unwrap(), 0);
    // Manual retry: refused while disabled, then re-queued with the same idempotency key.
    let one = failed["data"][0].clone();
    let one_id = one["id"].as_str().unwrap();
    app.post(&format!("/api/v1/webhooks/deliveries/{one_id}/retry"))
        .send()
        .await
        .assert_error(409, "invalid_state");
    let e = ok(&app
        .patch(&format!("/api/v1/webhooks/endpoints/{id}"))
        .json(json!({"enabled": true}))
        .send()
        .await);
    assert_eq!(e["consecutive_failures"], 0);
    receiver.set_fail_all(false);
    let r = app
        .post(&format!("/api/v1/webhooks/deliveries/{one_id}/retry"))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json()["status"], "pending");
    let before = receiver.count();
    let s = dispatcher.deliver_due_once(rig.now()).await.unwrap();
    assert_eq!(s.succeeded, 1);
    let last = receiver.all()[before].clone();
    assert_eq!(last.json()["idempotency_key"], one["idempotency_key"]);
    app.post(&format!("/api/v1/webhooks/deliveries/{one_id}/retry"))
        .send()
        .await
        .assert_error(409, "invalid_state");
}
both_backends!(
    webhook_circuit_breaker_and_manual_retry,
    circuit_breaker_and_manual_retry
);

async fn lease_recovery_and_sharing(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let receiver = Receiver::start(0).await;
    create_endpoint(&app, &app.sandbox_key, json!({"url": receiver.url})).await;
    let rig = Rig::new();
    append_event(
        &app,
        "sandbox",
        "ses_c",
        "session.approved",
        session_data("ses_c", "approved", true),
        rig.now(),
    )
    .await;
    // Dispatcher A commits the fan-out and claims the delivery, then "crashes" before sending.
    let a = rig.dispatcher(&app, "process-a");
    assert_eq!(a.fan_out_once().await.unwrap(), 1);
    let claimed = a.claim_due(rig.now()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let claimed = claimed.into_iter().next().unwrap();
    drop(a);
    // B cannot take it while the lease holds …
    let b = rig.dispatcher(&app, "process-b");
    assert_eq!(b.deliver_due_once(rig.now()).await.unwrap().attempted, 0);
    rig.clock.advance(Duration::seconds(60));
    assert_eq!(b.deliver_due_once(rig.now()).await.unwrap().attempted, 0);
    // … and delivers it, with the same idempotency key, once the lease has expired.
    rig.clock.advance(Duration::seconds(31));
    let s = b.deliver_due_once(rig.now()).await.unwrap();
    assert_eq!(s.succeeded, 1);
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].json()["idempotency_key"],
        claimed.idempotency_key.as_str()
    );
    assert_eq!(got[0].header("x-verifa-delivery-id"), claimed.id);

    // Two dispatchers working the same queue concurrently send each delivery exactly once.
    append_events(&app, "ses_p", 8, ("session.created", "pending"), rig.now()).await;
    let c = rig.dispatcher(&app, "process-c");
    let (f1, f2) = tokio::join!(b.fan_out_once(), c.fan_out_once());
    assert_eq!(f1.unwrap() + f2.unwrap(), 8, "the batch is fanned out once");
    let now = rig.now();
    let (s1, s2) = tokio::join!(b.deliver_due_once(now), c.deliver_due_once(now));
    assert_eq!(s1.unwrap().succeeded + s2.unwrap().succeeded, 8);
    let got = receiver.all();
    assert_eq!(got.len(), 9);
    let mut keys: Vec<String> = got
        .iter()
        .map(|r| r.json()["idempotency_key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 9, "no delivery was sent twice");
}
both_backends!(
    webhook_lease_recovery_and_sharing,
    lease_recovery_and_sharing
);

async fn ordering_per_session(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let receiver = Receiver::start(1).await;
    create_endpoint(&app, &app.sandbox_key, json!({"url": receiver.url})).await;
    let rig = Rig::new();
    let d = rig.dispatcher(&app, "w1");
    append_event(
        &app,
        "sandbox",
        "ses_o",
        "session.created",
        session_data("ses_o", "pending", true),
        rig.now(),
    )
    .await;
    append_event(
        &app,
        "sandbox",
        "ses_o",
        "session.approved",
        session_data("ses_o", "approved", true),
        rig.now(),
    )
    .await;
    append_event(
        &app,
        "sandbox",
        "ses_other",
        "session.created",
        session_data("ses_other", "pending", true),
        rig.now(),
    )
    .await;
    assert_eq!(d.fan_out_once().await.unwrap(), 3);
    // created fails; approved of the same session waits; the other session is not held up.
    let s = d.deliver_due_once(rig.now()).await.unwrap();
    assert_eq!((s.attempted, s.retried, s.succeeded), (2, 1, 1));
    rig.clock.advance(Duration::seconds(40));
    d.deliver_due_once(rig.now()).await.unwrap();
    d.deliver_due_once(rig.now()).await.unwrap();
    let order: Vec<(String, String)> = receiver
        .all()
        .iter()
        .map(|r| {
            let b = r.json();
            (
                b["session_id"].as_str().unwrap().to_owned(),
                b["event"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(s, _)| s == "ses_o")
        .collect();
    let events: Vec<&str> = order.iter().map(|(_, e)| e.as_str()).collect();
    assert_eq!(
        events,
        ["session.created", "session.created", "session.approved"]
    );
}
both_backends!(webhook_ordering_per_session, ordering_per_session);

async fn payload_shaping(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let camel = Receiver::start(0).await;
    let kebab = Receiver::start(0).await;
    let live = Receiver::start(0).await;
    create_endpoint(
        &app,
        &app.sandbox_key,
        json!({"url": camel.url, "key_inflection": "camel", "enabled_events": ["session.approved", "session.declined"],
               "attribute_blocklist": ["external_ref", "result.extracted_data"], "event_filter_conditions": {"status": ["approved"]}}),
    )
    .await;
    create_endpoint(
        &app,
        &app.sandbox_key,
        json!({"url": kebab.url, "key_inflection": "kebab"}),
    )
    .await;
    create_endpoint(&app, &app.live_key, json!({"url": live.url})).await;
    let rig = Rig::new();
    let d = rig.dispatcher(&app, "w1");
    let mut approved = session_data("ses_s", "approved", true);
    approved["result"] =
        json!({"face_match_passed": true, "extracted_data": {"first_name": "Jane"}});
    append_event(
        &app,
        "sandbox",
        "ses_s",
        "session.created",
        session_data("ses_s", "pending", true),
        rig.now(),
    )
    .await;
    append_event(
        &app,
        "sandbox",
        "ses_s",
        "session.approved",
        approved,
        rig.now(),
    )
    .await;
    append_event(
        &app,
        "sandbox",
        "ses_t",
        "session.declined",
        session_data("ses_t", "declined", true),
        rig.now(),
    )
    .await;
    d.fan_out_once().await.unwrap();
    for _ in 0..3 {
        d.deliver_due_once(rig.now()).await.unwrap();
    }
    // camel: only session.approved (event list + status filter), camelCase keys, blocklist applied.
    let got = camel.all();
    assert_eq!(got.len(), 1);
    let b = got[0].json();
    assert_eq!(b["event"], "session.approved");
    assert!(b["idempotencyKey"].as_str().unwrap().starts_with("idk_"));
    assert_eq!(b["sessionId"], "ses_s");
    assert_eq!(b["isSandbox"], true);
    assert!(
        b.get("externalRef").is_none() && b["data"].get("externalRef").is_none(),
        "{b}"
    );
    assert_eq!(b["result"]["faceMatchPassed"], true);
    assert!(
        b["result"].get("extractedData").is_none()
            && b["data"]["result"].get("extractedData").is_none(),
        "{b}"
    );
    // kebab: every event, kebab-case keys.
    let got = kebab.all();
    assert_eq!(got.len(), 3);
    let b = got[0].json();
    assert!(
        b["idempotency-key"].is_string() && b["data"]["external-ref"] == "user_456",
        "{b}"
    );
    // Live endpoints never see sandbox events.
    assert_eq!(live.count(), 0);
}
both_backends!(webhook_payload_shaping, payload_shaping);
