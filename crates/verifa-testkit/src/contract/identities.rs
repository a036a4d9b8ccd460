//! [`IdentityStore`](verifa_ports::identities::IdentityStore) and
//! [`IdentityTypeStore`](verifa_ports::identities::IdentityTypeStore): a completing session
//! upserts its identity in its own transaction (one identity per `external_ref`, even when two
//! sessions of one person complete at once); `external_ref` is unique per tenant; writes are
//! fenced; listing filters; one default type per tenant; a merge moves sessions atomically.

use super::Stores;
use super::fixtures::*;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use verifa_domain::audit::{Actor, AuditDraft, RequestMeta};
use verifa_domain::identity::merge;
use verifa_domain::identity::{
    Identity, IdentityEvent, IdentityStatus, IdentityType, SessionCompletion,
};
use verifa_domain::session::{DecisionSummary, ProcessingMode, Session, SessionStatus, Verdict};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::Outcome;
use verifa_ports::RepoError;
use verifa_ports::identities::{IdentityFeed, IdentityFilter, NewIdentityEvent};
use verifa_ports::sessions::{ResultRecord, SessionChange};

fn draft(tenant: &Tenant, at: DateTime<Utc>) -> AuditDraft {
    AuditDraft {
        id: format!("aud_c{:08}", unique()),
        tenant: tenant.clone(),
        action: String::new(),
        resource_type: String::new(),
        resource_id: String::new(),
        actor: Actor::System,
        changes: Vec::new(),
        metadata: serde_json::Map::new(),
        request: RequestMeta::default(),
        at,
    }
}

fn verdict(outcome: Outcome) -> Verdict {
    Verdict {
        outcome,
        summary: DecisionSummary {
            face_match_passed: Some(true),
            face_match_score: None,
            age_check_passed: None,
            extracted_age: Some(31),
            processing_mode: ProcessingMode::Workflow,
            country_used: None,
            check_results: BTreeMap::new(),
        },
        rejection_reason: (outcome == Outcome::Rejected).then(|| "Document expired.".to_owned()),
    }
}

/// The change completing `before` (processing) with `outcome`, feeding the identity of
/// `external_ref`.
pub(super) fn completing(before: &Session, outcome: Outcome, now: DateTime<Utc>) -> SessionChange {
    let mut c = change(before, SessionStatus::Completed, now, Vec::new());
    c.session.completed_at = Some(now);
    let external_ref = before.external_ref.clone().unwrap_or_default();
    let v = verdict(outcome);
    let completion = SessionCompletion::of_verdict(&before.id, &external_ref, None, &v, now)
        .expect("a final verdict");
    c.with_result(ResultRecord {
        session_id: before.id.clone(),
        tenant: before.tenant.clone(),
        verdict: v,
        extracted_data_sealed: None,
        lookups: None,
        workflow_run_id: None,
        simulated: false,
        case_id: None,
        decided_by: None,
        created_at: now,
        updated_at: now,
    })
    .feeding_identity(IdentityFeed {
        new_identity_id: format!("idn_c{:08}", unique()),
        event_id: format!("evt_c{:08}", unique()),
        audit: draft(&before.tenant, now),
        completion,
    })
}

pub(super) async fn processing_session(
    stores: &Stores,
    tenant: &Tenant,
    id: &str,
    person: &str,
) -> Session {
    let mut s = session(tenant, id, SessionStatus::Processing, t0());
    s.external_ref = Some(person.to_owned());
    insert_session(stores, s).await
}

fn identity(tenant: &Tenant, id: &str, external_ref: &str, seconds: i64) -> Identity {
    Identity::new(id.into(), tenant.clone(), external_ref.into(), at(seconds))
}

fn created_event() -> NewIdentityEvent {
    NewIdentityEvent {
        id: format!("evt_c{:08}", unique()),
        event: IdentityEvent::Created,
    }
}

/// The first completion creates the identity, links the session, appends `identity.created` and
/// its audit event; the next one updates it; a refused session change feeds nothing.
pub async fn completing_session_upserts_its_identity(stores: Stores) {
    let (live, _) = organization(&stores, "org_idn_feed").await;
    let first = processing_session(&stores, &live, "ses_idn_f1", "person_1").await;
    stores
        .sessions
        .apply(&completing(&first, Outcome::Approved, at(10)))
        .await
        .unwrap();
    let i = stores
        .identities
        .find_by_ref(&live, "person_1")
        .await
        .unwrap()
        .expect("the identity was created with the completion");
    assert_eq!(i.status, IdentityStatus::Approved);
    assert_eq!(i.session_count, 1);
    assert_eq!(i.latest_session_id.as_deref(), Some("ses_idn_f1"));
    assert_eq!(i.first_verified_at, Some(at(10)));
    let stored = stores.sessions.get(&live, "ses_idn_f1").await.unwrap();
    assert_eq!(stored.identity_id.as_deref(), Some(i.id.as_str()));
    let events = events_of(&stores, &live, &i.id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "identity.created");
    assert_eq!(events[0].data["external_ref"], "person_1");

    let second = processing_session(&stores, &live, "ses_idn_f2", "person_1").await;
    stores
        .sessions
        .apply(&completing(&second, Outcome::Rejected, at(20)))
        .await
        .unwrap();
    let i = stores.identities.get(&live, &i.id).await.unwrap();
    assert_eq!(i.status, IdentityStatus::Failed);
    assert_eq!(i.session_count, 2);
    assert_eq!(i.rejection_reason.as_deref(), Some("Document expired."));
    assert_eq!(i.revision, 1);
    let types: Vec<_> = events_of(&stores, &live, &i.id)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, vec!["identity.created", "identity.updated"]);
    let page = stores
        .identities
        .sessions(&live, &i.id, all())
        .await
        .unwrap();
    assert_eq!(page.total, 2);

    let third = processing_session(&stores, &live, "ses_idn_f3", "person_3").await;
    let mut stale = completing(&third, Outcome::Approved, at(30));
    stale.expected_revision += 5;
    assert!(stores.sessions.apply(&stale).await.is_err());
    assert_eq!(
        stores
            .identities
            .find_by_ref(&live, "person_3")
            .await
            .unwrap(),
        None,
        "a refused session change creates no identity"
    );
}

/// Two sessions of one new person completing at once make one identity counting both.
pub async fn concurrent_completions_of_one_person_make_one_identity(stores: Stores) {
    let (live, _) = organization(&stores, "org_idn_race").await;
    let mut sessions = Vec::new();
    for n in 0..4 {
        sessions.push(processing_session(&stores, &live, &format!("ses_idn_r{n}"), "racer").await);
    }
    let mut tasks = Vec::new();
    for (n, s) in sessions.into_iter().enumerate() {
        let store = stores.sessions.clone();
        let change = completing(&s, Outcome::Approved, at(10 + n as i64));
        tasks.push(tokio::spawn(async move { store.apply(&change).await }));
    }
    for t in tasks {
        t.await.expect("task").expect("every completion lands");
    }
    let page = stores
        .identities
        .list(&live, &IdentityFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(page.total, 1, "{:?}", page.items);
    assert_eq!(page.items[0].session_count, 4);
}

/// `external_ref` is unique per tenant; another environment may reuse it; reads are scoped.
pub async fn identity_external_ref_is_unique_per_tenant(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_idn_unique").await;
    let a = identity(&live, "idn_u1", "same", 0);
    stores
        .identities
        .insert(&a, &[created_event()], &[])
        .await
        .unwrap();
    let copy = identity(&live, "idn_u2", "same", 1);
    let refused = stores.identities.insert(&copy, &[], &[]).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    let other_env = identity(&sandbox, "idn_u3", "same", 1);
    stores
        .identities
        .insert(&other_env, &[], &[])
        .await
        .unwrap();
    assert!(matches!(
        stores.identities.get(&sandbox, "idn_u1").await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(stores.identities.get(&live, "idn_u1").await.unwrap(), a);
}

/// Updates are fenced on the revision; lists filter by status, case-sensitive `external_ref`
/// prefix, tag, flag and archive, newest first.
pub async fn identity_update_is_fenced_and_lists_filter(stores: Stores) {
    let (live, _) = organization(&stores, "org_idn_list").await;
    let mut vip = identity(&live, "idn_l1", "Alpha_1", 1);
    vip.tags = vec!["vip".into(), "eu".into()];
    let mut flagged = identity(&live, "idn_l2", "alpha_2", 2);
    flagged.is_flagged = true;
    let mut archived = identity(&live, "idn_l3", "Alpha_3", 3);
    archived.archived_at = Some(at(3));
    for i in [&vip, &flagged, &archived] {
        stores.identities.insert(i, &[], &[]).await.unwrap();
    }
    let ids = |f: IdentityFilter| {
        let stores = stores.identities.clone();
        let live = live.clone();
        async move {
            stores
                .list(&live, &f, all())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(IdentityFilter::default()).await,
        vec!["idn_l2", "idn_l1"]
    );
    let all_of = IdentityFilter {
        include_archived: true,
        ..IdentityFilter::default()
    };
    assert_eq!(
        ids(all_of.clone()).await,
        vec!["idn_l3", "idn_l2", "idn_l1"]
    );
    let prefix = IdentityFilter {
        q: Some("Alpha_".into()),
        ..all_of.clone()
    };
    assert_eq!(
        ids(prefix).await,
        vec!["idn_l3", "idn_l1"],
        "the prefix is case-sensitive"
    );
    let wildcard = IdentityFilter {
        q: Some("Alpha%".into()),
        ..all_of.clone()
    };
    assert!(ids(wildcard).await.is_empty(), "no LIKE wildcards");
    let tag = IdentityFilter {
        tag: Some("vip".into()),
        ..all_of.clone()
    };
    assert_eq!(ids(tag).await, vec!["idn_l1"]);
    let flag = IdentityFilter {
        is_flagged: Some(true),
        ..all_of
    };
    assert_eq!(ids(flag).await, vec!["idn_l2"]);

    let mut changed = vip.clone();
    changed.tags = vec!["eu".into()];
    stores.identities.update(&changed, &[], &[]).await.unwrap();
    let stale = stores.identities.update(&changed, &[], &[]).await;
    assert!(matches!(stale, Err(RepoError::Conflict(_))), "{stale:?}");
    let vip_tag = IdentityFilter {
        tag: Some("vip".into()),
        ..IdentityFilter::default()
    };
    assert!(
        ids(vip_tag).await.is_empty(),
        "the tag index follows the update"
    );
    let stored = stores.identities.get(&live, "idn_l1").await.unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.tags, vec!["eu"]);
    let mut ghost = identity(&live, "idn_ghost", "ghost", 9);
    ghost.revision = 0;
    assert!(matches!(
        stores.identities.update(&ghost, &[], &[]).await,
        Err(RepoError::NotFound)
    ));
}

fn kind(tenant: &Tenant, id: &str, name: &str, is_default: bool, seconds: i64) -> IdentityType {
    IdentityType {
        id: id.into(),
        tenant: tenant.clone(),
        name: name.into(),
        label: name.to_uppercase(),
        description: None,
        statuses: vec!["active".into(), "closed".into()],
        default_status: "active".into(),
        is_default,
        created_at: at(seconds),
        updated_at: at(seconds),
        revision: 0,
    }
}

/// A new default demotes the former one; names are unique per tenant; a type in use is not
/// deleted.
pub async fn identity_types_keep_one_default(stores: Stores) {
    let (live, _) = organization(&stores, "org_idn_types").await;
    let t = &stores.identity_types;
    t.insert_type(&kind(&live, "idt_a", "customer", true, 1), &[])
        .await
        .unwrap();
    t.insert_type(&kind(&live, "idt_b", "merchant", true, 2), &[])
        .await
        .unwrap();
    assert_eq!(
        t.default_type(&live).await.unwrap().map(|k| k.id),
        Some("idt_b".into())
    );
    let defaults = t
        .list_types(&live)
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.is_default)
        .count();
    assert_eq!(defaults, 1);
    let dup = t
        .insert_type(&kind(&live, "idt_c", "customer", false, 3), &[])
        .await;
    assert!(matches!(dup, Err(RepoError::Conflict(_))), "{dup:?}");

    let mut user = identity(&live, "idn_t1", "typed", 1);
    user.identity_type_id = Some("idt_a".into());
    stores.identities.insert(&user, &[], &[]).await.unwrap();
    assert!(!t.delete_type(&live, "idt_a", &[]).await.unwrap(), "in use");
    assert!(t.get_type(&live, "idt_a").await.is_ok());
    assert!(t.delete_type(&live, "idt_b", &[]).await.unwrap());
    assert!(matches!(
        t.delete_type(&live, "idt_b", &[]).await,
        Err(RepoError::NotFound)
    ));
}

/// A merge writes both identities and moves the secondary's sessions in one transaction; a
/// stale secondary refuses the whole merge.
pub async fn merge_moves_sessions_atomically(stores: Stores) {
    let (live, _) = organization(&stores, "org_idn_merge").await;
    for (s, person) in [("ses_idn_m1", "primary"), ("ses_idn_m2", "secondary")] {
        let session = processing_session(&stores, &live, s, person).await;
        stores
            .sessions
            .apply(&completing(&session, Outcome::Approved, at(5)))
            .await
            .unwrap();
    }
    let p = stores
        .identities
        .find_by_ref(&live, "primary")
        .await
        .unwrap()
        .unwrap();
    let s = stores
        .identities
        .find_by_ref(&live, "secondary")
        .await
        .unwrap()
        .unwrap();
    let mut stale = merge::plan(&p, std::slice::from_ref(&s), at(9)).unwrap();
    stale.secondaries[0].revision += 3;
    assert!(stores.identities.merge(&stale, &[], &[]).await.is_err());
    assert_eq!(
        stores
            .identities
            .get(&live, &p.id)
            .await
            .unwrap()
            .session_count,
        1,
        "a refused merge writes nothing"
    );

    let plan = merge::plan(&p, std::slice::from_ref(&s), at(9)).unwrap();
    stores.identities.merge(&plan, &[], &[]).await.unwrap();
    let merged = stores.identities.get(&live, &s.id).await.unwrap();
    assert_eq!(merged.status, IdentityStatus::Merged);
    assert_eq!(merged.merged_into_id.as_deref(), Some(p.id.as_str()));
    let page = stores
        .identities
        .sessions(&live, &p.id, all())
        .await
        .unwrap();
    assert_eq!(page.total, 2);

    // A later session of the merged person feeds the primary.
    let later = processing_session(&stores, &live, "ses_idn_m3", "secondary").await;
    stores
        .sessions
        .apply(&completing(&later, Outcome::Approved, at(20)))
        .await
        .unwrap();
    let primary = stores.identities.get(&live, &p.id).await.unwrap();
    assert_eq!(primary.session_count, 3);
    assert_eq!(primary.latest_session_id.as_deref(), Some("ses_idn_m3"));
}

/// An identity's redaction writes its sessions and itself together: one stale session fence
/// and nothing is written; with fresh fences all of it is.
pub async fn identity_redaction_is_all_or_nothing(stores: Stores) {
    use crate::contract::sessions::redacting;
    let (live, _) = organization(&stores, "org_idn_erase").await;
    let mut done = Vec::new();
    for n in 0..2 {
        let p = processing_session(&stores, &live, &format!("ses_idn_e{n}"), "person_e").await;
        let c = completing(&p, Outcome::Approved, at(10 + n));
        stores.sessions.apply(&c).await.unwrap();
        done.push(stores.sessions.get(&live, &p.id).await.unwrap());
    }
    let person = stores
        .identities
        .find_by_ref(&live, "person_e")
        .await
        .unwrap()
        .unwrap();
    let mut erased = person.clone();
    erased.redact(at(40)).unwrap();
    let event = || NewIdentityEvent {
        id: format!("evt_c{:08}", unique()),
        event: IdentityEvent::Updated,
    };
    let mut stale = done[1].clone();
    stale.revision -= 1;
    let refused = stores
        .redaction
        .redact_identity(
            &[redacting(&done[0], 0), redacting(&stale, 0)],
            &erased,
            &[event()],
            &[draft(&live, at(40))],
        )
        .await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    for s in &done {
        assert!(
            !stores
                .sessions
                .get(&live, &s.id)
                .await
                .unwrap()
                .is_redacted()
        );
    }
    assert_eq!(
        stores.identities.get(&live, &person.id).await.unwrap(),
        person,
        "the identity is unchanged"
    );

    stores
        .redaction
        .redact_identity(
            &[redacting(&done[0], 0), redacting(&done[1], 0)],
            &erased,
            &[event()],
            &[draft(&live, at(40))],
        )
        .await
        .unwrap();
    for s in &done {
        assert!(
            stores
                .sessions
                .get(&live, &s.id)
                .await
                .unwrap()
                .is_redacted()
        );
    }
    let stored = stores.identities.get(&live, &person.id).await.unwrap();
    assert_eq!(stored.status, IdentityStatus::Redacted);
    assert_eq!(stored.external_ref, None);
    assert_eq!(stored.revision, person.revision + 1);
    let last = events_of(&stores, &live, &person.id).await.pop().unwrap();
    assert_eq!(last.event_type, "identity.updated");
}
