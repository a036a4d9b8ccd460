//! [`OrgUserRepository`](verifa_ports::org_users::OrgUserRepository): emails are unique across
//! the instance, case-insensitively, even under concurrent inserts; reads are scoped to one
//! organization; overwrites are fenced on the revision and never take an organization's last
//! active admin away, even when two race.

use super::Stores;
use super::fixtures::*;
use verifa_domain::org_user::{OrgRole, OrgUser};
use verifa_ports::RepoError;
use verifa_ports::org_users::OrgUserFilter;

fn user(org_id: &str, id: &str, email: &str, role: OrgRole, seconds: i64) -> OrgUser {
    OrgUser {
        id: id.into(),
        org_id: org_id.into(),
        email: email.into(),
        name: format!("User {id}"),
        role,
        is_active: true,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        password_is_temporary: true,
        created_at: at(seconds),
        updated_at: at(seconds),
        last_login_at: None,
        revision: 0,
    }
}

fn is_conflict<T: std::fmt::Debug>(r: &Result<T, RepoError>) -> bool {
    matches!(r, Err(RepoError::Conflict(_)))
}

/// A second user with the same email in another case, even in another organization, is a
/// conflict and is not stored; `find_by_email` ignores case.
pub async fn emails_are_unique_across_the_instance_whatever_their_case(stores: Stores) {
    organization(&stores, "org_users_a").await;
    organization(&stores, "org_users_b").await;
    let ana = user(
        "org_users_a",
        "orguser_ana",
        "Ana@Example.com",
        OrgRole::Admin,
        0,
    );
    stores.org_users.insert(&ana, &[]).await.unwrap();

    let copy = user(
        "org_users_b",
        "orguser_copy",
        "ana@EXAMPLE.com",
        OrgRole::Viewer,
        1,
    );
    let refused = stores.org_users.insert(&copy, &[]).await;
    assert!(is_conflict(&refused), "{refused:?}");
    let same_id = user(
        "org_users_a",
        "orguser_ana",
        "other@example.com",
        OrgRole::Viewer,
        1,
    );
    assert!(is_conflict(&stores.org_users.insert(&same_id, &[]).await));

    let found = stores
        .org_users
        .find_by_email("ANA@example.COM")
        .await
        .unwrap();
    assert_eq!(found, Some(ana));
    assert_eq!(
        stores
            .org_users
            .find_by_email("other@example.com")
            .await
            .unwrap(),
        None
    );
    let b = stores
        .org_users
        .list("org_users_b", &OrgUserFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(b.total, 0);
}

/// Eight concurrent inserts of one email (in different cases) store exactly one user.
pub async fn concurrent_inserts_of_one_email_store_one(stores: Stores) {
    organization(&stores, "org_users_race").await;
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let email = if i % 2 == 0 {
                "race@example.com"
            } else {
                "RACE@example.com"
            };
            let u = user(
                "org_users_race",
                &format!("orguser_race_{i}"),
                email,
                OrgRole::Reviewer,
                i,
            );
            let repo = stores.org_users.clone();
            tokio::spawn(async move { repo.insert(&u, &[]).await })
        })
        .collect();
    let mut stored = 0;
    for r in racers {
        match r.await.expect("racer") {
            Ok(()) => stored += 1,
            Err(RepoError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(stored, 1);
    let listed = stores
        .org_users
        .list("org_users_race", &OrgUserFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
}

/// `get` and `list` see only the organization's users, newest first.
pub async fn org_user_reads_are_scoped_to_the_organization(stores: Stores) {
    organization(&stores, "org_users_iso").await;
    organization(&stores, "org_users_iso_b").await;
    let older = user(
        "org_users_iso",
        "orguser_older",
        "older@example.com",
        OrgRole::Admin,
        0,
    );
    let newer = user(
        "org_users_iso",
        "orguser_newer",
        "newer@example.com",
        OrgRole::Viewer,
        1,
    );
    let stranger = user(
        "org_users_iso_b",
        "orguser_str",
        "str@example.com",
        OrgRole::Admin,
        2,
    );
    for u in [&older, &newer, &stranger] {
        stores.org_users.insert(u, &[]).await.unwrap();
    }
    assert_eq!(
        stores
            .org_users
            .get("org_users_iso", "orguser_older")
            .await
            .unwrap(),
        older
    );
    let got = stores
        .org_users
        .get("org_users_iso_b", "orguser_older")
        .await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    let listed = stores
        .org_users
        .list("org_users_iso", &OrgUserFilter::default(), all())
        .await
        .unwrap();
    assert_eq!(listed.items, [newer, older]);
    assert_eq!(listed.total, 2);
}

/// Filters combine: role, activity, and text in the email or name (case-insensitive); the
/// total counts the matches, not the page.
pub async fn org_user_list_filters_by_role_activity_and_text(stores: Stores) {
    organization(&stores, "org_users_filter").await;
    let org = "org_users_filter";
    let mut gone = user(
        org,
        "orguser_gone",
        "gone@example.com",
        OrgRole::Reviewer,
        0,
    );
    gone.is_active = false;
    let mut zoe = user(org, "orguser_zoe", "zoe@example.com", OrgRole::Reviewer, 1);
    zoe.name = "Zoë Müller".into();
    let boss = user(org, "orguser_boss", "boss@corp.example", OrgRole::Admin, 2);
    for u in [&gone, &zoe, &boss] {
        stores.org_users.insert(u, &[]).await.unwrap();
    }
    let list = |filter: OrgUserFilter| {
        let repo = stores.org_users.clone();
        async move {
            let page = repo.list(org, &filter, all()).await.unwrap();
            (
                page.total,
                page.items.into_iter().map(|u| u.id).collect::<Vec<_>>(),
            )
        }
    };
    let reviewers = OrgUserFilter {
        role: Some(OrgRole::Reviewer),
        ..OrgUserFilter::default()
    };
    assert_eq!(
        list(reviewers.clone()).await,
        (2, vec!["orguser_zoe".into(), "orguser_gone".into()])
    );
    let active_reviewers = OrgUserFilter {
        is_active: Some(true),
        ..reviewers
    };
    assert_eq!(
        list(active_reviewers).await,
        (1, vec!["orguser_zoe".into()])
    );
    let by_name = OrgUserFilter {
        q: Some("MÜLLER".into()),
        ..OrgUserFilter::default()
    };
    assert_eq!(list(by_name).await, (1, vec!["orguser_zoe".into()]));
    let by_email = OrgUserFilter {
        q: Some("CORP.".into()),
        ..OrgUserFilter::default()
    };
    assert_eq!(list(by_email).await, (1, vec!["orguser_boss".into()]));
}

/// An overwrite names the revision it read: a stale one is a conflict and writes nothing; an
/// email another user holds is a conflict too.
pub async fn org_user_update_is_fenced_on_the_revision(stores: Stores) {
    organization(&stores, "org_users_fence").await;
    let org = "org_users_fence";
    let admin = user(org, "orguser_admin", "admin@example.com", OrgRole::Admin, 0);
    let target = user(
        org,
        "orguser_target",
        "target@example.com",
        OrgRole::Viewer,
        1,
    );
    for u in [&admin, &target] {
        stores.org_users.insert(u, &[]).await.unwrap();
    }
    let read = stores.org_users.get(org, "orguser_target").await.unwrap();
    let mut first = read.clone();
    first.name = "first".into();
    assert!(
        stores
            .org_users
            .update_keeping_admin(&first, &[])
            .await
            .unwrap()
    );
    let mut late = read.clone();
    late.role = OrgRole::Reviewer;
    assert!(is_conflict(
        &stores.org_users.update_keeping_admin(&late, &[]).await
    ));
    let stored = stores.org_users.get(org, "orguser_target").await.unwrap();
    assert_eq!(stored.revision, read.revision + 1);
    assert_eq!(
        (stored.name.as_str(), stored.role),
        ("first", OrgRole::Viewer)
    );

    let mut steal = stored.clone();
    steal.email = "ADMIN@example.com".into();
    assert!(is_conflict(
        &stores.org_users.update_keeping_admin(&steal, &[]).await
    ));
    assert_eq!(
        stores.org_users.get(org, "orguser_target").await.unwrap(),
        stored
    );
    let mut missing = stored.clone();
    missing.id = "orguser_missing".into();
    let got = stores.org_users.update_keeping_admin(&missing, &[]).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
}

/// Two admins each demoting the other at once: at most one succeeds, and the organization
/// keeps an active admin; the survivor cannot deactivate itself either.
pub async fn last_active_admin_survives_a_race(stores: Stores) {
    organization(&stores, "org_users_admins").await;
    let org = "org_users_admins";
    let a = user(org, "orguser_a", "a@example.com", OrgRole::Admin, 0);
    let b = user(org, "orguser_b", "b@example.com", OrgRole::Admin, 1);
    for u in [&a, &b] {
        stores.org_users.insert(u, &[]).await.unwrap();
    }
    let racers = [a.clone(), b.clone()].map(|mut u| {
        u.role = OrgRole::Reviewer;
        let repo = stores.org_users.clone();
        tokio::spawn(async move { repo.update_keeping_admin(&u, &[]).await })
    });
    let mut written = Vec::new();
    for r in racers {
        written.push(r.await.expect("racer").expect("update_keeping_admin"));
    }
    assert_eq!(written.iter().filter(|w| **w).count(), 1, "{written:?}");
    let users = stores
        .org_users
        .list(org, &OrgUserFilter::default(), all())
        .await
        .unwrap()
        .items;
    let admins: Vec<_> = users.into_iter().filter(OrgUser::administers).collect();
    assert_eq!(admins.len(), 1);
    let mut leaving = admins[0].clone();
    leaving.is_active = false;
    assert!(
        !stores
            .org_users
            .update_keeping_admin(&leaving, &[])
            .await
            .unwrap()
    );
    assert_eq!(
        stores.org_users.get(org, &admins[0].id).await.unwrap(),
        admins[0],
        "a refused update writes nothing"
    );
}
