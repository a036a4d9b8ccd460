//! [`SettingsStore`](verifa_ports::settings::SettingsStore): a tenant has the defaults until
//! its settings are first saved; every save is fenced on the revision it read, the first one
//! included, and tenants never see each other's settings.

use super::Stores;
use super::fixtures::at;
use verifa_domain::settings::{DualReview, OrgSettings};
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_ports::RepoError;

/// Defaults first, then what was saved; a stale revision is a conflict and writes nothing.
pub async fn settings_are_fenced_and_tenant_scoped(stores: Stores) {
    let live = Tenant::new("org_settings_a", Environment::Live);
    let sandbox = Tenant::new("org_settings_a", Environment::Sandbox);
    let s = stores.settings.as_ref();
    let fresh = s.get(&live).await.unwrap();
    assert_eq!((fresh.revision, fresh.updated_at), (0, None));
    assert_eq!(fresh.settings, OrgSettings::default());

    let changed = OrgSettings {
        case_sla_hours: 8,
        case_dual_review: DualReview::All,
        allowed_origins: vec!["https://shop.example".into()],
        ..Default::default()
    };
    s.save(&live, &changed, 0, at(1), &[]).await.unwrap();
    let read = s.get(&live).await.unwrap();
    assert_eq!(read.settings, changed);
    assert_eq!((read.revision, read.updated_at), (1, Some(at(1))));

    let mut stale = changed.clone();
    stale.case_sla_hours = 99;
    assert!(matches!(
        s.save(&live, &stale, 0, at(2), &[]).await,
        Err(RepoError::Conflict(_))
    ));
    assert_eq!(s.get(&live).await.unwrap().settings.case_sla_hours, 8);
    s.save(&live, &stale, 1, at(3), &[]).await.unwrap();
    assert_eq!(s.get(&live).await.unwrap().revision, 2);

    let other = s.get(&sandbox).await.unwrap();
    assert_eq!(other.revision, 0, "the sandbox has its own settings");
    assert_eq!(other.settings, OrgSettings::default());
}

/// Concurrent first saves of one tenant: exactly one lands.
pub async fn concurrent_first_saves_store_one(stores: Stores) {
    let tenant = Tenant::new("org_settings_race", Environment::Live);
    let mut tasks = Vec::new();
    for hours in 1..=8u32 {
        let store = stores.settings.clone();
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            let s = OrgSettings {
                case_sla_hours: hours,
                ..Default::default()
            };
            store.save(&tenant, &s, 0, at(1), &[]).await.map(|()| hours)
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(h) => won.push(h),
            Err(RepoError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(won.len(), 1, "{won:?}");
    let stored = stores.settings.get(&tenant).await.unwrap();
    assert_eq!(
        (stored.revision, stored.settings.case_sla_hours),
        (1, won[0])
    );
}
