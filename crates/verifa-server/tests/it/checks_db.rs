//! The verification checks on the database (CONTRACT §4): the watchlist repository and the
//! duplicate index on both backends, the executors built over them, and the importer commands.

use crate::harness::TestApp;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_domain::workflow::CheckStatus;
use verifa_ports::RepoError;
use verifa_ports::checks::{CheckOutcome, CheckRegistry, CheckRequest};
use verifa_ports::duplicates::{DuplicateIndex, DuplicateMatch};
use verifa_ports::watchlists::{WatchlistRecord, WatchlistRepository};
use verifa_server::commands::watchlists::{self, ImportFormat};
use verifa_server::compose::check_registry;
use verifa_server::settings::Settings;
use verifa_testkit::{TestDatabase, both_backends};

fn rec(id: &str, name: &str, list: &str) -> WatchlistRecord {
    WatchlistRecord {
        id: id.into(),
        name: name.into(),
        aliases: vec![],
        list: list.into(),
        country: None,
        date_of_birth: None,
    }
}

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../verifa-checks-core/data")
        .join(name)
}

async fn app_with_settings(db: TestDatabase) -> (TestApp, Settings) {
    let settings = Settings::for_tests(&db.url, &[]).expect("test settings");
    (TestApp::new(db).await, settings)
}

fn request(tenant: Tenant, session: &str, policy: &str, extracted: Value) -> CheckRequest {
    CheckRequest {
        tenant,
        session_id: session.into(),
        run_id: format!("wfr_{session}"),
        node_id: "node".into(),
        policy: policy.into(),
        config: json!({}),
        attempt: 1,
        context: json!({"extracted_data": extracted}),
        documents: Vec::new(),
        today: chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap(),
    }
}

async fn run(registry: &CheckRegistry, req: &CheckRequest) -> CheckOutcome {
    registry
        .get(&req.policy)
        .unwrap_or_else(|| panic!("{} registered", req.policy))
        .execute(req)
        .await
}

async fn watchlist_round_trip(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let repo = &app.db;
    assert_eq!(repo.version().await.unwrap(), 0);
    assert!(repo.all().await.unwrap().is_empty());
    let full = WatchlistRecord {
        id: "wl_1".into(),
        name: "Ольга Сергеевна Белова".into(),
        aliases: vec!["Olga Belova".into(), "O. S. Belova".into()],
        list: "ignored: stored under the list argument".into(),
        country: Some("RU".into()),
        date_of_birth: Some("1977-11".into()),
    };
    let n = repo
        .replace_list("EU Consolidated", &[full.clone(), rec("wl_2", "B", "x")])
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        repo.replace_list("UN", &[rec("wl_1", "Same id, other list", "UN")])
            .await
            .unwrap(),
        1
    );
    let all = repo.all().await.unwrap();
    assert_eq!(all.len(), 3);
    let stored = all
        .iter()
        .find(|r| r.id == "wl_1" && r.list == "EU Consolidated")
        .expect("wl_1 in EU");
    assert_eq!(
        stored,
        &WatchlistRecord {
            list: "EU Consolidated".into(),
            ..full
        }
    );
    assert!(all.iter().any(|r| r.id == "wl_1" && r.list == "UN"));
    assert_eq!(
        app.db.watchlist_counts().await.unwrap(),
        vec![("EU Consolidated".to_owned(), 2), ("UN".to_owned(), 1)]
    );
    // Duplicate ids are refused and change nothing.
    let before = repo.version().await.unwrap();
    assert!(matches!(
        repo.replace_list("UN", &[rec("d", "A", "UN"), rec("d", "B", "UN")])
            .await,
        Err(RepoError::Conflict(_))
    ));
    assert_eq!(repo.version().await.unwrap(), before);
    assert_eq!(repo.all().await.unwrap().len(), 3);
    // An empty replacement removes the list.
    assert_eq!(repo.replace_list("UN", &[]).await.unwrap(), 0);
    assert_eq!(
        app.db.watchlist_counts().await.unwrap(),
        vec![("EU Consolidated".to_owned(), 2)]
    );
}
both_backends!(checks_db_watchlist_round_trip, watchlist_round_trip);

async fn watchlist_version_changes(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let repo = &app.db;
    let v0 = repo.version().await.unwrap();
    repo.replace_list(
        "L",
        &[rec("1", "Alpha One", "L"), rec("2", "Beta Two", "L")],
    )
    .await
    .unwrap();
    let v1 = repo.version().await.unwrap();
    assert_ne!(v1, v0, "first import changes the version");
    // Identical content: nothing changed, the cached index stays valid.
    repo.replace_list(
        "L",
        &[rec("2", "Beta Two", "L"), rec("1", "Alpha One", "L")],
    )
    .await
    .unwrap();
    assert_eq!(repo.version().await.unwrap(), v1);
    // Same count, one name changed: MUST change.
    repo.replace_list(
        "L",
        &[rec("1", "Alpha One", "L"), rec("2", "Beta Twin", "L")],
    )
    .await
    .unwrap();
    let v2 = repo.version().await.unwrap();
    assert_ne!(v2, v1);
    // Same count, different ids: MUST change.
    repo.replace_list(
        "L",
        &[rec("3", "Alpha One", "L"), rec("4", "Beta Twin", "L")],
    )
    .await
    .unwrap();
    let v3 = repo.version().await.unwrap();
    assert_ne!(v3, v2);
    // Only an alias changes: MUST change.
    let mut aliased = rec("3", "Alpha One", "L");
    aliased.aliases = vec!["A. One".into()];
    repo.replace_list("L", &[aliased, rec("4", "Beta Twin", "L")])
        .await
        .unwrap();
    let v4 = repo.version().await.unwrap();
    assert_ne!(v4, v3);
    // Another list, and emptying a list.
    repo.replace_list("M", &[rec("1", "Gamma", "M")])
        .await
        .unwrap();
    let v5 = repo.version().await.unwrap();
    assert_ne!(v5, v4);
    repo.replace_list("M", &[]).await.unwrap();
    assert_ne!(repo.version().await.unwrap(), v5);
}
both_backends!(
    checks_db_watchlist_version_changes,
    watchlist_version_changes
);

fn synthetic(n: usize, salt: &str) -> Vec<WatchlistRecord> {
    (0..n)
        .map(|i| WatchlistRecord {
            id: format!("ofac-sdn-{i}"),
            name: format!("PERSON{salt} {i}, Given Name {}", i % 97),
            aliases: vec![format!("Alias {salt}{i}"), format!("A.K.A. {i}")],
            list: "OFAC SDN".into(),
            country: Some("Atlantis".into()),
            date_of_birth: Some(format!("19{:02}-0{}-1{}", i % 100, 1 + i % 9, i % 10)),
        })
        .collect()
}

async fn large_replace(db: TestDatabase) {
    let backend = db.backend();
    let app = TestApp::new(db).await;
    let repo = &app.db;
    let first = synthetic(20_000, "A");
    let started = Instant::now();
    assert_eq!(repo.replace_list("OFAC SDN", &first).await.unwrap(), 20_000);
    let insert = started.elapsed();
    let v1 = repo.version().await.unwrap();
    // A second replacement of the same size (delete 20 000 + insert 20 000).
    let second = synthetic(20_000, "B");
    let started = Instant::now();
    assert_eq!(
        repo.replace_list("OFAC SDN", &second).await.unwrap(),
        20_000
    );
    let replace = started.elapsed();
    assert_ne!(repo.version().await.unwrap(), v1, "same count, new content");
    let started = Instant::now();
    let all = repo.all().await.unwrap();
    let load = started.elapsed();
    assert_eq!(all.len(), 20_000);
    assert!(
        all.iter()
            .any(|r| r.name == format!("PERSONB 19999, Given Name {}", 19_999 % 97))
    );
    assert!(!all.iter().any(|r| r.name.starts_with("PERSONA ")));
    eprintln!(
        "[{backend}] 20 000-entry watchlist: first import {insert:?}, replace {replace:?}, load all {load:?}"
    );
}
both_backends!(checks_db_large_replace_20000, large_replace);

async fn screening_executor_uses_database(db: TestDatabase) {
    let (app, settings) = app_with_settings(db).await;
    watchlists::import_samples(&app.db).await.unwrap();
    let registry = check_registry(&app.db, &settings);
    let tenant = Tenant::new(app.org_id.clone(), Environment::Live);
    let hit = run(
        &registry,
        &request(
            tenant.clone(),
            "ses_a",
            "watchlist_screening",
            json!({"first_name": "Arkady", "last_name": "Voronkov", "date_of_birth": "1962-03-14"}),
        ),
    )
    .await;
    assert_eq!(hit.status, CheckStatus::Failed, "{}", hit.output);
    assert_eq!(hit.output["hits"][0]["entry_id"], "ofac-sdn-10001");
    assert_eq!(hit.output["hits"][0]["list"], "OFAC SDN");
    // An entry of the simple CSV, found through an alias.
    let csv_hit = run(
        &registry,
        &request(
            tenant.clone(),
            "ses_b",
            "watchlist_screening",
            json!({"full_name": "Olga Belova"}),
        ),
    )
    .await;
    assert_eq!(csv_hit.status, CheckStatus::Failed, "{}", csv_hit.output);
    assert_eq!(csv_hit.output["hits"][0]["list"], "EU Consolidated");
    let stranger = run(
        &registry,
        &request(
            tenant.clone(),
            "ses_c",
            "watchlist_screening",
            json!({"first_name": "Jane", "last_name": "Doe", "date_of_birth": "1997-06-15"}),
        ),
    )
    .await;
    assert_eq!(stranger.status, CheckStatus::Passed, "{}", stranger.output);
    assert_eq!(stranger.output["hits"], json!([]));
    // A new entry is picked up by the cached executor through the version change.
    app.db
        .replace_list("Internal", &[rec("int-1", "Jane Doe", "Internal")])
        .await
        .unwrap();
    let now_listed = run(
        &registry,
        &request(
            tenant,
            "ses_d",
            "watchlist_screening",
            json!({"first_name": "Jane", "last_name": "Doe"}),
        ),
    )
    .await;
    assert_eq!(
        now_listed.status,
        CheckStatus::Failed,
        "{}",
        now_listed.output
    );
    assert_eq!(now_listed.output["hits"][0]["entry_id"], "int-1");
}
both_backends!(
    checks_db_screening_executor_uses_database,
    screening_executor_uses_database
);

async fn duplicate_index_tenancy(db: TestDatabase) {
    let app = TestApp::new(db).await;
    let index = &app.db;
    let live = Tenant::new(app.org_id.clone(), Environment::Live);
    let sandbox = Tenant::new(app.org_id.clone(), Environment::Sandbox);
    let other_org = Tenant::new("org_other", Environment::Live);
    let fp = |a: &str, h: &str| (a.to_owned(), h.to_owned());
    assert!(
        index
            .record_and_match(&live, "ses_1", &[fp("email", "e1"), fp("phone", "b2")])
            .await
            .unwrap()
            .is_empty()
    );
    // Idempotent, and never matches itself.
    assert!(
        index
            .record_and_match(&live, "ses_1", &[fp("email", "e1"), fp("email", "E1")])
            .await
            .unwrap()
            .is_empty()
    );
    let m = index
        .record_and_match(
            &live,
            "ses_2",
            &[fp("email", "e1"), fp("phone", "b2"), fp("name_dob", "c3")],
        )
        .await
        .unwrap();
    assert_eq!(
        m,
        vec![DuplicateMatch {
            session_id: "ses_1".into(),
            attributes: vec!["email".into(), "phone".into()],
        }]
    );
    // The same hash under another attribute is not a match.
    assert!(
        index
            .record_and_match(&live, "ses_3", &[fp("document_number", "e1")])
            .await
            .unwrap()
            .is_empty()
    );
    // Never across environment or organization.
    for (tenant, session) in [(&sandbox, "ses_4"), (&other_org, "ses_5")] {
        assert!(
            index
                .record_and_match(tenant, session, &[fp("email", "e1"), fp("phone", "b2")])
                .await
                .unwrap()
                .is_empty(),
            "{tenant:?}"
        );
    }
    let m = index
        .record_and_match(&live, "ses_0", &[fp("email", "e1"), fp("name_dob", "c3")])
        .await
        .unwrap();
    assert_eq!(
        m,
        vec![
            DuplicateMatch {
                session_id: "ses_1".into(),
                attributes: vec!["email".into()],
            },
            DuplicateMatch {
                session_id: "ses_2".into(),
                attributes: vec!["email".into(), "name_dob".into()],
            },
        ]
    );
    // Recording twice stored once: ses_1 still matches exactly once.
    let m = index
        .record_and_match(&live, "ses_9", &[fp("email", "e1")])
        .await
        .unwrap();
    assert_eq!(
        m.iter().map(|m| m.session_id.as_str()).collect::<Vec<_>>(),
        ["ses_0", "ses_1", "ses_2"]
    );
    // Not hex: refused without storing (a caller bug must not store plaintext).
    assert!(matches!(
        index
            .record_and_match(&live, "ses_x", &[fp("email", "jane@example.com")])
            .await,
        Err(RepoError::Conflict(_))
    ));
}
both_backends!(checks_db_duplicate_index_tenancy, duplicate_index_tenancy);

async fn duplicate_executor_uses_database(db: TestDatabase) {
    let (app, settings) = app_with_settings(db).await;
    let registry = check_registry(&app.db, &settings);
    let live = Tenant::new(app.org_id.clone(), Environment::Live);
    let sandbox = Tenant::new(app.org_id.clone(), Environment::Sandbox);
    let person = json!({"email": "Jane.Doe@Example.com ", "document_number": "X12-345 678"});
    let first = run(
        &registry,
        &request(live.clone(), "ses_a", "duplicate_detection", person.clone()),
    )
    .await;
    assert_eq!(first.status, CheckStatus::Passed, "{}", first.output);
    let in_sandbox = run(
        &registry,
        &request(sandbox, "ses_b", "duplicate_detection", person),
    )
    .await;
    assert_eq!(
        in_sandbox.status,
        CheckStatus::Passed,
        "{}",
        in_sandbox.output
    );
    let again = run(
        &registry,
        &request(
            live,
            "ses_c",
            "duplicate_detection",
            json!({"email": "jane.doe@example.com", "document_number": "x12345678"}),
        ),
    )
    .await;
    assert_eq!(again.status, CheckStatus::Failed, "{}", again.output);
    assert_eq!(
        again.output["matches"],
        json!([{"session_id": "ses_a", "attributes": ["document_number", "email"]}])
    );
    // Only keyed hashes are stored.
    use sea_orm::{ConnectionTrait, Statement};
    let conn = app.db.connection();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT fingerprint FROM duplicate_fingerprints",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 6);
    for row in rows {
        let fp: String = row.try_get("", "fingerprint").unwrap();
        assert_eq!(fp.len(), 64);
        assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!fp.contains("jane"));
    }
}
both_backends!(
    checks_db_duplicate_executor_uses_database,
    duplicate_executor_uses_database
);

async fn importer_commands(db: TestDatabase) {
    let (app, settings) = app_with_settings(db).await;
    watchlists::import(
        &settings,
        ImportFormat::Ofac,
        None,
        &data_file("sample_sdn.csv"),
        Some(&data_file("sample_alt.csv")),
    )
    .await
    .unwrap();
    watchlists::import(
        &settings,
        ImportFormat::Csv,
        None,
        &data_file("sample_watchlist.csv"),
        None,
    )
    .await
    .unwrap();
    let counts = app.db.watchlist_counts().await.unwrap();
    let sdn_lines = std::fs::read_to_string(data_file("sample_sdn.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .count() as u64;
    assert!(
        counts.contains(&("OFAC SDN".to_owned(), sdn_lines)),
        "{counts:?}"
    );
    assert!(
        counts.iter().any(|(l, _)| l == "EU Consolidated"),
        "{counts:?}"
    );
    assert!(
        counts.iter().any(|(l, _)| l == "Internal Blocklist"),
        "{counts:?}"
    );
    let ofac = app.db.all().await.unwrap();
    let voronkov = ofac.iter().find(|r| r.id == "ofac-sdn-10001").unwrap();
    assert!(voronkov.aliases.contains(&"VORONKOV, Arkadiy".to_owned()));
    assert_eq!(voronkov.date_of_birth.as_deref(), Some("1962-03-14"));
    // Re-importing the same file changes nothing.
    let version = app.db.version().await.unwrap();
    watchlists::import(
        &settings,
        ImportFormat::Csv,
        None,
        &data_file("sample_watchlist.csv"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(app.db.version().await.unwrap(), version);
    // --list puts everything under one name.
    watchlists::import(
        &settings,
        ImportFormat::Csv,
        Some("Custom"),
        &data_file("sample_watchlist.csv"),
        None,
    )
    .await
    .unwrap();
    let custom = app
        .db
        .watchlist_counts()
        .await
        .unwrap()
        .into_iter()
        .find(|(l, _)| l == "Custom")
        .map(|(_, n)| n);
    let csv_total: u64 = counts
        .iter()
        .filter(|(l, _)| l != "OFAC SDN")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(custom, Some(csv_total));
    watchlists::status(&settings).await.unwrap();
    // Bad input: a clear error, nothing changed.
    let version = app.db.version().await.unwrap();
    let err = watchlists::import(
        &settings,
        ImportFormat::Ofac,
        None,
        &data_file("sample_watchlist.csv"),
        None,
    )
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("line 1"), "{err:#}");
    assert!(
        watchlists::import(
            &settings,
            ImportFormat::Csv,
            None,
            &data_file("sample_watchlist.csv"),
            Some(&data_file("sample_alt.csv")),
        )
        .await
        .is_err()
    );
    assert!(
        watchlists::import(
            &settings,
            ImportFormat::Csv,
            None,
            &data_file("does-not-exist.csv"),
            None,
        )
        .await
        .is_err()
    );
    assert_eq!(app.db.version().await.unwrap(), version);
    // Seeding imports the bundled samples idempotently.
    verifa_server::commands::seed::run(&settings).await.unwrap();
    let version = app.db.version().await.unwrap();
    verifa_server::commands::seed::run(&settings).await.unwrap();
    assert_eq!(app.db.version().await.unwrap(), version);
}
both_backends!(checks_db_importer_commands, importer_commands);

#[test]
fn checks_db_settings_keys_threshold_and_vendor() {
    use verifa_server::settings::{DEV_DUPLICATE_HASH_KEY, RunEnvironment};
    let url = "sqlite::memory:";
    let s = Settings::for_tests(url, &[]).unwrap();
    assert_eq!(s.checks.screening_threshold, 0.6);
    // Development/test fall back to the public development key.
    assert_eq!(s.duplicate_hash_key(), DEV_DUPLICATE_HASH_KEY.as_bytes());
    assert!(s.checks.vendor.is_none());
    let key = "k".repeat(40);
    let s = Settings::for_tests(
        url,
        &[
            ("CHECKS__DUPLICATE_HASH_KEY", key.as_str()),
            ("CHECKS__SCREENING_THRESHOLD", "0.75"),
            ("CHECKS__VENDOR__BASE_URL", "https://vendor.example/v1"),
        ],
    )
    .unwrap();
    assert_eq!(s.duplicate_hash_key(), key.as_bytes());
    assert_eq!(s.checks.screening_threshold, 0.75);
    let vendor = s.checks.vendor.as_ref().unwrap();
    assert_eq!(vendor.timeout_secs, 10);
    assert!(!format!("{s:?}").contains(&key), "the key never prints");
    for bad in [
        ("CHECKS__SCREENING_THRESHOLD", "0"),
        ("CHECKS__SCREENING_THRESHOLD", "1.5"),
        ("CHECKS__DUPLICATE_HASH_KEY", "short"),
        ("CHECKS__VENDOR__BASE_URL", "ftp://x"),
    ] {
        let err = Settings::for_tests(url, &[bad]).unwrap_err();
        assert!(err.to_string().contains("checks."), "{bad:?}: {err}");
    }
    // Production: the development key is refused; without a key duplicate detection is off.
    let mut p = Settings::for_tests(url, &[]).unwrap();
    p.environment = Some(RunEnvironment::Production);
    assert!(p.duplicate_hash_key().is_empty());
    p.checks.duplicate_hash_key = DEV_DUPLICATE_HASH_KEY.to_owned().into();
    assert!(p.validate().is_err());
    p.checks.duplicate_hash_key = key.clone().into();
    p.validate().unwrap();
    p.checks.vendor = Some(verifa_server::settings::CheckVendorSettings {
        base_url: "http://plain.example".into(),
        api_key: String::new().into(),
        timeout_secs: 10,
    });
    assert!(p.validate().is_err(), "production vendors must use https");
}

async fn duplicate_detection_without_key_in_production(db: TestDatabase) {
    use verifa_server::settings::RunEnvironment;
    let (app, mut settings) = app_with_settings(db).await;
    settings.environment = Some(RunEnvironment::Production);
    let deps = verifa_server::compose::check_deps(&app.db, &settings);
    assert!(deps.vendor.is_none());
    let registry = verifa_adapters_checks::builtin_registry(deps);
    let r = run(
        &registry,
        &request(
            Tenant::new(app.org_id.clone(), Environment::Live),
            "ses_a",
            "duplicate_detection",
            json!({"email": "a@b.example"}),
        ),
    )
    .await;
    assert_eq!(r.status, CheckStatus::Error, "{}", r.output);
    // Vendor-backed policies answer `error` without a vendor.
    let v = run(
        &registry,
        &request(
            Tenant::new(app.org_id.clone(), Environment::Live),
            "ses_a",
            "face_match",
            json!({}),
        ),
    )
    .await;
    assert_eq!(v.status, CheckStatus::Error);
}
both_backends!(
    checks_db_duplicate_detection_without_key_in_production,
    duplicate_detection_without_key_in_production
);
