//! [`ApiKeyRepository`](verifa_ports::api_keys::ApiKeyRepository): authentication looks keys up
//! by secret hash across tenants; every other read is tenant-scoped; secret hashes are unique.
//! Overwrites through `update` are in [`fences`](super::fences).

use super::Stores;
use super::fixtures::*;
use verifa_ports::RepoError;

/// `find_by_secret_hash` finds a key whatever its tenant.
pub async fn secret_hash_lookup_crosses_tenants(stores: Stores) {
    let (live, _) = organization(&stores, "org_key_a").await;
    let (_, other_sandbox) = organization(&stores, "org_key_b").await;
    let a = api_key(&live, "key_a", &"a1".repeat(32), t0());
    let b = api_key(&other_sandbox, "key_b", &"b2".repeat(32), t0());
    for k in [&a, &b] {
        stores.api_keys.insert(k, &[]).await.unwrap();
    }

    assert_eq!(
        stores
            .api_keys
            .find_by_secret_hash(&a.secret_hash)
            .await
            .unwrap(),
        Some(a)
    );
    assert_eq!(
        stores
            .api_keys
            .find_by_secret_hash(&b.secret_hash)
            .await
            .unwrap(),
        Some(b)
    );
    assert_eq!(
        stores
            .api_keys
            .find_by_secret_hash(&"c3".repeat(32))
            .await
            .unwrap(),
        None
    );
}

/// `get` and `list` see only the tenant's keys, newest first.
pub async fn api_key_reads_are_tenant_scoped(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_key_iso").await;
    let (other, _) = organization(&stores, "org_key_iso_b").await;
    let older = api_key(&live, "key_older", &"d4".repeat(32), t0());
    let newer = api_key(&live, "key_newer", &"e5".repeat(32), at(1));
    let sandboxed = api_key(&sandbox, "key_sandbox", &"f6".repeat(32), at(2));
    for k in [&older, &newer, &sandboxed] {
        stores.api_keys.insert(k, &[]).await.unwrap();
    }

    assert_eq!(
        stores.api_keys.get(&live, "key_older").await.unwrap(),
        older
    );
    let listed = stores.api_keys.list(&live, all()).await.unwrap();
    assert_eq!(listed.items, [newer, older]);
    assert_eq!(listed.total, 2);
    for stranger in [&sandbox, &other] {
        let got = stores.api_keys.get(stranger, "key_older").await;
        assert!(
            matches!(got, Err(RepoError::NotFound)),
            "{stranger:?}: {got:?}"
        );
    }
    assert_eq!(
        stores.api_keys.list(&sandbox, all()).await.unwrap().items,
        [sandboxed]
    );
    assert_eq!(stores.api_keys.list(&other, all()).await.unwrap().total, 0);
}

/// A second key with the same secret hash (or id) is a conflict, and is not stored.
pub async fn duplicate_secret_hash_is_a_conflict(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_key_dup").await;
    let original = api_key(&live, "key_original", &"a7".repeat(32), t0());
    stores.api_keys.insert(&original, &[]).await.unwrap();

    let same_hash = api_key(&sandbox, "key_copy", &original.secret_hash, at(1));
    let refused = stores.api_keys.insert(&same_hash, &[]).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    let same_id = api_key(&live, "key_original", &"b8".repeat(32), at(1));
    let refused = stores.api_keys.insert(&same_id, &[]).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );

    assert_eq!(
        stores
            .api_keys
            .find_by_secret_hash(&original.secret_hash)
            .await
            .unwrap(),
        Some(original.clone())
    );
    assert_eq!(
        stores
            .api_keys
            .find_by_secret_hash(&"b8".repeat(32))
            .await
            .unwrap(),
        None
    );
    assert!(
        stores
            .api_keys
            .list(&sandbox, all())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        stores.api_keys.list(&live, all()).await.unwrap().items,
        [original]
    );
}
