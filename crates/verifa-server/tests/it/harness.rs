//! A wired application on a throw-away database, plus request helpers.

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;
use verifa_http::Services;
use verifa_server::compose::{build_application, connect};
use verifa_server::settings::Settings;
use verifa_testkit::TestDatabase;

/// An application with one organization and its admin keys.
pub struct TestApp {
    pub router: Router,
    pub services: Arc<Services>,
    #[allow(dead_code)]
    pub db: verifa_adapters_db::Database,
    #[allow(dead_code)]
    pub settings: Settings,
    #[allow(dead_code)]
    pub org_id: String,
    pub live_key: String,
    pub sandbox_key: String,
    _db: TestDatabase,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error response in the contract's shape.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status, body: {}",
            String::from_utf8_lossy(&self.bytes)
        );
        let body = self.json();
        assert_eq!(body["error"], code, "body: {body}");
        assert_eq!(body["status_code"], status, "body: {body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "detail missing: {body}"
        );
        assert!(
            body["request_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("req_") || !r.is_empty()),
            "request_id missing: {body}"
        );
        if status != 422 {
            assert!(body.get("errors").is_none(), "errors only on 422: {body}");
        }
        if code == "validation_error" {
            assert!(
                body["errors"].as_array().is_some_and(|e| !e.is_empty()),
                "validation errors list every field: {body}"
            );
        }
        body
    }
}

/// Request builder.
pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    key: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    content_type: Option<String>,
    peer: SocketAddr,
}

impl<'a> Req<'a> {
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

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(serde_json::to_vec(&body).unwrap());
        self.content_type = Some("application/json".into());
        self
    }

    pub fn raw(mut self, body: impl Into<Vec<u8>>, content_type: Option<&str>) -> Self {
        self.body = Some(body.into());
        self.content_type = content_type.map(str::to_owned);
        self
    }

    pub fn with_peer_ip(mut self, ip: &str) -> Self {
        self.peer = SocketAddr::new(ip.parse().unwrap(), 40000);
        self
    }

    pub async fn send(self) -> TestResponse {
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
        let request = builder
            .body(Body::from(self.body.unwrap_or_default()))
            .unwrap();
        let router = self.app.router.clone().layer(MockConnectInfo(self.peer));
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
        TestResponse {
            status,
            headers,
            bytes,
        }
    }
}

impl TestApp {
    pub async fn new(db: TestDatabase) -> TestApp {
        Self::with_settings(db, &[]).await
    }

    pub async fn with_settings(db: TestDatabase, overrides: &[(&str, &str)]) -> TestApp {
        let settings = Settings::for_tests(&db.url, overrides).expect("test settings");
        let store = connect(&settings, true).await.expect("connect + migrate");
        let app = build_application(&settings, store.clone()).expect("wire the application");
        let created = app
            .services
            .organizations
            .create("Test Org")
            .await
            .expect("create org");
        let secret = |env: &str| {
            created
                .keys
                .iter()
                .find(|k| k.key.environment.as_str() == env)
                .unwrap()
                .secret
                .clone()
        };
        TestApp {
            router: app.router,
            services: app.services,
            db: store,
            settings: settings.clone(),
            org_id: created.org.id.clone(),
            live_key: secret("live"),
            sandbox_key: secret("sandbox"),
            _db: db,
        }
    }

    /// The database URL (another application over the same database, e.g. other keys).
    #[allow(dead_code)]
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    /// A run worker over this app's database (live: built-in executors; sandbox: simulated).
    #[allow(dead_code)]
    pub fn worker(&self) -> verifa_app::runs::RunWorker {
        verifa_server::compose::run_worker(
            &self.settings,
            &self.db,
            Arc::new(verifa_app::clock::SystemClock),
            "test-worker".into(),
        )
        .expect("worker")
    }

    /// Creates another organization in the same database; returns (live, sandbox) secrets.
    pub async fn other_org(&self) -> (String, String) {
        let created = self
            .services
            .organizations
            .create("Other Org")
            .await
            .unwrap();
        let secret = |env: &str| {
            created
                .keys
                .iter()
                .find(|k| k.key.environment.as_str() == env)
                .unwrap()
                .secret
                .clone()
        };
        (secret("live"), secret("sandbox"))
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_owned(),
            key: Some(self.sandbox_key.clone()),
            headers: Vec::new(),
            body: None,
            content_type: None,
            peer: "127.0.0.1:40000".parse().unwrap(),
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }

    #[allow(dead_code)]
    pub fn put(&self, path: &str) -> Req<'_> {
        self.req(Method::PUT, path)
    }

    #[allow(dead_code)]
    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    /// Everything the database holds, as raw bytes: the SQLite file and its WAL (free pages and
    /// old page images included), or a `pg_dump` of the Postgres database (what a backup or a
    /// stolen dump would show). Fails, never skips, when `pg_dump` cannot run.
    #[allow(dead_code)]
    pub async fn raw_contents(&self) -> Vec<u8> {
        if self._db.backend() == "sqlite" {
            let path = self
                ._db
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_owned();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(b);
                }
            }
            return bytes;
        }
        let out = tokio::process::Command::new("pg_dump")
            .args(["--no-owner", "--data-only", "--dbname", &self._db.url])
            .output()
            .await
            .expect("pg_dump runs (Debian package postgresql-client)");
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "pg_dump wrote nothing");
        out.stdout
    }

    /// Creates a key with the given scopes using the sandbox admin key; returns (id, secret).
    pub async fn key_with_scopes(&self, scopes: &[&str]) -> (String, String) {
        let r = self
            .post("/api/v1/api-keys")
            .json(serde_json::json!({"scopes": scopes}))
            .send()
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.bytes)
        );
        let body = r.json();
        (
            body["id"].as_str().unwrap().to_owned(),
            body["secret"].as_str().unwrap().to_owned(),
        )
    }
}
