//! `verifa seed`: an idempotent demo organization with well-known sandbox and live keys, so a
//! new user can explore at once. The demo secrets are public: seeding refuses to run in
//! production.

use crate::commands::print_keys;
use crate::compose::{build_application, connect};
use crate::settings::{RunEnvironment, Settings};
use verifa_app::api_keys::{IssuedKey, created_by_system};
use verifa_domain::tenancy::Environment;
use verifa_ports::RepoError;
use verifa_ports::api_keys::ApiKeyRepository;
use verifa_ports::organizations::{Organization, OrganizationRepository};

/// Id of the demo organization.
pub const DEMO_ORG_ID: &str = "org_demo";
/// Well-known demo sandbox secret.
pub const DEMO_SANDBOX_SECRET: &str = "vk_sandbox_demo0000000000000000000000000000000000";
/// Well-known demo live secret.
pub const DEMO_LIVE_SECRET: &str = "vk_live_demo0000000000000000000000000000000000";

/// Well-known password of the demo organization's users.
pub const DEMO_USER_PASSWORD: &str = "verifa-demo-password";

/// The demo organization's users: an admin, two reviewers and a viewer.
const DEMO_USERS: [(&str, &str, &str); 4] = [
    ("admin@demo.verifa.test", "Dana Admin", "admin"),
    ("reviewer1@demo.verifa.test", "Ravi Reviewer", "reviewer"),
    ("reviewer2@demo.verifa.test", "Rosa Reviewer", "reviewer"),
    ("viewer@demo.verifa.test", "Vic Viewer", "viewer"),
];

/// Seeds the demo data (idempotent).
pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    if settings.run_environment() == RunEnvironment::Production {
        anyhow::bail!(
            "refusing to seed demo data with well-known keys in production (VERIFA_ENV=production)"
        );
    }
    let db = connect(settings, true).await?;
    let app = build_application(settings, db.clone())?;
    let keys = app.services.api_keys.as_ref();
    let wanted = [
        (Environment::Live, DEMO_LIVE_SECRET, "Demo admin (live)"),
        (
            Environment::Sandbox,
            DEMO_SANDBOX_SECRET,
            "Demo admin (sandbox)",
        ),
    ];
    match OrganizationRepository::get(&db, DEMO_ORG_ID).await {
        Ok(_) => {
            for (env, secret, label) in wanted {
                let hash = verifa_domain::api_key::hash_secret(secret);
                if db.find_by_secret_hash(&hash).await?.is_none() {
                    let key = keys.admin_key_for_secret(DEMO_ORG_ID, env, secret, label);
                    db.insert(&key, &[created_by_system(&key)]).await?;
                }
            }
        }
        Err(RepoError::NotFound) => {
            let org = Organization {
                id: DEMO_ORG_ID.into(),
                name: "Demo Organization".into(),
                created_at: chrono::Utc::now(),
            };
            let records: Vec<_> = wanted
                .iter()
                .map(|(env, secret, label)| {
                    keys.admin_key_for_secret(DEMO_ORG_ID, *env, secret, label)
                })
                .collect();
            let audit: Vec<_> = records.iter().map(created_by_system).collect();
            db.create_with_keys(&org, &records, &audit).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let issued: Vec<IssuedKey> = wanted
        .iter()
        .map(|(env, secret, label)| IssuedKey {
            key: keys.admin_key_for_secret(DEMO_ORG_ID, *env, secret, label),
            secret: (*secret).to_owned(),
        })
        .collect();
    print_keys(
        "Demo organization (well-known keys, for local use only)",
        DEMO_ORG_ID,
        &issued,
    );
    // Sample watchlists (fictitious entries) so watchlist_screening has data; unchanged lists
    // are left alone, so seeding twice changes nothing.
    let lists = crate::commands::watchlists::import_samples(&db).await;
    let samples = seed_samples(&app).await;
    let users = seed_users(&app).await;
    let reviews = match &users {
        Ok(_) => seed_reviews(&app, &db).await,
        Err(e) => Err(anyhow::anyhow!(
            "no reviewers to seed the review queue with: {e}"
        )),
    };
    db.close().await;
    let (workflows, sessions) = samples?;
    print_counts(workflows, sessions);
    print_users(users?);
    print_reviews(reviews?);
    print_watchlists(&lists?);
    Ok(())
}

/// People with several sessions and a queue of cases in each state, reviewed by the demo
/// reviewers.
async fn seed_reviews(
    app: &crate::compose::Application,
    db: &verifa_adapters_db::Database,
) -> anyhow::Result<crate::commands::seed_reviews::Seeded> {
    use verifa_ports::org_users::OrgUserRepository;
    let mut ids = Vec::new();
    for email in [DEMO_USERS[1].0, DEMO_USERS[2].0] {
        let user = db
            .find_by_email(email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo reviewer {email} is missing"))?;
        ids.push(user.id);
    }
    let sandbox = app
        .services
        .api_keys
        .authenticate(Some(DEMO_SANDBOX_SECRET), None)
        .await
        .map_err(|e| anyhow::anyhow!("demo key: {e:?}"))?;
    crate::commands::seed_reviews::seed_review_queue(&app.services, &sandbox, [&ids[0], &ids[1]])
        .await
}

#[allow(clippy::print_stdout)]
fn print_reviews(seeded: crate::commands::seed_reviews::Seeded) {
    println!(
        " sample people and review queue created: {} sessions, {} cases (open, in review, \
         escalated, waiting for a second review, rejected)",
        seeded.sessions, seeded.cases
    );
}

/// The demo users (an existing email is left alone); returns how many were created.
async fn seed_users(app: &crate::compose::Application) -> anyhow::Result<usize> {
    let mut created = 0;
    for (email, name, role) in DEMO_USERS {
        let user = verifa_app::org_users::NewOrgUser {
            email: Some(email.into()),
            name: Some(name.into()),
            role: Some(role.into()),
        };
        match app
            .services
            .org_users
            .create_in(DEMO_ORG_ID, user, Some(DEMO_USER_PASSWORD.into()))
            .await
        {
            Ok(_) => created += 1,
            Err(verifa_app::AppError::Conflict(_)) => {}
            Err(e) => anyhow::bail!("demo user {email}: {e}"),
        }
    }
    Ok(created)
}

#[allow(clippy::print_stdout)]
fn print_users(created: usize) {
    println!(" demo users created: {created} (password '{DEMO_USER_PASSWORD}'):");
    for (email, _, role) in DEMO_USERS {
        println!("   {role:<8} {email}");
    }
}

#[allow(clippy::print_stdout)]
fn print_watchlists(lists: &[(String, u64)]) {
    for (list, n) in lists {
        println!(" sample watchlist '{list}': {n} entries");
    }
}

/// Sample workflows in both environments and sample sandbox sessions.
async fn seed_samples(app: &crate::compose::Application) -> anyhow::Result<(usize, usize)> {
    let caller = |secret: &'static str| async move {
        app.services
            .api_keys
            .authenticate(Some(secret), None)
            .await
            .map_err(|e| anyhow::anyhow!("demo key: {e:?}"))
    };
    let live = caller(DEMO_LIVE_SECRET).await?;
    let sandbox = caller(DEMO_SANDBOX_SECRET).await?;
    let mut workflows = crate::commands::seed_samples::seed_workflows(&app.services, &live).await?;
    workflows += crate::commands::seed_samples::seed_workflows(&app.services, &sandbox).await?;
    let sessions = crate::commands::seed_samples::seed_sessions(&app.services, &sandbox).await?;
    Ok((workflows, sessions))
}

#[allow(clippy::print_stdout)]
fn print_counts(workflows: usize, sessions: usize) {
    println!(
        " sample workflows created: {workflows} (templates in live and sandbox; existing ones kept)"
    );
    println!(" sample sandbox sessions created: {sessions}");
}
