//! `verifa keys create --org ORG --environment sandbox|live [--scopes …] [--label …]` and
//! `verifa keys rotate-master [--batch N]`.

use crate::commands::print_keys;
use crate::compose::{build_application, cipher, connect, ports};
use crate::settings::Settings;
use verifa_domain::tenancy::Environment;

/// Creates a key for an organization and prints the secret once.
pub async fn create(
    settings: &Settings,
    org: &str,
    environment: &str,
    scopes: Option<Vec<String>>,
    label: Option<String>,
) -> anyhow::Result<()> {
    let environment: Environment = environment.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = connect(settings, true).await?;
    let app = build_application(settings, db)?;
    app.services
        .organizations
        .get(org)
        .await
        .map_err(|e| anyhow::anyhow!("organization {org}: {e}"))?;
    let issued = app
        .services
        .api_keys
        .issue_operator_key(org, environment, scopes, label)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    print_keys("Created API key", org, &[issued]);
    app.db.close().await;
    Ok(())
}

/// Re-wraps every data key under the current master key and reports what is left; fails
/// (exit 1) while a key stays under a retired master key, so a script can run it again.
pub async fn rotate_master(settings: &Settings, batch: u64) -> anyhow::Result<()> {
    let keyring = cipher(settings)?;
    let db = connect(settings, true).await?;
    let ports = ports(
        settings,
        &db,
        std::sync::Arc::new(verifa_app::clock::SystemClock),
    )?;
    let rotation = verifa_app::master_key::MasterKeyRotation::new(&ports, keyring.clone());
    let outcome = rotation.rotate(batch).await;
    db.close().await;
    let report = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "re-wrapped {} data keys under master key {}; {} left under retired keys",
            report.rewrapped,
            keyring.key_id(),
            report.remaining
        );
        if report.unreadable > 0 {
            println!(
                "{} data keys open under no configured key (first: {}): add the key that \
                 wrapped them to security.previous_encryption_keys",
                report.unreadable,
                report.unreadable_sessions.join(", ")
            );
        }
    }
    if report.remaining > 0 {
        anyhow::bail!(
            "{} data keys are still under a retired master key; run the rotation again",
            report.remaining
        );
    }
    Ok(())
}
