//! [`IdempotencyStore`](verifa_ports::idempotency::IdempotencyStore): one winner among
//! concurrent claims, replay of completed keys byte for byte, in-progress keys, take-over of
//! stale records, release, and keys scoped per tenant.

use super::Stores;
use super::fixtures::*;
use verifa_domain::tenancy::Tenant;
use verifa_ports::idempotency::{Claim, StoredResponse};

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/api/v1/sessions/ses_1".into()),
        ],
        // Not valid UTF-8 on purpose: the body is bytes.
        body: vec![b'{', 0xff, 0x00, b'}', b'\n'],
    }
}

/// Twenty claims of `key` at once, at `now` (`round` tells their fingerprints apart).
async fn twenty_claims(
    stores: &Stores,
    tenant: &Tenant,
    key: &str,
    round: &str,
    now: i64,
) -> Vec<(String, Claim)> {
    let claims: Vec<_> = (0..20)
        .map(|i| {
            let store = stores.idempotency.clone();
            let (tenant, key) = (tenant.clone(), key.to_owned());
            let fingerprint = format!("fp-{round}-{i}");
            tokio::spawn(async move {
                let claim = store
                    .claim(
                        &tenant,
                        &key,
                        &fingerprint,
                        at(now),
                        at(now + 30),
                        at(now - 3600),
                    )
                    .await
                    .unwrap();
                (fingerprint, claim)
            })
        })
        .collect();
    let mut results = Vec::new();
    for c in claims {
        results.push(c.await.unwrap());
    }
    results
}

/// Exactly one of `results` acquired the key; every other saw the winner's request running.
fn exactly_one_acquired(results: &[(String, Claim)]) {
    let winners: Vec<&String> = results
        .iter()
        .filter(|(_, c)| *c == Claim::Acquired)
        .map(|(f, _)| f)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, claim) in results {
        match claim {
            Claim::Acquired => {}
            Claim::InProgress { fingerprint } => assert_eq!(fingerprint, winners[0]),
            other => panic!("no request completed yet: {other:?}"),
        }
    }
}

/// Twenty concurrent claims of one key: exactly one is acquired, the others see it running;
/// the same holds for twenty concurrent take-overs once its lock lapsed.
pub async fn concurrent_claims_of_one_key_acquire_once(stores: Stores) {
    let (live, _) = organization(&stores, "org_idem_race").await;
    exactly_one_acquired(&twenty_claims(&stores, &live, "key-race", "first", 0).await);
    // The winner died: its lock (30 s) lapsed.
    exactly_one_acquired(&twenty_claims(&stores, &live, "key-race", "takeover", 60).await);
}

/// A completed key replays its response byte for byte, with the original fingerprint, to any
/// later claim; before that it is in progress.
pub async fn completed_key_replays_its_response(stores: Stores) {
    let (live, _) = organization(&stores, "org_idem_replay").await;
    let store = &stores.idempotency;
    assert_eq!(
        store
            .claim(&live, "k", "fp-1", t0(), at(30), at(-3600))
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store
            .claim(&live, "k", "fp-2", at(1), at(31), at(-3599))
            .await
            .unwrap(),
        Claim::InProgress {
            fingerprint: "fp-1".into()
        }
    );

    store.complete(&live, "k", &response()).await.unwrap();

    // Even after the lock lapsed: a completed record is not taken over.
    let replay = store
        .claim(&live, "k", "fp-3", at(60), at(90), at(-3540))
        .await
        .unwrap();
    assert_eq!(
        replay,
        Claim::Completed {
            fingerprint: "fp-1".into(),
            response: response()
        }
    );
}

/// A record created before `expired_before`, or in progress with a lock that lapsed, is taken
/// over by the next claim, which then holds it.
pub async fn stale_records_are_taken_over(stores: Stores) {
    let (live, _) = organization(&stores, "org_idem_stale").await;
    let store = &stores.idempotency;
    store
        .claim(&live, "crashed", "fp-old", t0(), at(30), at(-3600))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim(&live, "crashed", "fp-new", at(31), at(61), at(-3569))
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store
            .claim(&live, "crashed", "fp-other", at(32), at(62), at(-3568))
            .await
            .unwrap(),
        Claim::InProgress {
            fingerprint: "fp-new".into()
        }
    );

    store
        .claim(&live, "old", "fp-old", t0(), at(30), at(-3600))
        .await
        .unwrap();
    store.complete(&live, "old", &response()).await.unwrap();
    // Created at t0, expired for claims that count records before t0 + 1s as gone.
    assert_eq!(
        store
            .claim(&live, "old", "fp-new", at(100), at(130), at(1))
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store
            .claim(&live, "old", "fp-x", at(101), at(131), at(1))
            .await
            .unwrap(),
        Claim::InProgress {
            fingerprint: "fp-new".into()
        }
    );
}

/// Release frees an in-progress key for the next claim; a completed key is not released.
pub async fn release_frees_only_an_in_progress_key(stores: Stores) {
    let (live, _) = organization(&stores, "org_idem_release").await;
    let store = &stores.idempotency;
    store
        .claim(&live, "failed", "fp-1", t0(), at(30), at(-3600))
        .await
        .unwrap();
    store.release(&live, "failed").await.unwrap();
    assert_eq!(
        store
            .claim(&live, "failed", "fp-2", at(1), at(31), at(-3599))
            .await
            .unwrap(),
        Claim::Acquired
    );

    store
        .claim(&live, "done", "fp-1", t0(), at(30), at(-3600))
        .await
        .unwrap();
    store.complete(&live, "done", &response()).await.unwrap();
    store.release(&live, "done").await.unwrap();
    assert!(matches!(
        store
            .claim(&live, "done", "fp-1", at(1), at(31), at(-3599))
            .await
            .unwrap(),
        Claim::Completed { .. }
    ));
}

/// The same key in another organization or environment is another record.
pub async fn keys_are_per_tenant(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_idem_a").await;
    let (other, _) = organization(&stores, "org_idem_b").await;
    let store = &stores.idempotency;
    store
        .claim(&live, "shared", "fp-live", t0(), at(30), at(-3600))
        .await
        .unwrap();
    store.complete(&live, "shared", &response()).await.unwrap();

    for tenant in [&sandbox, &other] {
        assert_eq!(
            store
                .claim(tenant, "shared", "fp-x", at(1), at(31), at(-3599))
                .await
                .unwrap(),
            Claim::Acquired,
            "{tenant:?}"
        );
    }
    // Neither claim disturbed the live record.
    assert!(matches!(
        store.claim(&live, "shared", "fp-y", at(2), at(32), at(-3598)).await.unwrap(),
        Claim::Completed { fingerprint, .. } if fingerprint == "fp-live"
    ));
}
