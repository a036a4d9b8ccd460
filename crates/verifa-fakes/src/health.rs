//! [`StoreHealth`] in memory: healthy unless the store was set down.

use crate::state::MemoryStore;
use async_trait::async_trait;
use verifa_ports::RepoError;
use verifa_ports::health::{PoolStatus, StoreHealth};

#[async_trait]
impl StoreHealth for MemoryStore {
    async fn ping(&self) -> Result<(), RepoError> {
        self.world().map(|_| ())
    }

    fn pool_status(&self) -> PoolStatus {
        PoolStatus {
            size: 1,
            idle: 1,
            max: 1,
        }
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
