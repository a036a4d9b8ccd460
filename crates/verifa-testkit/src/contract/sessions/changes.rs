//! Writing sessions: inserts, the compare-and-set on status, all-or-nothing changes, run
//! replacement, event order and document replacement.

use super::*;

/// `insert` refuses an id that exists, and leaves the stored session as it was.
pub async fn session_insert_refuses_an_existing_id(stores: Stores) {
    let (live, _) = organization(&stores, "org_ins").await;
    let first = insert_session(
        &stores,
        session(&live, "ses_ins", SessionStatus::Pending, t0()),
    )
    .await;
    let mut second = session(&live, "ses_ins", SessionStatus::Capturing, at(1));
    second.external_ref = Some("other".into());

    let refused = stores
        .sessions
        .insert(&second, &[new_event(SessionEvent::Created)], &[])
        .await;

    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(stores.sessions.get(&live, "ses_ins").await.unwrap(), first);
    assert_eq!(events_of(&stores, &live, "ses_ins").await.len(), 1);
}

/// Of two changes read from the same status, one succeeds; the other is a conflict and
/// appends no event.
pub async fn session_apply_is_a_compare_and_set_on_status(stores: Stores) {
    let (live, _) = organization(&stores, "org_cas").await;
    let pending = insert_session(
        &stores,
        session(&live, "ses_cas", SessionStatus::Pending, t0()),
    )
    .await;
    let start = change(
        &pending,
        SessionStatus::Capturing,
        at(1),
        vec![SessionEvent::Started],
    );
    let expire = change(
        &pending,
        SessionStatus::Expired,
        at(1),
        vec![SessionEvent::Expired {
            reason: ExpireReason::Requested,
        }],
    );

    let (a, b) = {
        let (s1, s2) = (stores.sessions.clone(), stores.sessions.clone());
        let (c1, c2) = (start.clone(), expire.clone());
        tokio::join!(
            tokio::spawn(async move { s1.apply(&c1).await }),
            tokio::spawn(async move { s2.apply(&c2).await })
        )
    };
    let (a, b) = (a.unwrap(), b.unwrap());

    let (winner, loser) = match (&a, &b) {
        (Ok(()), Err(RepoError::Conflict(_))) => (&start, &expire),
        (Err(RepoError::Conflict(_)), Ok(())) => (&expire, &start),
        other => panic!("exactly one change must win, got {other:?}"),
    };
    let stored = stores.sessions.get(&live, "ses_cas").await.unwrap();
    assert_eq!(stored.status, winner.session.status);
    let types: Vec<String> = events_of(&stores, &live, "ses_cas")
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        ["session.created", winner.events[0].event.event_type()],
        "the losing change ({}) appended nothing",
        loser.events[0].event.event_type()
    );
}

/// A refused change writes nothing: a stale run revision leaves the session, its events, its
/// result and its run as they were; so does a stale status.
pub async fn refused_change_writes_nothing(stores: Stores) {
    let (live, _) = organization(&stores, "org_refuse").await;
    let (processing, run) = session_with_run(&stores, &live, "ses_refuse", t0()).await;
    let events_before = events_of(&stores, &live, "ses_refuse").await;

    let mut decided_run = run.clone();
    decided_run.revision = run.revision + 5;
    decided_run.work = None;
    decided_run.due = None;
    let complete = change(
        &processing,
        SessionStatus::Completed,
        at(5),
        vec![decided()],
    )
    .with_result(approved_result("ses_refuse", &live));
    let stale_revision = complete.clone().with_run(RunWrite::Update {
        run: Box::new(decided_run),
        expected_revision: run.revision + 1,
    });
    let refused = stores.sessions.apply(&stale_revision).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );

    let mut stale_status = complete;
    stale_status.expected_status = SessionStatus::Capturing;
    let refused = stores.sessions.apply(&stale_status).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );

    assert_eq!(
        stores.sessions.get(&live, "ses_refuse").await.unwrap(),
        processing
    );
    assert_eq!(events_of(&stores, &live, "ses_refuse").await, events_before);
    assert_eq!(
        stores.sessions.result(&live, "ses_refuse").await.unwrap(),
        None
    );
    let stored_run = stores
        .runs
        .run_for_session(&live, "ses_refuse")
        .await
        .unwrap();
    assert_eq!(stored_run, Some(run));
}

/// `RunWrite::Start` deletes every earlier run of the session and their attempts.
pub async fn run_start_deletes_earlier_runs_and_their_attempts(stores: Stores) {
    let (live, _) = organization(&stores, "org_restart").await;
    let (processing, first) = session_with_run(&stores, &live, "ses_restart", t0()).await;
    let claimed = stores
        .runs
        .claim_run("w", t0(), at(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, first.id);
    let mut step = claimed.clone();
    step.revision += 1;
    stores
        .runs
        .commit_run(
            &step,
            claimed.revision,
            &[attempt("nex_restart", 1, at(1))],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        stores
            .runs
            .executions(&live, "ses_restart", None)
            .await
            .unwrap()
            .len(),
        1
    );

    let second = run("wfr_restart_2", &processing, at(10));
    let mut reprocess = change(&processing, SessionStatus::Processing, at(10), vec![])
        .with_run(RunWrite::Start(Box::new(second.clone())));
    reprocess.session.processing_attempts += 1;
    stores.sessions.apply(&reprocess).await.unwrap();

    let current = stores
        .runs
        .run_for_session(&live, "ses_restart")
        .await
        .unwrap();
    assert_eq!(current, Some(second.clone()));
    assert!(
        stores
            .runs
            .executions(&live, "ses_restart", None)
            .await
            .unwrap()
            .is_empty()
    );
    // The first run is gone, not just hidden: only the second can be claimed.
    let next = stores
        .runs
        .claim_run("w2", at(100), at(160))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.id, second.id);
    assert_eq!(
        stores.runs.claim_run("w3", at(100), at(160)).await.unwrap(),
        None
    );
}

/// Events are appended in order after every earlier event, with increasing `seq`, and carry
/// the session as the change leaves it.
pub async fn events_get_increasing_seq_in_order(stores: Stores) {
    let (live, _) = organization(&stores, "org_seq").await;
    let a = insert_session(
        &stores,
        session(&live, "ses_seq_a", SessionStatus::Pending, t0()),
    )
    .await;
    let b = insert_session(
        &stores,
        session(&live, "ses_seq_b", SessionStatus::Pending, t0()),
    )
    .await;
    let a_started = change(
        &a,
        SessionStatus::Capturing,
        at(1),
        vec![SessionEvent::Started, SessionEvent::LinkGenerated],
    );
    stores.sessions.apply(&a_started).await.unwrap();
    let b_expired = change(
        &b,
        SessionStatus::Expired,
        at(2),
        vec![SessionEvent::Expired {
            reason: ExpireReason::Requested,
        }],
    );
    stores.sessions.apply(&b_expired).await.unwrap();
    let a_expired = change(
        &a_started.session,
        SessionStatus::Expired,
        at(3),
        vec![SessionEvent::Expired {
            reason: ExpireReason::CaptureTokenExpired,
        }],
    );
    stores.sessions.apply(&a_expired).await.unwrap();

    let of_a = events_of(&stores, &live, "ses_seq_a").await;
    let types: Vec<&str> = of_a.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "session.created",
            "session.started",
            "session.link_generated",
            "session.expired"
        ]
    );
    assert!(of_a.windows(2).all(|w| w[0].seq < w[1].seq), "{of_a:?}");
    assert_eq!(of_a[1].data["status"], json!("capturing"));
    assert_eq!(of_a[3].data["status"], json!("expired"));
    assert_eq!(of_a[3].data["reason"], json!("capture_token_expired"));
    assert_eq!(of_a[3].created_at, at(3));

    // Across sessions the outbox is in commit order too.
    let outbox = stores.fan_out.outbox_after(0, 100).await.unwrap();
    let order: Vec<(&str, &str)> = outbox
        .iter()
        .map(|e| (e.session_id.as_str(), e.event_type.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("ses_seq_a", "session.created"),
            ("ses_seq_b", "session.created"),
            ("ses_seq_a", "session.started"),
            ("ses_seq_a", "session.link_generated"),
            ("ses_seq_b", "session.expired"),
            ("ses_seq_a", "session.expired"),
        ]
    );
    assert!(outbox.windows(2).all(|w| w[0].seq < w[1].seq));
}

/// A session holds at most one document per type: the replaced one is returned and gone; a
/// refused change stores no document.
pub async fn put_document_replaces_the_same_type_and_returns_the_previous(stores: Stores) {
    let (live, _) = organization(&stores, "org_docs").await;
    let pending = insert_session(
        &stores,
        session(&live, "ses_docs", SessionStatus::Pending, t0()),
    )
    .await;
    let started = change(
        &pending,
        SessionStatus::Capturing,
        at(1),
        vec![SessionEvent::Started],
    );
    let first = document(&pending, "doc_front_1", DocumentType::IdFront, at(1));
    assert_eq!(
        stores
            .documents
            .put_document(&first, &started)
            .await
            .unwrap(),
        None
    );
    let capturing = started.session;

    let again = change(&capturing, SessionStatus::Capturing, at(2), vec![]);
    let replacement = document(&capturing, "doc_front_2", DocumentType::IdFront, at(2));
    let previous = stores
        .documents
        .put_document(&replacement, &again)
        .await
        .unwrap();
    assert_eq!(previous, Some(first));
    let selfie = document(&capturing, "doc_selfie", DocumentType::Selfie, at(3));
    let third = change(&again.session, SessionStatus::Capturing, at(3), vec![]);
    assert_eq!(
        stores
            .documents
            .put_document(&selfie, &third)
            .await
            .unwrap(),
        None
    );

    // Read from a stale status: refused, and the document is not stored.
    let stale = change(&pending, SessionStatus::Capturing, at(4), vec![]);
    let back = document(&pending, "doc_back", DocumentType::IdBack, at(4));
    let refused = stores.documents.put_document(&back, &stale).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );

    let stored = stores.documents.documents(&live, "ses_docs").await.unwrap();
    assert_eq!(stored, [replacement, selfie]);
    assert_eq!(
        stores
            .sessions
            .get(&live, "ses_docs")
            .await
            .unwrap()
            .updated_at,
        at(3)
    );
}
