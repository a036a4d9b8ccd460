//! [`CaseStore`](verifa_ports::cases::CaseStore): a case opens with the session change that
//! puts its session under review, at most one active per session; writes are fenced, and a
//! decision's session change and the case commit together or not at all; the queue orders by
//! priority, then time in review, then id; notes come back oldest first.

use super::Stores;
use super::fixtures::*;
use verifa_domain::audit::{Actor, AuditDraft, RequestMeta};
use verifa_domain::case::model::Opening;
use verifa_domain::case::{Case, CaseEvent, CaseSource, CaseStatus, Priority};
use verifa_domain::session::{Session, SessionStatus};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::cases::{
    Assignee, CaseFilter, CaseOpening, CaseSort, ClaimedCase, NewCaseEvent, NoteRecord,
};

fn opening(
    tenant: &Tenant,
    session: &Session,
    id: &str,
    priority: Priority,
    m: i64,
) -> CaseOpening {
    let at = at(m);
    CaseOpening {
        case: Case::open(Opening {
            id: id.into(),
            tenant: tenant.clone(),
            session_id: session.id.clone(),
            identity_id: None,
            external_ref: session.external_ref.clone(),
            source: CaseSource::Workflow,
            review_reasons: vec!["review:terminal".into()],
            priority,
            requires_dual_review: false,
            sla_hours: 24,
            at,
        }),
        event: NewCaseEvent {
            id: format!("evt_c{:08}", unique()),
            event: CaseEvent::Created,
        },
        audit: AuditDraft {
            id: format!("aud_c{:08}", unique()),
            tenant: tenant.clone(),
            action: "case.created".into(),
            resource_type: "case".into(),
            resource_id: id.into(),
            actor: Actor::System,
            changes: Vec::new(),
            metadata: serde_json::Map::new(),
            request: RequestMeta::default(),
            at,
        },
    }
}

/// Puts a processing session under review, opening case `id`.
async fn reviewed(
    stores: &Stores,
    tenant: &Tenant,
    sid: &str,
    id: &str,
    p: Priority,
    m: i64,
) -> Case {
    let s = insert_session(
        stores,
        session(tenant, sid, SessionStatus::Processing, t0()),
    )
    .await;
    let o = opening(tenant, &s, id, p, m);
    let c = change(&s, SessionStatus::UnderReview, at(m), Vec::new()).opening_case(o.clone());
    stores.sessions.apply(&c).await.unwrap();
    o.case
}

/// One active case per session; the opening commits with its session change.
pub async fn a_case_opens_with_its_session_change(stores: Stores) {
    let (live, _) = organization(&stores, "org_case_open").await;
    let case = reviewed(
        &stores,
        &live,
        "ses_case_o1",
        "case_o1",
        Priority::Normal,
        1,
    )
    .await;
    assert_eq!(stores.cases.get(&live, "case_o1").await.unwrap(), case);
    let events = events_of(&stores, &live, "ses_case_o1").await;
    assert_eq!(
        events.last().map(|e| e.event_type.as_str()),
        Some("case.created")
    );

    let s = stores.sessions.get(&live, "ses_case_o1").await.unwrap();
    let again = change(&s, SessionStatus::UnderReview, at(2), Vec::new()).opening_case(opening(
        &live,
        &s,
        "case_o2",
        Priority::High,
        2,
    ));
    let refused = stores.sessions.apply(&again).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    assert!(matches!(
        stores.cases.get(&live, "case_o2").await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(
        stores
            .sessions
            .get(&live, "ses_case_o1")
            .await
            .unwrap()
            .revision,
        s.revision,
        "the refused opening wrote no session change either"
    );
    assert_eq!(
        stores
            .cases
            .active_for_session(&live, "ses_case_o1")
            .await
            .unwrap()
            .map(|c| c.id),
        Some("case_o1".into())
    );
}

/// A fenced overwrite; a decision whose session change is refused writes nothing.
pub async fn case_updates_are_fenced_and_commit_with_the_session(stores: Stores) {
    let (live, _) = organization(&stores, "org_case_fence").await;
    let mut case = reviewed(
        &stores,
        &live,
        "ses_case_f1",
        "case_f1",
        Priority::Normal,
        1,
    )
    .await;
    let linked = stores.sessions.get(&live, "ses_case_f1").await.unwrap();
    assert_eq!(
        (linked.case_id.as_deref(), linked.case_status),
        (Some("case_f1"), Some(CaseStatus::Open)),
        "the opening links the session to its case"
    );
    case.claim("orguser_ann", at(2)).unwrap();
    stores.cases.update(&case, None, &[], &[]).await.unwrap();
    let linked = stores.sessions.get(&live, "ses_case_f1").await.unwrap();
    assert_eq!(linked.case_status, Some(CaseStatus::InReview));
    // A session write made from a copy read before the claim keeps the link as it is.
    let mut stale_copy = linked.clone();
    stale_copy.case_status = Some(CaseStatus::Open);
    stores
        .sessions
        .apply(&change(
            &stale_copy,
            SessionStatus::UnderReview,
            at(2),
            Vec::new(),
        ))
        .await
        .unwrap();
    assert_eq!(
        stores
            .sessions
            .get(&live, "ses_case_f1")
            .await
            .unwrap()
            .case_status,
        Some(CaseStatus::InReview),
        "only the case store writes the link"
    );
    let stale = stores.cases.update(&case, None, &[], &[]).await;
    assert!(matches!(stale, Err(RepoError::Conflict(_))), "{stale:?}");

    let mut fresh = stores.cases.get(&live, "case_f1").await.unwrap();
    assert_eq!(fresh.revision, 1);
    fresh
        .decide(
            "orguser_ann",
            verifa_domain::case::Decision::Approved,
            None,
            None,
            at(3),
        )
        .unwrap();
    let s = stores.sessions.get(&live, "ses_case_f1").await.unwrap();
    let mut bad = change(&s, SessionStatus::Completed, at(3), Vec::new());
    bad.expected_revision += 7;
    assert!(
        stores
            .cases
            .update(&fresh, Some(&bad), &[], &[])
            .await
            .is_err()
    );
    assert_eq!(
        stores.cases.get(&live, "case_f1").await.unwrap().status,
        CaseStatus::InReview,
        "the case is not decided without its session"
    );
    let good = change(&s, SessionStatus::Completed, at(3), Vec::new());
    stores
        .cases
        .update(&fresh, Some(&good), &[], &[])
        .await
        .unwrap();
    assert_eq!(
        stores.cases.get(&live, "case_f1").await.unwrap().status,
        CaseStatus::Approved
    );
    let done = stores.sessions.get(&live, "ses_case_f1").await.unwrap();
    assert_eq!(done.status, SessionStatus::Completed);
    assert_eq!(done.case_status, Some(CaseStatus::Approved));
    assert_eq!(
        stores
            .cases
            .active_for_session(&live, "ses_case_f1")
            .await
            .unwrap(),
        None
    );
}

/// The queue: urgent first, then longest in review, then id (listed and as `next` reads its
/// head); tab counts; notes in order.
pub async fn the_queue_orders_by_priority_then_time(stores: Stores) {
    let (live, _) = organization(&stores, "org_case_queue").await;
    reviewed(
        &stores,
        &live,
        "ses_case_q1",
        "case_q1",
        Priority::Normal,
        1,
    )
    .await;
    reviewed(
        &stores,
        &live,
        "ses_case_q2",
        "case_q2",
        Priority::Urgent,
        5,
    )
    .await;
    reviewed(
        &stores,
        &live,
        "ses_case_q3",
        "case_q3",
        Priority::Normal,
        0,
    )
    .await;
    let mut held = reviewed(
        &stores,
        &live,
        "ses_case_q4",
        "case_q4",
        Priority::Urgent,
        0,
    )
    .await;
    held.claim("orguser_bob", at(6)).unwrap();
    stores.cases.update(&held, None, &[], &[]).await.unwrap();

    let queue = CaseFilter {
        statuses: vec![CaseStatus::Open],
        assigned_to: Some(Assignee::Nobody),
        sort: CaseSort::Queue,
        ..CaseFilter::default()
    };
    let ids: Vec<String> = stores
        .cases
        .list(&live, &queue, at(10), all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["case_q2", "case_q3", "case_q1"]);
    let head: Vec<String> = stores
        .cases
        .queue_head(&live, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        head,
        ["case_q2", "case_q3"],
        "the head of the same queue, held cases left out"
    );
    let tabs = stores
        .cases
        .tab_counts(&live, Some("orguser_bob"))
        .await
        .unwrap();
    assert_eq!((tabs.unassigned, tabs.mine, tabs.all), (3, 1, 4));

    for (n, text) in ["first", "second"].iter().enumerate() {
        let note = NoteRecord {
            id: format!("note_q{n}"),
            case_id: "case_q1".into(),
            tenant: live.clone(),
            author_id: None,
            author_name: "API key".into(),
            author_type: "api".into(),
            content_sealed: (*text).into(),
            created_at: at(20 + n as i64),
        };
        stores.cases.add_note(&note, &[]).await.unwrap();
    }
    let notes = stores.cases.notes(&live, "case_q1").await.unwrap();
    let texts: Vec<&str> = notes.iter().map(|n| n.content_sealed.as_str()).collect();
    assert_eq!(texts, ["first", "second"]);
    let idle = stores.cases.idle_claims(at(6), 10).await.unwrap();
    assert_eq!(
        idle.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["case_q4"]
    );
}

/// The claim `claim_next` applies in the tests: `reviewer` takes the case, with its audit.
fn claim_by(reviewer: &str) -> impl Fn(Case) -> Option<ClaimedCase> + Send + Sync + '_ {
    move |mut case: Case| {
        case.claim(reviewer, at(30)).ok()?;
        let audit = AuditDraft {
            id: format!("aud_c{:08}", unique()),
            tenant: case.tenant.clone(),
            action: "case.claimed".into(),
            resource_type: "case".into(),
            resource_id: case.id.clone(),
            actor: Actor::System,
            changes: vec!["assigned_to".into()],
            metadata: serde_json::Map::new(),
            request: RequestMeta::default(),
            at: at(30),
        };
        Some(ClaimedCase {
            case,
            events: vec![NewCaseEvent {
                id: format!("evt_c{:08}", unique()),
                event: CaseEvent::Assigned,
            }],
            audit: vec![audit],
        })
    }
}

/// `claim_next` takes the queue's first case and writes the claim with its audit; concurrent
/// claims take distinct cases; an empty queue (or another tenant's) gives `None`.
pub async fn claim_next_takes_distinct_cases_in_queue_order(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_case_claim").await;
    for n in 0..12 {
        let priority = if n == 7 {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        reviewed(
            &stores,
            &live,
            &format!("ses_case_c{n:02}"),
            &format!("case_c{n:02}"),
            priority,
            n,
        )
        .await;
    }
    let first = stores
        .cases
        .claim_next(&live, &claim_by("orguser_ann"))
        .await
        .unwrap()
        .expect("a case");
    assert_eq!(first.id, "case_c07", "the urgent case first");
    let stored = stores.cases.get(&live, "case_c07").await.unwrap();
    assert_eq!(stored.assigned_to.as_deref(), Some("orguser_ann"));
    assert_eq!(stored.status, CaseStatus::InReview);
    assert_eq!(
        stored.revision, first.revision,
        "the returned case is the stored one"
    );
    let audit = stores
        .audit
        .list(
            &live,
            &verifa_ports::audit::AuditFilter {
                resource_id: Some("case_c07".into()),
                ..Default::default()
            },
            all(),
        )
        .await
        .unwrap();
    assert!(audit.items.iter().any(|e| e.action == "case.claimed"));
    assert_eq!(
        stores
            .cases
            .claim_next(&sandbox, &claim_by("orguser_ann"))
            .await
            .unwrap(),
        None,
        "another environment's queue is empty"
    );

    let reviewers: Vec<String> = (0..11).map(|n| format!("orguser_{n:02}")).collect();
    let mut tasks = Vec::new();
    for reviewer in reviewers.clone() {
        let store = stores.cases.clone();
        let tenant = live.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_next(&tenant, &claim_by(&reviewer)).await
        }));
    }
    let mut claimed = std::collections::BTreeSet::new();
    for t in tasks {
        let case = t
            .await
            .expect("task")
            .expect("claim")
            .expect("a case for each");
        assert!(claimed.insert(case.id.clone()), "{} claimed twice", case.id);
    }
    assert_eq!(claimed.len(), 11);
    assert_eq!(
        stores
            .cases
            .claim_next(&live, &claim_by("orguser_late"))
            .await
            .unwrap(),
        None,
        "every case is held"
    );
}
