//! [`PlainSandbox`]: sandbox check results that say only pass or fail, for tests that need a
//! [`SandboxChecks`] without the real sandbox's magic values.

use serde_json::{Value, json};
use verifa_domain::workflow::{CheckStatus, SandboxChecks, SimulatedCheck};

/// Every policy passes with `{"passed": true}` and can fail with `{"passed": false}`, except
/// the ones listed as unable to fail.
#[derive(Debug, Clone, Default)]
pub struct PlainSandbox {
    /// Policies whose failure the sandbox cannot simulate.
    pub cannot_fail: Vec<String>,
}

impl SandboxChecks for PlainSandbox {
    fn passing(&self, _policy: &str, _config: &Value) -> SimulatedCheck {
        SimulatedCheck {
            status: CheckStatus::Passed,
            output: json!({"passed": true}),
        }
    }

    fn failing(&self, policy: &str, _config: &Value) -> Option<SimulatedCheck> {
        (!self.cannot_fail.iter().any(|p| p == policy)).then(|| SimulatedCheck {
            status: CheckStatus::Failed,
            output: json!({"passed": false}),
        })
    }
}
