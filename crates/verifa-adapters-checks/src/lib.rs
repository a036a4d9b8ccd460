//! Verification-policy executors for Verifa: adapters implementing
//! [`verifa_ports::checks::CheckExecutor`] for every policy of the catalogue.
//!
//! - [`registry`]: [`registry::builtin_registry`] wires all 15 policies; [`specs`] holds their
//!   catalogue entries.
//! - Local rules over `verifa-checks-core`: [`age_verification`], [`document_expiration`],
//!   [`id_document_filter`], [`identity_crossref`], [`duplicate_detection`],
//!   [`watchlist_screening`], [`risk_assessment`], [`auto_approve`], [`document_ocr`].
//! - [`vendor`]: the HTTP JSON vendor executor (`docs/vendor-contract.md`).
//! - [`sandbox`]: the reference's magic values for sandbox keys.
//! - [`memory`]: in-memory [`verifa_ports::watchlists::WatchlistRepository`] and
//!   [`verifa_ports::duplicates::DuplicateIndex`] for tests and DB-less setups.

pub mod age_verification;
pub mod auto_approve;
pub mod context;
pub mod countries;
pub mod document_expiration;
pub mod document_ocr;
pub mod duplicate_detection;
pub mod id_document_filter;
pub mod identity_crossref;
pub mod registry;
pub mod risk_assessment;
pub mod sandbox;
pub mod sandbox_simulator;
pub mod specs;
pub mod vendor;
pub mod watchlist_screening;

pub use registry::{BuiltinDeps, builtin_registry, sandbox_hybrid_registry};
pub use sandbox::{SandboxExecutor, sandbox_outcome, sandbox_registry};
pub use sandbox_simulator::SandboxSimulator;
pub use vendor::VendorSettings;
