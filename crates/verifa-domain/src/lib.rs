//! Pure domain model of Verifa: workflow graphs, validation, the run executor, rollout rules.
//! No IO, no clock, no randomness: time and ids come in as arguments.
//!
//! - [`tenancy`]: organizations and the `live` / `sandbox` environment split.
//! - [`scopes`]: API-key scopes, their defaults and how one scope satisfies another.
//! - [`api_key`]: API-key secrets (format, prefix, environment) and key-object rules.
//! - [`audit`]: the audit trail: actors, events and the per-tenant hash chain that seals them.
//! - [`case`]: manual-review cases: lifecycle, dual review, SLA, events.
//! - [`fields`]: integrators' free-form objects (`metadata`, `custom_fields`): limits, merge.
//! - [`identity`]: identities (one person per `external_ref`), their rules, merges and types.
//! - [`org_user`]: organization users (reviewers, console users), their roles and field rules.
//! - [`inflection`]: response key casing (snake, camel, kebab) that leaves user-data keys alone.
//! - [`pagination`]: the `limit` / `offset` rules shared by every list endpoint.
//! - [`workflow`]: workflow graphs, validation, the run executor, dry-run, diff and rollout.
//!
//! # Performance
//!
//! Measured with
//! `CARGO_TARGET_DIR=/work/target-domain cargo bench -p verifa-domain --bench engine -- --quick`
//! (criterion 0.7 `--quick`, release profile) on an idle 2-core machine; ranges over three runs:
//!
//! | benchmark | time per iteration | rate |
//! |---|---|---|
//! | `validate/200_nodes` (start, 196 policy nodes with config schemas, 3 terminals) | 0.160–0.173 ms | goal < 1 ms: met |
//! | `dry_run/10_nodes_conditional_retry` (9 node transitions incl. one retry) | 4.26–4.66 µs | 1.93–2.11 M transitions/s (goal ≥ 1 M/s: met) |
//! | `rollout/assign_10k_ids` | 0.68–0.71 ms | 14.1–14.7 M ids/s |
//!
//! Instruction counts do not depend on the machine's load: `valgrind --tool=callgrind <bench
//! binary> --bench --profile-time 3 dry_run` counts 49 400 instructions per dry-run (52 100
//! before the executor reused the current-node buffer and one effect buffer per dry-run). About
//! a third of them are glibc's `malloc`/`free`; with mimalloc as the global allocator the same
//! dry-run took 37 400 instructions and 3.06 µs (2.94 M transitions/s) — not adopted, since the
//! goal is met without a C dependency. Earlier figures in this crate's history (10.95 µs) came
//! from a slower, shared machine.

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
pub mod audit;
pub mod case;
pub mod cursor;
pub mod documents;
pub mod fields;
pub mod identity;
pub mod inflection;
pub mod org_user;
pub mod pagination;
pub mod run;
pub mod scopes;
pub mod session;
pub mod settings;
pub mod tenancy;
pub mod webhooks;
pub mod workflow;
