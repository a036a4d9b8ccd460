//! Audit sealing across processes: two stores over one database (two server replicas) append
//! and seal the same chain at once. The head's lock is what keeps them apart (each store's
//! in-process gate only serialises its own passes), so the chain must come out gapless and
//! verifying on both backends.

use std::sync::Arc;
use verifa_adapters_db::{Database, PoolSettings};
use verifa_domain::audit::chain::{ChainHead, ChainVerifier};
use verifa_ports::audit::AuditLog;
use verifa_testkit::TestDatabase;
use verifa_testkit::contract::Stores;
use verifa_testkit::contract::audit::draft;
use verifa_testkit::contract::fixtures::organization;

async fn replica(db: &TestDatabase) -> Arc<Database> {
    let cipher = verifa_crypto::Cipher::from_key(&[7u8; 32]).expect("a 32-byte key");
    let database = Database::connect(&db.url, &PoolSettings::default(), cipher)
        .await
        .expect("connect to the test database");
    database.migrate().await.expect("migrate the test database");
    Arc::new(database)
}

async fn two_replicas_seal_one_chain(db: TestDatabase) {
    let (a, b) = (replica(&db).await, replica(&db).await);
    let (live, _) = organization(&Stores::of(a.clone()), "org_two_sealers").await;
    let mut tasks = Vec::new();
    for (n, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        let live = live.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                let id = format!("aud_two_{n}_{i}");
                store
                    .append(&[draft(&live, &id, "session.updated", "ses_two", i)])
                    .await
                    .expect("append");
                store.seal_pending().await.expect("seal");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let head = b.chain_head(&live).await.expect("head");
    let chain = a.chain_slice(&live, 0, None, 1_000).await.expect("chain");
    let sequences: Vec<i64> = chain.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=60).collect::<Vec<_>>());
    let mut verifier = ChainVerifier::after(&ChainHead::empty());
    for e in &chain {
        verifier.feed(e);
    }
    let report = verifier.finish(&head, true);
    assert!(report.valid, "{report:?}");
    assert_eq!(report.head_sequence, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_seal_one_chain_on_sqlite() {
    two_replicas_seal_one_chain(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_seal_one_chain_on_postgres() {
    two_replicas_seal_one_chain(TestDatabase::postgres().await).await;
}
