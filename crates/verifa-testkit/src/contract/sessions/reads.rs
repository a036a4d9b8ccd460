//! Reading sessions: tenant isolation on every read, list order, the stale-capture query.

use super::*;

/// Every read is scoped to one organization and environment.
pub async fn session_reads_are_tenant_scoped(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_iso_a").await;
    let (other_live, _) = organization(&stores, "org_iso_b").await;
    let (processing, run) = session_with_run(&stores, &live, "ses_iso", t0()).await;
    let with_result = change(
        &processing,
        SessionStatus::Completed,
        at(2),
        vec![decided()],
    )
    .with_result(approved_result("ses_iso", &live));
    stores.sessions.apply(&with_result).await.unwrap();
    let doc = document(
        &with_result.session,
        "doc_iso",
        DocumentType::IdFront,
        at(3),
    );
    let unchanged = change(
        &with_result.session,
        SessionStatus::Completed,
        at(3),
        vec![],
    );
    stores
        .documents
        .put_document(&doc, &unchanged)
        .await
        .unwrap();
    let claimed = stores
        .runs
        .claim_run("w", t0(), at(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, run.id);
    let mut step = claimed.clone();
    step.revision += 1;
    stores
        .runs
        .commit_run(
            &step,
            claimed.revision,
            &[attempt("nex_iso", 1, at(4))],
            None,
        )
        .await
        .unwrap();

    // The owner sees everything (so the empty reads below are not vacuous).
    assert!(stores.sessions.get(&live, "ses_iso").await.is_ok());
    assert!(
        stores
            .sessions
            .result(&live, "ses_iso")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        stores
            .documents
            .documents(&live, "ses_iso")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(!events_of(&stores, &live, "ses_iso").await.is_empty());
    assert!(
        stores
            .runs
            .run_for_session(&live, "ses_iso")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        stores
            .runs
            .executions(&live, "ses_iso", None)
            .await
            .unwrap()
            .len(),
        1
    );
    let listed = stores
        .sessions
        .list(&live, &SessionFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);

    for stranger in [&other_live, &sandbox] {
        let got = stores.sessions.get(stranger, "ses_iso").await;
        assert!(
            matches!(got, Err(RepoError::NotFound)),
            "{stranger:?}: {got:?}"
        );
        let listed = stores
            .sessions
            .list(stranger, &SessionFilter::default(), all())
            .await
            .unwrap();
        assert!(listed.items.is_empty() && listed.total == 0, "{stranger:?}");
        assert_eq!(
            stores.sessions.result(stranger, "ses_iso").await.unwrap(),
            None
        );
        assert!(
            stores
                .documents
                .documents(stranger, "ses_iso")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(events_of(&stores, stranger, "ses_iso").await.is_empty());
        assert_eq!(
            stores
                .runs
                .run_for_session(stranger, "ses_iso")
                .await
                .unwrap(),
            None
        );
        assert!(
            stores
                .runs
                .executions(stranger, "ses_iso", None)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// The list is newest first, ties broken by id descending, with the total across pages.
pub async fn session_list_is_newest_first_with_id_tie_break(stores: Stores) {
    let (live, _) = organization(&stores, "org_list").await;
    // Inserted out of order, so neither insertion order nor id order alone gives the answer.
    for (id, created) in [
        ("ses_list_b", 1),
        ("ses_list_a", 0),
        ("ses_list_d", 1),
        ("ses_list_c", 2),
    ] {
        insert_session(
            &stores,
            session(&live, id, SessionStatus::Pending, at(created)),
        )
        .await;
    }

    let page = stores
        .sessions
        .list(&live, &SessionFilter::default(), all())
        .await
        .unwrap();
    let ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["ses_list_c", "ses_list_d", "ses_list_b", "ses_list_a"]
    );
    assert_eq!(page.total, 4);

    let second = verifa_domain::pagination::PageRequest {
        limit: 2,
        offset: 1,
    };
    let page = stores
        .sessions
        .list(&live, &SessionFilter::default(), second)
        .await
        .unwrap();
    let ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ses_list_d", "ses_list_b"]);
    assert_eq!(page.total, 4);

    let by_ref = SessionFilter {
        q: Some("ref_ses_list_d".into()),
        ..SessionFilter::default()
    };
    let page = stores.sessions.list(&live, &by_ref, all()).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ses_list_d"]);
    assert_eq!(page.total, 1);
}

/// Sessions of any tenant still pending or capturing whose token expired before `now`, oldest
/// expiry first, at most `limit`.
pub async fn stale_capture_sessions_filters_and_orders(stores: Stores) {
    let (live, _) = organization(&stores, "org_stale_a").await;
    let (_, other_sandbox) = organization(&stores, "org_stale_b").await;
    let cases = [
        (
            "ses_stale_pending",
            &live,
            SessionStatus::Pending,
            Some(-10),
        ),
        (
            "ses_stale_capturing",
            &live,
            SessionStatus::Capturing,
            Some(-20),
        ),
        (
            "ses_stale_other_tenant",
            &other_sandbox,
            SessionStatus::Capturing,
            Some(-5),
        ),
        ("ses_stale_not_yet", &live, SessionStatus::Pending, Some(10)),
        (
            "ses_stale_exactly_now",
            &live,
            SessionStatus::Pending,
            Some(0),
        ),
        (
            "ses_stale_processing",
            &live,
            SessionStatus::Processing,
            Some(-30),
        ),
        (
            "ses_stale_expired",
            &live,
            SessionStatus::Expired,
            Some(-40),
        ),
        ("ses_stale_no_token", &live, SessionStatus::Pending, None),
    ];
    for (id, tenant, status, expires) in cases {
        let mut s = session(tenant, id, status, at(-100));
        s.token_expires_at = expires.map(at);
        insert_session(&stores, s).await;
    }

    let stale = stores
        .sessions
        .stale_capture_sessions(t0(), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = stale.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ses_stale_capturing",
            "ses_stale_pending",
            "ses_stale_other_tenant"
        ]
    );
    assert_eq!(stale[2].tenant, other_sandbox);

    let first_two = stores
        .sessions
        .stale_capture_sessions(t0(), 2)
        .await
        .unwrap();
    let ids: Vec<&str> = first_two.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ses_stale_capturing", "ses_stale_pending"]);
}
