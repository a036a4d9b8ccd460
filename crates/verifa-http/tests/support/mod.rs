//! The real router over Services on in-memory fakes: [`App`] holds the router, the fakes
//! behind it and an organization's live and sandbox admin keys; [`App::req`] builds a request
//! and [`Reply`] reads the answer whole.

#![allow(dead_code)] // not every test uses every helper

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{Duration, TimeZone as _, Utc};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt as _;
use verifa_app::api_keys::ApiVersions;
use verifa_app::crypto::Cipher;
use verifa_app::idempotency::IdempotencySettings;
use verifa_app::rate_limit::FixedWindowLimiter;
use verifa_app::sessions::SessionSettings;
use verifa_app::webhooks::WebhookSettings;
use verifa_app::{Ports, ServiceSettings, Services};
use verifa_domain::workflow::{PolicyCatalog, PolicySpec};
use verifa_fakes::{ManualClock, MemoryBlobs, MemoryStore, RecordingTransport};
use verifa_http::metrics::Metrics;
use verifa_http::{AppState, HttpSettings, RateLimits, VersionPolicy};

/// Largest body the test router accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// The one test policy.
pub fn spec() -> PolicySpec {
    PolicySpec {
        name: "doc_check".into(),
        category: "Test".into(),
        description: "scripted".into(),
        config_schema: json!({"type": "object"}),
        outputs: BTreeMap::new(),
        auto_injected: false,
        requires: vec![],
    }
}

pub fn cipher() -> Cipher {
    Cipher::from_key(&[9; 32]).unwrap()
}

/// The identity-search lookup key of the tests.
pub fn lookup_key() -> verifa_app::crypto::LookupKey {
    verifa_app::crypto::LookupKey::new(&[8; 32]).unwrap()
}

/// The router, its fakes and an organization.
pub struct App {
    pub router: Router,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    pub ports: Ports,
    pub services: Arc<Services>,
    /// Live admin key secret.
    pub live: String,
    /// Sandbox admin key secret.
    pub sandbox: String,
}

impl App {
    pub async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::at(
            Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap(),
        ));
        let ports = Ports {
            organizations: store.clone(),
            org_users: store.clone(),
            cases: store.clone(),
            identities: store.clone(),
            identity_types: store.clone(),
            settings: store.clone(),
            api_keys: store.clone(),
            audit: store.clone(),
            idempotency: store.clone(),
            sessions: store.clone(),
            session_documents: store.clone(),
            session_events: store.clone(),
            session_redaction: store.clone(),
            data_keys: store.clone(),
            runs: store.clone(),
            workflows: store.clone(),
            workflow_drafts: store.clone(),
            workflow_analytics: store.clone(),
            webhook_endpoints: store.clone(),
            webhook_deliveries: store.clone(),
            webhook_outbox: store.clone(),
            documents: Arc::new(MemoryBlobs::new()),
            transport: Arc::new(RecordingTransport::new()),
            health: store.clone(),
            rate_limiter: Arc::new(FixedWindowLimiter::new(60)),
            clock: clock.clone(),
        };
        let services = Arc::new(Services::new(&ports, service_settings()));
        let org = services.organizations.create("Acme").await.unwrap();
        let (live, sandbox) = (org.keys[0].secret.clone(), org.keys[1].secret.clone());
        let state = AppState {
            services: services.clone(),
            settings: Arc::new(http_settings()),
            metrics: Arc::new(Metrics::new()),
        };
        Self {
            router: verifa_http::router(state),
            store,
            clock,
            ports,
            services,
            live,
            sandbox,
        }
    }

    /// A request with the live admin key.
    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_owned(),
            key: Some(self.live.clone()),
            headers: Vec::new(),
            body: Vec::new(),
            content_type: None,
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
}

fn service_settings() -> ServiceSettings {
    ServiceSettings {
        versions: ApiVersions {
            current: "2026-01-01".into(),
            known: vec!["2026-01-01".into()],
        },
        idempotency: IdempotencySettings {
            ttl: Duration::hours(24),
            lock: Duration::seconds(60),
        },
        sessions: SessionSettings {
            public_url: "https://verifa.test".into(),
            capture_ttl: Duration::minutes(20),
            url_signer: verifa_app::crypto::UrlSigner::new(&[9; 32]).unwrap(),
        },
        webhooks: WebhookSettings::default(),
        catalog: Arc::new(PolicyCatalog::from_specs([spec()])),
        simulator: Arc::new(verifa_fakes::PlainSandbox::default()),
        cipher: cipher(),
        lookup_key: lookup_key(),
    }
}

/// As `compose::http_settings` builds them, with a small body limit.
fn http_settings() -> HttpSettings {
    HttpSettings {
        max_body_bytes: MAX_BODY,
        rate_limits: RateLimits::default(),
        versions: VersionPolicy {
            current: "2026-01-01".into(),
            known: vec!["2026-01-01".into()],
            retired: vec![],
        },
        trust_forwarded_for: false,
        plan: "self-hosted".into(),
        request_timeout: std::time::Duration::from_secs(30),
    }
}

/// A request being built.
pub struct Req<'a> {
    app: &'a App,
    method: Method,
    path: String,
    key: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    content_type: Option<String>,
}

impl Req<'_> {
    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    pub fn no_key(mut self) -> Self {
        self.key = None;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(self, body: Value) -> Self {
        self.raw(serde_json::to_vec(&body).unwrap(), "application/json")
    }

    pub fn raw(mut self, body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = body.into();
        self.content_type = Some(content_type.to_owned());
        self
    }

    pub async fn send(self) -> Reply {
        let mut builder = Request::builder().method(self.method).uri(&self.path);
        if let Some(k) = &self.key {
            builder = builder.header("x-api-key", k);
        }
        if let Some(ct) = &self.content_type {
            builder = builder.header("content-type", ct);
        }
        for (n, v) in &self.headers {
            builder = builder.header(n, v);
        }
        let request = builder.body(Body::from(self.body)).unwrap();
        let peer: SocketAddr = "203.0.113.9:40000".parse().unwrap();
        let router = self.app.router.clone().layer(MockConnectInfo(peer));
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body of a successful response with `status`.
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.bytes)
        );
        self.json()
    }

    /// Asserts the contract's error body (code, status, detail, request id; field errors only
    /// on 422) and returns it.
    pub fn error(&self, status: u16, code: &str) -> Value {
        let body = self.ok(status);
        assert_eq!(body["error"], code, "{body}");
        assert_eq!(body["status_code"], status, "{body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{body}"
        );
        let request_id = body["request_id"].as_str().expect("request_id in the body");
        assert_eq!(self.header("x-request-id"), Some(request_id), "{body}");
        if status != 422 {
            assert!(body.get("errors").is_none(), "{body}");
        }
        body
    }

    /// The fields named by a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        let body = self.error(422, "validation_error");
        body["errors"]
            .as_array()
            .expect("errors listed")
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A multipart upload body and its content type.
pub fn multipart(document_type: &str, file: &[u8]) -> (Vec<u8>, String) {
    let boundary = "verifa-router-test";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\n{document_type}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// Bytes that sniff as JPEG.
pub fn jpeg() -> Vec<u8> {
    vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4]
}

/// The tenant of the live key.
pub async fn tenant_of(app: &App) -> verifa_domain::tenancy::Tenant {
    app.services
        .api_keys
        .authenticate(Some(&app.live), None)
        .await
        .unwrap()
        .tenant()
}

/// A first page big enough for any test.
pub fn page() -> verifa_domain::pagination::PageRequest {
    verifa_domain::pagination::PageRequest {
        limit: 100,
        offset: 0,
    }
}
