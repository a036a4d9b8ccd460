//! Recording attempts: the lease fence, the circuit breaker and its streak in batch order, and
//! requeues of failed deliveries.

use super::*;

/// An attempt whose delivery is no longer leased to its owner is not recorded and changes no
/// counter.
pub async fn finish_attempts_is_fenced_on_the_lease(stores: Stores) {
    let (live, _) = organization(&stores, "org_lease").await;
    let ep = insert_endpoint(&stores, endpoint(&live, "webhook_lease")).await;
    insert_deliveries(
        &stores,
        &[
            delivery(&ep, "whd_leased", "ses_1", 1, at(-1)),
            delivery(&ep, "whd_pending", "ses_2", 2, at(100)),
        ],
    )
    .await;
    let claimed = stores
        .deliveries
        .claim_due("a", t0(), at(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["whd_leased"]);
    let pending = stores
        .deliveries
        .get_delivery(&live, "whd_pending")
        .await
        .unwrap();

    let outcomes = stores
        .deliveries
        .finish_attempts(
            &[
                outcome(&claimed[0], "b", AttemptNext::Failed, at(1)),
                outcome(&pending, "a", AttemptNext::Failed, at(1)),
            ],
            1,
        )
        .await
        .unwrap();
    assert!(
        outcomes.iter().all(|o| !o.recorded && !o.endpoint_disabled),
        "{outcomes:?}"
    );
    assert_eq!(
        stores
            .deliveries
            .get_delivery(&live, "whd_leased")
            .await
            .unwrap(),
        claimed[0]
    );
    assert_eq!(
        stores
            .deliveries
            .get_delivery(&live, "whd_pending")
            .await
            .unwrap(),
        pending
    );
    let stored_ep = stores.endpoints.get_endpoint(&live, &ep.id).await.unwrap();
    assert_eq!(stored_ep.consecutive_failures, 0);
    assert!(stored_ep.enabled);

    let outcomes = stores
        .deliveries
        .finish_attempts(&[outcome(&claimed[0], "a", AttemptNext::Failed, at(2))], 5)
        .await
        .unwrap();
    assert!(outcomes[0].recorded);
    let done = stores
        .deliveries
        .get_delivery(&live, "whd_leased")
        .await
        .unwrap();
    assert_eq!(done.status, DeliveryStatus::Failed);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.lease_owner, None);
    assert_eq!(done.last_status_code, Some(500));
    assert_eq!(done.completed_at, Some(at(2)));
    assert_eq!(streak(&stores, &ep).await, 1);
}

/// Final failures count up; the one reaching the threshold disables the endpoint (and says
/// so); retries count nothing and a success resets the streak.
pub async fn breaker_disables_at_the_threshold(stores: Stores) {
    let (live, _) = organization(&stores, "org_breaker").await;
    let ep = insert_endpoint(&stores, endpoint(&live, "webhook_breaker")).await;
    let batch: Vec<DeliveryRecord> = (0..6)
        .map(|i| {
            delivery(
                &ep,
                &format!("whd_br_{i}"),
                &format!("ses_br_{i}"),
                i + 1,
                at(i - 10),
            )
        })
        .collect();
    insert_deliveries(&stores, &batch).await;
    let claimed = stores
        .deliveries
        .claim_due("d", t0(), at(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 6);

    // Every final failure carries the event to record if it trips the breaker.
    let with_audit = |d: &DeliveryRecord, next: AttemptNext, seconds: i64| {
        let mut a = outcome(d, "d", next, at(seconds));
        a.audit_if_disabled = (next == AttemptNext::Failed).then(|| {
            crate::contract::audit::draft(
                &live,
                &format!("aud_breaker_{}", d.id),
                "webhook_endpoint.disabled",
                &ep.id,
                seconds,
            )
        });
        a
    };
    let outcomes = stores
        .deliveries
        .finish_attempts(
            &[
                with_audit(&claimed[0], AttemptNext::Failed, 1),
                with_audit(&claimed[1], AttemptNext::Succeeded, 1),
                with_audit(&claimed[2], AttemptNext::Failed, 1),
                with_audit(&claimed[3], AttemptNext::RetryAt(at(500)), 1),
                with_audit(&claimed[4], AttemptNext::Failed, 1),
            ],
            3,
        )
        .await
        .unwrap();
    assert!(
        outcomes.iter().all(|o| o.recorded && !o.endpoint_disabled),
        "{outcomes:?}"
    );
    assert_eq!(
        streak(&stores, &ep).await,
        2,
        "the success reset the first failure"
    );
    assert!(
        stores
            .endpoints
            .get_endpoint(&live, &ep.id)
            .await
            .unwrap()
            .enabled
    );

    let tripping = stores
        .deliveries
        .finish_attempts(&[with_audit(&claimed[5], AttemptNext::Failed, 2)], 3)
        .await
        .unwrap();
    assert_eq!(tripping.len(), 1);
    assert!(tripping[0].recorded && tripping[0].endpoint_disabled);
    let stored = stores.endpoints.get_endpoint(&live, &ep.id).await.unwrap();
    assert!(!stored.enabled);
    assert_eq!(stored.disabled_at, Some(at(2)));
    assert_eq!(stored.consecutive_failures, 3);
    assert!(
        stores
            .endpoints
            .enabled_endpoints(&live)
            .await
            .unwrap()
            .is_empty()
    );
    let trail = stores.audit.chain_slice(&live, 0, None, 100).await.unwrap();
    let ids: Vec<&str> = trail.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [format!("aud_breaker_{}", claimed[5].id)],
        "only the attempt that tripped the breaker is recorded, with it"
    );
}

/// A batch is recorded in order: a success ends the endpoint's failure streak only where it
/// comes in the batch, and an attempt under a lost lease is not recorded.
pub async fn batch_of_attempts_keeps_the_streak_order(stores: Stores) {
    let (_, sandbox) = organization(&stores, "org_streak").await;
    let ep = insert_endpoint(&stores, endpoint(&sandbox, "webhook_streak")).await;
    let mut now = t0();
    for (round, order) in [
        [AttemptNext::Failed, AttemptNext::Succeeded],
        [AttemptNext::Succeeded, AttemptNext::Failed],
    ]
    .into_iter()
    .enumerate()
    {
        let sessions: Vec<String> = (0..3).map(|i| format!("ses_streak_{round}_{i}")).collect();
        assert_eq!(
            fan_out_sessions(&stores, &ep, &sessions, now).await.len(),
            3
        );
        let claimed = stores
            .deliveries
            .claim_due("batch", now, now + chrono::Duration::seconds(90), 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 3, "three sessions, one delivery each");
        assert!(
            claimed
                .iter()
                .all(|d| d.lease_owner.as_deref() == Some("batch"))
        );
        let outcomes = stores
            .deliveries
            .finish_attempts(
                &[
                    outcome(&claimed[0], "batch", order[0], now),
                    outcome(&claimed[1], "batch", order[1], now),
                    outcome(&claimed[2], "someone-else", AttemptNext::Failed, now),
                ],
                10,
            )
            .await
            .unwrap();
        let recorded: Vec<bool> = outcomes.iter().map(|o| o.recorded).collect();
        assert_eq!(recorded, [true, true, false], "round {round}");
        // The lost-lease attempt left its delivery leased, untouched.
        let left = stores
            .deliveries
            .get_delivery(&claimed[2].tenant, &claimed[2].id)
            .await
            .unwrap();
        assert_eq!(left.attempts, 0);
        assert_eq!(left.lease_owner.as_deref(), Some("batch"));
        // failure then success: streak 0; success then failure: streak 1.
        assert_eq!(streak(&stores, &ep).await, round as u32, "round {round}");
        now += chrono::Duration::seconds(91);
        // The expired lease makes the third delivery claimable again; settle it.
        let again = stores
            .deliveries
            .claim_due("batch", now, now + chrono::Duration::seconds(90), 10)
            .await
            .unwrap();
        assert_eq!(ids(&again), [claimed[2].id.as_str()]);
        stores
            .deliveries
            .finish_attempts(
                &[outcome(
                    &again[0],
                    "batch",
                    AttemptNext::RetryAt(now + chrono::Duration::days(1)),
                    now,
                )],
                10,
            )
            .await
            .unwrap();
    }
}

/// Only a `failed` delivery goes back to `pending`, with its attempts reset and due now.
pub async fn requeue_failed_only_from_failed(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_requeue").await;
    let ep = insert_endpoint(&stores, endpoint(&live, "webhook_requeue")).await;
    insert_deliveries(
        &stores,
        &[
            delivery(&ep, "whd_rq_fail", "ses_1", 1, at(-3)),
            delivery(&ep, "whd_rq_ok", "ses_2", 2, at(-2)),
            delivery(&ep, "whd_rq_pending", "ses_3", 3, at(100)),
        ],
    )
    .await;
    let claimed = stores
        .deliveries
        .claim_due("d", t0(), at(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["whd_rq_fail", "whd_rq_ok"]);
    stores
        .deliveries
        .finish_attempts(
            &[
                outcome(&claimed[0], "d", AttemptNext::Failed, at(1)),
                outcome(&claimed[1], "d", AttemptNext::Succeeded, at(1)),
            ],
            10,
        )
        .await
        .unwrap();

    for id in ["whd_rq_ok", "whd_rq_pending"] {
        let before = stores.deliveries.get_delivery(&live, id).await.unwrap();
        let refused = stores
            .deliveries
            .requeue_failed(&live, id, at(5), &[])
            .await;
        assert!(
            matches!(refused, Err(RepoError::Conflict(_))),
            "{id}: {refused:?}"
        );
        assert_eq!(
            stores.deliveries.get_delivery(&live, id).await.unwrap(),
            before
        );
    }
    let hidden = stores
        .deliveries
        .requeue_failed(&sandbox, "whd_rq_fail", at(5), &[])
        .await;
    assert!(matches!(hidden, Err(RepoError::NotFound)), "{hidden:?}");
    assert_eq!(
        stores
            .deliveries
            .get_delivery(&live, "whd_rq_fail")
            .await
            .unwrap()
            .status,
        DeliveryStatus::Failed
    );

    let requeued = stores
        .deliveries
        .requeue_failed(&live, "whd_rq_fail", at(5), &[])
        .await
        .unwrap();
    assert_eq!(requeued.status, DeliveryStatus::Pending);
    assert_eq!(requeued.attempts, 0);
    assert_eq!(requeued.next_attempt_at, Some(at(5)));
    assert_eq!(requeued.completed_at, None);
    assert_eq!(
        stores
            .deliveries
            .get_delivery(&live, "whd_rq_fail")
            .await
            .unwrap(),
        requeued
    );
    let again = stores
        .deliveries
        .claim_due("d", at(5), at(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(&again), ["whd_rq_fail"]);
}
