//! The transport against real local receivers (axum on 127.0.0.1:0) and scripted DNS.

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, post};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use verifa_adapters_webhooks::{HostResolver, HttpTransport, USER_AGENT};
use verifa_domain::webhooks::{delivery_headers, signature};
use verifa_ports::webhooks::{WebhookRequest, WebhookTransport};

#[derive(Default)]
struct Seen {
    hits: AtomicUsize,
    last: Mutex<Option<(HeaderMap, Bytes)>>,
}

async fn record(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: Bytes) -> &'static str {
    seen.hits.fetch_add(1, Ordering::SeqCst);
    *seen.last.lock().unwrap() = Some((headers, body));
    "received"
}

async fn fail(State(seen): State<Arc<Seen>>) -> impl IntoResponse {
    seen.hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::INTERNAL_SERVER_ERROR, "boom")
}

async fn redirect(State(seen): State<Arc<Seen>>) -> impl IntoResponse {
    seen.hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::FOUND, [(header::LOCATION, "/final")])
}

async fn slow(State(seen): State<Arc<Seen>>) -> &'static str {
    seen.hits.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

async fn receiver() -> (SocketAddr, Arc<Seen>, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let final_seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/hook", post(record))
        .route("/fail", post(fail))
        .route("/redirect", post(redirect))
        .route("/slow", post(slow))
        .with_state(Arc::clone(&seen))
        .merge(
            Router::new()
                .route("/final", any(record))
                .with_state(Arc::clone(&final_seen)),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, seen, final_seen)
}

fn request(url: String, allow_private_networks: bool) -> WebhookRequest {
    let body = br#"{"event":"session.approved","idempotency_key":"idk_0123456789abcdef","session_id":"ses_abc123"}"#.to_vec();
    let sig = signature::sign(
        "whsec_test_secret_value_0123456789abcd",
        1_767_268_800,
        &body,
    );
    WebhookRequest {
        url,
        headers: delivery_headers(&sig, "whd_0001", "session.approved"),
        body,
        timeout: Duration::from_secs(30),
        allow_private_networks,
    }
}

/// DNS whose answers are scripted per call; counts calls.
struct ScriptedResolver {
    answers: Vec<Vec<IpAddr>>,
    calls: AtomicUsize,
}

impl ScriptedResolver {
    fn new(answers: &[&[&str]]) -> Arc<Self> {
        Arc::new(ScriptedResolver {
            answers: answers
                .iter()
                .map(|a| a.iter().map(|s| s.parse().unwrap()).collect())
                .collect(),
            calls: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl HostResolver for ScriptedResolver {
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if host == "nxdomain.test" {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such host"));
        }
        let last = self.answers.len() - 1;
        Ok(self.answers[n.min(last)].clone())
    }
}

#[tokio::test]
async fn delivers_exact_headers_and_body_when_private_networks_are_allowed() {
    let (addr, seen, _) = receiver().await;
    let transport = HttpTransport::new().unwrap();
    let req = request(format!("http://{addr}/hook"), true);
    let resp = transport.send(&req).await;
    assert_eq!(resp.status, Some(200), "{resp:?}");
    assert_eq!(resp.error, None);
    assert_eq!(resp.body_excerpt.as_deref(), Some("received"));
    assert!(resp.is_success());
    let (headers, body) = seen.last.lock().unwrap().clone().unwrap();
    assert_eq!(body.as_ref(), req.body.as_slice());
    for (name, value) in &req.headers {
        assert_eq!(
            headers.get(name.as_str()).unwrap(),
            value.as_str(),
            "{name}"
        );
    }
    assert_eq!(headers.get("user-agent").unwrap(), USER_AGENT);
    assert_eq!(USER_AGENT, "Verifa-Webhooks/0.1.0");
    // The receiver can verify the signature from what it got.
    let sig = headers.get("x-verifa-signature").unwrap().to_str().unwrap();
    assert_eq!(
        signature::verify(
            "whsec_test_secret_value_0123456789abcd",
            sig,
            &body,
            1_767_268_900,
            300
        ),
        Ok(())
    );
}

#[tokio::test]
async fn loopback_is_refused_without_private_networks() {
    let (addr, seen, _) = receiver().await;
    let transport = HttpTransport::new().unwrap();
    let resp = transport
        .send(&request(format!("https://{addr}/hook"), false))
        .await;
    assert_eq!(resp.status, None);
    assert_eq!(
        resp.error.as_deref(),
        Some("destination address 127.0.0.1 is not allowed")
    );
    let resp = transport
        .send(&request(format!("http://{addr}/hook"), false))
        .await;
    assert_eq!(resp.error.as_deref(), Some("webhook URLs must use https"));
    let port = addr.port();
    for url in [
        format!("https://2130706433:{port}/hook"),
        format!("https://0x7f.1:{port}/hook"),
        format!("https://[::ffff:127.0.0.1]:{port}/hook"),
        format!("https://localhost:{port}/hook"),
    ] {
        let resp = transport.send(&request(url.clone(), false)).await;
        assert!(
            resp.error
                .as_deref()
                .is_some_and(|e| e.contains("is not allowed")),
            "{url}: {resp:?}"
        );
    }
    assert_eq!(seen.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn server_errors_are_reported_with_their_status() {
    let (addr, _, _) = receiver().await;
    let transport = HttpTransport::new().unwrap();
    let resp = transport
        .send(&request(format!("http://{addr}/fail"), true))
        .await;
    assert_eq!(resp.status, Some(500));
    assert_eq!(resp.error, None);
    assert_eq!(resp.body_excerpt.as_deref(), Some("boom"));
    assert!(!resp.is_success());
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let (addr, seen, final_seen) = receiver().await;
    let transport = HttpTransport::new().unwrap();
    let resp = transport
        .send(&request(format!("http://{addr}/redirect"), true))
        .await;
    assert_eq!(resp.status, Some(302));
    assert_eq!(seen.hits.load(Ordering::SeqCst), 1);
    assert_eq!(final_seen.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn slow_receivers_time_out() {
    let (addr, seen, _) = receiver().await;
    let transport = HttpTransport::new().unwrap();
    let mut req = request(format!("http://{addr}/slow"), true);
    req.timeout = Duration::from_millis(300);
    let resp = transport.send(&req).await;
    assert_eq!(resp.status, None);
    assert_eq!(resp.error.as_deref(), Some("timeout"));
    assert!(resp.timed_out());
    assert!(
        resp.duration_ms >= 250 && resp.duration_ms < 3_000,
        "{resp:?}"
    );
    assert_eq!(seen.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connection_failures_are_reported() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let transport = HttpTransport::new().unwrap();
    let resp = transport
        .send(&request(format!("http://127.0.0.1:{port}/hook"), true))
        .await;
    assert_eq!(resp.status, None);
    let err = resp.error.unwrap();
    assert!(err.starts_with("connection failed"), "{err}");
}

#[tokio::test]
async fn names_resolve_through_the_resolver_and_connect_to_its_answer() {
    let (addr, seen, _) = receiver().await;
    let dns = ScriptedResolver::new(&[&["127.0.0.1"]]);
    let transport = HttpTransport::with_resolver(dns.clone()).unwrap();
    let resp = transport
        .send(&request(
            format!("http://receiver.test:{}/hook", addr.port()),
            true,
        ))
        .await;
    assert_eq!(resp.status, Some(200), "{resp:?}");
    assert_eq!(seen.hits.load(Ordering::SeqCst), 1);
    let (headers, _) = seen.last.lock().unwrap().clone().unwrap();
    assert_eq!(
        headers.get("host").unwrap(),
        format!("receiver.test:{}", addr.port()).as_str()
    );
    // Pre-check + the client's connector.
    assert_eq!(dns.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn any_private_answer_refuses_the_delivery() {
    let dns = ScriptedResolver::new(&[&["93.184.216.34", "10.0.0.1"]]);
    let transport = HttpTransport::with_resolver(dns.clone()).unwrap();
    let resp = transport
        .send(&request("https://mixed.example/hook".into(), false))
        .await;
    assert_eq!(
        resp.error.as_deref(),
        Some("destination address 10.0.0.1 is not allowed")
    );
    assert_eq!(dns.calls.load(Ordering::SeqCst), 1);

    let dns = ScriptedResolver::new(&[&["169.254.169.254"]]);
    let transport = HttpTransport::with_resolver(dns).unwrap();
    let resp = transport
        .send(&request("https://metadata.example/hook".into(), false))
        .await;
    assert_eq!(
        resp.error.as_deref(),
        Some("destination address 169.254.169.254 is not allowed")
    );
}

#[tokio::test]
async fn dns_rebinding_is_refused_at_connect_time() {
    // A raw listener that counts TCP connections: nothing may reach it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    // First answer (the pre-check) is public, every later one (the connector) is loopback.
    let dns = ScriptedResolver::new(&[&["93.184.216.34"], &["127.0.0.1"]]);
    let transport = HttpTransport::with_resolver(dns.clone()).unwrap();
    let resp = transport
        .send(&request(
            format!("https://rebind.example:{port}/hook"),
            false,
        ))
        .await;
    assert_eq!(resp.status, None);
    assert_eq!(
        resp.error.as_deref(),
        Some("destination address 127.0.0.1 is not allowed"),
        "{resp:?}"
    );
    assert_eq!(dns.calls.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn dns_failures_and_bad_headers_are_failures_not_panics() {
    let dns = ScriptedResolver::new(&[&[]]);
    let transport = HttpTransport::with_resolver(dns).unwrap();
    let resp = transport
        .send(&request("https://nxdomain.test/hook".into(), false))
        .await;
    assert!(
        resp.error
            .as_deref()
            .unwrap()
            .starts_with("DNS resolution of nxdomain.test failed"),
        "{resp:?}"
    );
    let resp = transport
        .send(&request("https://empty.example/hook".into(), false))
        .await;
    assert_eq!(
        resp.error.as_deref(),
        Some("DNS resolution of empty.example returned no address")
    );
    let mut req = request("http://127.0.0.1:9/hook".into(), true);
    req.headers.push(("Bad Header".into(), "x".into()));
    let resp = transport.send(&req).await;
    assert_eq!(
        resp.error.as_deref(),
        Some("invalid header name 'Bad Header'")
    );
    let resp = transport.send(&request("not a url".into(), true)).await;
    assert_eq!(resp.error.as_deref(), Some("invalid URL"));
}
