//! [`WorkflowStore`](verifa_ports::workflows::WorkflowStore) and
//! [`DraftStore`](verifa_ports::workflows::DraftStore): publication as a compare-and-set on
//! the head's version, drafts marked published with it, one default per tenant, versions kept
//! byte for byte, tenant isolation. Overwrites of heads and drafts are in
//! [`fences`](super::fences).

use super::Stores;
use super::fixtures::*;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{DraftStatus, Format, RolloutEntry};
use verifa_ports::RepoError;
use verifa_ports::workflows::{DraftRecord, Publication, VersionRecord, WorkflowRecord};

/// An open draft of `workflow` based on its current version.
pub(super) fn draft(workflow: &WorkflowRecord, id: &str) -> DraftRecord {
    DraftRecord {
        id: id.to_owned(),
        workflow_id: workflow.id.clone(),
        tenant: workflow.tenant.clone(),
        base_version: workflow.version,
        name: format!("{} (edited)", workflow.name),
        description: None,
        format: Format::Graph,
        graph: Some(serde_json::to_value(graph()).unwrap()),
        steps: None,
        data_requirements: None,
        graph_layout: None,
        status: DraftStatus::Open,
        published_version: None,
        created_at: at(1),
        updated_at: at(1),
        revision: 0,
    }
}

/// The publication of `draft` as version `head.version + 1`.
fn publication(head: &WorkflowRecord, draft: &DraftRecord, name: &str) -> Publication {
    let mut next = head.clone();
    next.version += 1;
    next.name = name.to_owned();
    next.rollout = vec![RolloutEntry {
        version: next.version,
        percentage: 100,
    }];
    next.updated_at = at(10);
    next.rollout_updated_at = at(10);
    let mut version = version(&next, next.version, &graph_text());
    version.draft_id = Some(draft.id.clone());
    Publication {
        version,
        workflow: next,
        draft_id: Some(draft.id.clone()),
    }
}

async fn version_ids(stores: &Stores, head: &WorkflowRecord) -> Vec<(i32, String)> {
    stores
        .workflows
        .versions(&head.tenant, &head.id, all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|v| (v.version, v.id))
        .collect()
}

/// Of two concurrent publications from the same head version, one lands (version, head and its
/// draft), the other is a conflict that writes nothing.
pub async fn publish_is_a_compare_and_set_on_the_head_version(stores: Stores) {
    let (live, _) = organization(&stores, "org_pub_race").await;
    let head = create_workflow(&stores, workflow(&live, "wfl_race", true, t0())).await;
    let (d1, d2) = (draft(&head, "wfd_race_1"), draft(&head, "wfd_race_2"));
    for d in [&d1, &d2] {
        stores.drafts.insert_draft(d, &[]).await.unwrap();
    }
    let (p1, p2) = (
        publication(&head, &d1, "first"),
        publication(&head, &d2, "second"),
    );

    let (r1, r2) = {
        let (w1, w2) = (stores.workflows.clone(), stores.workflows.clone());
        let (c1, c2) = (p1.clone(), p2.clone());
        tokio::join!(
            tokio::spawn(async move { w1.publish(1, &c1, &[]).await }),
            tokio::spawn(async move { w2.publish(1, &c2, &[]).await })
        )
    };
    let (r1, r2) = (r1.unwrap(), r2.unwrap());

    let (won, lost) = match (&r1, &r2) {
        (Ok(()), Err(RepoError::Conflict(_))) => (&p1, &p2),
        (Err(RepoError::Conflict(_)), Ok(())) => (&p2, &p1),
        other => panic!("exactly one publication must win, got {other:?}"),
    };
    let stored = stores.workflows.get(&live, "wfl_race").await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.name, won.workflow.name);
    let versions = version_ids(&stores, &head).await;
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[0], (2, won.version.id.clone()));
    assert_eq!(versions[1].0, 1);
    let won_draft = won.draft_id.as_deref().unwrap();
    let published = stores
        .drafts
        .draft(&live, "wfl_race", won_draft)
        .await
        .unwrap();
    assert_eq!(published.status, DraftStatus::Published);
    let lost_draft = lost.draft_id.as_deref().unwrap();
    let still_open = stores
        .drafts
        .draft(&live, "wfl_race", lost_draft)
        .await
        .unwrap();
    assert_eq!(still_open.status, DraftStatus::Open);
    assert_eq!(still_open.published_version, None);
    // A late publication from the old version stays refused.
    let late = stores.workflows.publish(1, lost, &[]).await;
    assert!(matches!(late, Err(RepoError::Conflict(_))), "{late:?}");
    assert_eq!(
        stores
            .workflows
            .version_numbers(&live, "wfl_race")
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Publishing inserts the version, moves the head (version, rollout, name) and marks the draft
/// published with the new version number; the head keeps its default and active flags.
pub async fn publish_marks_the_draft_published(stores: Stores) {
    let (live, _) = organization(&stores, "org_pub").await;
    let head = create_workflow(&stores, workflow(&live, "wfl_pub", true, t0())).await;
    let d = draft(&head, "wfd_pub");
    stores.drafts.insert_draft(&d, &[]).await.unwrap();
    let p = publication(&head, &d, "published name");

    stores.workflows.publish(1, &p, &[]).await.unwrap();

    let stored = stores.workflows.get(&live, "wfl_pub").await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.name, "published name");
    assert_eq!(stored.rollout, p.workflow.rollout);
    assert!(stored.is_default && stored.is_active);
    let published = stores
        .drafts
        .draft(&live, "wfl_pub", "wfd_pub")
        .await
        .unwrap();
    assert_eq!(published.status, DraftStatus::Published);
    assert_eq!(published.published_version, Some(2));
    let v2 = stores.workflows.version(&live, "wfl_pub", 2).await.unwrap();
    assert_eq!(v2, p.version);
    let mut numbers = stores
        .workflows
        .version_numbers(&live, "wfl_pub")
        .await
        .unwrap();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    let open = stores
        .drafts
        .drafts(&live, "wfl_pub", Some(DraftStatus::Open), all())
        .await
        .unwrap();
    assert_eq!(open.total, 0);
}

async fn defaults_of(stores: &Stores, tenant: &Tenant, ids: &[&str]) -> Vec<bool> {
    let mut flags = Vec::new();
    for id in ids {
        flags.push(stores.workflows.get(tenant, id).await.unwrap().is_default);
    }
    flags
}

/// A tenant has at most one default: creating a default clears the previous one, and
/// `set_default` moves it; other tenants keep theirs.
pub async fn one_default_per_tenant(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_default").await;
    let ids = ["wfl_def_a", "wfl_def_b"];
    create_workflow(&stores, workflow(&live, ids[0], true, t0())).await;
    create_workflow(&stores, workflow(&sandbox, "wfl_def_sandbox", true, t0())).await;
    create_workflow(&stores, workflow(&live, ids[1], true, at(1))).await;

    assert_eq!(defaults_of(&stores, &live, &ids).await, [false, true]);
    let default = stores.workflows.get_default(&live).await.unwrap().unwrap();
    assert_eq!(default.id, ids[1]);

    stores
        .workflows
        .set_default(&live, ids[0], at(2), &[])
        .await
        .unwrap();
    assert_eq!(defaults_of(&stores, &live, &ids).await, [true, false]);
    assert_eq!(
        stores
            .workflows
            .get_default(&live)
            .await
            .unwrap()
            .unwrap()
            .id,
        ids[0]
    );
    let sandbox_default = stores
        .workflows
        .get_default(&sandbox)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sandbox_default.id, "wfl_def_sandbox");

    // Another tenant's workflow cannot become this tenant's default, and nothing moves.
    let refused = stores
        .workflows
        .set_default(&live, "wfl_def_sandbox", at(3), &[])
        .await;
    assert!(matches!(refused, Err(RepoError::NotFound)), "{refused:?}");
    assert_eq!(defaults_of(&stores, &live, &ids).await, [true, false]);
    assert!(
        stores
            .workflows
            .get(&sandbox, "wfl_def_sandbox")
            .await
            .unwrap()
            .is_default
    );
}

/// A version's JSON text comes back exactly as stored (spacing, key order, escapes), so
/// content hashes and run snapshots never drift.
pub async fn stored_versions_are_returned_byte_for_byte(stores: Stores) {
    let (live, _) = organization(&stores, "org_bytes").await;
    let head = workflow(&live, "wfl_bytes", false, t0());
    let odd = "{\"nodes\":{\"z\":{\"type\":\"start\",\"next\":\"a\"},  \"a\":{\"type\":\"terminal\",\"outcome\":\"approved\"}},\n \"entry\":\"z\",\"note\":\"caf\\u00e9 \u{1F600}\",\"n\":1.50}";
    let mut first: VersionRecord = version(&head, 1, odd);
    first.steps_json = Some("[ {\"policy\":\"document_ocr\"} ]".into());
    first.data_requirements_json = Some("{\"b\":1,\"a\":[2, 1]}".into());
    stores.workflows.create(&head, &first, &[]).await.unwrap();

    let stored = stores
        .workflows
        .version(&live, "wfl_bytes", 1)
        .await
        .unwrap();
    assert_eq!(stored.graph_json, odd);
    assert_eq!(stored.steps_json, first.steps_json);
    assert_eq!(stored.data_requirements_json, first.data_requirements_json);
    assert_eq!(stored, first);
    let listed = stores
        .workflows
        .versions(&live, "wfl_bytes", all())
        .await
        .unwrap();
    assert_eq!(listed.items, [first]);
    // The case is only worth something if re-encoding would change the text.
    assert_ne!(
        odd,
        serde_json::from_str::<serde_json::Value>(odd)
            .unwrap()
            .to_string()
    );
}

/// Workflow, version and draft reads are scoped to one organization and environment.
pub async fn workflow_reads_are_tenant_scoped(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_wf_a").await;
    let (other, _) = organization(&stores, "org_wf_b").await;
    let head = create_workflow(&stores, workflow(&live, "wfl_iso", true, t0())).await;
    stores
        .drafts
        .insert_draft(&draft(&head, "wfd_iso"), &[])
        .await
        .unwrap();

    assert_eq!(stores.workflows.get(&live, "wfl_iso").await.unwrap(), head);
    assert_eq!(
        stores
            .workflows
            .list(&live, None, all())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        stores
            .drafts
            .drafts(&live, "wfl_iso", None, all())
            .await
            .unwrap()
            .total,
        1
    );

    for stranger in [&other, &sandbox] {
        let got = stores.workflows.get(stranger, "wfl_iso").await;
        assert!(
            matches!(got, Err(RepoError::NotFound)),
            "{stranger:?}: {got:?}"
        );
        assert_eq!(stores.workflows.get_default(stranger).await.unwrap(), None);
        let listed = stores.workflows.list(stranger, None, all()).await.unwrap();
        assert!(listed.items.is_empty() && listed.total == 0);
        let versions = stores
            .workflows
            .versions(stranger, "wfl_iso", all())
            .await
            .unwrap();
        assert!(versions.items.is_empty() && versions.total == 0);
        let one = stores.workflows.version(stranger, "wfl_iso", 1).await;
        assert!(matches!(one, Err(RepoError::NotFound)), "{one:?}");
        assert!(
            stores
                .workflows
                .version_numbers(stranger, "wfl_iso")
                .await
                .unwrap()
                .is_empty()
        );
        let d = stores.drafts.draft(stranger, "wfl_iso", "wfd_iso").await;
        assert!(matches!(d, Err(RepoError::NotFound)), "{d:?}");
        let drafts = stores
            .drafts
            .drafts(stranger, "wfl_iso", None, all())
            .await
            .unwrap();
        assert!(drafts.items.is_empty() && drafts.total == 0);
        let rollout = stores
            .workflows
            .set_rollout(
                stranger,
                "wfl_iso",
                &[RolloutEntry {
                    version: 1,
                    percentage: 100,
                }],
                at(1),
                &[],
            )
            .await;
        assert!(matches!(rollout, Err(RepoError::NotFound)), "{rollout:?}");
    }
}
