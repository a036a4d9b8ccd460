//! Fan-out and claims: the cursor compare-and-set, exclusive claims, per-session order per
//! endpoint, disabled endpoints and leases.

use super::*;

/// Two fan-outs from the same cursor: one moves it, the other returns false and inserts no
/// delivery.
pub async fn fan_out_is_a_compare_and_set_on_the_cursor(stores: Stores) {
    let (live, _) = organization(&stores, "org_fan").await;
    let ep = insert_endpoint(&stores, endpoint(&live, "webhook_fan")).await;
    for i in 0..3 {
        insert_session(
            &stores,
            session(&live, &format!("ses_fan_{i}"), SessionStatus::Pending, t0()),
        )
        .await;
    }
    assert_eq!(stores.fan_out.fan_out_cursor().await.unwrap(), 0);
    let events = stores.fan_out.outbox_after(0, 100).await.unwrap();
    assert_eq!(events.len(), 3);
    let last = events[2].seq;
    let batch = |dispatcher: &str| -> Vec<DeliveryRecord> {
        events
            .iter()
            .map(|e| {
                delivery(
                    &ep,
                    &format!("whd_{dispatcher}_{}", e.seq),
                    &e.session_id,
                    e.seq,
                    t0(),
                )
            })
            .collect()
    };
    let (a, b) = (batch("a"), batch("b"));

    let (moved_a, moved_b) = {
        let (f1, f2) = (stores.fan_out.clone(), stores.fan_out.clone());
        let (b1, b2) = (a.clone(), b.clone());
        tokio::join!(
            tokio::spawn(async move { f1.commit_fan_out(0, last, &b1, t0()).await }),
            tokio::spawn(async move { f2.commit_fan_out(0, last, &b2, t0()).await })
        )
    };
    let (moved_a, moved_b) = (moved_a.unwrap().unwrap(), moved_b.unwrap().unwrap());

    assert!(
        moved_a != moved_b,
        "exactly one fan-out wins: {moved_a} {moved_b}"
    );
    let (won, lost) = if moved_a { (&a, &b) } else { (&b, &a) };
    assert_eq!(stores.fan_out.fan_out_cursor().await.unwrap(), last);
    let listed = stores
        .deliveries
        .list_deliveries(&live, &ep.id, &DeliveryFilter::default(), all())
        .await
        .unwrap();
    let mut stored = ids(&listed.items);
    stored.sort_unstable();
    let mut expected = ids(won);
    expected.sort_unstable();
    assert_eq!(stored, expected);
    for d in lost {
        let got = stores.deliveries.get_delivery(&live, &d.id).await;
        assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    }
    // A stale cursor stays refused once the race is over.
    assert!(
        !stores
            .fan_out
            .commit_fan_out(0, last, &[], t0())
            .await
            .unwrap()
    );
    assert!(
        stores
            .fan_out
            .outbox_after(last, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Twenty concurrent claimers never get the same delivery while its lease holds.
pub async fn claim_due_is_exclusive_under_concurrency(stores: Stores) {
    let (live, _) = organization(&stores, "org_claim_race").await;
    let ep = insert_endpoint(&stores, endpoint(&live, "webhook_race")).await;
    let all_deliveries: Vec<DeliveryRecord> = (0..30)
        .map(|i| {
            delivery(
                &ep,
                &format!("whd_race_{i:02}"),
                &format!("ses_race_{i}"),
                i + 1,
                at(-1),
            )
        })
        .collect();
    insert_deliveries(&stores, &all_deliveries).await;

    let claimers: Vec<_> = (0..20)
        .map(|i| {
            let store = stores.deliveries.clone();
            tokio::spawn(async move {
                let owner = format!("dispatcher-{i}");
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_due(&owner, t0(), at(600), 3).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    assert!(batch.len() <= 3, "the limit holds: {}", batch.len());
                    for d in batch {
                        assert_eq!(d.status, DeliveryStatus::Delivering);
                        assert_eq!(d.lease_owner.as_deref(), Some(owner.as_str()));
                        mine.push(d.id);
                    }
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }

    let distinct: BTreeSet<&String> = claimed.iter().collect();
    assert_eq!(
        claimed.len(),
        distinct.len(),
        "a delivery was claimed twice"
    );
    assert_eq!(distinct.len(), all_deliveries.len());
}

/// A delivery waits behind every open earlier event of its session for the same endpoint
/// (only that endpoint): claims go oldest due first, in per-session order.
pub async fn claim_due_keeps_per_session_order_per_endpoint(stores: Stores) {
    let (live, _) = organization(&stores, "org_order").await;
    let e1 = insert_endpoint(&stores, endpoint(&live, "webhook_order_1")).await;
    let e2 = insert_endpoint(&stores, endpoint(&live, "webhook_order_2")).await;
    insert_deliveries(
        &stores,
        &[
            delivery(&e1, "whd_e1_s_3", "ses_s", 3, at(-30)),
            delivery(&e1, "whd_e1_s_1", "ses_s", 1, at(-10)),
            delivery(&e1, "whd_e1_s_2", "ses_s", 2, at(-20)),
            delivery(&e2, "whd_e2_s_2", "ses_s", 2, at(-20)),
            delivery(&e2, "whd_e2_s_1", "ses_s", 1, at(-5)),
            delivery(&e1, "whd_e1_t_4", "ses_t", 4, at(-15)),
        ],
    )
    .await;

    // Oldest due first, and only the head of each (session, endpoint) queue.
    // Leases long enough to outlive the case: only finished attempts free a queue here.
    let first = stores
        .deliveries
        .claim_due("d", t0(), at(1000), 10)
        .await
        .unwrap();
    assert_eq!(ids(&first), ["whd_e1_t_4", "whd_e1_s_1", "whd_e2_s_1"]);

    // A retry keeps the head open: the rest of the session still waits.
    let e1_head = first.iter().find(|d| d.id == "whd_e1_s_1").unwrap();
    let e2_head = first.iter().find(|d| d.id == "whd_e2_s_1").unwrap();
    let outcomes = stores
        .deliveries
        .finish_attempts(
            &[
                outcome(e1_head, "d", AttemptNext::RetryAt(at(100)), at(1)),
                outcome(e2_head, "d", AttemptNext::Succeeded, at(1)),
            ],
            10,
        )
        .await
        .unwrap();
    assert!(outcomes.iter().all(|o| o.recorded));
    let next = stores
        .deliveries
        .claim_due("d", at(2), at(1000), 10)
        .await
        .unwrap();
    assert_eq!(
        ids(&next),
        ["whd_e2_s_2"],
        "e2 moves on, e1 waits for its retry"
    );

    // Once the head succeeds, the next event of the session goes.
    let retried = stores
        .deliveries
        .claim_due("d", at(100), at(1000), 10)
        .await
        .unwrap();
    assert_eq!(ids(&retried), ["whd_e1_s_1"]);
    stores
        .deliveries
        .finish_attempts(
            &[outcome(&retried[0], "d", AttemptNext::Succeeded, at(101))],
            10,
        )
        .await
        .unwrap();
    let after = stores
        .deliveries
        .claim_due("d", at(102), at(1000), 10)
        .await
        .unwrap();
    assert_eq!(ids(&after), ["whd_e1_s_2"]);
}

/// Deliveries of disabled endpoints, not yet due, or under an unexpired lease are skipped; an
/// expired lease is taken over.
pub async fn claim_due_skips_disabled_endpoints_and_unexpired_leases(stores: Stores) {
    let (live, _) = organization(&stores, "org_skip").await;
    let on = insert_endpoint(&stores, endpoint(&live, "webhook_on")).await;
    let mut off = endpoint(&live, "webhook_off");
    off.enabled = false;
    let off = insert_endpoint(&stores, off).await;
    insert_deliveries(
        &stores,
        &[
            delivery(&on, "whd_due", "ses_1", 1, at(-1)),
            delivery(&on, "whd_later", "ses_2", 2, at(50)),
            delivery(&off, "whd_disabled", "ses_3", 3, at(-1)),
        ],
    )
    .await;

    let first = stores
        .deliveries
        .claim_due("a", t0(), at(30), 10)
        .await
        .unwrap();
    assert_eq!(ids(&first), ["whd_due"]);
    assert_eq!(first[0].lease_until, Some(at(30)));
    assert!(
        stores
            .deliveries
            .claim_due("b", at(10), at(40), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let taken = stores
        .deliveries
        .claim_due("b", at(31), at(70), 10)
        .await
        .unwrap();
    assert_eq!(ids(&taken), ["whd_due"]);
    assert_eq!(taken[0].lease_owner.as_deref(), Some("b"));
    let stored = stores
        .deliveries
        .get_delivery(&live, "whd_due")
        .await
        .unwrap();
    assert_eq!(stored.lease_owner.as_deref(), Some("b"));
    assert_eq!(stored.status, DeliveryStatus::Delivering);

    let due_later = stores
        .deliveries
        .claim_due("c", at(50), at(90), 10)
        .await
        .unwrap();
    assert_eq!(ids(&due_later), ["whd_later"]);
    let disabled = stores
        .deliveries
        .get_delivery(&live, "whd_disabled")
        .await
        .unwrap();
    assert_eq!(disabled.status, DeliveryStatus::Pending);
    assert_eq!(disabled.lease_owner, None);
}
