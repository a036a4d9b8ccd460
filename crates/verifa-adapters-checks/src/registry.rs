//! The builtin registry: every policy of the catalogue wired to its executor.
//!
//! [`builtin_registry`] registers the 15 policies of [`crate::specs::POLICIES`]: the local rules,
//! the cached watchlist screening, duplicate detection over a [`DuplicateIndex`], and the HTTP
//! vendor executor for vendor-backed policies (which answer `error` with
//! "no vendor configured for policy '<name>'" when [`BuiltinDeps::vendor`] is `None`).
//! Sandbox keys use [`crate::sandbox::sandbox_registry`] (all simulated) or
//! [`sandbox_hybrid_registry`] (local rules real, vendor-backed policies simulated).

use std::sync::Arc;

use verifa_ports::checks::{CheckExecutor, CheckRegistry};
use verifa_ports::duplicates::DuplicateIndex;
use verifa_ports::watchlists::WatchlistRepository;

use crate::age_verification::AgeVerification;
use crate::auto_approve::AutoApprove;
use crate::document_expiration::DocumentExpiration;
use crate::document_ocr::DocumentOcr;
use crate::duplicate_detection::DuplicateDetection;
use crate::id_document_filter::IdDocumentFilter;
use crate::identity_crossref::IdentityCrossref;
use crate::risk_assessment::RiskAssessment;
use crate::sandbox::SandboxExecutor;
use crate::specs;
use crate::vendor::{VendorClient, VendorExecutor, VendorSettings};
use crate::watchlist_screening::WatchlistScreening;

/// What the builtin executors need from the outside.
#[derive(Clone)]
pub struct BuiltinDeps {
    /// Watchlist entries for `watchlist_screening`.
    pub watchlists: Arc<dyn WatchlistRepository>,
    /// Fingerprint store for `duplicate_detection`.
    pub duplicates: Arc<dyn DuplicateIndex>,
    /// HMAC-SHA256 key for duplicate fingerprints (secret; never logged). Empty → the check
    /// answers `error`.
    pub duplicate_hash_key: Vec<u8>,
    /// The HTTP vendor for vendor-backed policies; `None` → those answer `error`.
    pub vendor: Option<VendorSettings>,
    /// Default `watchlist_screening` threshold (the reference's 0.6).
    pub screening_threshold: f64,
}

impl std::fmt::Debug for BuiltinDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinDeps")
            .field("duplicate_hash_key", &"<redacted>")
            .field("vendor", &self.vendor)
            .field("screening_threshold", &self.screening_threshold)
            .finish_non_exhaustive()
    }
}

/// Executors that need no vendor, plus `document_ocr` (whose `vendor` extractor uses `vendor`).
fn local_executors(
    deps: &BuiltinDeps,
    vendor: Option<Arc<VendorClient>>,
) -> Vec<Arc<dyn CheckExecutor>> {
    vec![
        Arc::new(AgeVerification),
        Arc::new(DocumentExpiration),
        Arc::new(IdDocumentFilter),
        Arc::new(IdentityCrossref),
        Arc::new(DuplicateDetection::new(
            deps.duplicates.clone(),
            deps.duplicate_hash_key.clone(),
        )),
        Arc::new(WatchlistScreening::new(
            deps.watchlists.clone(),
            deps.screening_threshold,
        )),
        Arc::new(RiskAssessment),
        Arc::new(AutoApprove),
        Arc::new(DocumentOcr::new(vendor)),
    ]
}

/// Every built-in policy with its real executor.
pub fn builtin_registry(deps: BuiltinDeps) -> CheckRegistry {
    let vendor = deps.vendor.clone().map(|s| Arc::new(VendorClient::new(s)));
    let mut registry = CheckRegistry::new();
    for executor in local_executors(&deps, vendor.clone()) {
        registry.register(executor);
    }
    for policy in specs::VENDOR_POLICIES {
        if let Some(spec) = specs::by_name(policy) {
            registry.register(Arc::new(VendorExecutor::new(spec, vendor.clone())));
        }
    }
    registry
}

/// For sandbox keys when the local rules should run for real: the local executors as in
/// [`builtin_registry`], while `document_ocr` and the vendor-backed policies return the sandbox
/// magic values (Jane Doe, 1997-06-15, face_match_score 0.95, …).
pub fn sandbox_hybrid_registry(deps: BuiltinDeps) -> CheckRegistry {
    let mut registry = CheckRegistry::new();
    for executor in local_executors(&deps, None) {
        registry.register(executor);
    }
    for policy in specs::VENDOR_POLICIES.iter().chain(["document_ocr"].iter()) {
        if let Some(executor) = SandboxExecutor::new(policy) {
            registry.register(Arc::new(executor));
        }
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In-memory stores (empty watchlists), no vendor, threshold 0.6.
    fn in_memory(duplicate_hash_key: Vec<u8>) -> BuiltinDeps {
        BuiltinDeps {
            watchlists: Arc::new(verifa_fakes::InMemoryWatchlistRepository::new()),
            duplicates: Arc::new(verifa_fakes::InMemoryDuplicateIndex::new()),
            duplicate_hash_key,
            vendor: None,
            screening_threshold: verifa_checks_core::screening::DEFAULT_THRESHOLD,
        }
    }
    use serde_json::json;
    use verifa_domain::workflow::schema;

    fn registries() -> Vec<CheckRegistry> {
        vec![
            builtin_registry(in_memory(b"key".to_vec())),
            sandbox_hybrid_registry(in_memory(b"key".to_vec())),
            crate::sandbox::sandbox_registry(),
        ]
    }

    #[test]
    fn catalogue_lists_all_15_policies_with_identical_specs() {
        let builtin = builtin_registry(in_memory(b"key".to_vec())).catalog();
        assert_eq!(builtin.policies.len(), 15);
        let names: Vec<&str> = builtin.policies.keys().map(String::as_str).collect();
        assert_eq!(names, specs::POLICIES.to_vec());
        for registry in registries() {
            assert_eq!(registry.catalog(), builtin);
        }
    }

    #[test]
    fn every_schema_accepts_defaults_and_rejects_unknown_keys() {
        for (name, spec) in builtin_registry(in_memory(b"k".to_vec()))
            .catalog()
            .policies
        {
            assert_eq!(spec.name, name);
            assert_eq!(spec.config_schema["type"], "object", "{name}");
            assert_eq!(spec.config_schema["additionalProperties"], false, "{name}");
            assert!(spec.config_schema["properties"].is_object(), "{name}");
            assert!(
                schema::check(&spec.config_schema, &json!({}), "config").is_empty(),
                "{name}"
            );
            assert!(
                !schema::check(&spec.config_schema, &json!({"nope": 1}), "config").is_empty(),
                "{name}"
            );
            assert_eq!(
                spec.outputs.get("passed").map(String::as_str),
                Some("boolean"),
                "{name}"
            );
            assert!(!spec.requires.is_empty(), "{name}");
            assert!(!spec.category.is_empty() && !spec.description.is_empty());
            let auto = matches!(name.as_str(), "watchlist_screening" | "risk_assessment");
            assert_eq!(spec.auto_injected, auto, "{name}");
        }
    }

    #[test]
    fn schemas_enforce_ranges_and_enums() {
        let cat = builtin_registry(in_memory(b"k".to_vec())).catalog();
        let bad = [
            ("age_verification", json!({"minimum_age": 151})),
            ("age_verification", json!({"minimum_age": -1})),
            ("document_expiration", json!({"grace_days": 3651})),
            ("identity_crossref", json!({"threshold": 1.5})),
            ("identity_crossref", json!({"fields": ["shoe_size"]})),
            ("duplicate_detection", json!({"attributes": []})),
            ("watchlist_screening", json!({"threshold": -0.1})),
            (
                "risk_assessment",
                json!({"actions": {"vpn_detected": "panic"}}),
            ),
            ("risk_assessment", json!({"weights": {"vpn_detected": 101}})),
            ("auto_approve", json!({"max_risk_level": "high"})),
            ("document_ocr", json!({"extractor": "tesseract"})),
            ("id_document_filter", json!({"allowed": {"US": "passport"}})),
            ("face_match", json!({"security_level": "lax"})),
        ];
        for (policy, config) in bad {
            let spec = cat.get(policy).unwrap();
            assert!(
                !schema::check(&spec.config_schema, &config, "c").is_empty(),
                "{policy} {config}"
            );
        }
        let good = [
            ("age_verification", json!({"minimum_age": 21})),
            (
                "id_document_filter",
                json!({"allowed": {"US": ["passport", "drivers_license"]}}),
            ),
            (
                "risk_assessment",
                json!({"actions": {"vpn_detected": "ignore"}, "weights": {"devtools_open": 5}}),
            ),
            (
                "identity_crossref",
                json!({"threshold": 0.9, "fields": ["full_name"]}),
            ),
        ];
        for (policy, config) in good {
            let spec = cat.get(policy).unwrap();
            assert!(
                schema::check(&spec.config_schema, &config, "c").is_empty(),
                "{policy} {config}"
            );
        }
    }
}
