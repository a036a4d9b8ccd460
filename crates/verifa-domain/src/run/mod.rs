//! The workflow run, typed: the pinned graph, the engine state, the next piece of work, the
//! lease and the revision that fences every write. [`advance`] applies one event and returns
//! everything the step causes; storing a run and doing its work are the application's business.
//!
//! - [`model`]: [`WorkflowRun`], [`Work`], [`Lease`].
//! - [`advance`](mod@advance): [`advance()`] and the [`Step`] it returns.
//! - [`verdict`](mod@verdict): the [`Verdict`](crate::session::Verdict) a finished run reached.
//! - [`context`]: what a check sees of the run ([`check_context`]).

pub mod advance;
pub mod context;
pub mod model;
pub mod verdict;

pub use advance::{Step, advance};
pub use context::check_context;
pub use model::{Lease, PinnedVersion, Work, WorkflowRun};
pub use verdict::verdict_of;

#[cfg(test)]
mod tests;
