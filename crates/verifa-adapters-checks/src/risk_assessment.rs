//! `risk_assessment`: weighted fraud signals → `risk_score` (0–100) and `risk_level`.
//!
//! Signals come from (a) capture: string arrays (or `{name}` objects) at
//! `session.metadata.signals` and `session.fields.signals`, and (b) earlier checks in
//! `context.checks` (see [`DERIVED_WEIGHTS`]). Names must be `[a-z0-9_]{1,64}`; at most
//! [`MAX_SIGNALS`] are read. Each signal has a weight ([`WEIGHTS`], reference §11; signals not in
//! the table weigh [`UNKNOWN_SIGNAL_WEIGHT`]; `config.weights` overrides) and an action
//! (`flag` by default, `block` for [`HARD_BLOCKS`]; `config.actions` overrides).
//!
//! `risk_score = min(100, Σ weights of flag signals)`; `risk_level` by the bands low 0–20,
//! medium 21–50, high 51–80, critical 81–100. Any `block` signal sets `blocked: true` and
//! `risk_level: critical` (the score stays the weighted sum). `ignore` signals are listed with
//! their action but add nothing. Passes when not blocked and the level is not critical.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verifa_domain::workflow::PolicySpec;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

use crate::context::{bad_config, checks, config_value, fields, metadata};
use crate::specs;

/// Behavioural and device signal weights from reference §11, plus the other named signals.
/// `incognito_detected`'s weight is not documented; 10 is our choice.
pub const WEIGHTS: &[(&str, u32)] = &[
    ("completion_too_fast", 20),
    ("completion_too_slow", 5),
    ("high_hesitation", 10),
    ("high_distraction", 5),
    ("copy_paste_name", 15),
    ("mouse_bot_pattern", 25),
    ("keystroke_bot_pattern", 25),
    ("screen_sharing_detected", 15),
    ("autofill_then_edit", 10),
    ("bot_detected", 50),
    ("webdriver_evasion_detected", 40),
    ("devtools_open", 30),
    ("virtual_camera", 50),
    ("webgl_vm_detected", 30),
    ("incognito_detected", 10),
    ("vpn_detected", 10),
    ("camera_injection_detected", 50),
    ("integrity_checksum_mismatch", 50),
];

/// Signals derived from earlier checks and their weights.
pub const DERIVED_WEIGHTS: &[(&str, u32)] = &[
    ("duplicate_identity", 30),
    ("watchlist_hit", 40),
    ("aml_hit", 40),
    ("document_expired", 30),
    ("identity_mismatch", 25),
    ("face_match_failed", 40),
    ("mrz_check_digit_mismatch", 40),
];

/// Weight of a capture signal not in the tables.
pub const UNKNOWN_SIGNAL_WEIGHT: u32 = 10;
/// Signals blocked unless configured otherwise.
pub const HARD_BLOCKS: [&str; 4] = [
    "bot_detected",
    "virtual_camera",
    "camera_injection_detected",
    "integrity_checksum_mismatch",
];
/// Most capture signals read from one session.
pub const MAX_SIGNALS: usize = 200;

/// The `risk_assessment` executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct RiskAssessment;

/// The level of a score (bands of reference §11).
pub fn level_for(score: u32) -> &'static str {
    match score {
        0..=20 => "low",
        21..=50 => "medium",
        51..=80 => "high",
        _ => "critical",
    }
}

fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn capture_signals(list: Option<&Value>, out: &mut Vec<String>) {
    let Some(Value::Array(items)) = list else {
        return;
    };
    for item in items {
        if out.len() >= MAX_SIGNALS {
            return;
        }
        let name = match item {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("name").and_then(Value::as_str),
            _ => None,
        };
        if let Some(n) = name.map(str::trim).filter(|n| valid_name(n)) {
            out.push(n.to_owned());
        }
    }
}

fn check<'a>(
    checks: Option<&'a Map<String, Value>>,
    policy: &str,
) -> Option<&'a Map<String, Value>> {
    checks?.get(policy)?.as_object()
}

fn status_is(c: Option<&Map<String, Value>>, status: &str) -> bool {
    c.and_then(|c| c.get("status")).and_then(Value::as_str) == Some(status)
}

fn positive(c: Option<&Map<String, Value>>, key: &str) -> bool {
    c.and_then(|c| c.get(key))
        .and_then(Value::as_f64)
        .is_some_and(|n| n > 0.0)
}

/// Signals implied by earlier checks' results.
pub fn derived_signals(checks: Option<&Map<String, Value>>) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |cond: bool, name: &str| {
        if cond {
            out.push(name.to_owned());
        }
    };
    add(
        positive(check(checks, "duplicate_detection"), "match_count"),
        "duplicate_identity",
    );
    add(
        positive(check(checks, "watchlist_screening"), "hit_count"),
        "watchlist_hit",
    );
    add(
        positive(check(checks, "aml_screening"), "hit_count"),
        "aml_hit",
    );
    let exp = check(checks, "document_expiration");
    add(
        status_is(exp, "failed") || exp.and_then(|c| c.get("expired")) == Some(&Value::Bool(true)),
        "document_expired",
    );
    add(
        status_is(check(checks, "identity_crossref"), "failed"),
        "identity_mismatch",
    );
    add(
        status_is(check(checks, "face_match"), "failed"),
        "face_match_failed",
    );
    add(
        check(checks, "document_ocr").and_then(|c| c.get("mrz_valid")) == Some(&Value::Bool(false)),
        "mrz_check_digit_mismatch",
    );
    out
}

/// The result of weighing signals.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// 0–100.
    pub risk_score: u32,
    /// low | medium | high | critical.
    pub risk_level: &'static str,
    /// (name, weight, action), sorted by name.
    pub signals: Vec<(String, u32, &'static str)>,
    /// A block signal was present.
    pub blocked: bool,
}

/// Weighs `signals` with the per-signal `actions` and `weights` overrides.
pub fn assess(
    signals: &[String],
    actions: Option<&Map<String, Value>>,
    weights: Option<&Map<String, Value>>,
) -> Result<Assessment, String> {
    let table: BTreeMap<&str, u32> = WEIGHTS.iter().chain(DERIVED_WEIGHTS).copied().collect();
    let mut unique: Vec<&str> = signals.iter().map(String::as_str).collect();
    unique.sort_unstable();
    unique.dedup();
    let mut out = Vec::with_capacity(unique.len());
    let mut sum: u32 = 0;
    let mut blocked = false;
    for name in unique {
        let weight = match weights.and_then(|w| w.get(name)) {
            Some(v) => v
                .as_u64()
                .and_then(|w| u32::try_from(w).ok())
                .filter(|w| *w <= 100)
                .ok_or_else(|| format!("weights.{name} must be an integer between 0 and 100"))?,
            None => table.get(name).copied().unwrap_or(UNKNOWN_SIGNAL_WEIGHT),
        };
        let action = match actions.and_then(|a| a.get(name)) {
            Some(v) => match v.as_str() {
                Some("block") => "block",
                Some("flag") => "flag",
                Some("ignore") => "ignore",
                _ => return Err(format!("actions.{name} must be block, flag or ignore")),
            },
            None if HARD_BLOCKS.contains(&name) => "block",
            None => "flag",
        };
        match action {
            "block" => blocked = true,
            "flag" => sum = sum.saturating_add(weight),
            _ => {}
        }
        out.push((name.to_owned(), weight, action));
    }
    let risk_score = sum.min(100);
    Ok(Assessment {
        risk_score,
        risk_level: if blocked {
            "critical"
        } else {
            level_for(risk_score)
        },
        signals: out,
        blocked,
    })
}

fn object_config<'a>(
    config: &'a Value,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match config_value(config, key)? {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(format!("{key} must be an object")),
    }
}

#[async_trait]
impl CheckExecutor for RiskAssessment {
    fn spec(&self) -> PolicySpec {
        specs::risk_assessment()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        let config = object_config(&request.config, "actions")
            .and_then(|a| object_config(&request.config, "weights").map(|w| (a, w)));
        let (actions, weights) = match config {
            Ok(v) => v,
            Err(e) => return bad_config(e),
        };
        let mut signals = Vec::new();
        capture_signals(
            metadata(request).and_then(|m| m.get("signals")),
            &mut signals,
        );
        capture_signals(fields(request).and_then(|m| m.get("signals")), &mut signals);
        signals.extend(derived_signals(checks(request)));
        let a = match assess(&signals, actions, weights) {
            Ok(a) => a,
            Err(e) => return bad_config(e),
        };
        let passed = !a.blocked && a.risk_level != "critical";
        let list: Vec<Value> = a
            .signals
            .iter()
            .map(|(name, weight, action)| json!({"name": name, "weight": weight, "action": action}))
            .collect();
        CheckOutcome::decided(
            passed,
            json!({
                "risk_score": a.risk_score,
                "risk_level": a.risk_level,
                "signals": list,
                "blocked": a.blocked,
                "passed": passed,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::request;
    use verifa_domain::workflow::CheckStatus;

    async fn run(config: Value, context: Value) -> CheckOutcome {
        RiskAssessment
            .execute(&request("risk_assessment", config, context))
            .await
    }

    fn meta(signals: Value) -> Value {
        json!({"session": {"metadata": {"signals": signals}}})
    }

    #[test]
    fn bands() {
        for (score, level) in [
            (0, "low"),
            (20, "low"),
            (21, "medium"),
            (50, "medium"),
            (51, "high"),
            (80, "high"),
            (81, "critical"),
            (100, "critical"),
        ] {
            assert_eq!(level_for(score), level, "{score}");
        }
    }

    #[tokio::test]
    async fn clean_session_is_low() {
        let r = run(json!({}), json!({})).await;
        assert_eq!(r.status, CheckStatus::Passed);
        assert_eq!(
            r.output,
            json!({"risk_score": 0, "risk_level": "low", "signals": [], "blocked": false, "passed": true})
        );
    }

    #[tokio::test]
    async fn weighted_bands() {
        let r = run(json!({}), meta(json!(["completion_too_fast"]))).await;
        assert_eq!(
            (
                r.output["risk_score"].clone(),
                r.output["risk_level"].clone()
            ),
            (json!(20), json!("low"))
        );
        let r = run(
            json!({}),
            meta(json!(["completion_too_fast", "completion_too_slow"])),
        )
        .await;
        assert_eq!(
            (
                r.output["risk_score"].clone(),
                r.output["risk_level"].clone()
            ),
            (json!(25), json!("medium"))
        );
        let r = run(
            json!({}),
            meta(json!(["devtools_open", "mouse_bot_pattern"])),
        )
        .await;
        assert_eq!(
            (
                r.output["risk_score"].clone(),
                r.output["risk_level"].clone()
            ),
            (json!(55), json!("high"))
        );
        assert_eq!(r.status, CheckStatus::Passed);
        let r = run(
            json!({}),
            meta(json!([
                "devtools_open",
                "mouse_bot_pattern",
                "keystroke_bot_pattern",
                "webgl_vm_detected",
                "devtools_open"
            ])),
        )
        .await;
        assert_eq!(
            (
                r.output["risk_score"].clone(),
                r.output["risk_level"].clone()
            ),
            (json!(100), json!("critical"))
        );
        assert_eq!(r.status, CheckStatus::Failed);
        assert_eq!(r.output["blocked"], false);
        assert_eq!(r.output["signals"].as_array().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn hard_blocks_and_overrides() {
        for s in HARD_BLOCKS {
            let r = run(json!({}), meta(json!([s]))).await;
            assert_eq!(r.status, CheckStatus::Failed, "{s}");
            assert_eq!(r.output["blocked"], true);
            assert_eq!(r.output["risk_level"], "critical");
            assert_eq!(r.output["signals"][0]["action"], "block");
        }
        // bot_detected downgraded to flag: weight 50 → medium.
        let r = run(
            json!({"actions": {"bot_detected": "flag"}}),
            meta(json!(["bot_detected"])),
        )
        .await;
        assert_eq!(
            (r.output["risk_level"].clone(), r.output["blocked"].clone()),
            (json!("medium"), json!(false))
        );
        // vpn ignored; custom weight; custom block.
        let r = run(
            json!({"actions": {"vpn_detected": "ignore", "devtools_open": "block"}, "weights": {"completion_too_fast": 5}}),
            json!({"session": {"metadata": {"signals": ["vpn_detected", "completion_too_fast"]}, "fields": {"signals": [{"name": "devtools_open"}]}}}),
        )
        .await;
        assert_eq!(r.output["risk_score"], 5);
        assert_eq!(r.output["blocked"], true);
        assert_eq!(
            r.output["signals"],
            json!([
                {"name": "completion_too_fast", "weight": 5, "action": "flag"},
                {"name": "devtools_open", "weight": 30, "action": "block"},
                {"name": "vpn_detected", "weight": 10, "action": "ignore"},
            ])
        );
    }

    #[tokio::test]
    async fn signals_from_earlier_checks_and_junk() {
        let ctx = json!({
            "checks": {
                "duplicate_detection": {"status": "failed", "match_count": 2},
                "watchlist_screening": {"status": "passed", "hit_count": 0},
                "document_expiration": {"status": "failed", "expired": true},
                "face_match": {"status": "failed"},
            },
            "session": {"metadata": {"signals": ["Bad Name!", 7, "x".repeat(65), "brand_new_signal"]}},
        });
        let r = run(json!({}), ctx).await;
        let names: Vec<&str> = r.output["signals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "brand_new_signal",
                "document_expired",
                "duplicate_identity",
                "face_match_failed"
            ]
        );
        assert_eq!(r.output["risk_score"], 100);
        assert_eq!(r.output["risk_level"], "critical");
        let r = run(json!({"actions": {"x": "maybe"}}), meta(json!(["x"]))).await;
        assert_eq!(r.status, CheckStatus::Error);
    }
}
