//! Check executors: one per verification policy, behind one port, so a team can add or replace
//! a policy (a vendor, a local algorithm) without touching the engine or the other policies.

use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{CheckStatus, PolicyCatalog, PolicySpec};

/// A document uploaded to the session, as a check may need it.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRef {
    /// `doc_…`.
    pub id: String,
    /// `id_front`, `id_back`, `selfie`, `proof_of_address`.
    pub document_type: String,
    /// Sniffed MIME type.
    pub mime_type: String,
    /// Text submitted with the document (e.g. the MRZ lines), when any.
    pub text: Option<String>,
}

/// Everything a check may look at. Checks never see other tenants' data.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// Organization and environment of the session.
    pub tenant: Tenant,
    /// `ses_…`.
    pub session_id: String,
    /// `wfr_…`.
    pub run_id: String,
    /// Node being executed.
    pub node_id: String,
    /// Policy name.
    pub policy: String,
    /// The node's configuration (validated against the policy's schema).
    pub config: Value,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// The run context: `{"checks": {<policy>: {status, …outputs}}, "extracted_data": {…},
    /// "session": {"country", "metadata", "is_sandbox", "fields"}}`.
    pub context: Value,
    /// Documents of the session.
    pub documents: Vec<DocumentRef>,
    /// The date "today" for age and expiry rules (the caller's clock).
    pub today: chrono::NaiveDate,
}

/// What a check concluded. Bad or missing input is `skipped` or `error` with a reason in
/// `error`, never a panic.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// passed | failed | error | skipped | requires_retry.
    pub status: CheckStatus,
    /// Output fields (`checks.<policy>.<field>` in conditions). An `extracted_data` object here
    /// is merged into the run's extracted data.
    pub output: Value,
    /// Reason for error/skipped/requires_retry.
    pub error: Option<String>,
}

impl CheckOutcome {
    /// A passed or failed outcome with output.
    pub fn decided(passed: bool, output: Value) -> Self {
        Self {
            status: if passed {
                CheckStatus::Passed
            } else {
                CheckStatus::Failed
            },
            output,
            error: None,
        }
    }

    /// A check that could not run for lack of input.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Skipped,
            output: Value::Object(Default::default()),
            error: Some(reason.into()),
        }
    }

    /// An unrecoverable error.
    pub fn error(reason: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Error,
            output: Value::Object(Default::default()),
            error: Some(reason.into()),
        }
    }

    /// A transient failure to retry.
    pub fn retry(reason: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::RequiresRetry,
            output: Value::Object(Default::default()),
            error: Some(reason.into()),
        }
    }
}

/// One policy's executor.
#[async_trait]
pub trait CheckExecutor: Send + Sync {
    /// The catalogue entry (name, category, config schema, outputs, …).
    fn spec(&self) -> PolicySpec;

    /// Runs the check. MUST NOT panic; MUST return `error`/`skipped` with a reason on bad input.
    async fn execute(&self, request: &CheckRequest) -> CheckOutcome;
}

/// The registered executors; the catalogue is generated from them.
#[derive(Clone, Default)]
pub struct CheckRegistry {
    executors: std::collections::BTreeMap<String, Arc<dyn CheckExecutor>>,
}

impl std::fmt::Debug for CheckRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.executors.keys()).finish()
    }
}

impl CheckRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) the executor of its policy.
    pub fn register(&mut self, executor: Arc<dyn CheckExecutor>) -> &mut Self {
        self.executors
            .insert(executor.spec().name.clone(), executor);
        self
    }

    /// The executor of a policy.
    pub fn get(&self, policy: &str) -> Option<Arc<dyn CheckExecutor>> {
        self.executors.get(policy).cloned()
    }

    /// The catalogue of every registered policy.
    pub fn catalog(&self) -> PolicyCatalog {
        PolicyCatalog {
            policies: self
                .executors
                .iter()
                .map(|(name, e)| (name.clone(), e.spec()))
                .collect(),
        }
    }
}
