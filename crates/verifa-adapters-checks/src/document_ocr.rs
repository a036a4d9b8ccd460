//! `document_ocr`: extraction of the document data.
//!
//! `extractor: mrz` (default) reads ICAO 9303 MRZ text from `session.fields.mrz`, else from the
//! `text` of the session's `id_back`, `id_front`, `passport` documents (in that order; the
//! first that parses wins), parses it with [`verifa_checks_core::mrz`] (`request.today` drives
//! the century inference) and outputs `extracted_data` (plus `full_name`), `mrz_valid`,
//! `mrz_format`, `check_digits` and `document_type`. Every check digit must match, otherwise the
//! check `failed` naming the first failing field. No MRZ text → `skipped`; text that is not an
//! MRZ → `error` with the parser's reason.
//!
//! `extractor: vendor` delegates to the vendor executor (`POST {base_url}/checks/document_ocr`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use verifa_checks_core::mrz::{self, Mrz, MrzError};
use verifa_domain::workflow::{CheckStatus, PolicySpec};
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

use crate::context::{bad_config, config_enum, fields, text};
use crate::specs;
use crate::vendor::{VendorClient, no_vendor};

/// Document types whose text may carry the MRZ, in lookup order.
const MRZ_DOCUMENTS: [&str; 3] = ["id_back", "id_front", "passport"];

/// The `document_ocr` executor.
pub struct DocumentOcr {
    vendor: Option<Arc<VendorClient>>,
}

impl std::fmt::Debug for DocumentOcr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentOcr")
            .field("vendor", &self.vendor.is_some())
            .finish()
    }
}

impl DocumentOcr {
    /// `vendor` serves `extractor: vendor`.
    pub fn new(vendor: Option<Arc<VendorClient>>) -> Self {
        Self { vendor }
    }
}

/// Candidate MRZ texts from the request, in priority order.
fn candidates(request: &CheckRequest) -> Vec<String> {
    let mut out: Vec<String> = text(fields(request), "mrz").into_iter().collect();
    for ty in MRZ_DOCUMENTS {
        out.extend(
            request
                .documents
                .iter()
                .filter(|d| d.document_type == ty)
                .filter_map(|d| d.text.as_deref())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        );
    }
    out
}

/// The outcome for a parsed zone.
pub fn outcome_for(mrz: &Mrz) -> CheckOutcome {
    let mut data = mrz.extracted_data();
    let full = [mrz.given_names.as_str(), mrz.surname.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if !full.is_empty() {
        data.insert("full_name".to_owned(), Value::String(full));
    }
    let digits: Vec<Value> = mrz
        .check_digits
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    let output = json!({
        "extracted_data": data,
        "mrz_valid": mrz.valid,
        "mrz_format": mrz.format.as_str(),
        "check_digits": digits,
        "document_type": mrz.document_kind.as_str(),
        "passed": mrz.valid,
    });
    match mrz.first_failed_check() {
        None if mrz.valid => CheckOutcome::decided(true, output),
        failed => CheckOutcome {
            status: CheckStatus::Failed,
            output,
            error: Some(
                match failed.and_then(|c| serde_json::to_value(c.field).ok()) {
                    Some(Value::String(field)) => {
                        format!("MRZ check digit for {field} does not match")
                    }
                    _ => "MRZ check digits do not match".to_owned(),
                },
            ),
        },
    }
}

/// Parses the first candidate that is an MRZ.
pub fn extract_mrz(texts: &[String], today: chrono::NaiveDate) -> CheckOutcome {
    let mut first_error: Option<MrzError> = None;
    for t in texts {
        match mrz::parse(t, today) {
            Ok(m) => return outcome_for(&m),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => CheckOutcome::error(format!("MRZ could not be read: {e}")),
        None => CheckOutcome::skipped("no MRZ text (fields.mrz or id_front/id_back document text)"),
    }
}

#[async_trait]
impl CheckExecutor for DocumentOcr {
    fn spec(&self) -> PolicySpec {
        specs::document_ocr()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        match config_enum(&request.config, "extractor", "mrz", &["mrz", "vendor"]) {
            Ok("vendor") => match &self.vendor {
                Some(v) => v.call(request, "document_ocr").await,
                None => no_vendor("document_ocr"),
            },
            Ok(_) => extract_mrz(&candidates(request), request.today),
            Err(e) => bad_config(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::{d, doc, request};

    const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    async fn run(context: Value, docs: Vec<verifa_ports::checks::DocumentRef>) -> CheckOutcome {
        let mut r = request("document_ocr", json!({}), context);
        r.documents = docs;
        r.today = d(2010, 1, 1);
        DocumentOcr::new(None).execute(&r).await
    }

    #[tokio::test]
    async fn specimen_td3_passes() {
        let r = run(json!({"session": {"fields": {"mrz": TD3}}}), vec![]).await;
        assert_eq!(r.status, CheckStatus::Passed, "{:?}", r.error);
        assert_eq!(r.output["mrz_valid"], true);
        assert_eq!(r.output["mrz_format"], "td3");
        assert_eq!(r.output["document_type"], "passport");
        let data = &r.output["extracted_data"];
        assert_eq!(data["first_name"], "ANNA MARIA");
        assert_eq!(data["last_name"], "ERIKSSON");
        assert_eq!(data["full_name"], "ANNA MARIA ERIKSSON");
        assert_eq!(data["date_of_birth"], "1974-08-12");
        assert_eq!(data["document_expiration_date"], "2012-04-15");
        assert_eq!(data["document_number"], "L898902C3");
        assert_eq!(data["nationality"], "UTO");
        assert!(
            r.output["check_digits"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["valid"] == true)
        );
    }

    #[tokio::test]
    async fn flipped_check_digit_fails() {
        // Document-number check digit 6 → 7.
        let bad = TD3.replace("L898902C36", "L898902C37");
        let r = run(json!({"session": {"fields": {"mrz": bad}}}), vec![]).await;
        assert_eq!(r.status, CheckStatus::Failed);
        assert_eq!(r.output["mrz_valid"], false);
        assert_eq!(r.output["passed"], false);
        assert_eq!(
            r.error.as_deref(),
            Some("MRZ check digit for document_number does not match")
        );
    }

    #[tokio::test]
    async fn reads_document_text_and_reports_missing_or_garbage() {
        let r = run(
            json!({}),
            vec![
                doc("doc_1", "selfie", Some(TD3)),
                doc("doc_2", "id_front", Some(TD3)),
            ],
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed);
        let r = run(
            json!({}),
            vec![
                doc("doc_1", "selfie", Some(TD3)),
                doc("doc_2", "id_front", None),
            ],
        )
        .await;
        assert_eq!(r.status, CheckStatus::Skipped);
        let r = run(
            json!({"session": {"fields": {"mrz": "hello world"}}}),
            vec![],
        )
        .await;
        assert_eq!(r.status, CheckStatus::Error);
        assert!(r.error.unwrap().starts_with("MRZ could not be read"));
        // A garbage field value does not hide a good document text.
        let r = run(
            json!({"session": {"fields": {"mrz": "hello"}}}),
            vec![doc("d", "id_back", Some(TD3))],
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed);
    }

    #[tokio::test]
    async fn vendor_extractor_without_vendor_errors() {
        let r = DocumentOcr::new(None)
            .execute(&request(
                "document_ocr",
                json!({"extractor": "vendor"}),
                json!({}),
            ))
            .await;
        assert_eq!(r.status, CheckStatus::Error);
        assert_eq!(
            r.error.as_deref(),
            Some("no vendor configured for policy 'document_ocr'")
        );
    }
}
