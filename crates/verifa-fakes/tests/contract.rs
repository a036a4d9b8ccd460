//! The repository contract suite (`verifa_testkit::contract`) on [`MemoryStore`], which keeps the
//! fakes as faithful to the ports as the real adapter.

use std::sync::Arc;
use verifa_fakes::MemoryStore;
use verifa_testkit::contract::Stores;

async fn memory_stores() -> (Stores, ()) {
    (Stores::of(Arc::new(MemoryStore::new())), ())
}

verifa_testkit::contract_suite!(memory, memory_stores);
