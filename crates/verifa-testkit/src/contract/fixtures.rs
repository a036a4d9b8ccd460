//! Rows the contract cases start from, built only through the ports. Times are whole seconds
//! from a fixed instant, so every backend stores them exactly (Postgres keeps microseconds).

use super::Stores;
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use serde_json::{Map, json};
use std::sync::atomic::{AtomicU64, Ordering};
use verifa_domain::api_key::{ApiKey, KeyType};
use verifa_domain::documents::DocumentType;
use verifa_domain::inflection::Inflection;
use verifa_domain::pagination::PageRequest;
use verifa_domain::run::{PinnedVersion, WorkflowRun};
use verifa_domain::scopes::ScopeSet;
use verifa_domain::session::{RetentionStatus, Session, SessionEvent, SessionStatus};
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_domain::workflow::{AttemptRecord, CheckStatus, Format, Graph, VersionSource};
use verifa_ports::organizations::Organization;
use verifa_ports::runs::NewAttempt;
use verifa_ports::sessions::{DocumentRecord, EventRecord, RunWrite, SessionChange};
use verifa_ports::webhook_store::{DeliveryRecord, DeliveryStatus, EndpointRecord};
use verifa_ports::workflows::{VersionRecord, WorkflowRecord};

/// The instant every case counts from.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// `t0` plus whole seconds.
pub fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

/// A page large enough for any case.
pub fn all() -> PageRequest {
    PageRequest {
        limit: 100,
        offset: 0,
    }
}

/// A unique suffix, for ids that must not collide within one store.
pub fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Creates organization `org_id`; returns its live and sandbox tenants.
pub async fn organization(stores: &Stores, org_id: &str) -> (Tenant, Tenant) {
    stores
        .organizations
        .create_with_keys(
            &Organization {
                id: org_id.to_owned(),
                name: format!("Org {org_id}"),
                created_at: t0(),
            },
            &[],
            &[],
        )
        .await
        .expect("create organization");
    (
        Tenant::new(org_id, Environment::Live),
        Tenant::new(org_id, Environment::Sandbox),
    )
}

/// A session of `tenant` in `status`, created at `created_at`.
pub fn session(
    tenant: &Tenant,
    id: &str,
    status: SessionStatus,
    created_at: DateTime<Utc>,
) -> Session {
    Session {
        id: id.to_owned(),
        tenant: tenant.clone(),
        status,
        workflow_id: Some("wfl_contract".into()),
        external_ref: Some(format!("ref_{id}")),
        identity_id: None,
        case_id: None,
        case_status: None,
        metadata: Map::from_iter([("plan".to_owned(), json!("gold"))]),
        country: Some("FR".into()),
        checks: None,
        fields_sealed: None,
        data_key: None,
        redirect_url: None,
        capture_token_hash: None,
        token_expires_at: None,
        document_type: None,
        retention_status: RetentionStatus::Active,
        processing_attempts: 0,
        consent_ip: None,
        tags: vec!["contract".into()],
        expired_at: None,
        completed_at: None,
        redacted_at: None,
        retention_expired_at: None,
        created_at,
        updated_at: created_at,
        revision: 0,
    }
}

/// Inserts a session with its `session.created` event; returns it.
pub async fn insert_session(stores: &Stores, session: Session) -> Session {
    stores
        .sessions
        .insert(&session, &[new_event(SessionEvent::Created)], &[])
        .await
        .expect("insert session");
    session
}

/// A new event with a unique id.
pub fn new_event(event: SessionEvent) -> verifa_ports::sessions::NewEvent {
    verifa_ports::sessions::NewEvent {
        id: format!("evt_c{:08}", unique()),
        event,
    }
}

/// The change moving `before` to `status` at `now`, announcing `events`.
pub fn change(
    before: &Session,
    status: SessionStatus,
    now: DateTime<Utc>,
    events: Vec<SessionEvent>,
) -> SessionChange {
    let mut after = before.clone();
    after.status = status;
    after.updated_at = now;
    after.revision = before.revision + 1;
    SessionChange {
        session: after,
        expected_status: before.status,
        expected_revision: before.revision,
        events: events.into_iter().map(new_event).collect(),
        result: Default::default(),
        run: None,
        audit: Vec::new(),
        identity: None,
        case: None,
    }
}

/// Every event of a session, oldest first.
pub async fn events_of(stores: &Stores, tenant: &Tenant, session_id: &str) -> Vec<EventRecord> {
    stores
        .events
        .events(tenant, session_id, all())
        .await
        .expect("read events")
        .items
}

/// The graph every run executes: start → one policy node → approved / rejected.
pub fn graph() -> Graph {
    serde_json::from_value(json!({
        "entry": "start",
        "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "on_pass": "ok", "on_fail": "ko"},
            "ok": {"type": "terminal", "outcome": "approved"},
            "ko": {"type": "terminal", "outcome": "rejected"}
        }
    }))
    .expect("contract graph")
}

/// A pending run of `session`, due at `due`.
pub fn run(id: &str, session: &Session, due: DateTime<Utc>) -> WorkflowRun {
    let pinned = PinnedVersion {
        workflow_id: "wfl_contract".into(),
        version: 1,
        graph: graph(),
    };
    let mut run = WorkflowRun::start(id.to_owned(), session, pinned, session.updated_at);
    run.due = Some(due);
    run
}

/// Inserts a `capturing` session and submits it: the session is `processing` and its run
/// (`wfr_<session id>`) is pending, due at `due`. Returns both as stored.
pub async fn session_with_run(
    stores: &Stores,
    tenant: &Tenant,
    session_id: &str,
    due: DateTime<Utc>,
) -> (Session, WorkflowRun) {
    let capturing = insert_session(
        stores,
        session(tenant, session_id, SessionStatus::Capturing, t0()),
    )
    .await;
    let run = run(&format!("wfr_{session_id}"), &capturing, due);
    let submit = change(&capturing, SessionStatus::Processing, t0(), vec![])
        .with_run(RunWrite::Start(Box::new(run.clone())));
    stores.sessions.apply(&submit).await.expect("start run");
    (submit.session, run)
}

/// One passed attempt of the `ocr` node.
pub fn attempt(id: &str, number: u32, now: DateTime<Utc>) -> NewAttempt {
    NewAttempt {
        id: id.to_owned(),
        attempt: AttemptRecord {
            node_id: "ocr".into(),
            policy: "document_ocr".into(),
            attempt: number,
            status: CheckStatus::Passed,
            output: json!({"score": 0.9}),
            error: None,
            started_at: now,
            completed_at: now,
            duration_ms: 3,
        },
    }
}

/// Document metadata of `session`.
pub fn document(
    session: &Session,
    id: &str,
    kind: DocumentType,
    created_at: DateTime<Utc>,
) -> DocumentRecord {
    DocumentRecord {
        id: id.to_owned(),
        session_id: session.id.clone(),
        tenant: session.tenant.clone(),
        document_type: kind,
        mime_type: "image/jpeg".into(),
        file_size_bytes: 1234,
        storage_key: format!("{}/{}/{}", session.tenant.org_id, session.id, id),
        sha256: "ab".repeat(32),
        text_sealed: None,
        created_at,
    }
}

/// An enabled endpoint of `tenant` (subscribed to every event).
pub fn endpoint(tenant: &Tenant, id: &str) -> EndpointRecord {
    EndpointRecord {
        id: id.to_owned(),
        tenant: tenant.clone(),
        url: format!("https://hooks.example.com/{id}"),
        label: None,
        description: None,
        enabled: true,
        enabled_events: vec![],
        attribute_blocklist: vec![],
        event_filter_conditions: Map::new(),
        api_version: None,
        key_inflection: Inflection::Snake,
        secret_encrypted: "sealed-secret".into(),
        consecutive_failures: 0,
        disabled_at: None,
        created_at: t0(),
        updated_at: t0(),
        revision: 0,
    }
}

/// Inserts `endpoint`; returns it.
pub async fn insert_endpoint(stores: &Stores, endpoint: EndpointRecord) -> EndpointRecord {
    stores
        .endpoints
        .insert_endpoint(&endpoint, &[])
        .await
        .expect("insert endpoint");
    endpoint
}

/// A pending delivery to `endpoint` of event `seq` of `session_id`, due at `due`.
pub fn delivery(
    endpoint: &EndpointRecord,
    id: &str,
    session_id: &str,
    seq: i64,
    due: DateTime<Utc>,
) -> DeliveryRecord {
    DeliveryRecord {
        id: id.to_owned(),
        endpoint_id: endpoint.id.clone(),
        tenant: endpoint.tenant.clone(),
        event_id: format!("evt_{id}"),
        event_seq: Some(seq),
        session_id: Some(session_id.to_owned()),
        event_type: "session.approved".into(),
        idempotency_key: format!("idk_{id}"),
        body: format!("{{\"id\":\"{id}\"}}"),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(due),
        lease_owner: None,
        lease_until: None,
        last_attempt_at: None,
        last_status_code: None,
        last_error: None,
        last_duration_ms: None,
        is_test: false,
        created_at: due,
        updated_at: due,
        completed_at: None,
    }
}

/// Inserts deliveries one by one.
pub async fn insert_deliveries(stores: &Stores, deliveries: &[DeliveryRecord]) {
    for d in deliveries {
        stores
            .deliveries
            .insert_delivery(d)
            .await
            .expect("insert delivery");
    }
}

/// A workflow head at version 1 (not the default unless `is_default`).
pub fn workflow(
    tenant: &Tenant,
    id: &str,
    is_default: bool,
    created_at: DateTime<Utc>,
) -> WorkflowRecord {
    WorkflowRecord {
        id: id.to_owned(),
        tenant: tenant.clone(),
        name: format!("Workflow {id}"),
        description: None,
        version: 1,
        is_default,
        is_active: true,
        format: Format::Graph,
        screening_settings: None,
        graph_layout: None,
        rollout: vec![verifa_domain::workflow::RolloutEntry {
            version: 1,
            percentage: 100,
        }],
        rollout_updated_at: created_at,
        created_at,
        updated_at: created_at,
        revision: 0,
    }
}

/// Version `number` of `workflow` with `graph_json` stored as given.
pub fn version(workflow: &WorkflowRecord, number: i32, graph_json: &str) -> VersionRecord {
    VersionRecord {
        id: format!("wfv_{}_{number}_{}", workflow.id, unique()),
        workflow_id: workflow.id.clone(),
        tenant: workflow.tenant.clone(),
        version: number,
        format: Format::Graph,
        graph_json: graph_json.to_owned(),
        steps_json: None,
        data_requirements_json: None,
        source: if number == 1 {
            VersionSource::Create
        } else {
            VersionSource::Publish
        },
        draft_id: None,
        created_by: "key_contract".into(),
        content_hash: "cd".repeat(32),
        created_at: workflow.updated_at,
    }
}

/// Creates `workflow` with its version 1; returns it.
pub async fn create_workflow(stores: &Stores, workflow: WorkflowRecord) -> WorkflowRecord {
    let first = version(&workflow, 1, &graph_text());
    stores
        .workflows
        .create(&workflow, &first, &[])
        .await
        .expect("create workflow");
    workflow
}

/// The contract graph as JSON text.
pub fn graph_text() -> String {
    serde_json::to_string(&graph()).expect("graph text")
}

/// A secret API key of `tenant` whose secret hashes to `secret_hash`.
pub fn api_key(tenant: &Tenant, id: &str, secret_hash: &str, created_at: DateTime<Utc>) -> ApiKey {
    ApiKey {
        id: id.to_owned(),
        org_id: tenant.org_id.clone(),
        environment: tenant.environment,
        key_type: KeyType::Secret,
        label: Some(format!("label {id}")),
        note: None,
        key_prefix: "vk_live_abcd".into(),
        secret_hash: secret_hash.to_owned(),
        scopes: ScopeSet::defaults(),
        allowed_ips: None,
        api_version: "2026-01-01".into(),
        default_key_inflection: "snake".into(),
        is_active: true,
        expires_at: None,
        last_used_at: None,
        created_at,
        updated_at: created_at,
        revision: 0,
    }
}
