//! Endpoints: deletion takes their deliveries along; reads are tenant-scoped.

use super::*;

/// Deleting an endpoint deletes its deliveries (and only its own); another tenant cannot.
pub async fn delete_endpoint_deletes_its_deliveries(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_delete").await;
    let gone = insert_endpoint(&stores, endpoint(&live, "webhook_gone")).await;
    let kept = insert_endpoint(&stores, endpoint(&live, "webhook_kept")).await;
    insert_deliveries(
        &stores,
        &[
            delivery(&gone, "whd_gone_1", "ses_1", 1, t0()),
            delivery(&gone, "whd_gone_2", "ses_1", 2, t0()),
            delivery(&kept, "whd_kept", "ses_1", 1, t0()),
        ],
    )
    .await;

    let refused = stores
        .endpoints
        .delete_endpoint(&sandbox, &gone.id, &[])
        .await;
    assert!(matches!(refused, Err(RepoError::NotFound)), "{refused:?}");
    assert!(
        stores
            .deliveries
            .get_delivery(&live, "whd_gone_1")
            .await
            .is_ok()
    );

    stores
        .endpoints
        .delete_endpoint(&live, &gone.id, &[])
        .await
        .unwrap();
    let got = stores.endpoints.get_endpoint(&live, &gone.id).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    for id in ["whd_gone_1", "whd_gone_2"] {
        let got = stores.deliveries.get_delivery(&live, id).await;
        assert!(matches!(got, Err(RepoError::NotFound)), "{id}: {got:?}");
    }
    assert!(
        stores
            .deliveries
            .get_delivery(&live, "whd_kept")
            .await
            .is_ok()
    );
    let again = stores.endpoints.delete_endpoint(&live, &gone.id, &[]).await;
    assert!(matches!(again, Err(RepoError::NotFound)), "{again:?}");
}

/// Endpoint and delivery reads are scoped to one organization and environment.
pub async fn webhook_reads_are_tenant_scoped(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_wh_a").await;
    let (other, _) = organization(&stores, "org_wh_b").await;
    let ep = insert_endpoint(&stores, endpoint(&live, "webhook_iso")).await;
    insert_deliveries(&stores, &[delivery(&ep, "whd_iso", "ses_1", 1, t0())]).await;

    assert_eq!(
        stores.endpoints.get_endpoint(&live, &ep.id).await.unwrap(),
        ep
    );
    assert_eq!(
        stores
            .endpoints
            .list_endpoints(&live, all())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        stores
            .endpoints
            .enabled_endpoints(&live)
            .await
            .unwrap()
            .len(),
        1
    );
    let mine = stores
        .deliveries
        .list_deliveries(&live, &ep.id, &DeliveryFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(ids(&mine.items), ["whd_iso"]);

    for stranger in [&other, &sandbox] {
        let got = stores.endpoints.get_endpoint(stranger, &ep.id).await;
        assert!(
            matches!(got, Err(RepoError::NotFound)),
            "{stranger:?}: {got:?}"
        );
        let listed = stores
            .endpoints
            .list_endpoints(stranger, all())
            .await
            .unwrap();
        assert!(listed.items.is_empty() && listed.total == 0);
        assert!(
            stores
                .endpoints
                .enabled_endpoints(stranger)
                .await
                .unwrap()
                .is_empty()
        );
        let got = stores.deliveries.get_delivery(stranger, "whd_iso").await;
        assert!(
            matches!(got, Err(RepoError::NotFound)),
            "{stranger:?}: {got:?}"
        );
        let listed = stores
            .deliveries
            .list_deliveries(stranger, &ep.id, &DeliveryFilter::default(), all())
            .await
            .unwrap();
        assert!(listed.items.is_empty() && listed.total == 0);
    }
    // The dispatcher's read crosses tenants on purpose.
    let by_id = stores
        .endpoints
        .endpoints_by_ids(&[ep.id.clone(), "webhook_nope".into()])
        .await
        .unwrap();
    assert_eq!(by_id, [ep]);
}

/// A session's deliveries to every endpoint of its tenant, oldest first, capped; never another
/// tenant's.
pub async fn deliveries_for_session_span_endpoints(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_wh_session").await;
    let a = insert_endpoint(&stores, endpoint(&live, "webhook_sa")).await;
    let b = insert_endpoint(&stores, endpoint(&live, "webhook_sb")).await;
    let other = insert_endpoint(&stores, endpoint(&sandbox, "webhook_sc")).await;
    insert_deliveries(
        &stores,
        &[
            delivery(&b, "whd_s2", "ses_s", 2, at(2)),
            delivery(&a, "whd_s1", "ses_s", 1, at(1)),
            delivery(&a, "whd_s3", "ses_s", 3, at(3)),
            delivery(&a, "whd_other_session", "ses_t", 1, at(1)),
            delivery(&other, "whd_other_tenant", "ses_s", 1, at(1)),
        ],
    )
    .await;
    let ids = |found: Vec<DeliveryRecord>| found.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let d = stores.deliveries.as_ref();
    assert_eq!(
        ids(d.deliveries_for_session(&live, "ses_s", 10).await.unwrap()),
        ["whd_s1", "whd_s2", "whd_s3"]
    );
    assert_eq!(
        ids(d.deliveries_for_session(&live, "ses_s", 2).await.unwrap()),
        ["whd_s1", "whd_s2"]
    );
    assert_eq!(
        ids(d
            .deliveries_for_session(&sandbox, "ses_s", 10)
            .await
            .unwrap()),
        ["whd_other_tenant"]
    );
}
