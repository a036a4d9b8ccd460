//! The HTTP vendor executor for vendor-backed policies (`face_match`, `nfc_chip_auth`,
//! `aml_screening`, `email_risk_enhanced`, `phone_risk_enhanced`, `proof_of_address_check`, and
//! `document_ocr` with `extractor: vendor`). The wire contract is in `docs/vendor-contract.md`:
//!
//! `POST {base_url}/checks/{policy}` with `Authorization: Bearer <api_key>`,
//! `Idempotency-Key: <check_id>` and body `{policy, config, session_id, check_id, attempt,
//! context, documents: [{id, document_type, mime_type}]}`, where `check_id` is
//! `<run_id>:<node_id>:<attempt>`. The answer is `{status, output?, error?}` with `status` one of
//! `passed | failed | error | skipped | requires_retry`.
//!
//! Timeouts, connection failures, HTTP 408/429 and 5xx → `requires_retry`; other non-2xx,
//! malformed or oversized (> 1 MiB) answers → `error`; no vendor configured → `error` with
//! "no vendor configured for policy '<name>'". The API key is never logged or echoed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verifa_domain::workflow::{CheckStatus, PolicySpec};
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

/// Largest accepted response body.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Where and how to reach the vendor.
#[derive(Clone)]
pub struct VendorSettings {
    /// e.g. `https://vendor.example/v1` (no trailing slash needed).
    pub base_url: String,
    /// Secret bearer token; never logged.
    pub api_key: String,
    /// Whole-request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for VendorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A configured vendor endpoint with its HTTP client (shared by all vendor-backed executors).
pub struct VendorClient {
    settings: VendorSettings,
    http: Result<reqwest::Client, String>,
}

impl std::fmt::Debug for VendorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The "no vendor" outcome.
pub fn no_vendor(policy: &str) -> CheckOutcome {
    CheckOutcome::error(format!("no vendor configured for policy '{policy}'"))
}

/// The JSON body sent to the vendor.
pub fn request_body(request: &CheckRequest, policy: &str) -> Value {
    let documents: Vec<Value> = request
        .documents
        .iter()
        .map(|d| json!({"id": d.id, "document_type": d.document_type, "mime_type": d.mime_type}))
        .collect();
    json!({
        "policy": policy,
        "config": request.config,
        "session_id": request.session_id,
        "check_id": check_id(request),
        "attempt": request.attempt,
        "context": request.context,
        "documents": documents,
    })
}

/// `<run_id>:<node_id>:<attempt>`: stable across retries of one attempt, distinct per attempt.
pub fn check_id(request: &CheckRequest) -> String {
    format!("{}:{}:{}", request.run_id, request.node_id, request.attempt)
}

/// Maps a 2xx vendor body onto an outcome (`error` when malformed).
pub fn parse_response(body: &[u8]) -> CheckOutcome {
    let malformed =
        |why: &str| CheckOutcome::error(format!("vendor returned a malformed response: {why}"));
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return malformed("not a JSON object");
    };
    let status = match obj.get("status").and_then(Value::as_str) {
        Some("passed") => CheckStatus::Passed,
        Some("failed") => CheckStatus::Failed,
        Some("error") => CheckStatus::Error,
        Some("skipped") => CheckStatus::Skipped,
        Some("requires_retry") => CheckStatus::RequiresRetry,
        _ => return malformed("status must be passed, failed, error, skipped or requires_retry"),
    };
    let mut output = match obj.remove("output") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => return malformed("output must be an object"),
    };
    let error = match obj.remove("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.chars().take(1000).collect::<String>()),
        Some(_) => return malformed("error must be a string"),
    };
    match status {
        CheckStatus::Passed | CheckStatus::Failed => {
            output.insert(
                "passed".to_owned(),
                Value::Bool(status == CheckStatus::Passed),
            );
        }
        _ => {}
    }
    let error = match status {
        CheckStatus::Passed | CheckStatus::Failed => error,
        other => Some(
            error.unwrap_or_else(|| format!("vendor reported {} without detail", other.as_str())),
        ),
    };
    CheckOutcome {
        status,
        output: Value::Object(output),
        error,
    }
}

impl VendorClient {
    /// A client for `settings` (the HTTP client is built once).
    pub fn new(settings: VendorSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("verifa/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string());
        Self { settings, http }
    }

    /// Runs `policy` for `request` at the vendor.
    pub async fn call(&self, request: &CheckRequest, policy: &str) -> CheckOutcome {
        let http = match &self.http {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(policy, error = %e, "vendor HTTP client unavailable");
                return CheckOutcome::error("vendor HTTP client could not be created");
            }
        };
        let url = format!(
            "{}/checks/{policy}",
            self.settings.base_url.trim_end_matches('/')
        );
        let sent = http
            .post(&url)
            .bearer_auth(&self.settings.api_key)
            .header("Idempotency-Key", check_id(request))
            .json(&request_body(request, policy))
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) if e.is_builder() => {
                tracing::error!(policy, "invalid vendor URL");
                return CheckOutcome::error("vendor URL is invalid");
            }
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timed out"
                } else {
                    "could not be reached"
                };
                tracing::warn!(policy, kind, "vendor call failed");
                return CheckOutcome::retry(format!("vendor {kind}"));
            }
        };
        let code = response.status();
        if code.as_u16() == 429 || code.as_u16() == 408 || code.is_server_error() {
            tracing::warn!(policy, status = code.as_u16(), "vendor transient failure");
            return CheckOutcome::retry(format!("vendor answered HTTP {}", code.as_u16()));
        }
        if !code.is_success() {
            tracing::warn!(policy, status = code.as_u16(), "vendor refused the request");
            return CheckOutcome::error(format!(
                "vendor refused the request (HTTP {})",
                code.as_u16()
            ));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len().saturating_add(chunk.len()) > MAX_RESPONSE_BYTES {
                        return CheckOutcome::error("vendor response is too large");
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let kind = if e.is_timeout() {
                        "timed out"
                    } else {
                        "connection failed"
                    };
                    tracing::warn!(policy, kind, "vendor response read failed");
                    return CheckOutcome::retry(format!("vendor {kind} while answering"));
                }
            }
        }
        let outcome = parse_response(&body);
        if outcome.status == CheckStatus::Error {
            tracing::warn!(policy, "vendor answered error or malformed response");
        }
        outcome
    }
}

/// The executor of one vendor-backed policy.
pub struct VendorExecutor {
    spec: PolicySpec,
    client: Option<Arc<VendorClient>>,
}

impl std::fmt::Debug for VendorExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorExecutor")
            .field("policy", &self.spec.name)
            .finish_non_exhaustive()
    }
}

impl VendorExecutor {
    /// Executes `spec.name` at `client` (`None` → every run answers `error`).
    pub fn new(spec: PolicySpec, client: Option<Arc<VendorClient>>) -> Self {
        Self { spec, client }
    }
}

#[async_trait]
impl CheckExecutor for VendorExecutor {
    fn spec(&self) -> PolicySpec {
        self.spec.clone()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        match &self.client {
            Some(c) => c.call(request, &self.spec.name).await,
            None => no_vendor(&self.spec.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::{doc, request};
    use crate::specs;
    use axum::Router;
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use std::sync::Mutex;

    type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>, Value)>>>;

    async fn stub() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let s = seen.clone();
        let app = Router::new().route(
            "/v1/checks/{policy}",
            post(
                move |Path(policy): Path<String>, headers: HeaderMap, body: String| {
                    let s = s.clone();
                    async move {
                        let h = |k: &str| {
                            headers
                                .get(k)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        };
                        let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                        s.lock()
                            .unwrap()
                            .push((h("authorization"), h("idempotency-key"), body));
                        match policy.as_str() {
                            "face_match" => (
                                StatusCode::OK,
                                r#"{"status":"passed","output":{"face_match_score":0.91}}"#
                                    .to_owned(),
                            ),
                            "aml_screening" => (StatusCode::SERVICE_UNAVAILABLE, "busy".to_owned()),
                            "phone_risk_enhanced" => (StatusCode::TOO_MANY_REQUESTS, String::new()),
                            "email_risk_enhanced" => {
                                (StatusCode::OK, "<html>not json</html>".to_owned())
                            }
                            "proof_of_address_check" => (StatusCode::BAD_REQUEST, "{}".to_owned()),
                            "nfc_chip_auth" => {
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                (StatusCode::OK, r#"{"status":"passed"}"#.to_owned())
                            }
                            _ => (StatusCode::NOT_FOUND, String::new()),
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}/v1/"), seen)
    }

    fn executor(base_url: &str, policy: &str) -> VendorExecutor {
        let client = VendorClient::new(VendorSettings {
            base_url: base_url.to_owned(),
            api_key: "test-key".into(),
            timeout: Duration::from_millis(400),
        });
        VendorExecutor::new(specs::by_name(policy).unwrap(), Some(Arc::new(client)))
    }

    fn req(policy: &str) -> CheckRequest {
        let mut r = request(
            policy,
            json!({"security_level": "strict"}),
            json!({"extracted_data": {"first_name": "Jane"}}),
        );
        r.attempt = 2;
        r.documents = vec![doc("doc_1", "selfie", Some("secret text"))];
        r
    }

    #[tokio::test]
    async fn vendor_contract_end_to_end() {
        let (base, seen) = stub().await;

        let ok = executor(&base, "face_match")
            .execute(&req("face_match"))
            .await;
        assert_eq!(ok.status, CheckStatus::Passed, "{:?}", ok.error);
        assert_eq!(ok.output, json!({"face_match_score": 0.91, "passed": true}));
        {
            let seen = seen.lock().unwrap();
            let (auth, idem, body) = seen.last().unwrap();
            assert_eq!(auth.as_deref(), Some("Bearer test-key"));
            assert_eq!(idem.as_deref(), Some("wfr_1:node:2"));
            assert_eq!(
                body,
                &json!({
                    "policy": "face_match",
                    "config": {"security_level": "strict"},
                    "session_id": "ses_1",
                    "check_id": "wfr_1:node:2",
                    "attempt": 2,
                    "context": {"extracted_data": {"first_name": "Jane"}},
                    "documents": [{"id": "doc_1", "document_type": "selfie", "mime_type": "image/jpeg"}],
                })
            );
        }

        let r = executor(&base, "aml_screening")
            .execute(&req("aml_screening"))
            .await;
        assert_eq!(r.status, CheckStatus::RequiresRetry);
        assert_eq!(r.error.as_deref(), Some("vendor answered HTTP 503"));
        let r = executor(&base, "phone_risk_enhanced")
            .execute(&req("phone_risk_enhanced"))
            .await;
        assert_eq!(r.status, CheckStatus::RequiresRetry);
        let r = executor(&base, "nfc_chip_auth")
            .execute(&req("nfc_chip_auth"))
            .await;
        assert_eq!(r.status, CheckStatus::RequiresRetry);
        assert_eq!(r.error.as_deref(), Some("vendor timed out"));
        let r = executor(&base, "email_risk_enhanced")
            .execute(&req("email_risk_enhanced"))
            .await;
        assert_eq!(r.status, CheckStatus::Error);
        assert!(r.error.unwrap().contains("malformed"));
        let r = executor(&base, "proof_of_address_check")
            .execute(&req("proof_of_address_check"))
            .await;
        assert_eq!(r.status, CheckStatus::Error);
        assert!(!format!("{:?}", executor(&base, "face_match")).contains("test-key"));
    }

    #[tokio::test]
    async fn connection_refused_retries_and_no_vendor_errors() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let r = executor(&format!("http://{addr}"), "face_match")
            .execute(&req("face_match"))
            .await;
        assert_eq!(r.status, CheckStatus::RequiresRetry);
        let none = VendorExecutor::new(specs::face_match(), None);
        let r = none.execute(&req("face_match")).await;
        assert_eq!(r.status, CheckStatus::Error);
        assert_eq!(
            r.error.as_deref(),
            Some("no vendor configured for policy 'face_match'")
        );
    }

    #[test]
    fn response_parsing() {
        assert_eq!(
            parse_response(br#"{"status":"failed"}"#),
            CheckOutcome::decided(false, json!({"passed": false}))
        );
        let r = parse_response(br#"{"status":"skipped"}"#);
        assert_eq!(r.status, CheckStatus::Skipped);
        assert!(r.error.is_some());
        let r = parse_response(br#"{"status":"error","error":"bad image"}"#);
        assert_eq!(
            (r.status, r.error.as_deref()),
            (CheckStatus::Error, Some("bad image"))
        );
        for bad in [
            &b"[]"[..],
            br#"{"status":"ok"}"#,
            br#"{"status":"passed","output":[1]}"#,
            br#"{"status":"passed","error":5}"#,
            b"",
        ] {
            assert_eq!(parse_response(bad).status, CheckStatus::Error);
        }
    }
}
