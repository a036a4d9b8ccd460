//! `verifa audit verify [--org org_…] [--environment live|sandbox]`: recomputes every audit
//! chain (or those asked for), prints one line per chain and fails (exit 1) when one is broken.

use crate::compose::{build_application, connect};
use crate::settings::Settings;
use verifa_domain::tenancy::Environment;

/// Verifies the chains and prints what it found.
pub async fn verify(
    settings: &Settings,
    org: Option<&str>,
    environment: Option<&str>,
) -> anyhow::Result<()> {
    let environment = environment
        .map(str::parse::<Environment>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--environment: {e}"))?;
    let db = connect(settings, true).await?;
    let app = build_application(settings, db)?;
    let outcome = app.services.audit.verify_all(org, environment).await;
    app.db.close().await;
    let verdicts = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    let broken = verdicts.iter().filter(|v| !v.report.valid).count();
    report(&verdicts);
    if broken > 0 {
        anyhow::bail!("{broken} of {} audit chains are broken", verdicts.len());
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn report(verdicts: &[verifa_app::audit::ChainVerdict]) {
    if verdicts.is_empty() {
        println!("no audit chain matches (nothing has been recorded yet)");
    }
    for v in verdicts {
        let r = &v.report;
        match r.first_invalid_sequence {
            None => println!(
                "ok      {} {}: {} events, head {} {}",
                v.tenant.org_id, v.tenant.environment, r.checked, r.head_sequence, r.head_hash
            ),
            Some(at) => println!(
                "BROKEN  {} {}: first invalid sequence {at} (head {} {})",
                v.tenant.org_id, v.tenant.environment, r.head_sequence, r.head_hash
            ),
        }
    }
}
