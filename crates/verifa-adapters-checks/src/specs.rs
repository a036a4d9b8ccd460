//! The catalogue entries (`PolicySpec`) of every built-in policy: name, category, description,
//! config JSON Schema (the subset `verifa_domain::workflow::schema` checks), outputs and required
//! inputs. The builtin and sandbox registries share these, so both list the same catalogue.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use verifa_domain::workflow::PolicySpec;

/// Every built-in policy name, in catalogue (alphabetical) order.
pub const POLICIES: [&str; 15] = [
    "age_verification",
    "aml_screening",
    "auto_approve",
    "document_expiration",
    "document_ocr",
    "duplicate_detection",
    "email_risk_enhanced",
    "face_match",
    "id_document_filter",
    "identity_crossref",
    "nfc_chip_auth",
    "phone_risk_enhanced",
    "proof_of_address_check",
    "risk_assessment",
    "watchlist_screening",
];

/// Policies executed by the HTTP vendor executor (and simulated in sandbox).
pub const VENDOR_POLICIES: [&str; 6] = [
    "face_match",
    "nfc_chip_auth",
    "aml_screening",
    "email_risk_enhanced",
    "phone_risk_enhanced",
    "proof_of_address_check",
];

/// Duplicate-detection attributes, in the default order.
pub const DUPLICATE_ATTRIBUTES: [&str; 4] = ["document_number", "email", "phone", "name_dob"];

/// Fields `identity_crossref` can compare.
pub const CROSSREF_FIELDS: [&str; 6] = [
    "first_name",
    "last_name",
    "full_name",
    "date_of_birth",
    "document_number",
    "nationality",
];

/// The spec of a built-in policy by name.
pub fn by_name(name: &str) -> Option<PolicySpec> {
    Some(match name {
        "age_verification" => age_verification(),
        "aml_screening" => aml_screening(),
        "auto_approve" => auto_approve(),
        "document_expiration" => document_expiration(),
        "document_ocr" => document_ocr(),
        "duplicate_detection" => duplicate_detection(),
        "email_risk_enhanced" => email_risk_enhanced(),
        "face_match" => face_match(),
        "id_document_filter" => id_document_filter(),
        "identity_crossref" => identity_crossref(),
        "nfc_chip_auth" => nfc_chip_auth(),
        "phone_risk_enhanced" => phone_risk_enhanced(),
        "proof_of_address_check" => proof_of_address_check(),
        "risk_assessment" => risk_assessment(),
        "watchlist_screening" => watchlist_screening(),
        _ => return None,
    })
}

/// Every built-in spec.
pub fn all() -> Vec<PolicySpec> {
    POLICIES.iter().filter_map(|p| by_name(p)).collect()
}

struct Spec {
    name: &'static str,
    category: &'static str,
    description: &'static str,
    properties: Value,
    outputs: &'static [(&'static str, &'static str)],
    auto_injected: bool,
    requires: &'static [&'static str],
}

impl Spec {
    fn build(self) -> PolicySpec {
        PolicySpec {
            name: self.name.to_owned(),
            category: self.category.to_owned(),
            description: self.description.to_owned(),
            config_schema: json!({
                "type": "object",
                "properties": self.properties,
                "additionalProperties": false,
            }),
            outputs: self
                .outputs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            auto_injected: self.auto_injected,
            requires: self.requires.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

fn unit_interval(default: f64, description: &str) -> Value {
    json!({"type": "number", "minimum": 0.0, "maximum": 1.0, "default": default, "description": description})
}

fn risk_level_outputs() -> &'static [(&'static str, &'static str)] {
    &[
        ("risk_score", "integer"),
        ("risk_level", "string"),
        ("passed", "boolean"),
    ]
}

/// `age_verification`.
pub fn age_verification() -> PolicySpec {
    Spec {
        name: "age_verification",
        category: "Age",
        description: "Computes the age from the extracted date of birth on the run's date and passes when it is at least minimum_age.",
        properties: json!({
            "minimum_age": {"type": "integer", "minimum": 0, "maximum": 150, "default": 18,
                            "description": "Minimum age in whole years (e.g. 18, 21, 25)."}
        }),
        outputs: &[
            ("age", "integer"),
            ("minimum_age", "integer"),
            ("age_check_passed", "boolean"),
            ("extracted_age", "integer"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &["extracted_data.date_of_birth"],
    }
    .build()
}

/// `document_expiration`.
pub fn document_expiration() -> PolicySpec {
    Spec {
        name: "document_expiration",
        category: "Document evaluation",
        description: "Rejects expired documents; a document expiring today is still valid, and grace_days accepts recently expired ones.",
        properties: json!({
            "grace_days": {"type": "integer", "minimum": 0, "maximum": 3650, "default": 0,
                           "description": "Days after expiry during which the document is still accepted."}
        }),
        outputs: &[
            ("expiration_date", "string"),
            ("days_until_expiry", "integer"),
            ("expired", "boolean"),
            ("within_grace", "boolean"),
            ("grace_days", "integer"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &["extracted_data.document_expiration_date"],
    }
    .build()
}

fn country_matrix(description: &str) -> Value {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": {
            "type": "array",
            "maxItems": 64,
            "items": {"type": "string", "minLength": 1, "maxLength": 64}
        }
    })
}

/// `id_document_filter`.
pub fn id_document_filter() -> PolicySpec {
    Spec {
        name: "id_document_filter",
        category: "Document evaluation",
        description: "Country × document-type allow/reject matrix. Keys are ISO 3166 alpha-2 or alpha-3 codes (or \"*\" for any country); values list document types (passport, drivers_license, national_id, residence_permit, visa, or \"*\" for any).",
        properties: json!({
            "allowed": country_matrix("Only these country/document-type pairs pass."),
            "rejected": country_matrix("These country/document-type pairs fail."),
        }),
        outputs: &[
            ("country", "string"),
            ("document_type", "string"),
            ("allowed", "boolean"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &[
            "extracted_data.document_issuing_state",
            "extracted_data.document_type",
        ],
    }
    .build()
}

/// `identity_crossref`.
pub fn identity_crossref() -> PolicySpec {
    Spec {
        name: "identity_crossref",
        category: "Identity",
        description: "Compares user-submitted fields with the extracted document data: names normalised (case, accents, transliteration) and fuzzy-matched against threshold, dates and numbers exactly.",
        properties: json!({
            "threshold": unit_interval(0.85, "Minimum name similarity (Jaro-Winkler over normalised names)."),
            "fields": {"type": "array", "minItems": 1, "maxItems": 6,
                       "items": {"type": "string", "enum": CROSSREF_FIELDS},
                       "default": ["first_name", "last_name", "date_of_birth"]}
        }),
        outputs: &[
            ("fields", "object"),
            ("compared", "integer"),
            ("mismatches", "array"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &["fields", "extracted_data"],
    }
    .build()
}

/// `duplicate_detection`.
pub fn duplicate_detection() -> PolicySpec {
    Spec {
        name: "duplicate_detection",
        category: "Fraud",
        description: "Finds the organization's other sessions (same environment) sharing a document number, email, phone or name+date of birth, compared as keyed hashes, never plaintext.",
        properties: json!({
            "attributes": {"type": "array", "minItems": 1, "maxItems": 4,
                           "items": {"type": "string", "enum": DUPLICATE_ATTRIBUTES},
                           "default": DUPLICATE_ATTRIBUTES}
        }),
        outputs: &[
            ("matches", "array"),
            ("match_count", "integer"),
            ("attributes_checked", "array"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &[
            "extracted_data.document_number",
            "extracted_data.date_of_birth",
            "fields.email",
            "fields.phone",
        ],
    }
    .build()
}

/// `watchlist_screening`.
pub fn watchlist_screening() -> PolicySpec {
    Spec {
        name: "watchlist_screening",
        category: "Screening",
        description: "Screens the extracted full name (with date of birth) against the basic watchlists (OFAC SDN, EU, UN, UK HMT) by trigram similarity.",
        properties: json!({
            "threshold": unit_interval(0.6, "Minimum score for a hit.")
        }),
        outputs: &[
            ("hits", "array"),
            ("hit_count", "integer"),
            ("threshold", "number"),
            ("passed", "boolean"),
        ],
        auto_injected: true,
        requires: &["extracted_data.first_name", "extracted_data.last_name"],
    }
    .build()
}

/// `risk_assessment`.
pub fn risk_assessment() -> PolicySpec {
    Spec {
        name: "risk_assessment",
        category: "Fraud",
        description: "Weighs fraud signals (capture-side behavioural/device signals and results of earlier checks) into a 0-100 risk score and level (low 0-20, medium 21-50, high 51-80, critical 81-100); block-action signals force critical.",
        properties: json!({
            "actions": {"type": "object",
                        "additionalProperties": {"type": "string", "enum": ["block", "flag", "ignore"]},
                        "description": "Per-signal action overrides."},
            "weights": {"type": "object",
                        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 100},
                        "description": "Per-signal weight overrides."}
        }),
        outputs: &[
            ("risk_score", "integer"),
            ("risk_level", "string"),
            ("signals", "array"),
            ("blocked", "boolean"),
            ("passed", "boolean"),
        ],
        auto_injected: true,
        requires: &["checks", "session.metadata.signals"],
    }
    .build()
}

/// `auto_approve`.
pub fn auto_approve() -> PolicySpec {
    Spec {
        name: "auto_approve",
        category: "Decision",
        description: "Passes when no earlier check failed or errored and the risk level is at most max_risk_level.",
        properties: json!({
            "max_risk_level": {"type": "string", "enum": ["low", "medium"], "default": "medium"}
        }),
        outputs: &[("reasons", "array"), ("passed", "boolean")],
        auto_injected: false,
        requires: &["checks"],
    }
    .build()
}

/// `document_ocr`.
pub fn document_ocr() -> PolicySpec {
    Spec {
        name: "document_ocr",
        category: "Extraction",
        description: "Extracts document data. mrz: parses ICAO 9303 TD1/TD2/TD3 MRZ text (fields.mrz or the text sent with id_front/id_back) and validates every check digit; vendor: delegates to the configured OCR vendor.",
        properties: json!({
            "extractor": {"type": "string", "enum": ["mrz", "vendor"], "default": "mrz"}
        }),
        outputs: &[
            ("extracted_data", "object"),
            ("mrz_valid", "boolean"),
            ("mrz_format", "string"),
            ("check_digits", "array"),
            ("document_type", "string"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &["documents.id_front", "fields.mrz"],
    }
    .build()
}

/// `face_match` (vendor).
pub fn face_match() -> PolicySpec {
    Spec {
        name: "face_match",
        category: "Biometric",
        description: "Compares the selfie with the document portrait (vendor). Security levels: standard (0.35), strict (0.50), very_strict (0.60).",
        properties: json!({
            "security_level": {"type": "string", "enum": ["standard", "strict", "very_strict"], "default": "standard"},
            "threshold": {"type": "number", "minimum": 0.0, "maximum": 1.0,
                          "description": "Overrides the security level's threshold."},
            "require_liveness": {"type": "boolean", "default": false}
        }),
        outputs: &[
            ("face_match_score", "number"),
            ("threshold", "number"),
            ("liveness_passed", "boolean"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &["documents.selfie", "documents.id_front"],
    }
    .build()
}

/// `nfc_chip_auth` (vendor).
pub fn nfc_chip_auth() -> PolicySpec {
    Spec {
        name: "nfc_chip_auth",
        category: "Biometric",
        description: "Reads the e-passport chip (vendor): passive and active authentication, chip data vs OCR, chip photo vs selfie.",
        properties: json!({
            "require_active_authentication": {"type": "boolean", "default": false},
            "compare_face": {"type": "boolean", "default": true}
        }),
        outputs: &[
            ("passive_authentication", "boolean"),
            ("active_authentication", "boolean"),
            ("chip_data_matches", "boolean"),
            ("chip_face_match_score", "number"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &["documents.nfc_chip", "extracted_data"],
    }
    .build()
}

/// `aml_screening` (vendor).
pub fn aml_screening() -> PolicySpec {
    Spec {
        name: "aml_screening",
        category: "Screening",
        description: "Enhanced AML screening (vendor): sanctions, PEP, adverse media and warnings, using the extracted name, date of birth and nationality.",
        properties: json!({
            "check_types": {"type": "array", "minItems": 1, "maxItems": 4,
                            "items": {"type": "string", "enum": ["sanction", "pep", "adverse_media", "warning"]},
                            "default": ["sanction", "pep"]},
            "threshold": {"type": "number", "minimum": 0.0, "maximum": 1.0},
            "monitoring": {"type": "boolean", "default": false}
        }),
        outputs: &[
            ("hits", "array"),
            ("hit_count", "integer"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &[
            "extracted_data.first_name",
            "extracted_data.last_name",
            "extracted_data.date_of_birth",
            "extracted_data.nationality",
        ],
    }
    .build()
}

fn max_risk_score() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 100, "default": 75,
           "description": "Highest vendor risk score that still passes."})
}

/// `email_risk_enhanced` (vendor).
pub fn email_risk_enhanced() -> PolicySpec {
    Spec {
        name: "email_risk_enhanced",
        category: "Enhanced risk",
        description: "Email reputation and risk (vendor).",
        properties: json!({"max_risk_score": max_risk_score()}),
        outputs: risk_level_outputs(),
        auto_injected: false,
        requires: &["fields.email"],
    }
    .build()
}

/// `phone_risk_enhanced` (vendor).
pub fn phone_risk_enhanced() -> PolicySpec {
    Spec {
        name: "phone_risk_enhanced",
        category: "Enhanced risk",
        description: "Phone number reputation, line type and risk (vendor).",
        properties: json!({"max_risk_score": max_risk_score()}),
        outputs: risk_level_outputs(),
        auto_injected: false,
        requires: &["fields.phone"],
    }
    .build()
}

/// `proof_of_address_check` (vendor).
pub fn proof_of_address_check() -> PolicySpec {
    Spec {
        name: "proof_of_address_check",
        category: "Document evaluation",
        description: "Validates a proof-of-address document (vendor): recency, name match and address.",
        properties: json!({
            "max_document_age_days": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 90},
            "require_name_match": {"type": "boolean", "default": true}
        }),
        outputs: &[
            ("address_verified", "boolean"),
            ("name_match", "boolean"),
            ("document_date", "string"),
            ("passed", "boolean"),
        ],
        auto_injected: false,
        requires: &["documents.proof_of_address"],
    }
    .build()
}
