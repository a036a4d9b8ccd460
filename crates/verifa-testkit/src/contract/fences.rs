//! Revision fences: every overwrite of a read-modify-write (`SessionStore::apply`,
//! `update_head`, `update_draft`, `update_endpoint`, `ApiKeyRepository::update`) writes only when
//! the stored revision is still the one read, stores `revision + 1`, and otherwise answers
//! `Conflict` and leaves the winner's write in place. `update_keeping_admin` never leaves a
//! tenant without a key administrator, even when two calls race.

use super::Stores;
use super::fixtures::*;
use super::workflows::draft;
use verifa_domain::scopes::ScopeSet;
use verifa_domain::session::SessionStatus;
use verifa_ports::RepoError;

fn is_conflict<T: std::fmt::Debug>(r: &Result<T, RepoError>) -> bool {
    matches!(r, Err(RepoError::Conflict(_)))
}

/// `apply` with a stale `expected_revision` is refused even when the status still matches.
pub async fn session_apply_is_fenced_on_the_revision(stores: Stores) {
    let (live, _) = organization(&stores, "org_fence_ses").await;
    let read = insert_session(
        &stores,
        session(&live, "ses_fence", SessionStatus::Pending, t0()),
    )
    .await;
    // Two writers read the same row; each adds its own metadata key without moving the status.
    let mut first = change(&read, SessionStatus::Pending, at(1), vec![]);
    first.session.metadata.insert("a".into(), "1".into());
    let mut second = change(&read, SessionStatus::Pending, at(2), vec![]);
    second.session.metadata.insert("b".into(), "2".into());

    stores.sessions.apply(&first).await.expect("first write");
    let late = stores.sessions.apply(&second).await;

    assert!(is_conflict(&late), "{late:?}");
    let stored = stores.sessions.get(&live, "ses_fence").await.unwrap();
    assert_eq!(stored.revision, read.revision + 1);
    assert_eq!(stored.metadata.get("a"), Some(&"1".into()));
    assert_eq!(
        stored.metadata.get("b"),
        None,
        "the stale write is not applied"
    );
}

/// `update_head` writes against the revision read and advances it; a stale copy conflicts.
pub async fn update_head_is_fenced_on_the_revision(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_fence_wfl").await;
    let read = create_workflow(&stores, workflow(&live, "wfl_fence", false, t0())).await;
    let read = stores.workflows.get(&live, &read.id).await.unwrap();
    let mut first = read.clone();
    first.name = "First".into();
    let mut second = read.clone();
    second.description = Some("second".into());

    stores
        .workflows
        .update_head(&first, &[])
        .await
        .expect("first");
    let late = stores.workflows.update_head(&second, &[]).await;

    assert!(is_conflict(&late), "{late:?}");
    let stored = stores.workflows.get(&live, &read.id).await.unwrap();
    assert_eq!(stored.revision, read.revision + 1);
    assert_eq!(stored.name, "First");
    assert_eq!(stored.description, None);
    // The next write made from the fresh copy goes through.
    let mut third = stored.clone();
    third.description = Some("third".into());
    stores
        .workflows
        .update_head(&third, &[])
        .await
        .expect("fresh");
    let stored = stores.workflows.get(&live, &read.id).await.unwrap();
    assert_eq!(stored.revision, read.revision + 2);
    assert_eq!(stored.description.as_deref(), Some("third"));
    // Another tenant's copy finds nothing.
    let mut stranger = stored.clone();
    stranger.tenant = sandbox;
    let got = stores.workflows.update_head(&stranger, &[]).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
}

/// `update_draft` is fenced the same way.
pub async fn update_draft_is_fenced_on_the_revision(stores: Stores) {
    let (live, _) = organization(&stores, "org_fence_wfd").await;
    let wf = create_workflow(&stores, workflow(&live, "wfl_fence_d", false, t0())).await;
    stores
        .drafts
        .insert_draft(&draft(&wf, "wfd_fence"), &[])
        .await
        .unwrap();
    let read = stores
        .drafts
        .draft(&live, &wf.id, "wfd_fence")
        .await
        .unwrap();
    let mut first = read.clone();
    first.name = "First".into();
    let mut second = read.clone();
    second.description = Some("second".into());

    stores
        .drafts
        .update_draft(&first, &[])
        .await
        .expect("first");
    let late = stores.drafts.update_draft(&second, &[]).await;

    assert!(is_conflict(&late), "{late:?}");
    let stored = stores
        .drafts
        .draft(&live, &wf.id, "wfd_fence")
        .await
        .unwrap();
    assert_eq!(stored.revision, read.revision + 1);
    assert_eq!(stored.name, "First");
    assert_eq!(stored.description, None);
}

/// `update_endpoint` is fenced the same way.
pub async fn update_endpoint_is_fenced_on_the_revision(stores: Stores) {
    let (live, _) = organization(&stores, "org_fence_we").await;
    insert_endpoint(&stores, endpoint(&live, "we_fence")).await;
    let read = stores
        .endpoints
        .get_endpoint(&live, "we_fence")
        .await
        .unwrap();
    let mut first = read.clone();
    first.label = Some("first".into());
    let mut second = read.clone();
    second.url = "https://hooks.example.com/second".into();

    stores
        .endpoints
        .update_endpoint(&first, &[])
        .await
        .expect("first");
    let late = stores.endpoints.update_endpoint(&second, &[]).await;

    assert!(is_conflict(&late), "{late:?}");
    let stored = stores
        .endpoints
        .get_endpoint(&live, "we_fence")
        .await
        .unwrap();
    assert_eq!(stored.revision, read.revision + 1);
    assert_eq!(stored.label.as_deref(), Some("first"));
    assert_eq!(stored.url, read.url);
}

/// `ApiKeyRepository::update` is fenced the same way.
pub async fn api_key_update_is_fenced_on_the_revision(stores: Stores) {
    let (live, _) = organization(&stores, "org_fence_key").await;
    stores
        .api_keys
        .insert(&api_key(&live, "key_fence", &"a7".repeat(32), t0()), &[])
        .await
        .unwrap();
    let read = stores.api_keys.get(&live, "key_fence").await.unwrap();
    let mut first = read.clone();
    first.label = Some("first".into());
    let mut second = read.clone();
    second.note = Some("second".into());

    stores.api_keys.update(&first, &[]).await.expect("first");
    let late = stores.api_keys.update(&second, &[]).await;

    assert!(is_conflict(&late), "{late:?}");
    let stored = stores.api_keys.get(&live, "key_fence").await.unwrap();
    assert_eq!(stored.revision, read.revision + 1);
    assert_eq!(stored.label.as_deref(), Some("first"));
    assert_eq!(stored.note, None);
}

/// Two administrators each removing the other's admin scope at once: at most one succeeds,
/// and afterwards the tenant still has an administrator.
pub async fn last_key_administrator_survives_a_race(stores: Stores) {
    let (live, _) = organization(&stores, "org_fence_admin").await;
    let admin = |id: &str, hash: &str| {
        let mut k = api_key(&live, id, hash, t0());
        k.scopes = ScopeSet::all();
        k
    };
    let a = admin("key_admin_a", &"b8".repeat(32));
    let b = admin("key_admin_b", &"c9".repeat(32));
    for k in [&a, &b] {
        stores.api_keys.insert(k, &[]).await.unwrap();
    }
    let strip = |mut k: verifa_domain::api_key::ApiKey| {
        k.scopes = ScopeSet::defaults();
        k
    };
    assert!(
        !strip(a.clone()).administers_keys(at(1)),
        "defaults lack the admin scope"
    );

    let racers = [strip(a.clone()), strip(b.clone())].map(|key| {
        let keys = stores.api_keys.clone();
        tokio::spawn(async move { keys.update_keeping_admin(&key, at(1), &[]).await })
    });

    let mut written = Vec::new();
    for racer in racers {
        written.push(racer.await.expect("racer").expect("update_keeping_admin"));
    }
    assert_eq!(
        written.iter().filter(|w| **w).count(),
        1,
        "exactly one of {written:?}"
    );
    let keys = stores.api_keys.list(&live, all()).await.unwrap().items;
    assert_eq!(keys.iter().filter(|k| k.administers_keys(at(1))).count(), 1);
    // The survivor cannot strip itself either.
    let survivor = keys
        .into_iter()
        .find(|k| k.administers_keys(at(1)))
        .unwrap();
    let refused = stores
        .api_keys
        .update_keeping_admin(&strip(survivor.clone()), at(1), &[])
        .await
        .unwrap();
    assert!(!refused);
    let stored = stores.api_keys.get(&live, &survivor.id).await.unwrap();
    assert_eq!(stored, survivor, "a refused update writes nothing");
}
