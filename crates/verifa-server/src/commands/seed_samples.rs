//! Sample workflows (modelled on the reference's templates) and sample sessions in each state,
//! created through the same use cases as API calls, idempotently (by name / by external_ref).

use serde_json::{Value, json};
use std::sync::Arc;
use verifa_app::api_keys::Caller;
use verifa_app::sessions::NewSession;
use verifa_app::workflows::{DefinitionInput, NewWorkflow};
use verifa_http::Services;
use verifa_ports::sessions::SessionFilter;

/// The reference's named templates: (name, description, graph, default?).
fn templates() -> Vec<(&'static str, &'static str, Value, bool)> {
    let t = |o: &str| json!({"type": "terminal", "outcome": o});
    vec![
        (
            "Document Scan Only",
            "Reads the ID document (MRZ) and screens the holder.",
            json!({"entry": "start", "nodes": {
                "start": {"type": "start", "next": "ocr"},
                "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "approve", "on_fail": "reject", "on_error": "review"},
                "approve": t("approved"), "reject": t("rejected"), "review": t("needs_review")}}),
            false,
        ),
        (
            "Age Verification",
            "Document scan plus a minimum age of 18.",
            json!({"entry": "start", "nodes": {
                "start": {"type": "start", "next": "ocr"},
                "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "age", "on_fail": "reject", "on_error": "review"},
                "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"},
                "approve": t("approved"), "reject": t("rejected"), "review": t("needs_review")}}),
            false,
        ),
        (
            "ID & Selfie + Age Verification",
            "Document scan, face match against the selfie, minimum age 18; high risk goes to review.",
            json!({"entry": "start", "nodes": {
                "start": {"type": "start", "next": "ocr"},
                "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject", "on_error": "review"},
                "face": {"type": "policy", "policy": "face_match", "config": {"security_level": "standard"}, "on_pass": "age", "on_fail": "review"},
                "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "risk", "on_fail": "reject"},
                "risk": {"type": "conditional", "conditions": [{"field": "checks.risk_assessment.risk_level", "operator": "in", "value": ["high", "critical"], "next": "review"}], "default": "approve"},
                "approve": t("approved"), "reject": t("rejected"), "review": t("needs_review")}}),
            true,
        ),
        (
            "ID & Selfie + Duplicate Prevention",
            "Document scan, face match and duplicate detection across the organization's sessions.",
            json!({"entry": "start", "nodes": {
                "start": {"type": "start", "next": "ocr"},
                "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject", "on_error": "review"},
                "face": {"type": "policy", "policy": "face_match", "config": {}, "on_pass": "dupes", "on_fail": "review"},
                "dupes": {"type": "policy", "policy": "duplicate_detection", "config": {}, "on_pass": "approve", "on_fail": "review"},
                "approve": t("approved"), "reject": t("rejected"), "review": t("needs_review")}}),
            false,
        ),
        (
            "Blank",
            "An empty workflow to start from: approves everything.",
            json!({"entry": "start", "nodes": {"start": {"type": "start", "next": "approve"}, "approve": t("approved")}}),
            false,
        ),
    ]
}

/// Creates the template workflows missing in the caller's environment; returns how many.
pub async fn seed_workflows(services: &Arc<Services>, caller: &Caller) -> anyhow::Result<usize> {
    let page = verifa_domain::pagination::PageRequest {
        limit: 100,
        offset: 0,
    };
    let existing: Vec<String> = services
        .workflows
        .list(caller, None, page)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .items
        .into_iter()
        .map(|w| w.workflow.name)
        .collect();
    let mut created = 0;
    for (name, description, graph, is_default) in templates() {
        if existing.iter().any(|n| n == name) {
            continue;
        }
        let input = NewWorkflow {
            name: name.into(),
            description: Some(description.into()),
            definition: DefinitionInput {
                format: Some("graph".into()),
                graph: Some(graph),
                steps: None,
            },
            is_default,
            ..Default::default()
        };
        services
            .workflows
            .create(caller, input)
            .await
            .map_err(|e| anyhow::anyhow!("template {name}: {e:?}"))?;
        created += 1;
    }
    Ok(created)
}

/// A tiny valid JPEG header followed by filler: enough for magic-byte sniffing.
const SAMPLE_JPEG: &[u8] =
    b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00sample";
/// The ICAO 9303 specimen passport MRZ.
const SAMPLE_MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// Creates sample sandbox sessions in each state (once: skipped when `seed_*` refs exist).
pub async fn seed_sessions(services: &Arc<Services>, sandbox: &Caller) -> anyhow::Result<usize> {
    let page = verifa_domain::pagination::PageRequest {
        limit: 1,
        offset: 0,
    };
    let filter = SessionFilter {
        external_ref: Some("seed_pending".into()),
        ..Default::default()
    };
    if services
        .sessions
        .list(sandbox, filter, page)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .total
        > 0
    {
        return Ok(0);
    }
    let err = |e: verifa_app::AppError| anyhow::anyhow!("{e:?}");
    let new = |r: &str| NewSession {
        external_ref: Some(r.into()),
        metadata: Some(serde_json::Map::from_iter([(
            "seeded".to_owned(),
            json!(true),
        )])),
        ..Default::default()
    };
    let s = &services.sessions;
    s.create(sandbox, new("seed_pending")).await.map_err(err)?;
    let capturing = s
        .create(sandbox, new("seed_capturing"))
        .await
        .map_err(err)?
        .session
        .id;
    s.upload_document(
        sandbox,
        &capturing,
        "id_front",
        SAMPLE_JPEG.to_vec(),
        Some(SAMPLE_MRZ.into()),
    )
    .await
    .map_err(err)?;
    let pending = s
        .create(sandbox, new("seed_sandbox_pending"))
        .await
        .map_err(err)?
        .session
        .id;
    s.upload_document(
        sandbox,
        &pending,
        "id_front",
        SAMPLE_JPEG.to_vec(),
        Some(SAMPLE_MRZ.into()),
    )
    .await
    .map_err(err)?;
    s.upload_document(sandbox, &pending, "selfie", SAMPLE_JPEG.to_vec(), None)
        .await
        .map_err(err)?;
    s.submit(sandbox, &pending).await.map_err(err)?;
    for (r, action) in [
        ("seed_approved", "approve"),
        ("seed_declined", "decline"),
        ("seed_review", "require-review"),
    ] {
        let id = s.create(sandbox, new(r)).await.map_err(err)?.session.id;
        s.simulate(sandbox, &id, action).await.map_err(err)?;
    }
    let expired = s
        .create(sandbox, new("seed_expired"))
        .await
        .map_err(err)?
        .session
        .id;
    s.expire(sandbox, &expired).await.map_err(err)?;
    Ok(7)
}
