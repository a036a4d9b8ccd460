//! [`AuditLog`](verifa_ports::audit::AuditLog) and the audit drafts every write carries: events
//! are sealed into one gapless hash chain per tenant, appends to a chain never share a
//! sequence even when they race, an event commits with its change or not at all, and listings
//! filter, order and stay inside their tenant.

use super::Stores;
use super::fixtures::*;
use verifa_domain::audit::chain::{ChainHead, ChainVerifier};
use verifa_domain::audit::{Actor, AuditDraft, RequestMeta};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::audit::AuditFilter;

/// A draft of `action` on `resource_id` in `tenant`'s chain, `seconds` after `t0`.
pub fn draft(
    tenant: &Tenant,
    id: &str,
    action: &str,
    resource_id: &str,
    seconds: i64,
) -> AuditDraft {
    AuditDraft {
        id: id.to_owned(),
        tenant: tenant.clone(),
        action: action.to_owned(),
        resource_type: action.split('.').next().unwrap_or("x").to_owned(),
        resource_id: resource_id.to_owned(),
        actor: Actor::ApiKey("vk_live_contract".into()),
        changes: vec!["label".into()],
        metadata: serde_json::Map::from_iter([("n".to_owned(), serde_json::json!(seconds))]),
        request: RequestMeta {
            ip_address: Some("203.0.113.7".into()),
            method: Some("PATCH".into()),
            path: Some(format!("/api/v1/x/{resource_id}")),
            request_id: Some(format!("req_{id}")),
        },
        // Sub-second precision: sealing cuts it to what every backend keeps.
        at: at(seconds) + chrono::Duration::nanoseconds(123_456_789),
    }
}

/// Verifies `tenant`'s whole chain through the port, as `GET /events/verify` does.
async fn verify(stores: &Stores, tenant: &Tenant) -> (bool, u64, ChainHead) {
    let head = stores.audit.chain_head(tenant).await.unwrap();
    let events = stores
        .audit
        .chain_slice(tenant, 0, None, 10_000)
        .await
        .unwrap();
    let mut verifier = ChainVerifier::after(&ChainHead::empty());
    for e in &events {
        verifier.feed(e);
    }
    let report = verifier.finish(&head, true);
    (report.valid, report.checked, head)
}

/// Appends form one gapless chain per tenant, starting at 1 from 64 zeros, and read back
/// exactly as sealed.
pub async fn audit_chains_are_gapless_per_tenant(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_aud_chain").await;
    stores
        .audit
        .append(&[
            draft(&live, "aud_c1", "api_key.created", "key_1", 0),
            draft(&sandbox, "aud_c2", "api_key.created", "key_2", 1),
            draft(&live, "aud_c3", "api_key.updated", "key_1", 2),
        ])
        .await
        .unwrap();
    stores
        .audit
        .append(&[draft(&live, "aud_c4", "api_key.expired", "key_1", 3)])
        .await
        .unwrap();

    let chain = stores.audit.chain_slice(&live, 0, None, 100).await.unwrap();
    let ids: Vec<(&str, i64)> = chain.iter().map(|e| (e.id.as_str(), e.sequence)).collect();
    assert_eq!(ids, [("aud_c1", 1), ("aud_c3", 2), ("aud_c4", 3)]);
    assert_eq!(chain[0].prev_hash, "0".repeat(64));
    assert_eq!(chain[1].prev_hash, chain[0].hash);
    assert_eq!(
        chain[0].created_at,
        at(0) + chrono::Duration::microseconds(123_456),
        "stored to the microsecond"
    );
    assert_eq!(chain[0].request_id.as_deref(), Some("req_aud_c1"));
    assert_eq!(chain[0].metadata["n"], 0);
    let (valid, checked, head) = verify(&stores, &live).await;
    assert!(valid, "the stored chain verifies");
    assert_eq!(
        (checked, head.sequence, head.hash.as_str()),
        (3, 3, chain[2].hash.as_str())
    );

    let sandboxed = stores
        .audit
        .chain_slice(&sandbox, 0, None, 100)
        .await
        .unwrap();
    assert_eq!(sandboxed.len(), 1);
    assert_eq!(sandboxed[0].sequence, 1, "each tenant has its own chain");
    assert_eq!(stores.audit.get(&live, "aud_c3").await.unwrap(), chain[1]);
    assert!(matches!(
        stores.audit.get(&sandbox, "aud_c3").await,
        Err(RepoError::NotFound)
    ));
    let slice = stores
        .audit
        .chain_slice(&live, 1, Some(2), 100)
        .await
        .unwrap();
    assert_eq!(slice.len(), 1);
    assert_eq!(slice[0].sequence, 2);
    let chains = stores.audit.chains().await.unwrap();
    assert!(chains.contains(&live) && chains.contains(&sandbox));
}

/// Appends racing on one chain are serialised: every sequence number is used once and the
/// chain verifies.
pub async fn concurrent_appends_never_share_a_sequence(stores: Stores) {
    let (live, _) = organization(&stores, "org_aud_race").await;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let stores = stores.clone();
        let live = live.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..5 {
                let id = format!("aud_race_{writer}_{n}");
                stores
                    .audit
                    .append(&[draft(&live, &id, "session.updated", "ses_race", n)])
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let chain = stores.audit.chain_slice(&live, 0, None, 100).await.unwrap();
    let sequences: Vec<i64> = chain.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=40).collect::<Vec<_>>());
    let (valid, checked, head) = verify(&stores, &live).await;
    assert!(valid);
    assert_eq!((checked, head.sequence), (40, 40));
}

/// Sealing racing with appends and reads (a store may queue events and seal them later):
/// every read sees every committed event, the chain stays gapless and verifies, each change's
/// events keep their order, and nothing stays queued after a seal pass.
pub async fn sealing_races_appends_and_reads(stores: Stores) {
    let (live, _) = organization(&stores, "org_aud_seal").await;
    let mut tasks = Vec::new();
    for writer in 0..6 {
        let stores = stores.clone();
        let live = live.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..5 {
                let first = format!("aud_seal_{writer}_{n}_a");
                let second = format!("aud_seal_{writer}_{n}_b");
                stores
                    .audit
                    .append(&[
                        draft(&live, &first, "session.updated", "ses_seal", n),
                        draft(&live, &second, "session.updated", "ses_seal", n),
                    ])
                    .await
                    .expect("append");
                // Read your writes: the event is listed as soon as its change committed.
                let got = stores.audit.get(&live, &second).await.expect("read back");
                assert_eq!(got.id, second);
            }
        }));
    }
    for _ in 0..3 {
        let stores = stores.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                stores.audit.seal_pending().await.expect("seal");
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    stores.audit.seal_pending().await.unwrap();
    assert_eq!(
        stores.audit.seal_pending().await.unwrap(),
        0,
        "nothing left queued"
    );
    let chain = stores.audit.chain_slice(&live, 0, None, 100).await.unwrap();
    let sequences: Vec<i64> = chain.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=60).collect::<Vec<_>>());
    for e in chain.iter().filter(|e| e.id.ends_with("_a")) {
        let partner = e.id.replace("_a", "_b");
        let b = chain.iter().find(|x| x.id == partner).expect("its partner");
        assert!(
            b.sequence > e.sequence,
            "a change's events keep their order"
        );
    }
    let (valid, checked, head) = verify(&stores, &live).await;
    assert!(valid);
    assert_eq!((checked, head.sequence), (60, 60));
    let again = stores
        .audit
        .append(&[draft(
            &live,
            "aud_seal_0_0_a",
            "session.updated",
            "ses_seal",
            9,
        )])
        .await;
    assert!(
        matches!(again, Err(RepoError::Conflict(_))),
        "a sealed id is taken: {again:?}"
    );
}

/// A write and its audit events commit together: a refused event refuses the write, and a
/// refused write appends no event.
pub async fn audit_events_commit_with_their_change(stores: Stores) {
    let (live, _) = organization(&stores, "org_aud_atomic").await;
    stores
        .audit
        .append(&[draft(&live, "aud_taken", "api_key.created", "key_x", 0)])
        .await
        .unwrap();
    let key = api_key(&live, "key_atomic", &"a9".repeat(32), t0());
    let refused = stores
        .api_keys
        .insert(
            &key,
            &[draft(
                &live,
                "aud_taken",
                "api_key.created",
                "key_atomic",
                1,
            )],
        )
        .await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    assert!(
        matches!(
            stores.api_keys.get(&live, "key_atomic").await,
            Err(RepoError::NotFound)
        ),
        "the key was not stored without its event"
    );

    stores
        .api_keys
        .insert(
            &key,
            &[draft(
                &live,
                "aud_key_made",
                "api_key.created",
                "key_atomic",
                2,
            )],
        )
        .await
        .unwrap();
    let mut stale = key.clone();
    stale.revision += 7;
    stale.label = Some("never".into());
    let fenced = stores
        .api_keys
        .update(
            &stale,
            &[draft(
                &live,
                "aud_never",
                "api_key.updated",
                "key_atomic",
                3,
            )],
        )
        .await;
    assert!(matches!(fenced, Err(RepoError::Conflict(_))), "{fenced:?}");
    assert!(
        matches!(
            stores.audit.get(&live, "aud_never").await,
            Err(RepoError::NotFound)
        ),
        "a refused write leaves no event"
    );
    let chain = stores.audit.chain_slice(&live, 0, None, 100).await.unwrap();
    let ids: Vec<&str> = chain.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["aud_taken", "aud_key_made"]);
    assert!(verify(&stores, &live).await.0);
}

/// Listings are newest first, filter on every field, search text case-insensitively
/// (`%` and `_` literally) and stay inside their tenant.
pub async fn audit_list_filters_and_orders(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_aud_list").await;
    let mut by_system = draft(&live, "aud_l3", "session.expired", "ses_1", 20);
    by_system.actor = Actor::System;
    by_system.request = RequestMeta::default();
    stores
        .audit
        .append(&[
            draft(&live, "aud_l1", "api_key.created", "key_1", 0),
            draft(&live, "aud_l2", "session.created", "ses_1", 10),
            by_system,
            draft(&live, "aud_l4", "api_key.updated", "key_50%_off", 30),
            draft(&sandbox, "aud_l5", "api_key.created", "key_9", 40),
        ])
        .await
        .unwrap();
    let ids = |filter: AuditFilter| {
        let stores = stores.clone();
        let live = live.clone();
        async move {
            stores
                .audit
                .list(&live, &filter, all())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(AuditFilter::default()).await,
        ["aud_l4", "aud_l3", "aud_l2", "aud_l1"]
    );
    let only = |f: fn(&mut AuditFilter)| {
        let mut filter = AuditFilter::default();
        f(&mut filter);
        filter
    };
    assert_eq!(
        ids(only(|f| f.action = Some("api_key.created".into()))).await,
        ["aud_l1"]
    );
    assert_eq!(
        ids(only(|f| f.resource_type = Some("session".into()))).await,
        ["aud_l3", "aud_l2"]
    );
    assert_eq!(
        ids(only(|f| f.resource_id = Some("ses_1".into()))).await,
        ["aud_l3", "aud_l2"]
    );
    assert_eq!(
        ids(only(|f| f.actor = Some("system".into()))).await,
        ["aud_l3"]
    );
    assert_eq!(
        ids(only(|f| {
            f.created_after = Some(at(10));
            f.created_before = Some(at(30));
        }))
        .await,
        ["aud_l3", "aud_l2"],
        "created_after is inclusive, created_before exclusive"
    );
    assert_eq!(
        ids(only(|f| f.q = Some("SESSION.EXP".into()))).await,
        ["aud_l3"]
    );
    assert_eq!(ids(only(|f| f.q = Some("50%".into()))).await, ["aud_l4"]);
    assert_eq!(
        ids(only(|f| f.q = Some("key_5_".into()))).await,
        Vec::<String>::new(),
        "_ is not a wildcard"
    );
    assert_eq!(ids(only(|f| f.q = Some("203.0.113".into()))).await.len(), 3);
    let page = stores
        .audit
        .list(
            &live,
            &AuditFilter::default(),
            verifa_domain::pagination::PageRequest {
                limit: 2,
                offset: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 4);
    let paged: Vec<&str> = page.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(paged, ["aud_l3", "aud_l2"]);
}
