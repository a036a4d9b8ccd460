//! Organization settings (CONTRACT §11.1) through the real router on both databases: defaults,
//! partial patches where `null` resets a field, field paths on every bad value, scopes,
//! environments kept apart, the audit trail, and the review settings new cases open with.

use super::cases::ok;
use crate::harness::TestApp;
use serde_json::{Value, json};
use verifa_testkit::{TestDatabase, both_backends};

fn error_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

async fn settings_round_trip(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let fresh = ok(&app.get("/api/v1/settings").send().await);
    assert_eq!(
        fresh,
        json!({"data_retention_days": null, "sensitive_data_retention_days": null,
               "auto_redact_on_retention_expiry": false, "api_pii_fields": null,
               "image_url_expiry_seconds": 300, "case_sla_hours": 24, "case_dual_review": "off",
               "allowed_origins": [], "updated_at": null,
               "branding": {"display_name": null, "logo_url": null, "primary_color": "#1f4fd1",
                            "default_locale": "en"}})
    );

    let patched = ok(&app
        .patch("/api/v1/settings")
        .json(
            json!({"data_retention_days": 90, "sensitive_data_retention_days": 30,
                     "api_pii_fields": ["first_name", "last_name"],
                     "allowed_origins": ["https://Shop.Example.com"],
                     "branding": {"display_name": "Acme Bank", "default_locale": "de"}}),
        )
        .send()
        .await);
    assert_eq!(patched["data_retention_days"], 90);
    assert_eq!(
        patched["api_pii_fields"],
        json!(["first_name", "last_name"])
    );
    assert_eq!(
        patched["allowed_origins"],
        json!(["https://shop.example.com"])
    );
    assert_eq!(patched["branding"]["display_name"], "Acme Bank");
    assert_eq!(
        patched["branding"]["primary_color"], "#1f4fd1",
        "left as it was"
    );
    assert!(patched["updated_at"].is_string());
    assert_eq!(ok(&app.get("/api/v1/settings").send().await), patched);

    let reset = ok(&app
        .patch("/api/v1/settings")
        .json(json!({"api_pii_fields": null, "branding": {"display_name": null}}))
        .send()
        .await);
    assert_eq!(reset["api_pii_fields"], Value::Null);
    assert_eq!(reset["branding"]["display_name"], Value::Null);
    assert_eq!(reset["branding"]["default_locale"], "de");
    assert_eq!(reset["data_retention_days"], 90);

    let bad = app
        .patch("/api/v1/settings")
        .json(
            json!({"data_retention_days": 10, "sensitive_data_retention_days": 11,
                     "case_sla_hours": 0, "case_dual_review": "twice",
                     "allowed_origins": ["http://shop.example.com"],
                     "branding": {"primary_color": "red", "logo_url": "http://x.example/l.png"},
                     "theme": "dark"}),
        )
        .send()
        .await
        .assert_error(422, "validation_error");
    assert_eq!(
        error_fields(&bad),
        [
            "allowed_origins[0]",
            "branding.logo_url",
            "branding.primary_color",
            "case_dual_review",
            "case_sla_hours",
            "sensitive_data_retention_days",
            "theme"
        ]
    );
    assert_eq!(
        ok(&app.get("/api/v1/settings").send().await)["data_retention_days"],
        90,
        "a refused patch changes nothing"
    );
    app.patch("/api/v1/settings")
        .json(json!(["not", "an", "object"]))
        .send()
        .await
        .assert_error(422, "validation_error");

    let live = ok(&app.get("/api/v1/settings").key(&app.live_key).send().await);
    assert_eq!(
        live["data_retention_days"],
        Value::Null,
        "live has its own settings"
    );

    let (_, reader) = app.key_with_scopes(&["settings:read"]).await;
    ok(&app.get("/api/v1/settings").key(&reader).send().await);
    app.patch("/api/v1/settings")
        .key(&reader)
        .json(json!({"case_sla_hours": 2}))
        .send()
        .await
        .assert_error(403, "insufficient_scope");
    let (_, other) = app.key_with_scopes(&["sessions:read"]).await;
    app.get("/api/v1/settings")
        .key(&other)
        .send()
        .await
        .assert_error(403, "insufficient_scope");

    let audit = ok(&app
        .get("/api/v1/events?action=settings.updated")
        .send()
        .await);
    let changes: Vec<Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["changes"].clone())
        .collect();
    assert_eq!(changes.len(), 2, "{audit}");
    assert!(
        changes.contains(&json!(["api_pii_fields", "branding.display_name"])),
        "{changes:?}"
    );
    assert!(
        !audit.to_string().contains("Acme Bank"),
        "values stay out of the audit trail"
    );
}
both_backends!(settings_patch_and_read, settings_round_trip);

/// New cases take `case_dual_review` and `case_sla_hours` from the settings.
async fn cases_follow_the_review_settings(db: TestDatabase) {
    let app = TestApp::new(db).await;
    ok(&app
        .patch("/api/v1/settings")
        .json(json!({"case_dual_review": "all", "case_sla_hours": 2}))
        .send()
        .await);
    let s = ok(&app.post("/api/v1/sessions").json(json!({})).send().await);
    let id = s["id"].as_str().unwrap();
    ok(&app
        .post(&format!("/api/v1/sessions/{id}/simulate"))
        .json(json!({"action": "require-review"}))
        .send()
        .await);
    let cases = ok(&app.get(&format!("/api/v1/cases?q={id}")).send().await);
    let case = &cases["data"][0];
    assert_eq!(case["requires_dual_review"], true, "{case}");
    let entered =
        chrono::DateTime::parse_from_rfc3339(case["entered_review_at"].as_str().unwrap()).unwrap();
    let due =
        chrono::DateTime::parse_from_rfc3339(case["sla"]["due_at"].as_str().unwrap()).unwrap();
    assert_eq!((due - entered).num_hours(), 2);
}
both_backends!(settings_shape_new_cases, cases_follow_the_review_settings);
