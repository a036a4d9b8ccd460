//! `verifa orgs create NAME`.

use crate::commands::print_keys;
use crate::compose::{build_application, connect};
use crate::settings::Settings;

/// Creates an organization with a live and a sandbox admin key and prints them once.
pub async fn create(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let db = connect(settings, true).await?;
    let app = build_application(settings, db)?;
    let created = app
        .services
        .organizations
        .create(name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    print_keys(
        &format!("Created organization '{}'", created.org.name),
        &created.org.id,
        &created.keys,
    );
    app.db.close().await;
    Ok(())
}
