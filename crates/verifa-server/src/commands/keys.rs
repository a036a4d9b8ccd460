//! `verifa keys create --org ORG --environment sandbox|live [--scopes …] [--label …]`.

use crate::commands::print_keys;
use crate::compose::{build_application, connect};
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
