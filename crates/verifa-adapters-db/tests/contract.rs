//! The repository contract suite (`verifa_testkit::contract`) on the sea-orm adapter: every case
//! once on SQLite and once on Postgres, each on a fresh, migrated database.

use std::sync::Arc;
use verifa_adapters_db::{Database, PoolSettings};
use verifa_testkit::TestDatabase;
use verifa_testkit::contract::Stores;

async fn stores_on(db: TestDatabase) -> (Stores, TestDatabase) {
    // Any 32-byte key: the suite checks behaviour through the ports, not the sealing.
    let cipher = verifa_crypto::Cipher::from_key(&[7u8; 32]).expect("a 32-byte key");
    let database = Database::connect(&db.url, &PoolSettings::default(), cipher)
        .await
        .expect("connect to the test database");
    database.migrate().await.expect("migrate the test database");
    (Stores::of(Arc::new(database)), db)
}

async fn sqlite_stores() -> (Stores, TestDatabase) {
    stores_on(TestDatabase::sqlite().await).await
}

async fn postgres_stores() -> (Stores, TestDatabase) {
    stores_on(TestDatabase::postgres().await).await
}

verifa_testkit::contract_suite!(sqlite, sqlite_stores);
verifa_testkit::contract_suite!(postgres, postgres_stores);
