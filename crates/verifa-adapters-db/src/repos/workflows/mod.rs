//! The workflow ports on sea-orm: [`WorkflowStore`](verifa_ports::workflows::WorkflowStore),
//! [`DraftStore`](verifa_ports::workflows::DraftStore) and
//! [`WorkflowAnalytics`](verifa_ports::workflows::WorkflowAnalytics).

mod analytics;
mod drafts;
mod rows;
mod store;
