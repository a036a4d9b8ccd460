//! What every use-case test starts from: [`World`], the services over in-memory fakes (one
//! `MemoryStore` behind every store port, `MemoryBlobs`, `RecordingTransport`, `ManualClock`)
//! with an organization and its live and sandbox admin keys; [`ScriptedCheck`], a check
//! executor that answers from a queue; and small builders for workflows and sessions.

#![allow(dead_code)] // each test file uses its own part of the support

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use verifa_app::api_keys::{ApiVersions, Caller};
use verifa_app::crypto::Cipher;
use verifa_app::idempotency::IdempotencySettings;
use verifa_app::rate_limit::FixedWindowLimiter;
use verifa_app::runs::{RunWorker, WorkerSettings};
use verifa_app::sessions::{NewSession, SessionSettings};
use verifa_app::webhooks::WebhookSettings;
use verifa_app::workflows::{DefinitionInput, NewWorkflow};
use verifa_app::{Ports, ServiceSettings, Services};
use verifa_domain::session::Session;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{ExecutorSettings, PolicyCatalog, PolicySpec};
use verifa_fakes::{ManualClock, MemoryBlobs, MemoryStore, RecordingTransport};
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRegistry, CheckRequest};

/// The key every test cipher uses.
const CIPHER_KEY: [u8; 32] = [7; 32];

/// Where every test's clock starts (whole seconds).
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap()
}

/// The policies test workflows use; each has a [`ScriptedCheck`] of the same name.
pub const POLICIES: [&str; 2] = ["doc_check", "risk_check"];

/// A catalogue entry for a test policy: any object config, no outputs declared.
pub fn spec(name: &str) -> PolicySpec {
    PolicySpec {
        name: name.to_owned(),
        category: "Test".into(),
        description: format!("scripted {name}"),
        config_schema: json!({"type": "object"}),
        outputs: BTreeMap::new(),
        auto_injected: false,
        requires: vec![],
    }
}

/// The services over fakes, with one organization.
pub struct World {
    pub store: Arc<MemoryStore>,
    pub blobs: Arc<MemoryBlobs>,
    pub transport: Arc<RecordingTransport>,
    pub clock: Arc<ManualClock>,
    pub ports: Ports,
    pub services: Services,
    /// The organization's live admin key.
    pub live: Caller,
    /// Its sandbox admin key.
    pub sandbox: Caller,
    /// Another organization's live admin key.
    pub stranger: Caller,
}

impl World {
    /// Fresh fakes, the services over them, two organizations.
    pub async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let blobs = Arc::new(MemoryBlobs::new());
        let transport = Arc::new(RecordingTransport::new());
        let clock = Arc::new(ManualClock::at(start()));
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
            documents: blobs.clone(),
            transport: transport.clone(),
            health: store.clone(),
            rate_limiter: Arc::new(FixedWindowLimiter::new(60)),
            clock: clock.clone(),
        };
        let services = Services::new(&ports, settings());
        let mut org = services.organizations.create("Acme").await.unwrap();
        let sandbox = Caller::new(org.keys.pop().unwrap().key);
        let live = Caller::new(org.keys.pop().unwrap().key);
        let mut other = services.organizations.create("Other").await.unwrap();
        other.keys.pop();
        let stranger = Caller::new(other.keys.pop().unwrap().key);
        Self {
            store,
            blobs,
            transport,
            clock,
            ports,
            services,
            live,
            sandbox,
            stranger,
        }
    }

    /// The clock's time.
    pub fn now(&self) -> DateTime<Utc> {
        verifa_ports::clock::Clock::now(self.clock.as_ref())
    }

    /// A run worker over the same ports, executing `checks` for live and sandbox sessions,
    /// retrying after 10 s, then 20 s.
    pub fn worker(&self, checks: &[Arc<ScriptedCheck>]) -> RunWorker {
        let mut registry = CheckRegistry::new();
        for c in checks {
            registry.register(c.clone());
        }
        self.worker_with(registry)
    }

    /// A run worker executing `registry` (see [`World::worker`]).
    pub fn worker_with(&self, registry: CheckRegistry) -> RunWorker {
        RunWorker::new(
            &self.ports,
            registry.clone(),
            registry,
            cipher(),
            WorkerSettings {
                owner: "worker-1".into(),
                lease: Duration::seconds(60),
                lookup_key: lookup_key(),
                executor: ExecutorSettings {
                    retry_backoff: vec![
                        std::time::Duration::from_secs(10),
                        std::time::Duration::from_secs(20),
                    ],
                },
            },
        )
    }

    /// Creates the caller's default workflow from `graph`; returns its id.
    pub async fn workflow(&self, caller: &Caller, graph: Value) -> String {
        self.services
            .workflows
            .create(
                caller,
                NewWorkflow {
                    name: "Test flow".into(),
                    definition: graph_definition(graph),
                    is_default: true,
                    ..NewWorkflow::default()
                },
            )
            .await
            .unwrap()
            .workflow
            .id
    }

    /// A session of the caller with its id_front uploaded (capturing).
    pub async fn capturing_session(&self, caller: &Caller) -> Session {
        let view = self
            .services
            .sessions
            .create(caller, NewSession::default())
            .await
            .unwrap();
        let id = view.session.id;
        self.services
            .sessions
            .upload_document(caller, &id, "id_front", jpeg(b"front"), None)
            .await
            .unwrap();
        self.services.sessions.get(caller, &id).await.unwrap()
    }

    /// A submitted session of the caller (live: processing, its run pending).
    pub async fn submitted_session(&self, caller: &Caller) -> Session {
        let id = self.capturing_session(caller).await.id;
        self.services.sessions.submit(caller, &id).await.unwrap()
    }
}

/// The same cipher the services use.
pub fn cipher() -> Cipher {
    Cipher::from_key(&CIPHER_KEY).unwrap()
}

/// The identity-search lookup key of the tests.
pub fn lookup_key() -> verifa_app::crypto::LookupKey {
    verifa_app::crypto::LookupKey::new(&[5; 32]).unwrap()
}

fn settings() -> ServiceSettings {
    let catalog = PolicyCatalog::from_specs(POLICIES.map(spec));
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
        webhooks: WebhookSettings {
            allow_private_networks: true,
            ..WebhookSettings::default()
        },
        catalog: Arc::new(catalog),
        simulator: Arc::new(verifa_fakes::PlainSandbox::default()),
        cipher: cipher(),
        lookup_key: lookup_key(),
    }
}

/// A graph definition.
pub fn graph_definition(graph: Value) -> DefinitionInput {
    DefinitionInput {
        format: Some("graph".into()),
        graph: Some(graph),
        steps: None,
    }
}

/// start → doc_check → risk_check → approved; any failure → rejected.
pub fn two_checks() -> Value {
    json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "doc"},
            "doc": {"type": "policy", "policy": "doc_check", "on_pass": "risk", "on_fail": "rejected"},
            "risk": {"type": "policy", "policy": "risk_check", "on_pass": "approved", "on_fail": "rejected"},
            "approved": {"type": "terminal", "outcome": "approved"},
            "rejected": {"type": "terminal", "outcome": "rejected"}
        }
    })
}

/// Bytes that sniff as JPEG.
pub fn jpeg(tail: &[u8]) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend_from_slice(tail);
    b
}

/// Bytes that sniff as PNG.
pub fn png(tail: &[u8]) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(tail);
    b
}

/// A check executor that answers from a queue of outcomes (an `error` once it runs dry) and
/// records every request.
pub struct ScriptedCheck {
    name: String,
    outcomes: Mutex<VecDeque<CheckOutcome>>,
    requests: Mutex<Vec<CheckRequest>>,
}

impl ScriptedCheck {
    /// `name` answering `outcomes`, in order.
    pub fn new(name: &str, outcomes: impl IntoIterator<Item = CheckOutcome>) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            outcomes: Mutex::new(outcomes.into_iter().collect()),
            requests: Mutex::new(Vec::new()),
        })
    }

    /// `name` passing `times` times.
    pub fn passing(name: &str, times: usize) -> Arc<Self> {
        Self::new(
            name,
            (0..times).map(|_| CheckOutcome::decided(true, json!({}))),
        )
    }

    /// Every request seen, oldest first.
    pub fn requests(&self) -> Vec<CheckRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait::async_trait]
impl CheckExecutor for ScriptedCheck {
    fn spec(&self) -> PolicySpec {
        spec(&self.name)
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.clone());
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or_else(|| CheckOutcome::error("the script ran out of outcomes"))
    }
}

/// The tenant of a caller.
pub fn tenant(caller: &Caller) -> Tenant {
    caller.tenant()
}

/// A page large enough for any test.
pub fn all() -> verifa_domain::pagination::PageRequest {
    verifa_domain::pagination::PageRequest {
        limit: 100,
        offset: 0,
    }
}
