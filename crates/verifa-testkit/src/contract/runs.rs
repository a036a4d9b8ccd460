//! [`RunStore`](verifa_ports::runs::RunStore): exclusive claims under concurrency, due times
//! and leases, the revision a claim advances, and commits fenced on revision and lease owner
//! that write a step's attempts and session change together or not at all.

use super::Stores;
use super::fixtures::*;
use serde_json::json;
use std::collections::BTreeSet;
use verifa_domain::run::WorkflowRun;
use verifa_domain::session::{SessionEvent, SessionStatus, VerdictSource};
use verifa_domain::workflow::{Outcome, RunStatus};
use verifa_ports::RepoError;
use verifa_ports::sessions::SessionChange;

/// A step of `claimed`: running at `node`, revision advanced.
fn step_of(claimed: &WorkflowRun, node: &str) -> WorkflowRun {
    let mut step = claimed.clone();
    step.state.status = RunStatus::Running;
    step.state.current_node = Some(node.into());
    step.revision += 1;
    step
}

/// The session change a deciding step causes: completed, with a decision event.
fn completing(session: &verifa_domain::session::Session) -> SessionChange {
    change(
        session,
        SessionStatus::Completed,
        at(30),
        vec![SessionEvent::Decided {
            outcome: Outcome::Approved,
            source: VerdictSource::Simulation,
        }],
    )
}

/// Twenty concurrent claimers never get the same run while its lease holds: every run is
/// claimed exactly once.
pub async fn claim_run_is_exclusive_under_concurrency(stores: Stores) {
    let (live, _) = organization(&stores, "org_race").await;
    let mut expected = BTreeSet::new();
    for i in 0..8 {
        let (_, run) = session_with_run(&stores, &live, &format!("ses_race_{i}"), at(-1)).await;
        expected.insert(run.id);
    }

    let claimers: Vec<_> = (0..20)
        .map(|i| {
            let runs = stores.runs.clone();
            tokio::spawn(async move {
                let owner = format!("worker-{i}");
                let mut mine = Vec::new();
                while let Some(run) = runs.claim_run(&owner, t0(), at(600)).await.unwrap() {
                    assert_eq!(run.lease.owner.as_deref(), Some(owner.as_str()));
                    mine.push(run.id);
                }
                mine
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }

    claimed.sort();
    let distinct: BTreeSet<String> = claimed.iter().cloned().collect();
    assert_eq!(
        claimed.len(),
        distinct.len(),
        "a run was claimed twice: {claimed:?}"
    );
    assert_eq!(distinct, expected);
}

/// Claims take the earliest due run first.
pub async fn claim_run_takes_the_earliest_due_first(stores: Stores) {
    let (live, _) = organization(&stores, "org_due_order").await;
    for (id, due) in [("ses_due_b", -5), ("ses_due_a", -10), ("ses_due_c", -1)] {
        session_with_run(&stores, &live, id, at(due)).await;
    }

    let mut order = Vec::new();
    while let Some(run) = stores.runs.claim_run("w", t0(), at(60)).await.unwrap() {
        order.push(run.session_id);
    }
    assert_eq!(order, ["ses_due_a", "ses_due_b", "ses_due_c"]);
}

/// A run is claimable only once due, and not while another worker's lease holds; an expired
/// lease is taken over.
pub async fn claim_run_respects_due_time_and_unexpired_leases(stores: Stores) {
    let (live, _) = organization(&stores, "org_due").await;
    session_with_run(&stores, &live, "ses_later", at(60)).await;
    let (_, now_run) = session_with_run(&stores, &live, "ses_now", t0()).await;

    let first = stores
        .runs
        .claim_run("a", t0(), at(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, now_run.id);
    assert_eq!(first.lease.until, Some(at(30)));
    // Leased, and the other is not due yet.
    assert_eq!(
        stores.runs.claim_run("b", at(10), at(40)).await.unwrap(),
        None
    );
    // The lease lapsed: another worker takes the run over.
    let taken = stores
        .runs
        .claim_run("b", at(40), at(70))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, now_run.id);
    assert_eq!(taken.lease.owner.as_deref(), Some("b"));
    assert_eq!(taken.revision, first.revision + 1);
    // Due now; the first run is leased again until 70.
    let later = stores
        .runs
        .claim_run("c", at(61), at(90))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.session_id, "ses_later");
    assert_eq!(
        stores.runs.claim_run("d", at(62), at(90)).await.unwrap(),
        None
    );
}

/// A claim advances the revision, so a commit fenced on the revision read before the claim
/// fails and writes nothing.
pub async fn claim_run_advances_the_revision(stores: Stores) {
    let (live, _) = organization(&stores, "org_rev").await;
    let (processing, before) = session_with_run(&stores, &live, "ses_rev", t0()).await;

    let claimed = stores
        .runs
        .claim_run("a", t0(), at(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.revision, before.revision + 1);
    let stored = stores
        .runs
        .run_for_session(&live, "ses_rev")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.revision, claimed.revision);
    assert_eq!(stored.lease.owner.as_deref(), Some("a"));

    // A worker that read the run before the claim, committing as if it held it.
    let mut late = step_of(&before, "ocr");
    late.lease = claimed.lease.clone();
    let refused = stores
        .runs
        .commit_run(
            &late,
            before.revision,
            &[attempt("nex_rev", 1, at(1))],
            Some(&completing(&processing)),
        )
        .await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        stores.runs.run_for_session(&live, "ses_rev").await.unwrap(),
        Some(stored)
    );
    assert!(
        stores
            .runs
            .executions(&live, "ses_rev", None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        stores.sessions.get(&live, "ses_rev").await.unwrap(),
        processing
    );
}

/// A commit writes only when the stored run still has the expected revision and lease owner;
/// a refused commit stores no attempt and no session change.
pub async fn commit_run_is_fenced_on_revision_and_lease_owner(stores: Stores) {
    let (live, _) = organization(&stores, "org_fence").await;
    let (processing, _) = session_with_run(&stores, &live, "ses_fence", t0()).await;
    let events_before = events_of(&stores, &live, "ses_fence").await;
    let claimed = stores
        .runs
        .claim_run("worker-a", t0(), at(60))
        .await
        .unwrap()
        .expect("the submitted run is runnable");
    assert_eq!(claimed.session_id, "ses_fence");
    assert_eq!(claimed.lease.owner.as_deref(), Some("worker-a"));
    assert!(
        stores
            .runs
            .claim_run("worker-b", t0(), at(60))
            .await
            .unwrap()
            .is_none(),
        "a leased run is not claimed twice"
    );

    let attempt = attempt("nex_fenced_1", 1, t0());
    let decide = completing(&processing);
    let step = step_of(&claimed, "age");
    // A stale revision and a foreign owner are both refused, and their attempt is not kept.
    let stale = stores
        .runs
        .commit_run(
            &step,
            claimed.revision - 1,
            std::slice::from_ref(&attempt),
            Some(&decide),
        )
        .await;
    assert!(matches!(stale, Err(RepoError::Conflict(_))), "{stale:?}");
    let mut foreign = step.clone();
    foreign.lease.owner = Some("worker-b".into());
    let foreign = stores
        .runs
        .commit_run(
            &foreign,
            claimed.revision,
            std::slice::from_ref(&attempt),
            Some(&decide),
        )
        .await;
    assert!(
        matches!(foreign, Err(RepoError::Conflict(_))),
        "{foreign:?}"
    );

    assert!(
        stores
            .runs
            .executions(&live, "ses_fence", None)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = stores
        .runs
        .run_for_session(&live, "ses_fence")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, claimed);
    assert_eq!(
        stores.sessions.get(&live, "ses_fence").await.unwrap(),
        processing
    );
    assert_eq!(events_of(&stores, &live, "ses_fence").await, events_before);
    assert_eq!(
        stores.sessions.result(&live, "ses_fence").await.unwrap(),
        None
    );
}

/// The holder's commit lands with its attempt; committed without a lease, the run is free for
/// the next claimer (which advances the revision again).
pub async fn commit_without_a_lease_frees_the_run(stores: Stores) {
    let (live, _) = organization(&stores, "org_free").await;
    session_with_run(&stores, &live, "ses_free", t0()).await;
    let claimed = stores
        .runs
        .claim_run("worker-a", t0(), at(60))
        .await
        .unwrap()
        .unwrap();
    let attempt = attempt("nex_free_1", 1, t0());

    let mut step = step_of(&claimed, "age");
    step.lease.until = None;
    stores
        .runs
        .commit_run(
            &step,
            claimed.revision,
            std::slice::from_ref(&attempt),
            None,
        )
        .await
        .unwrap();

    let recorded = stores
        .runs
        .executions(&live, "ses_free", None)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].id, "nex_free_1");
    assert_eq!(recorded[0].run_id, claimed.id);
    assert_eq!(recorded[0].attempt.node_id, "ocr");
    assert_eq!(recorded[0].attempt.output, json!({"score": 0.9}));
    let stored = stores
        .runs
        .run_for_session(&live, "ses_free")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.revision, step.revision);
    assert_eq!(stored.state.current_node.as_deref(), Some("age"));
    assert_eq!(stored.graph, claimed.graph);
    // Well before the old lease would have lapsed.
    let again = stores
        .runs
        .claim_run("worker-b", at(1), at(60))
        .await
        .unwrap()
        .expect("a run without a lease can be claimed");
    assert_eq!(again.id, claimed.id);
    assert_eq!(again.revision, step.revision + 1);
    assert_eq!(again.lease.owner.as_deref(), Some("worker-b"));
}

/// A commit with attempts and a session change writes them all: the run's state, its attempts,
/// the session row and its events.
pub async fn commit_run_writes_attempts_and_session_change_together(stores: Stores) {
    let (live, _) = organization(&stores, "org_together").await;
    let (processing, _) = session_with_run(&stores, &live, "ses_together", t0()).await;
    let claimed = stores
        .runs
        .claim_run("w", t0(), at(60))
        .await
        .unwrap()
        .unwrap();

    let mut done = step_of(&claimed, "ok");
    done.state.status = RunStatus::Completed;
    done.state.final_status = Some(Outcome::Approved);
    done.work = None;
    done.due = None;
    done.lease.until = None;
    let decide = completing(&processing);
    stores
        .runs
        .commit_run(
            &done,
            claimed.revision,
            &[
                attempt("nex_together_1", 1, at(1)),
                attempt("nex_together_2", 2, at(2)),
            ],
            Some(&decide),
        )
        .await
        .unwrap();

    let stored = stores
        .runs
        .run_for_session(&live, "ses_together")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status(), RunStatus::Completed);
    assert_eq!(stored.final_status(), Some(Outcome::Approved));
    assert_eq!(stored.due, None);
    let attempts: Vec<u32> = stores
        .runs
        .executions(&live, "ses_together", Some("document_ocr"))
        .await
        .unwrap()
        .iter()
        .map(|e| e.attempt.attempt)
        .collect();
    assert_eq!(attempts, [1, 2]);
    assert!(
        stores
            .runs
            .executions(&live, "ses_together", Some("face_match"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        stores.sessions.get(&live, "ses_together").await.unwrap(),
        decide.session
    );
    let last = events_of(&stores, &live, "ses_together")
        .await
        .pop()
        .unwrap();
    assert_eq!(last.event_type, "session.approved");
    // Completed and due nowhere: nothing left to claim.
    assert_eq!(
        stores.runs.claim_run("w2", at(100), at(200)).await.unwrap(),
        None
    );
}

/// The pinned graph and the run's identity never change through a commit.
pub async fn commits_never_change_the_pinned_graph(stores: Stores) {
    let (live, _) = organization(&stores, "org_pinned").await;
    let (_, original) = session_with_run(&stores, &live, "ses_pinned", t0()).await;
    let claimed = stores
        .runs
        .claim_run("w", t0(), at(60))
        .await
        .unwrap()
        .unwrap();

    let mut tampered = step_of(&claimed, "ocr");
    let mut other_graph = graph();
    other_graph.entry = "ocr".into();
    other_graph.nodes.remove("start");
    tampered.graph = Some(other_graph);
    tampered.workflow_version = 7;
    tampered.workflow_id = "wfl_other".into();
    tampered.simulated = true;
    tampered.created_at = at(999);
    stores
        .runs
        .commit_run(&tampered, claimed.revision, &[], None)
        .await
        .unwrap();

    let stored = stores
        .runs
        .run_for_session(&live, "ses_pinned")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.graph, original.graph);
    assert_eq!(stored.workflow_id, original.workflow_id);
    assert_eq!(stored.workflow_version, original.workflow_version);
    assert!(!stored.simulated);
    assert_eq!(stored.created_at, original.created_at);
    // The step's own state did land.
    assert_eq!(stored.revision, tampered.revision);
    assert_eq!(stored.state.status, RunStatus::Running);
}
