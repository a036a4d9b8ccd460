//! The policy catalogue as data (CONTRACT §2.3 #7). The domain does not own check executors; the
//! application passes the catalogue in so validation can check policy names and configs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One verification policy as listed by `GET /verification-policies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    /// Policy key, e.g. `document_ocr`.
    pub name: String,
    /// Category, e.g. `Extraction`.
    pub category: String,
    /// Human description.
    pub description: String,
    /// JSON Schema (the subset in `schema`) that a node's `config` must match.
    pub config_schema: Value,
    /// Output field → type name.
    pub outputs: BTreeMap<String, String>,
    /// Inserted automatically by the engine.
    pub auto_injected: bool,
    /// Inputs the policy needs (e.g. `extracted_data.date_of_birth`).
    pub requires: Vec<String>,
}

/// All known policies by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyCatalog {
    /// Policies by name.
    pub policies: BTreeMap<String, PolicySpec>,
}

impl PolicyCatalog {
    /// Builds a catalogue from specs (a later spec with the same name wins).
    pub fn from_specs(specs: impl IntoIterator<Item = PolicySpec>) -> Self {
        Self {
            policies: specs.into_iter().map(|s| (s.name.clone(), s)).collect(),
        }
    }

    /// Looks a policy up by name.
    pub fn get(&self, name: &str) -> Option<&PolicySpec> {
        self.policies.get(name)
    }
}
