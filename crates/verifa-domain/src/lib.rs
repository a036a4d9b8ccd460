//! Pure domain model of Verifa: workflow graphs, validation, the run executor, rollout rules.
//! No IO, no clock, no randomness: time and ids come in as arguments.
//!
//! - [`tenancy`]: organizations and the `live` / `sandbox` environment split.
//! - [`scopes`]: API-key scopes, their defaults and how one scope satisfies another.
//! - [`api_key`]: API-key secrets (format, prefix, environment) and key-object rules.
//! - [`inflection`]: response key casing (snake, camel, kebab) that leaves user-data keys alone.
//! - [`pagination`]: the `limit` / `offset` rules shared by every list endpoint.
//! - [`workflow`]: workflow graphs, validation, the run executor, dry-run, diff and rollout.
//!
//! # Performance
//!
//! Measured with
//! `CARGO_TARGET_DIR=/work/target-domain cargo bench -p verifa-domain --bench engine -- --quick`
//! (criterion 0.7 `--quick`, release profile; also pinned with `taskset -c 1`) on a 2-core machine
//! shared with other builds and benchmarks (load average 3–6 during the runs, so the figures are
//! noisy and pessimistic; ranges are over four runs):
//!
//! | benchmark | time per iteration | rate |
//! |---|---|---|
//! | `validate/200_nodes` (start, 196 policy nodes with config schemas, 3 terminals) | 0.40–0.44 ms | goal < 1 ms: met |
//! | `dry_run/10_nodes_conditional_retry` (9 node transitions incl. one retry) | 6.8–14.7 µs | 0.61–1.33 M transitions/s |
//! | `rollout/assign_10k_ids` | 1.36–2.05 ms | 4.9–7.4 M ids/s |
//!
//! The dry-run goal (≥ 1 M node transitions/s on one core) was met only in the least loaded,
//! pinned run (`taskset -c 1 cargo bench … -- --quick dry_run`: 6.77 µs ≈ 1.33 M/s). A later
//! unpinned `--quick` run on an otherwise idle machine measured validation 0.365 ms, the dry-run
//! 10.95 µs (≈ 0.82 M transitions/s: below the goal) and 10 000 assignments 0.99 ms.

// Non-test code never panics on input: the lints below make that a build error.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo
    )
)]

pub mod api_key;
pub mod documents;
pub mod inflection;
pub mod pagination;
pub mod scopes;
pub mod session;
pub mod tenancy;
pub mod webhooks;
pub mod workflow;
