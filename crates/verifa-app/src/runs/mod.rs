//! Durable workflow runs. A run row holds the engine's state and its next piece of work; workers
//! claim runnable rows with a lease, do the work (apply an event or execute a check through the
//! check-executor port), feed the result to the pure [`advance`](verifa_domain::run::advance),
//! and commit the new state, the node attempts and any session change atomically — after every
//! check. Steps that only route (start, conditionals, a due retry, a resume) have no outside
//! effect and replay exactly, so they are committed with the check that follows them; a run that
//! has nothing due gives its lease back in its last commit. A process killed at any point loses
//! nothing: the lease lapses and another worker redoes only the uncommitted step (an in-flight
//! check runs again with the same attempt number).
//!
//! - [`worker`]: [`RunWorker`], the claim–execute–commit loop.
//! - [`inputs`]: what a check reads of its session, once per claim.
//! - [`stats`]: what a worker did and where its time went.

mod inputs;
mod stats;
mod worker;

pub use stats::{WorkerStats, WorkerStatsSnapshot};
pub use worker::{RunWorker, WorkerError, WorkerSettings};

use serde_json::{Map, Value, json};

/// The reference's sandbox extracted data (Jane Doe).
pub fn sandbox_extracted_data() -> Map<String, Value> {
    let v = json!({"first_name": "Jane", "last_name": "Doe", "date_of_birth": "1997-06-15", "document_type": "drivers_license"});
    v.as_object().cloned().unwrap_or_default()
}
