//! Workflow use cases on fakes: validation with field paths, the draft → diff → publish →
//! rollout path, a publication race, and the default workflow that cannot be deactivated.

mod support;

use serde_json::json;
use std::sync::Arc;
use support::*;
use verifa_app::AppError;
use verifa_app::sessions::NewSession;
use verifa_app::workflows::{DraftInput, NewWorkflow};
use verifa_domain::workflow::{DraftStatus, RolloutEntry};
use verifa_ports::workflows::{DraftStore, WorkflowStore};

fn fields(err: AppError) -> Vec<String> {
    match err {
        AppError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// two_checks with the risk check's failure routed to manual review.
fn with_review() -> serde_json::Value {
    let mut g = two_checks();
    g["nodes"]["risk"]["on_fail"] = json!("review");
    g["nodes"]["review"] = json!({"type": "terminal", "outcome": "needs_review"});
    g
}

#[tokio::test]
async fn create_reports_every_problem_with_its_field_path() {
    let w = World::new().await;
    let mut graph = two_checks();
    graph["nodes"]["doc"]["policy"] = json!("no_such_policy");
    graph["nodes"]["risk"]["on_pass"] = json!("nowhere");

    let err = w
        .services
        .workflows
        .create(
            &w.live,
            NewWorkflow {
                name: "  ".into(),
                description: Some("d".repeat(2_001)),
                definition: graph_definition(graph),
                screening_settings: Some(json!([1, 2])),
                ..NewWorkflow::default()
            },
        )
        .await
        .unwrap_err();

    let fields = fields(err);
    for expected in ["name", "description", "screening_settings"] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert!(
        fields.iter().any(|f| f.starts_with("graph.nodes.doc")),
        "the unknown policy is reported at its node: {fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("graph.nodes.risk")),
        "the dangling edge is reported at its node: {fields:?}"
    );
    let listed = w.store.list(&tenant(&w.live), None, all()).await.unwrap();
    assert_eq!(listed.total, 0, "nothing was stored");
}

#[tokio::test]
async fn a_draft_is_edited_diffed_published_and_rolled_out() {
    let w = World::new().await;
    let id = w.workflow(&w.live, two_checks()).await;
    let flows = &w.services.workflows;

    let draft = flows
        .create_draft(&w.live, &id, DraftInput::default())
        .await
        .unwrap()
        .draft;
    assert_eq!(draft.base_version, 1);
    let edited = flows
        .edit_draft(
            &w.live,
            &id,
            &draft.id,
            DraftInput {
                name: Some("Reviewed flow".into()),
                definition: graph_definition(with_review()),
                ..DraftInput::default()
            },
        )
        .await
        .unwrap();
    assert!(edited.errors.is_empty(), "{:?}", edited.errors);

    let diff = flows.diff_draft(&w.live, &id, &draft.id).await.unwrap();
    assert_eq!(diff.added_nodes, ["review"]);
    assert!(diff.removed_nodes.is_empty());
    let changed: Vec<(&str, &[String])> = diff
        .changed_nodes
        .iter()
        .map(|c| (c.id.as_str(), c.fields.as_slice()))
        .collect();
    assert_eq!(changed, [("risk", ["on_fail".to_owned()].as_slice())]);

    let (view, published) = flows
        .publish_draft(&w.live, &id, &draft.id, Some(25))
        .await
        .unwrap();
    assert_eq!(view.workflow.version, 2);
    assert_eq!(published.draft.status, DraftStatus::Published);
    let t = tenant(&w.live);
    let head = w.store.get(&t, &id).await.unwrap();
    assert_eq!(head.version, 2);
    assert_eq!(head.name, "Reviewed flow");
    let mut shares: Vec<(i32, u8)> = head
        .rollout
        .iter()
        .map(|e| (e.version, e.percentage))
        .collect();
    shares.sort_unstable();
    assert_eq!(shares, [(1, 75), (2, 25)]);
    let stored_draft = w.store.draft(&t, &id, &draft.id).await.unwrap();
    assert_eq!(stored_draft.status, DraftStatus::Published);
    assert_eq!(stored_draft.published_version, Some(2));
    let v2 = w.store.version(&t, &id, 2).await.unwrap();
    assert_eq!(v2.draft_id.as_deref(), Some(draft.id.as_str()));
    let v2_graph: serde_json::Value = serde_json::from_str(&v2.graph_json).unwrap();
    assert_eq!(
        v2_graph["nodes"]["review"]["outcome"],
        json!("needs_review")
    );

    flows
        .set_rollout(&w.live, &id, vec![(2, 100)])
        .await
        .unwrap();
    let head = w.store.get(&t, &id).await.unwrap();
    assert_eq!(
        head.rollout,
        [RolloutEntry {
            version: 2,
            percentage: 100
        }]
    );
    let err = flows
        .set_rollout(&w.live, &id, vec![(3, 100)])
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation(_)), "{err:?}");
    assert_eq!(w.store.get(&t, &id).await.unwrap().rollout, head.rollout);
}

#[tokio::test]
async fn of_two_publications_from_one_version_one_is_a_conflict() {
    let w = World::new().await;
    let id = w.workflow(&w.live, two_checks()).await;
    let flows = w.services.workflows.clone();
    let mut drafts = Vec::new();
    for name in ["A", "B"] {
        let d = flows
            .create_draft(
                &w.live,
                &id,
                DraftInput {
                    name: Some(name.into()),
                    definition: graph_definition(with_review()),
                    ..DraftInput::default()
                },
            )
            .await
            .unwrap();
        drafts.push(d.draft.id);
    }

    let racers: Vec<_> = drafts
        .iter()
        .map(|draft_id| {
            let (flows, caller, id, draft_id) = (
                Arc::clone(&flows),
                w.live.clone(),
                id.clone(),
                draft_id.clone(),
            );
            tokio::spawn(async move { flows.publish_draft(&caller, &id, &draft_id, None).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for r in racers {
        outcomes.push(r.await.unwrap());
    }

    let won: Vec<usize> = (0..2).filter(|i| outcomes[*i].is_ok()).collect();
    assert_eq!(won.len(), 1, "{outcomes:?}");
    let lost = 1 - won[0];
    assert!(
        matches!(outcomes[lost], Err(AppError::Conflict(_))),
        "{:?}",
        outcomes[lost]
    );
    let t = tenant(&w.live);
    let mut numbers = w.store.version_numbers(&t, &id).await.unwrap();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    let head = w.store.get(&t, &id).await.unwrap();
    assert_eq!(head.name, ["A", "B"][won[0]]);
    let loser = w.store.draft(&t, &id, &drafts[lost]).await.unwrap();
    assert_eq!(
        loser.status,
        DraftStatus::Open,
        "the losing draft can be rebased"
    );
}

#[tokio::test]
async fn the_default_workflow_cannot_be_deactivated() {
    let w = World::new().await;
    let default = w.workflow(&w.live, two_checks()).await;
    let other = w
        .services
        .workflows
        .create(
            &w.live,
            NewWorkflow {
                name: "Spare".into(),
                definition: graph_definition(two_checks()),
                ..NewWorkflow::default()
            },
        )
        .await
        .unwrap()
        .workflow
        .id;
    let flows = &w.services.workflows;
    let t = tenant(&w.live);

    let err = flows.deactivate(&w.live, &default).await.unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    assert!(w.store.get(&t, &default).await.unwrap().is_active);

    flows.deactivate(&w.live, &other).await.unwrap();
    let spare = w.store.get(&t, &other).await.unwrap();
    assert!(!spare.is_active && !spare.is_default);
    let err = w
        .services
        .sessions
        .create(
            &w.live,
            NewSession {
                workflow_id: Some(other.clone()),
                ..NewSession::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields(err),
        ["workflow_id"],
        "a deactivated workflow takes no sessions"
    );
    let err = flows.set_default(&w.live, &other).await.unwrap_err();
    assert!(matches!(err, AppError::InvalidState(_)), "{err:?}");
    assert_eq!(w.store.get_default(&t).await.unwrap().unwrap().id, default);
}
