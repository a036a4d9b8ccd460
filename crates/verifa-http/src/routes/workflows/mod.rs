//! The Workflows group (CONTRACT §2.2–§2.3), mirroring the use cases' rooms:
//!
//! - [`definitions`]: workflows, versions, defaults, cloning, the policy catalogue.
//! - [`drafts`]: drafts, diffs, draft dry-runs and publishing.
//! - [`rollout`]: the rollout map.
//! - [`dry_run`]: dry-runs of a stored version.
//! - [`analytics`]: run statistics.
//! - [`objects`]: the workflow, version and policy bodies.

pub mod analytics;
pub mod definitions;
pub mod drafts;
pub mod dry_run;
pub mod objects;
pub mod rollout;

pub use objects::WorkflowObject;

use crate::state::AppState;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) const READ: &str = "workflows:read";
pub(crate) const WRITE: &str = "workflows:write";

pub(crate) fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

pub(crate) fn parse_stored(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Routes of the group (the session-scoped run routes live with the sessions).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            definitions::list_workflows,
            definitions::create_workflow
        ))
        .routes(routes!(
            definitions::get_workflow,
            definitions::update_workflow
        ))
        .routes(routes!(definitions::set_default_workflow))
        .routes(routes!(definitions::deactivate_workflow))
        .routes(routes!(definitions::clone_workflow))
        .routes(routes!(definitions::list_versions))
        .routes(routes!(rollout::get_rollout, rollout::put_rollout))
        .routes(routes!(dry_run::dry_run_workflow))
        .routes(routes!(definitions::list_policies))
        .routes(routes!(definitions::workflow_policies))
        .routes(routes!(analytics::workflow_analytics))
        .routes(routes!(drafts::list_drafts, drafts::create_draft))
        .routes(routes!(
            drafts::get_draft,
            drafts::edit_draft,
            drafts::discard_draft
        ))
        .routes(routes!(drafts::diff_draft))
        .routes(routes!(drafts::dry_run_draft))
        .routes(routes!(drafts::publish_draft))
}
