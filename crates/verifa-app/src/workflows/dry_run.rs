//! Dry-runs of a stored version: the pure engine on supplied inputs, nothing written.

use super::WorkflowService;
use crate::api_keys::Caller;
use crate::error::AppError;
use verifa_domain::workflow::{DryRunInput, DryRunReport};

impl WorkflowService {
    /// Runs a version against supplied inputs; writes nothing.
    pub async fn dry_run(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<i64>,
        input: DryRunInput,
    ) -> Result<DryRunReport, AppError> {
        let graph = self.graph_of(caller, id, version).await?;
        self.simulate(&graph, &input)
    }
}
